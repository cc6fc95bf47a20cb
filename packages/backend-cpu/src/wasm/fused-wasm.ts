/**
 * Fused elementwise programs in WebAssembly SIMD: programs rendered by render-wasm.ts once per structure (ops,
 * dtypes, which inputs are scalars; not constant values), compiled and cached; every kernel works on one small
 * module memory. A call streams the data through that memory in blocks of BLOCK elements: each input's block is
 * copied in (a memcpy, ~100 GB/s from cache; broadcast inputs run by run), the loop runs, the output block is copied
 * out. The copies cost far less than the JS loop they replace (about 1 ns per element per op).
 *
 * Operands in the WebAssembly memory of heap.ts (CPU storage of 4 KiB or more) are not streamed: when every input is
 * whole (or a scalar) and in that memory, and the result is stored there or summed whole, a `resident` build of the
 * same kernel (the same instructions, with each operand's address added to the loop's offset) runs once over them in
 * place; only the last 1-3 elements of a stored result go through a 16-byte staging area, since a vector store
 * there would write past the output. The bits are the streamed kernel's.
 *
 * What it takes: the programs `structure` accepts over inputs read whole, as one broadcast value or run by run (a
 * bias), stored or summed (everything, per run, or per position of kept innermost axes). Anything else (strided
 * inputs, other reductions, unsupported ops) returns false and runs on the JS renderer. A whole or per-run sum adds
 * in float64 lanes instead of one accumulator, so it may differ in the last float64 bits before its rounding to
 * float32; everything else gives the JS renderer's bits.
 */
import type { Expr, FusedReduce, TypedArray, View } from "@cinder/tensor";
import { numel } from "../codegen";
import { FnBuilder, moduleBytes, SIMD, T } from "./emit";
import { HEAP_MAX_PAGES, KERNEL_ARGS, sharedMemory } from "./heap";
import {
  ACC,
  BLOCK,
  bufAt,
  CONSTS,
  constSlots,
  MAX_CONSTS,
  MAX_OPERANDS,
  type Mode,
  PAGES,
  Render,
  ROWS,
  ROWS_MAX,
  type Slot,
  structure,
} from "./render-wasm";
import { inPlace, perRun, resident, residentArgs, sumRunsInPlace, writeConsts } from "./resident";

export { BLOCK, bufAt, CONSTS } from "./render-wasm";

/** Programs over fewer elements stay on the JS renderer (a WASM call and its copies cost ~1 us). */
export const WASM_FUSED_MIN = 256;

/** The module memory and its views (shared by every kernel built at run time). */
export interface Host {
  memory: WebAssembly.Memory;
  f32: Float32Array;
  i32: Int32Array;
  u8: Uint8Array;
  f64: Float64Array;
}

/**
 * A compiled kernel: `run(start, end, n, rows)` walks byte offsets i = start, start + 16, ... < end of each block
 * (4 lanes per step); a sum adds only the first `n` elements from `start`, a sum of rows adds element i into the
 * float64 at `rows + 2 * (i - start)` of the ROWS area.
 */
export interface Kernel {
  run(start: number, end: number, n: number, rows: number): void;
}

/** `CINDER_WASM_KERNELS=0` in the environment starts with this path off (for comparisons and debugging). */
let enabled =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.CINDER_WASM_KERNELS !== "0";
let host: Host | null | undefined;
const kernels = new Map<string, Kernel | null>();
/**
 * Kernels (programs and optimizer updates) run on WebAssembly since load, and runs of a broadcast input copied
 * from a copy already in the module memory (`gather`): tests check the fast paths are taken.
 */
export const wasmFusedStats = { run: 0, runsReused: 0, resident: 0 };

/** Allow (default) or forbid this path; forbidding it runs every program on the JS renderer, as without SIMD. */
export function setWasmFusedEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether run-time generated kernels are allowed (`setWasmFusedEnabled`). */
export const wasmFusedEnabled = (): boolean => enabled;

