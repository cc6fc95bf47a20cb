/**
 * float32 im2col and col2im in WebAssembly SIMD, one module generated per window geometry (its sizes are the
 * module's constants, so every address inside a window is a load's or store's constant offset).
 *
 * Both work on a zero-padded copy of the planes in the module's own memory, so every window lies inside it and no
 * tap is clipped: a tap row of kW floats (dilation 1 along the width) is copied as ceil(kW / 4) vectors. The last
 * vector's extra lanes write past the row; rows are written in increasing order, so the next row overwrites them
 * (the last one lands in slack). col2im adds instead, with those lanes masked to +0: an accumulator starts at +0
 * and a sum is never -0 then, so adding +0 changes nothing, and each element receives its windows' terms in
 * windows.ts's order (window by window): the results are bit-identical to the JS kernels.
 *
 * A call streams the items through the memory a few at a time (about CHUNK rows' floats, which stay in cache):
 * planes in, one run, rows (or planes) out. When the planes and rows are CPU storage in heap.ts's memory, a resident
 * build of the same kernel (`run(P, raw, pad, cols)`: the three areas' addresses as parameters instead of
 * constants) reads the planes and writes the rows (im2col), or reads the rows and writes the planes (col2im), where
 * they are, with only the padded planes in a scratch block: no copy in or out, and the GEMM then reads those rows
 * in place too. im2col's last vector store overshoots the rows by up to 12 bytes, so it runs in place only when the
 * rows' heap block has room after them (it has, unless the size class fit exactly); else it streams.
 */
import type { View, Window2d } from "@cinder/tensor";
import { FnBuilder, moduleBytes, OP, SIMD, T } from "./emit";
import { wasmFusedEnabled } from "./fused-wasm";
import { allocBlock, blockEnd, freeBlock, HEAP_MAX_PAGES, heapCounters, sharedMemory } from "./heap";
import { resident } from "./resident";

/** Rows' floats per run: a chunk of rows stays in the L2 cache between the kernel and its copy. */
const CHUNK = 1 << 16;
/** Below this many row floats a call stays in JS (the copies and the call cost more than they save). */
const MIN_FLOATS = 4096;
/** Bytes after each area, for the extra lanes of the last vectors. */
const SLACK = 64;
const PAGE = 65536;
/** The memory grows to at most this (64 MB + slack); larger items stay in JS. */
const MAX_BYTES = 1100 * PAGE;

/** Calls that ran on WebAssembly since load (tests check the fast path is taken). */
export const im2colWasmStats = { im2col: 0, col2im: 0 };

interface Geom {
  C: number;
  H: number;
  W: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  oh: number;
  ow: number;
}

/** A geometry's memory layout (byte addresses) and chunk size. */
interface Layout {
  /** Items per run. */
  per: number;
  Hp: number;
  Wp: number;
  raw: number;
  pad: number;
  cols: number;
  bytes: number;
}

