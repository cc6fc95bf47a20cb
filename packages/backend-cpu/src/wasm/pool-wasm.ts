/**
 * float32 2x2 max pooling with stride 2 (windows inside the input) in WebAssembly SIMD: four windows per step, the
 * same choice as windows.ts's branch-free loop (the first of equal maxima, -0 equal to 0: a later element wins only
 * when strictly greater), values copied as bits. Windows holding a NaN are flagged and rescanned by the caller's JS
 * (first NaN wins there). Planes stream through the module memory of fused-wasm.ts a block at a time.
 *
 * Its backward writes every input position once (windows do not overlap): the gradient plus +0 (as the JS
 * kernel's 0 + g, so -0 becomes +0) where the window's index is that position, else 0; positions no window covers
 * keep the block's zero fill.
 */
import type { TypedArray, View } from "@cinder/tensor";
import { FnBuilder, OP, SIMD, T } from "./emit";
import {
  BLOCK,
  bufAt,
  CONSTS,
  compile,
  getHost,
  type Kernel,
  wasmFusedEnabled,
  wasmFusedStats,
} from "./fused-wasm";

const IN = bufAt(0);
const VALUES = bufAt(2);
const INDICES = bufAt(4);
const FLAGS = bufAt(6);
/** i8x16.shuffle lanes: the even and the odd floats of two vectors. */
const EVEN = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD = EVEN.map((b) => b + 4);

let kernel: Kernel | null | undefined;
let backwardKernel: Kernel | null | undefined;
/** i32x4.eq (not in emit.ts's table). */
const I32X4_EQ = 0x37;
/** Interleaves the first (second) two lanes of two vectors: a0 b0 a1 b1 (a2 b2 a3 b3). */
const ZIP_LO = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
const ZIP_HI = ZIP_LO.map((b) => b + 8);

/**
 * run(P): planes [P, H, W] at IN to values and indices [P, oh, ow] (compact: a row's lanes past ow are overwritten
 * by the next row) and NaN flags (one byte per window). W, oh, ow, H * W are i32 constant slots 0-3.
 */