/** The memory, created on first use; null where WebAssembly SIMD is unavailable. */
export function getHost(): Host | null {
  if (host !== undefined) return host;
  host = null;
  try {
    if (typeof WebAssembly === "object") {
      const memory = new WebAssembly.Memory({ initial: PAGES, maximum: PAGES });
      const b = memory.buffer;
      const h = { memory, f32: new Float32Array(b), i32: new Int32Array(b), u8: new Uint8Array(b) };
      host = { ...h, f64: new Float64Array(b) };
      // Probe: a module with SIMD instructions compiles only where the engine has SIMD.
      if (compile(new FnBuilder(4).i32(0).simd(SIMD.v128_load, { align: 4, offset: 0 }).op(0x1a)) === null) {
        host = null;
      }
    }
  } catch {
    host = null;
  }
  return host;
}

/**
 * `fn` (the parameters of `Kernel.run`) as a kernel on the host memory, or with `resident` on heap.ts's shared
 * memory; null when the engine refuses it.
 */
export function compile(fn: FnBuilder, resident = false): Kernel | null {
  try {
    const memory = resident ? sharedMemory() : (host as Host).memory;
    if (memory === null) return null;
    const bytes = moduleBytes(
      [T.i32, T.i32, T.i32, T.i32],
      fn,
      resident ? 1 : PAGES,
      resident ? HEAP_MAX_PAGES : undefined,
    );
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
      .exports as unknown as Kernel;
  } catch {
    return null;
  }
}

/** Runs shorter than this are not worth their per-run cost: such inputs stay on the JS renderer. */
const MIN_RUN = 16;

/** Classify `v` over `shape` (see `Slot`), or null. */
function slotOf(v: View, shape: readonly number[]): Slot | null {
  if (v.dtype !== "float32" && v.dtype !== "bool") return null;
  let run = 1;
  let repeat: boolean | null = null;
  let d = shape.length - 1;
  for (; d >= 0; d--) {
    if (shape[d] === 1) continue;
    const st = v.strides[d];
    if (repeat === null) {
      if (st !== 0 && st !== 1) return null;
      repeat = st === 0;
    } else if (st !== (repeat ? 0 : run)) break;
    run *= shape[d];
  }
  if (d < 0) return { kind: repeat ? "scalar" : "vec", dtype: v.dtype };
  return run >= MIN_RUN ? { kind: "runs", dtype: v.dtype, run, repeat: repeat === true } : null;
}

/** Elements [s, s + len) of the loop over `shape` read through `v` into `dst` at `at`, run by run. */
function gather(
  v: View,
  shape: readonly number[],
  slot: { run: number; repeat: boolean },
  s: number,
  len: number,
  dst: TypedArray,
  at: number,
): void {
  const src = v.handle as TypedArray;
  const { run, repeat } = slot;
  const end = s + len;
  // the source and place of the last run copied from `src`: a bias read by every row of a batch is the same run
  // each time, copied again from the first copy (`copyWithin` moves bytes inside the memory, where `subarray`
  // would make an object per run)
  let lastFrom = -1;
  let lastAt = 0;
  let lastTake = 0;
  for (let f = s; f < end; ) {
    const within = f % run;
    const take = Math.min(run - within, end - f);
    let rem = f - within;
    let off = v.offset;
    for (let d = shape.length - 1; d >= 0 && rem > 0; d--) {
      const q = rem % shape[d];
      rem = (rem - q) / shape[d];
      off += q * v.strides[d];
    }
    const to = at + f - s;
    if (repeat) dst.fill(src[off], to, to + take);
    else if (off + within === lastFrom && take <= lastTake) {
      dst.copyWithin(to, lastAt, lastAt + take);
      wasmFusedStats.runsReused++;
    } else {
      dst.set(src.subarray(off + within, off + within + take), to);
      lastFrom = off + within;
      lastAt = to;
      lastTake = take;
    }
    f += take;
  }
}