function layout(g: Geom): Layout {
  const Hp = Math.max(g.ph + g.H, (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1);
  const Wp = Math.max(g.pw + g.W, (g.ow - 1) * g.sw + g.kw);
  const rowFloats = g.oh * g.ow * g.C * g.kh * g.kw;
  const per = Math.max(1, Math.floor(CHUNK / rowFloats));
  const raw = SLACK;
  const pad = raw + 4 * per * g.C * g.H * g.W + SLACK;
  const cols = pad + 4 * per * g.C * Hp * Wp + SLACK;
  return { per, Hp, Wp, raw, pad, cols, bytes: cols + 4 * per * rowFloats + SLACK };
}

/** Emits `for (i = 0; i < n; i++) body()` (n >= 1, constant). */
function repeat(f: FnBuilder, i: number, n: number, body: () => void): void {
  f.i32(0).set(i).op(OP.loop, 0x40);
  body();
  f.get(i).i32(1).op(OP.i32_add).op(OP.local_tee, i).i32(n).op(OP.i32_lt_u, OP.br_if, 0, OP.end);
}

/** Emits a copy of `n` floats (constant) from byte address `src` to `dst` (locals, advanced past the floats). */
function copyFloats(f: FnBuilder, dst: number, src: number, n: number, k: number): void {
  const step = (bytes: number) => {
    f.get(dst).i32(bytes).op(OP.i32_add).set(dst).get(src).i32(bytes).op(OP.i32_add).set(src);
  };
  if (n >= 4) {
    repeat(f, k, n >> 2, () => {
      f.get(dst).get(src).simd(SIMD.v128_load, { align: 0, offset: 0 });
      f.simd(SIMD.v128_store, { align: 0, offset: 0 });
      step(16);
    });
  }
  // the tail one float at a time: a vector would write past the row into floats already written
  for (let t = 0; t < (n & 3); t++) {
    f.get(dst)
      .get(src)
      .simd(SIMD.v128_load32_zero, { align: 0, offset: 4 * t });
    f.simd(SIMD.v128_store32_lane, { align: 0, offset: 4 * t }).op(0);
  }
  if ((n & 3) !== 0) step(4 * (n & 3));
}

/**
 * Where an area starts: at a constant address (streamed kernels) or at one of the resident kernel's parameters
 * run(P, raw, pad, cols) (1, 2, 3), plus a constant.
 */
type Area = { at: number } | { param: number };
function area(f: FnBuilder, a: Area, plus = 0): FnBuilder {
  if ("at" in a) return f.i32(a.at + plus);
  f.get(a.param);
  return plus === 0 ? f : f.i32(plus).op(OP.i32_add);
}
const areas = (l: Layout, res: boolean): { raw: Area; pad: Area; cols: Area } =>
  res
    ? { raw: { param: 1 }, pad: { param: 2 }, cols: { param: 3 } }
    : { raw: { at: l.raw }, pad: { at: l.pad }, cols: { at: l.cols } };

/** Emits zero vector stores from `at` over P (param 0) times `perItem` bytes (rounded up to 16). */
function zeroItems(f: FnBuilder, at: Area, perItem: number, ptr: number, end: number): void {
  f.get(0).i32(perItem).op(OP.i32_mul);
  area(f, at).op(OP.i32_add).set(end);
  area(f, at).set(ptr);
  f.op(OP.loop, 0x40);
  f.get(ptr).v128i32([0, 0, 0, 0]).simd(SIMD.v128_store, { align: 0, offset: 0 });
  f.get(ptr).i32(16).op(OP.i32_add).op(OP.local_tee, ptr).get(end).op(OP.i32_lt_u, OP.br_if, 0, OP.end);
}

/**
 * The window loop over items 0..P-1 (param 0): for each window, channel and tap row i, `tapRow(srcOffset,
 * dstOffset)` emits the row's work at the locals s (the window's first row in the padded plane) and o (its place in
 * the rows) plus those constant offsets.
 */
function windows(
  f: FnBuilder,
  g: Geom,
  l: Layout,
  res: boolean,
  locals: { p: number; oy: number; ox: number; c: number; s: number; o: number; base: number },
  tapRow: (srcOffset: number, dstOffset: number) => void,
): void {
  const { p, oy, ox, c, s, o, base } = locals;
  const plane = 4 * l.Hp * l.Wp;
  const a = areas(l, res);
  area(f, a.cols).set(o);
  area(f, a.pad).set(base).i32(0).set(p);
  f.op(OP.loop, 0x40); // items
  repeat(f, oy, g.oh, () => {
    repeat(f, ox, g.ow, () => {
      f.get(base)
        .get(oy)
        .i32(4 * g.sh * l.Wp)
        .op(OP.i32_mul)
        .op(OP.i32_add);
      f.get(ox)
        .i32(4 * g.sw)
        .op(OP.i32_mul)
        .op(OP.i32_add)
        .set(s);
      repeat(f, c, g.C, () => {
        for (let i = 0; i < g.kh; i++) tapRow(4 * i * g.dh * l.Wp, 4 * i * g.kw);
        f.get(s).i32(plane).op(OP.i32_add).set(s);
        f.get(o)
          .i32(4 * g.kh * g.kw)
          .op(OP.i32_add)
          .set(o);
      });
    });
  });
  f.get(base)
    .i32(g.C * plane)
    .op(OP.i32_add)
    .set(base);
  f.get(p).i32(1).op(OP.i32_add).op(OP.local_tee, p).get(0).op(OP.i32_lt_u, OP.br_if, 0, OP.end);
}

/** Locals shared by both kernels. */
function kernelLocals(f: FnBuilder) {
  const i32 = () => f.local(T.i32);
  return {
    p: i32(),
    oy: i32(),
    ox: i32(),
    c: i32(),
    s: i32(),
    o: i32(),
    base: i32(),
    dst: i32(),
    src: i32(),
    k: i32(),
    end: i32(),
  };
}

/** Emits the copy between the compact planes (raw) and the interior of the padded ones, for P items. */
function planeCopy(
  f: FnBuilder,
  g: Geom,
  l: Layout,
  res: boolean,
  v: ReturnType<typeof kernelLocals>,
  toPad: boolean,
): void {
  const { p, oy, dst, src, k } = v;
  const a = areas(l, res);
  const row = () => {
    // raw row y of plane p, padded row y + ph at column pw
    f.get(p)
      .i32(4 * g.H * g.W)
      .op(OP.i32_mul)
      .get(oy)
      .i32(4 * g.W)
      .op(OP.i32_mul)
      .op(OP.i32_add);
    area(f, a.raw)
      .op(OP.i32_add)
      .set(toPad ? src : dst);
    f.get(p)
      .i32(4 * l.Hp * l.Wp)
      .op(OP.i32_mul)
      .get(oy)
      .i32(4 * l.Wp)
      .op(OP.i32_mul)
      .op(OP.i32_add);
    area(f, a.pad, 4 * (g.ph * l.Wp + g.pw))
      .op(OP.i32_add)
      .set(toPad ? dst : src);
    copyFloats(f, dst, src, g.W, k);
  };
  f.i32(0).set(p);
  f.op(OP.loop, 0x40); // planes: P * C
  repeat(f, oy, g.H, row);
  f.get(p).i32(1).op(OP.i32_add).op(OP.local_tee, p).get(0).i32(g.C).op(OP.i32_mul);
  f.op(OP.i32_lt_u, OP.br_if, 0, OP.end);
}

/** run(P): P items' planes at raw to their rows at cols. */
function buildIm2col(g: Geom, l: Layout, res: boolean): FnBuilder {
  const f = new FnBuilder(res ? 4 : 1);
  const v = kernelLocals(f);
  zeroItems(f, areas(l, res).pad, 4 * g.C * l.Hp * l.Wp, v.dst, v.end);
  planeCopy(f, g, l, res, v, true);
  const nv = Math.ceil(g.kw / 4);
  windows(f, g, l, res, v, (src, dst) => {
    for (let q = 0; q < nv; q++) {
      f.get(v.o)
        .get(v.s)
        .simd(SIMD.v128_load, { align: 0, offset: src + 16 * q });
      f.simd(SIMD.v128_store, { align: 0, offset: dst + 16 * q });
    }
  });
  return f;
}

/**
 * run(P): P items' rows at cols summed into their planes at raw (overwritten): padded planes zeroed, every tap
 * row added (the last vector's lanes past kW masked to +0), the interior copied out.
 */
function buildCol2im(g: Geom, l: Layout, res: boolean): FnBuilder {
  const f = new FnBuilder(res ? 4 : 1);
  const v = kernelLocals(f);
  zeroItems(f, areas(l, res).pad, 4 * g.C * l.Hp * l.Wp, v.dst, v.end);
  const nv = Math.ceil(g.kw / 4);
  const rest = g.kw - 4 * (nv - 1);
  const mask = [0, 1, 2, 3].map((lane) => (lane < rest ? -1 : 0));
  windows(f, g, l, res, v, (src, dst) => {
    for (let q = 0; q < nv; q++) {
      f.get(v.s)
        .get(v.s)
        .simd(SIMD.v128_load, { align: 0, offset: src + 16 * q });
      f.get(v.o).simd(SIMD.v128_load, { align: 0, offset: dst + 16 * q });
      if (q === nv - 1 && rest < 4) f.v128i32(mask).simd(SIMD.v128_and);
      f.simd(SIMD.f32x4_add).simd(SIMD.v128_store, { align: 0, offset: src + 16 * q });
    }
  });
  planeCopy(f, g, l, res, v, false);
  return f;
}

/** A geometry's compiled kernel (its exported `run(P)`, resident: `run(P, raw, pad, cols)`) and memory layout. */
interface Compiled {
  exports: { run(P: number, raw?: number, pad?: number, cols?: number): void };
  l: Layout;
}

let memory: WebAssembly.Memory | null | undefined;
let f32 = new Float32Array(0);
const modules = new Map<string, Compiled | null>();
/** Geometries kept compiled (oldest dropped first): varying sizes, as conv1d over sequences, do not pile up. */
const MAX_MODULES = 32;

/**
 * The module memory (created on first use, grown to at least `bytes`), or null where it cannot be had. Every module
 * is bound to this one memory for good: a failed growth leaves it as it was (that geometry stays in JS).
 */
function memoryFor(bytes: number): WebAssembly.Memory | null {
  if (bytes > MAX_BYTES || memory === null) return null;
  try {
    memory ??= new WebAssembly.Memory({ initial: 16, maximum: MAX_BYTES / PAGE });
  } catch {
    memory = null;
    return null;
  }
  const have = memory.buffer.byteLength;
  try {
    if (have < bytes) memory.grow(Math.ceil((bytes - have) / PAGE));
  } catch {
    return null;
  }
  // growing replaces the buffer: views over the old one are empty
  if (f32.buffer !== memory.buffer) f32 = new Float32Array(memory.buffer);
  return memory;
}

/** The kernel of direction `dir` for geometry `g` (compiled on first use); null where WebAssembly SIMD is not. */
function kernel(dir: "im2col" | "col2im", g: Geom, res = false): Compiled | null {
  const key = `${res ? "r" : ""}${dir}:${Object.values(g).join(",")}`;
  let m = modules.get(key);
  if (m !== undefined) return m;
  m = null;
  const l = layout(g);
  const mem = res ? sharedMemory() : memoryFor(l.bytes);
  if (mem) {
    try {
      const fn = dir === "im2col" ? buildIm2col(g, l, res) : buildCol2im(g, l, res);
      const params = res ? [T.i32, T.i32, T.i32, T.i32] : [T.i32];
      const mod = new WebAssembly.Module(moduleBytes(params, fn, 1, res ? HEAP_MAX_PAGES : undefined));
      const exports = new WebAssembly.Instance(mod, { env: { memory: mem } })
        .exports as unknown as Compiled["exports"];
      m = { exports, l };
    } catch {
      m = null;
    }
  }
  if (modules.size >= MAX_MODULES) modules.delete(modules.keys().next().value as string);
  modules.set(key, m);
  return m;
}

/** The geometry of a call, or null when this path does not take it (dilation along the width, not float32). */
function geomOf(planes: View, p: Window2d, rows: View): Geom | null {
  if (!wasmFusedEnabled() || p.dilation[1] !== 1) return null;
  if (!(planes.handle instanceof Float32Array && rows.handle instanceof Float32Array)) return null;
  const [, C, H, W] = planes.shape;
  const [kh, kw] = p.kernel;
  const [oh, ow] = p.output;
  // the generated loops run at least once: every count is at least 1 here
  if (H * W === 0 || rows.shape[0] * oh * ow * C * kh * kw < MIN_FLOATS) return null;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  return { C, H, W, kh, kw, sh, sw, ph, pw, dh: p.dilation[0], oh, ow };
}

/**
 * Copies item chunks through the kernel: `from` (per item `inLen` floats) into the memory at `inAt`, a run, then
 * `outLen` floats per item from `outAt` into `to`.
 */
function stream(
  m: Compiled,
  N: number,
  from: View,
  inAt: number,
  inLen: number,
  to: View,
  outAt: number,
  outLen: number,
): void {
  const src = from.handle as Float32Array;
  const dst = to.handle as Float32Array;
  const { per } = m.l;
  // the memory may have grown for another geometry since this one's module was built
  memoryFor(m.l.bytes);
  for (let n0 = 0; n0 < N; n0 += per) {
    const P = Math.min(per, N - n0);
    const s = from.offset + n0 * inLen;
    f32.set(src.subarray(s, s + P * inLen), inAt / 4);
    m.exports.run(P);
    dst.set(f32.subarray(outAt / 4, outAt / 4 + P * outLen), to.offset + n0 * outLen);
  }
}

/** The padded planes' scratch block in heap.ts's memory for resident kernels (-1: none yet), and its size. */
let padAt = -1;
let padBytes = 0;

/**
 * Run the resident kernel over N items in place: planes at `planes`, rows at `rows` (both whole, contiguous, in the
 * heap), the padded planes in the scratch block; false (nothing written) when there is no scratch block.
 */
function inPlace(m: Compiled, g: Geom, N: number, planes: View, rows: View): boolean {
  const bytes = 4 * m.l.per * g.C * m.l.Hp * m.l.Wp + SLACK;
  if (bytes > padBytes) {
    if (padAt >= 0) freeBlock(padAt);
    padAt = allocBlock(bytes);
    padBytes = padAt < 0 ? 0 : bytes;
    if (padAt < 0) return false;
  }
  const planeBytes = 4 * g.C * g.H * g.W;
  const rowBytes = 4 * g.oh * g.ow * g.C * g.kh * g.kw;
  const raw = (planes.handle as Float32Array).byteOffset + 4 * planes.offset;
  const cols = (rows.handle as Float32Array).byteOffset + 4 * rows.offset;
  for (let n0 = 0; n0 < N; n0 += m.l.per) {
    m.exports.run(Math.min(m.l.per, N - n0), raw + n0 * planeBytes, padAt, cols + n0 * rowBytes);
  }
  heapCounters.im2colInPlace++;
  return true;
}

/**
 * Whether im2col's overshooting last vector may write past `rows`: they end their storage (nothing of it follows)
 * and its heap block has 16 unused bytes after it.
 */
function roomAfter(rows: View, floats: number): boolean {
  const a = rows.handle as Float32Array;
  return rows.offset + floats === a.length && a.byteOffset + a.byteLength + 16 <= blockEnd(a);
}

/** im2col (windows.ts's layout) of contiguous float32 x into out; false (nothing written) when not taken. */
export function im2colWasm(x: View, p: Window2d, out: View): boolean {
  const g = geomOf(x, p, out);
  if (!g) return false;
  const L = g.oh * g.ow;
  const N = x.shape[0];
  const rowFloats = L * g.C * g.kh * g.kw;
  const r = resident(x) && resident(out) && roomAfter(out, N * rowFloats) ? kernel("im2col", g, true) : null;
  if (r === null || !inPlace(r, g, N, x, out)) {
    const m = kernel("im2col", g);
    if (!m) return false;
    stream(m, N, x, m.l.raw, g.C * g.H * g.W, out, m.l.cols, rowFloats);
  }
  im2colWasmStats.im2col++;
  return true;
}

/** col2im of contiguous float32 rows into out (overwritten); false (nothing written) when not taken. */
export function col2imWasm(cols: View, p: Window2d, out: View): boolean {
  const g = geomOf(out, p, cols);
  if (!g) return false;
  const L = g.oh * g.ow;
  const N = out.shape[0];
  // (reading up to 12 bytes past the rows is harmless: the heap keeps slack after its last block)
  const r = resident(cols) && resident(out) ? kernel("col2im", g, true) : null;
  if (r === null || !inPlace(r, g, N, out, cols)) {
    const m = kernel("col2im", g);
    if (!m) return false;
    stream(m, N, cols, m.l.cols, L * g.C * g.kh * g.kw, out, m.l.raw, g.C * g.H * g.W);
  }
  im2colWasmStats.col2im++;
  return true;
}