function build(): FnBuilder {
  const f = new FnBuilder(4);
  const i32 = () => f.local(T.i32);
  const vec = () => f.local(T.v128);
  const [W, oh, ow, HW4, nvec, plane, oy, row, col, v, o, W4] = Array.from({ length: 12 }, i32);
  const [k, eight, one, wv, w1v, a, b, c, d, best, bi, m, nan, t] = Array.from({ length: 14 }, vec);
  const cnst = (slot: number, l: number) =>
    f
      .i32(0)
      .op(OP.i32_load, 2, CONSTS + 4 * slot)
      .set(l);
  cnst(0, W);
  cnst(1, oh);
  cnst(2, ow);
  cnst(3, HW4);
  f.get(HW4).i32(4).op(OP.i32_mul).set(HW4);
  f.get(W).i32(4).op(OP.i32_mul).set(W4);
  f.get(ow).i32(3).op(OP.i32_add).i32(2).op(OP.i32_shr_u).set(nvec);
  f.v128i32([8, 8, 8, 8]).set(eight).v128i32([1, 1, 1, 1]).set(one);
  f.get(W).simd(SIMD.i32x4_splat).set(wv).get(wv).get(one).simd(SIMD.i32x4_add).set(w1v);
  f.i32(IN).set(plane).i32(0).set(o);
  const load = (addr: () => void, off: number, l: number) => {
    addr();
    f.simd(SIMD.v128_load, { align: 2, offset: off }).set(l);
  };
  // One window quad: pick `cand` (with index `ki`) where strictly greater than the best so far.
  const pick = (cand: number, ki: () => void) => {
    f.get(cand).get(best).simd(SIMD.f32x4_gt).set(m);
    f.get(cand).get(best).get(m).simd(SIMD.v128_bitselect).set(best);
    ki();
    f.get(bi).get(m).simd(SIMD.v128_bitselect).set(bi);
    f.get(nan).get(cand).get(cand).simd(SIMD.f32x4_ne).simd(SIMD.v128_or).set(nan);
  };
  f.op(OP.loop, 0x40); // planes
  f.i32(0).set(oy).get(plane).set(row);
  f.op(OP.loop, 0x40); // output rows
  f.get(oy).get(W).op(OP.i32_mul).i32(1).op(OP.i32_shl).simd(SIMD.i32x4_splat);
  f.v128i32([0, 2, 4, 6]).simd(SIMD.i32x4_add).set(k);
  f.get(row).set(col).i32(0).set(v);
  f.op(OP.loop, 0x40); // four windows
  for (const [r, lo, hi] of [
    [0, a, b],
    [1, c, d],
  ] as const) {
    const addr = () => (r === 0 ? f.get(col) : f.get(col).get(W4).op(OP.i32_add));
    load(addr, 0, lo);
    load(addr, 16, hi);
    f.get(lo)
      .get(hi)
      .simd(SIMD.i8x16_shuffle)
      .op(...EVEN)
      .set(t);
    f.get(lo)
      .get(hi)
      .simd(SIMD.i8x16_shuffle)
      .op(...ODD)
      .set(hi);
    f.get(t).set(lo);
  }
  f.get(a).set(best).get(k).set(bi);
  f.get(a).get(a).simd(SIMD.f32x4_ne).set(nan);
  pick(b, () => f.get(k).get(one).simd(SIMD.i32x4_add));
  pick(c, () => f.get(k).get(wv).simd(SIMD.i32x4_add));
  pick(d, () => f.get(k).get(w1v).simd(SIMD.i32x4_add));
  f.get(o).get(best).simd(SIMD.v128_store, { align: 2, offset: VALUES });
  f.get(o).get(bi).simd(SIMD.v128_store, { align: 2, offset: INDICES });
  f.get(nan).v128i32([1, 1, 1, 1]).simd(SIMD.v128_and).set(t);
  f.get(t).get(t).simd(SIMD.i16x8_narrow_i32x4_u).set(t);
  f.get(o).i32(2).op(OP.i32_shr_u).get(t).get(t).simd(SIMD.i8x16_narrow_i16x8_u);
  f.simd(SIMD.v128_store32_lane, { align: 0, offset: FLAGS }).op(0);
  f.get(k).get(eight).simd(SIMD.i32x4_add).set(k);
  f.get(col).i32(32).op(OP.i32_add).set(col);
  f.get(o).i32(16).op(OP.i32_add).set(o);
  f.get(v).i32(1).op(OP.i32_add).op(OP.local_tee, v).get(nvec).op(OP.i32_lt_u, OP.br_if, 0, OP.end);
  // next output row: back to the row's own end (o was advanced by whole vectors), two input rows down
  f.get(o).get(nvec).i32(4).op(OP.i32_shl).op(OP.i32_sub).get(ow).i32(2).op(OP.i32_shl).op(OP.i32_add).set(o);
  f.get(row).get(W4).i32(1).op(OP.i32_shl).op(OP.i32_add).set(row);
  f.get(oy).i32(1).op(OP.i32_add).op(OP.local_tee, oy).get(oh).op(OP.i32_lt_u, OP.br_if, 0, OP.end);
  f.get(plane).get(HW4).op(OP.i32_add).set(plane);
  f.get(0).i32(1).op(OP.i32_sub).op(OP.local_tee, 0).i32(0).op(OP.i32_ne, OP.br_if, 0, OP.end);
  return f;
}

/**
 * The module memory with a pooling's constant slots (W, oh, ow, H * W) written, or null when the WebAssembly path
 * does not take it: kernels off, a plane larger than a block, too little work to pay, indices not int32.
 */
function hostFor(indices: View, B: number, H: number, W: number, oh: number, ow: number) {
  const HW = H * W;
  if (!wasmFusedEnabled() || HW > BLOCK || B * oh * ow < 256 || !(indices.handle instanceof Int32Array))
    return null;
  const h = getHost();
  h?.i32.set([W, oh, ow, HW], CONSTS / 4);
  return h;
}

/**
 * values/indices [B, oh, ow] of 2x2 stride-2 max pooling over planes x [B, H, W] (contiguous float32, int32
 * indices, every window inside); `nanWindow(b, oy, ox, o)` rescans a window holding a NaN (output element o).
 * False (nothing written) when this path cannot run it.
 */