function kernelFor(key: string, expr: Expr, slots: readonly Slot[], mode: Mode, res = false): Kernel | null {
  let k = kernels.get(key);
  if (k === undefined) {
    k = compile(new Render(slots, res ? KERNEL_ARGS : null).finish(expr, mode), res);
    kernels.set(key, k);
  }
  return k;
}

/**
 * Run `expr` (Backend.elementwise's arguments) on WebAssembly SIMD; false (having written nothing) when the program,
 * its operands or the platform are not supported here.
 */
export function elementwiseWasm(
  expr: Expr,
  inputs: readonly View[],
  out: View,
  reduce?: FusedReduce,
): boolean {
  if (!enabled) return false;
  const shape = reduce ? reduce.shape : out.shape;
  const n = numel(shape);
  if (n < WASM_FUSED_MIN || inputs.length > MAX_OPERANDS) return false;
  // A reduction keeping some axes: its float64 sums walk the loop through `accStrides` (0 on reduced axes), either
  // one sum per run (innermost axes reduced: a per-channel sum over pixels) or one per position of a run of
  // kept axes (innermost axes kept: a bias gradient summed over the batch, in the JS loop's order).
  let sums: Slot | null = null;
  let accStrides: number[] = [];
  let mode: Mode = reduce ? "sum" : "store";
  if (reduce) {
    if (reduce.op !== "sum" || expr.dtype !== "float32" || out.dtype !== "float32") return false;
    const kept = numel(out.shape);
    if (kept > 1) {
      accStrides = out.strides.map((st, d) => (reduce.axes.includes(d) ? 0 : st));
      sums = slotOf({ ...out, strides: accStrides }, shape);
      if (sums?.kind !== "runs" || slotOf(out, out.shape)?.kind !== "vec") return false;
      if (!sums.repeat) {
        if (kept > ROWS_MAX - 4) return false;
        mode = "rows";
      }
    }
  } else if (out.dtype !== expr.dtype || slotOf(out, shape)?.kind !== "vec") return false;
  const slots: Slot[] = [];
  for (const v of inputs) {
    // An input overlapping the output other than element for element (`x[1:].add_(x[:-1])`) is left to the JS
    // loop, whose element order defines that result; blocks read ahead of the writes.
    if (v.handle === out.handle && !sameView(v, out)) return false;
    const s = slotOf(v, shape);
    if (s === null) return false;
    slots.push(s);
  }
  const key = structure(expr, slots);
  if (key === null) return false;
  const h = getHost();
  if (h === null) return false;
  if (
    sums === null &&
    mode !== "rows" &&
    (reduce !== undefined || resident(out)) &&
    slots.every(
      (s, k) => s.kind === "scalar" || (s.kind === "vec" ? resident(inputs[k]) : perRun(s, inputs[k])),
    )
  ) {
    const runs = slots.map((s) => (s.kind === "runs" ? s.run : 0)).join();
    const k = kernelFor(`r${mode}:${runs}:${key}`, expr, slots, mode, true);
    if (k !== null) return inPlace(k, expr, slots, inputs, out, shape, reduce !== undefined);
  }
  // a sum per run (a per-channel bias gradient) of whole operands in the heap: the streamed loop's pieces, in place
  if (
    sums?.kind === "runs" &&
    mode === "sum" &&
    slots.every((s, k) => s.kind === "scalar" || (s.kind === "vec" && resident(inputs[k])))
  ) {
    const k = kernelFor(`r${mode}:${slots.map(() => 0).join()}:${key}`, expr, slots, mode, true);
    if (k !== null && writeConsts(residentArgs(), expr, slots, inputs)) {
      sumRunsInPlace(k, slots, inputs, out, shape, accStrides, sums.run);
      return true;
    }
  }
  // Scalar inputs take constant slots after the program's constants, in order of first use (as Render assigns).
  const all = constSlots(expr, slots, inputs);
  if (all.length > MAX_CONSTS) return false;
  const kernel = kernelFor(`${mode}:${key}`, expr, slots, mode);
  if (kernel === null) return false;
  for (let k = 0; k < all.length; k++) {
    const [v, dtype] = all[k];
    if (dtype === "bool") h.i32[CONSTS / 4 + k] = v !== 0 ? -1 : 0;
    else h.f32[CONSTS / 4 + k] = v;
  }
  if (reduce) h.f64.fill(0, ACC / 8, ACC / 8 + 4);
  if (mode === "rows") h.f64.fill(0, ROWS / 8, ROWS / 8 + numel(out.shape) + 4);
  const acc = sums ? new Float64Array(numel(out.shape)) : null;
  for (let s = 0; s < n; s += BLOCK) {
    const len = Math.min(BLOCK, n - s);
    for (let k = 0; k < inputs.length; k++) {
      const slot = slots[k];
      if (slot.kind === "scalar") continue;
      const v = inputs[k];
      const [mem, at] = v.dtype === "float32" ? [h.f32, bufAt(k) / 4] : [h.u8, bufAt(k)];
      if (slot.kind === "runs") gather(v, shape, slot, s, len, mem, at);
      else {
        const o = v.offset + s;
        mem.set((v.handle as TypedArray).subarray(o, o + len), at);
      }
    }
    if (acc !== null) {
      runSums(
        kernel,
        mode === "rows" ? null : h,
        shape,
        accStrides,
        (sums as { run: number }).run,
        s,
        len,
        acc,
      );
      continue;
    }
    kernel.run(0, ((len + 3) >> 2) << 4, len, 0);
    if (reduce) continue;
    const dst = out.handle as TypedArray;
    const at = bufAt(inputs.length);
    if (out.dtype === "float32") dst.set(h.f32.subarray(at / 4, at / 4 + len), out.offset + s);
    else dst.set(h.u8.subarray(at, at + len), out.offset + s);
  }
  if (acc !== null) {
    const dst = out.handle as Float32Array;
    const sumsOf = mode === "rows" ? h.f64.subarray(ROWS / 8) : acc;
    for (let k = 0; k < acc.length; k++) dst[out.offset + k] = sumsOf[k];
  } else if (reduce) (out.handle as Float32Array)[out.offset] = takeSum(h);
  wasmFusedStats.run++;
  return true;
}

function sameView(a: View, b: View): boolean {
  return a.offset === b.offset && a.strides.every((st, d) => st === b.strides[d] || b.shape[d] === 1);
}

/** The kernel's four float64 partial sums, added, and the accumulators reset. */
function takeSum(h: Host): number {
  const f64 = h.f64;
  const a = ACC / 8;
  const total = f64[a] + f64[a + 2] + (f64[a + 1] + f64[a + 3]);
  f64.fill(0, a, a + 4);
  return total;
}

/**
 * Block [s, s + len) of a reduction that keeps axes, run by run (`run` elements: see `sums` in elementwiseWasm).
 * With `h` (sums per run), each run's piece is summed by one kernel call and added to its accumulator in `acc`;
 * without (sums per position, the "rows" kernel), the kernel adds each element to its float64 in ROWS.
 */
function runSums(
  kernel: Kernel,
  h: Host | null,
  shape: readonly number[],
  accStrides: readonly number[],
  run: number,
  s: number,
  len: number,
  acc: Float64Array,
): void {
  const end = s + len;
  for (let f = s; f < end; ) {
    const within = f % run;
    const take = Math.min(run - within, end - f);
    const start = (f - s) * 4;
    const at = accPosition(f - within, shape, accStrides);
    kernel.run(start, start + (((take + 3) >> 2) << 4), take, 8 * (at + within));
    if (h !== null) acc[at] += takeSum(h);
    f += take;
  }
}

/** Where the run starting at flat position `start` (a multiple of the run length) sums into: its outer index
 * over `shape` dotted with the accumulator's strides. */
export function accPosition(start: number, shape: readonly number[], accStrides: readonly number[]): number {
  let rem = start;
  let at = 0;
  for (let d = shape.length - 1; d >= 0 && rem > 0; d--) {
    const q = rem % shape[d];
    rem = (rem - q) / shape[d];
    at += q * accStrides[d];
  }
  return at;
}