export function maxPool2x2Wasm(
  x: View,
  values: View,
  indices: View,
  B: number,
  H: number,
  W: number,
  oh: number,
  ow: number,
  nanWindow: (b: number, oy: number, ox: number, o: number) => void,
): boolean {
  const h = hostFor(indices, B, H, W, oh, ow);
  if (h === null) return false;
  if (kernel === undefined) kernel = compile(build());
  if (kernel === null) return false;
  const HW = H * W;
  const per = Math.floor(BLOCK / HW);
  const xa = x.handle as Float32Array;
  const vf = values.handle as Float32Array;
  const ia = indices.handle as TypedArray;
  const L = oh * ow;
  for (let b0 = 0; b0 < B; b0 += per) {
    const P = Math.min(per, B - b0);
    const src = x.offset + b0 * HW;
    h.f32.set(xa.subarray(src, src + P * HW), IN / 4);
    kernel.run(P, 0, 0, 0);
    const n = P * L;
    vf.set(h.f32.subarray(VALUES / 4, VALUES / 4 + n), values.offset + b0 * L);
    ia.set(h.i32.subarray(INDICES / 4, INDICES / 4 + n), indices.offset + b0 * L);
    const flags = h.u8.subarray(FLAGS, FLAGS + n);
    for (let q = flags.indexOf(1); q !== -1; q = flags.indexOf(1, q + 1)) {
      const b = b0 + Math.floor(q / L);
      const r = q % L;
      nanWindow(b, Math.floor(r / ow), r % ow, b * L + r);
    }
  }
  wasmFusedStats.run++;
  return true;
}

/**
 * run(P): the input gradient planes [P, H, W] at IN (overwritten) from the gradient and indices [P, oh, ow] at
 * VALUES and INDICES (compact rows). W, oh, ow, H * W are i32 constant slots 0-3. The last vector of a row may hold
 * windows past ow: their lanes are masked to zero and land past the row, where a later store (or the zero fill)
 * is what stays.
 */
function buildBackward(): FnBuilder {
  const f = new FnBuilder(4);
  const i32 = () => f.local(T.i32);
  const vec = () => f.local(T.v128);
  const [W, oh, ow, HW4, nvec, plane, oy, row, col, v, o, oo, W4, end] = Array.from({ length: 14 }, i32);
  const [k, oxv, owv, zero, gz, id, valid, a, b] = Array.from({ length: 9 }, vec);
  const cnst = (slot: number, l: number) =>
    f
      .i32(0)
      .op(OP.i32_load, 2, CONSTS + 4 * slot)
      .set(l);
  cnst(0, W);
  cnst(1, oh);
  cnst(2, ow);
  cnst(3, HW4);
  f.get(HW4).i32(4).op(OP.i32_mul).set(HW4);
  f.get(W).i32(4).op(OP.i32_mul).set(W4);
  f.get(ow).i32(3).op(OP.i32_add).i32(2).op(OP.i32_shr_u).set(nvec);
  f.get(ow).simd(SIMD.i32x4_splat).set(owv).v128i32([0, 0, 0, 0]).set(zero);
  // the zero fill: positions no window covers (an odd last row or column)
  f.i32(IN).set(col).get(0).get(HW4).op(OP.i32_mul).i32(IN).op(OP.i32_add).set(end);
  f.op(OP.loop, 0x40);
  f.get(col).get(zero).simd(SIMD.v128_store, { align: 2, offset: 0 });
  f.get(col).i32(16).op(OP.i32_add).op(OP.local_tee, col).get(end).op(OP.i32_lt_u, OP.br_if, 0, OP.end);
  f.i32(IN).set(plane).i32(0).set(o);
  f.op(OP.loop, 0x40); // planes
  f.i32(0).set(oy).get(plane).set(row);
  f.op(OP.loop, 0x40); // output rows
  // the top input row of every window in the row first, then the bottom one: a spill of the top row's last
  // vector lands at the start of the bottom row, which is written after it
  for (const r of [0, 1]) {
    f.get(row);
    if (r === 1) f.get(W4).op(OP.i32_add);
    f.set(col).get(o).set(oo).i32(0).set(v);
    f.get(oy).get(W).op(OP.i32_mul).i32(1).op(OP.i32_shl);
    if (r === 1) f.get(W).op(OP.i32_add);
    f.simd(SIMD.i32x4_splat).v128i32([0, 2, 4, 6]).simd(SIMD.i32x4_add).set(k);
    f.v128i32([0, 1, 2, 3]).set(oxv);
    f.op(OP.loop, 0x40); // four windows
    f.get(owv).get(oxv).simd(SIMD.i32x4_gt_s).set(valid);
    f.get(oo).simd(SIMD.v128_load, { align: 2, offset: VALUES }).get(zero).simd(SIMD.f32x4_add).set(gz);
    f.get(oo).simd(SIMD.v128_load, { align: 2, offset: INDICES }).set(id);
    for (const [dst, delta] of [
      [a, 0],
      [b, 1],
    ] as const) {
      f.get(id).get(k);
      if (delta) f.v128i32([1, 1, 1, 1]).simd(SIMD.i32x4_add);
      f.simd(I32X4_EQ).get(valid).simd(SIMD.v128_and).get(gz).simd(SIMD.v128_and).set(dst);
    }
    for (const [zip, off] of [
      [ZIP_LO, 0],
      [ZIP_HI, 16],
    ] as const) {
      f.get(col)
        .get(a)
        .get(b)
        .simd(SIMD.i8x16_shuffle)
        .op(...zip);
      f.simd(SIMD.v128_store, { align: 2, offset: off });
    }
    f.get(k).v128i32([8, 8, 8, 8]).simd(SIMD.i32x4_add).set(k);
    f.get(oxv).v128i32([4, 4, 4, 4]).simd(SIMD.i32x4_add).set(oxv);
    f.get(col).i32(32).op(OP.i32_add).set(col);
    f.get(oo).i32(16).op(OP.i32_add).set(oo);
    f.get(v).i32(1).op(OP.i32_add).op(OP.local_tee, v).get(nvec).op(OP.i32_lt_u, OP.br_if, 0, OP.end);
  }
  f.get(o).get(ow).i32(2).op(OP.i32_shl).op(OP.i32_add).set(o);
  f.get(row).get(W4).i32(1).op(OP.i32_shl).op(OP.i32_add).set(row);
  f.get(oy).i32(1).op(OP.i32_add).op(OP.local_tee, oy).get(oh).op(OP.i32_lt_u, OP.br_if, 0, OP.end);
  f.get(plane).get(HW4).op(OP.i32_add).set(plane);
  f.get(0).i32(1).op(OP.i32_sub).op(OP.local_tee, 0).i32(0).op(OP.i32_ne, OP.br_if, 0, OP.end);
  return f;
}

/**
 * out [B, H, W] (overwritten) = the gradient [B, oh, ow] of 2x2 stride-2 max pooling (every window inside)
 * scattered to its int32 indices (flat plane positions, each inside its window), contiguous float32. False
 * (nothing written) when this path cannot run it.
 */
export function maxPool2x2BackwardWasm(
  grad: View,
  indices: View,
  out: View,
  B: number,
  H: number,
  W: number,
  oh: number,
  ow: number,
): boolean {
  const h = hostFor(indices, B, H, W, oh, ow);
  if (h === null) return false;
  if (backwardKernel === undefined) backwardKernel = compile(buildBackward());
  if (backwardKernel === null) return false;
  const HW = H * W;
  const per = Math.floor(BLOCK / HW);
  const ga = grad.handle as Float32Array;
  const ia = indices.handle as Int32Array;
  const oa = out.handle as Float32Array;
  const L = oh * ow;
  for (let b0 = 0; b0 < B; b0 += per) {
    const P = Math.min(per, B - b0);
    const g0 = grad.offset + b0 * L;
    const i0 = indices.offset + b0 * L;
    h.f32.set(ga.subarray(g0, g0 + P * L), VALUES / 4);
    h.i32.set(ia.subarray(i0, i0 + P * L), INDICES / 4);
    backwardKernel.run(P, 0, 0, 0);
    oa.set(h.f32.subarray(IN / 4, IN / 4 + P * HW), out.offset + b0 * HW);
  }
  wasmFusedStats.run++;
  return true;
}
