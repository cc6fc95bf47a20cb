/**
 * Regular 2-D window kernels (the optional `im2col`, `col2im`, `maxPool2d`, `maxPool2dBackward` fast paths):
 * tight loops over contiguous float arrays, one pass each. float32 im2col/col2im with dilation 1 along the width run
 * on WebAssembly SIMD (wasm/im2col-wasm.ts, the same bits) where it is available; these loops are its fallback.
 *
 * im2col and col2im split each output position's windows into the interior (every tap inside the input: no
 * bounds checks, unrolled for 3x3 kernels and rows of 3 taps) and the border (taps clipped, padding zero).
 * Max pooling on float32 picks each window's maximum without data-dependent branches (a random sign pattern
 * mispredicts about every other compare): each value's bits become an integer key ordered as the floats are (-0
 * equal to 0), and the running maximum, its bits and its index are selected by masks; a window holding a NaN
 * (rare, so its branch predicts) is redone by the plain scan, where the first NaN wins. 2x2 stride-2 windows run on
 * WebAssembly SIMD (wasm/pool-wasm.ts, the same choices) where it is available.
 */
import type { TypedArray, View, Window2d } from "@cinder/tensor";
import { col2imWasm, im2colWasm } from "./wasm/im2col-wasm";
import { maxPool2x2BackwardWasm, maxPool2x2Wasm } from "./wasm/pool-wasm";

type Floats = Float32Array | Float64Array;

/** The first tap t (of stride d from `start`) landing at or after 0. */
function first(start: number, d: number): number {
  return start >= 0 ? 0 : Math.ceil(-start / d);
}

/** One past the last tap t < k landing before n. */
function end(start: number, d: number, k: number, n: number): number {
  return start >= n ? 0 : Math.min(k, Math.floor((n - 1 - start) / d) + 1);
}

/**
 * For each of `o` windows along one axis (start o * s - p, taps at stride d), the first and one past the last
 * tap inside [0, n): entries 2o and 2o + 1.
 */
function ranges(o: number, s: number, p: number, d: number, k: number, n: number): Int32Array {
  const r = new Int32Array(2 * o);
  for (let i = 0; i < o; i++) {
    const start = i * s - p;
    r[2 * i] = first(start, d);
    r[2 * i + 1] = Math.max(r[2 * i], end(start, d, k, n));
  }
  return r;
}

function dims(x: View): [number, number, number, number] {
  const s = x.shape;
  return [s[0], s[1], s[2], s[3]];
}

/** out[n, l, (c * kH + i) * kW + j] = x[n, c, y, x] (0 outside the input). */
export function im2col(x: View, p: Window2d, out: View): void {
  if (im2colWasm(x, p, out)) return;
  const [N, C, H, W] = dims(x);
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const [oh, ow] = p.output;
  const xa = x.handle as Floats;
  const oa = out.handle as Floats;
  const HW = H * W;
  const ry = ranges(oh, sh, ph, dh, kh, H);
  const rx = ranges(ow, sw, pw, dw, kw, W);
  const rowStep = dh * W;
  let o = out.offset;
  for (let n = 0; n < N; n++) {
    const xn = x.offset + n * C * HW;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      const i0 = ry[2 * oy];
      const i1 = ry[2 * oy + 1];
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pw;
        const j0 = rx[2 * ox];
        const j1 = rx[2 * ox + 1];
        if (i0 === 0 && i1 === kh && j0 === 0 && j1 === kw) {
          // interior: every tap reads the input
          let xc = xn + y0 * W + x0;
          if (kw === 3 && kh === 3) {
            const d2 = 2 * dw;
            const r2 = 2 * rowStep;
            for (let c = 0; c < C; c++, xc += HW, o += 9) {
              oa[o] = xa[xc];
              oa[o + 1] = xa[xc + dw];
              oa[o + 2] = xa[xc + d2];
              oa[o + 3] = xa[xc + rowStep];
              oa[o + 4] = xa[xc + rowStep + dw];
              oa[o + 5] = xa[xc + rowStep + d2];
              oa[o + 6] = xa[xc + r2];
              oa[o + 7] = xa[xc + r2 + dw];
              oa[o + 8] = xa[xc + r2 + d2];
            }
          } else if (kw === 3) {
            const d2 = 2 * dw;
            for (let c = 0; c < C; c++, xc += HW) {
              for (let i = 0, xr = xc; i < kh; i++, xr += rowStep, o += 3) {
                oa[o] = xa[xr];
                oa[o + 1] = xa[xr + dw];
                oa[o + 2] = xa[xr + d2];
              }
            }
          } else {
            for (let c = 0; c < C; c++, xc += HW) {
              for (let i = 0, xr = xc; i < kh; i++, xr += rowStep)
                for (let j = 0; j < kw; j++) oa[o++] = xa[xr + j * dw];
            }
          }
          continue;
        }
        for (let c = 0; c < C; c++) {
          const xc = xn + c * HW + x0;
          for (let i = 0; i < kh; i++) {
            if (i < i0 || i >= i1) {
              for (let j = 0; j < kw; j++) oa[o + j] = 0;
            } else {
              const xr = xc + (y0 + i * dh) * W;
              let j = 0;
              for (; j < j0; j++) oa[o + j] = 0;
              for (; j < j1; j++) oa[o + j] = xa[xr + j * dw];
              for (; j < kw; j++) oa[o + j] = 0;
            }
            o += kw;
          }
        }
      }
    }
  }
}

/** The adjoint of `im2col`: out (overwritten) = the sum of the row entries reading each position. */
export function col2im(cols: View, p: Window2d, out: View): void {
  if (col2imWasm(cols, p, out)) return;
  const [N, C, H, W] = dims(out);
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const [oh, ow] = p.output;
  const ca = cols.handle as Floats;
  const oa = out.handle as Floats;
  const HW = H * W;
  const ry = ranges(oh, sh, ph, dh, kh, H);
  const rx = ranges(ow, sw, pw, dw, kw, W);
  const rowStep = dh * W;
  oa.fill(0, out.offset, out.offset + N * C * HW);
  let o = cols.offset;
  for (let n = 0; n < N; n++) {
    const xn = out.offset + n * C * HW;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      const i0 = ry[2 * oy];
      const i1 = ry[2 * oy + 1];
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pw;
        const j0 = rx[2 * ox];
        const j1 = rx[2 * ox + 1];
        if (i0 === 0 && i1 === kh && j0 === 0 && j1 === kw) {
          let xc = xn + y0 * W + x0;
          if (kw === 3 && kh === 3) {
            const d2 = 2 * dw;
            const r2 = 2 * rowStep;
            for (let c = 0; c < C; c++, xc += HW, o += 9) {
              oa[xc] += ca[o];
              oa[xc + dw] += ca[o + 1];
              oa[xc + d2] += ca[o + 2];
              oa[xc + rowStep] += ca[o + 3];
              oa[xc + rowStep + dw] += ca[o + 4];
              oa[xc + rowStep + d2] += ca[o + 5];
              oa[xc + r2] += ca[o + 6];
              oa[xc + r2 + dw] += ca[o + 7];
              oa[xc + r2 + d2] += ca[o + 8];
            }
          } else if (kw === 3) {
            const d2 = 2 * dw;
            for (let c = 0; c < C; c++, xc += HW) {
              for (let i = 0, xr = xc; i < kh; i++, xr += rowStep, o += 3) {
                oa[xr] += ca[o];
                oa[xr + dw] += ca[o + 1];
                oa[xr + d2] += ca[o + 2];
              }
            }
          } else {
            for (let c = 0; c < C; c++, xc += HW) {
              for (let i = 0, xr = xc; i < kh; i++, xr += rowStep)
                for (let j = 0; j < kw; j++) oa[xr + j * dw] += ca[o++];
            }
          }
          continue;
        }
        for (let c = 0; c < C; c++) {
          const xc = xn + c * HW + x0;
          for (let i = i0; i < i1; i++) {
            const xr = xc + (y0 + i * dh) * W;
            const oi = o + i * kw;
            for (let j = j0; j < j1; j++) oa[xr + j * dw] += ca[oi + j];
          }
          o += kh * kw;
        }
      }
    }
  }
}

/** The plain scan over window taps (float64, and float32 windows holding a NaN): first maximum, NaN wins. */
function scanWindow(
  xa: Floats,
  xb: number,
  W: number,
  y0: number,
  x0: number,
  i0: number,
  i1: number,
  j0: number,
  j1: number,
  dh: number,
  dw: number,
): [number, number] {
  let best = Number.NEGATIVE_INFINITY;
  let at = -1;
  for (let i = i0; i < i1; i++) {
    const row = (y0 + i * dh) * W + x0;
    for (let j = j0; j < j1; j++) {
      const k = row + j * dw;
      const v = xa[xb + k];
      if (Number.isNaN(v)) return [v, k];
      if (at < 0 || v > best) {
        best = v;
        at = k;
      }
    }
  }
  return [best, at];
}

/** Max over each window (padding skipped): the first maximum's value and flat plane index; NaN wins. */
export function maxPool2d(x: View, p: Window2d, values: View, indices: View): void {
  if (x.handle instanceof Float32Array && values.handle instanceof Float32Array) {
    maxPool2dF32(x, p, values, indices);
    return;
  }
  const [N, C, H, W] = dims(x);
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const [oh, ow] = p.output;
  const xa = x.handle as Floats;
  const va = values.handle as Floats;
  const ia = indices.handle as TypedArray;
  const HW = H * W;
  const ry = ranges(oh, sh, ph, dh, kh, H);
  const rx = ranges(ow, sw, pw, dw, kw, W);
  let o = 0;
  for (let b = 0; b < N * C; b++) {
    const xb = x.offset + b * HW;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      const i0 = ry[2 * oy];
      const i1 = ry[2 * oy + 1];
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pw;
        const [best, at] = scanWindow(xa, xb, W, y0, x0, i0, i1, rx[2 * ox], rx[2 * ox + 1], dh, dw);
        va[values.offset + o] = best;
        ia[indices.offset + o] = at;
        o++;
      }
    }
  }
}

/**
 * The integer key of float32 bits, ordered as the floats (NaN aside): negatives have their magnitude bits
 * flipped, and shifted by one so that -0 and 0 tie.
 */
function key(bits: number): number {
  return ((bits ^ ((bits >> 31) & 0x7fffffff)) + (bits >>> 31)) | 0;
}

/** -1 when a < b (int32), else 0, without overflow or branches. */
function lessMask(a: number, b: number): number {
  const d = (a - b) | 0;
  return (d ^ ((a ^ b) & (d ^ a))) >> 31;
}

/** NaN bits give a negative number (exponent all ones, mantissa not zero), others a non-negative one. */
function nanSign(bits: number): number {
  return 0x7f800000 - (bits & 0x7fffffff);
}

function maxPool2dF32(x: View, p: Window2d, values: View, indices: View): void {
  const [N, C, H, W] = dims(x);
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const [oh, ow] = p.output;
  const xf = x.handle as Float32Array;
  const xa = new Int32Array(xf.buffer, xf.byteOffset, xf.length);
  const vf = values.handle as Float32Array;
  const va = new Int32Array(vf.buffer, vf.byteOffset, vf.length);
  const ia = indices.handle as TypedArray;
  const HW = H * W;
  const ry = ranges(oh, sh, ph, dh, kh, H);
  const rx = ranges(ow, sw, pw, dw, kw, W);
  if (kh === 2 && kw === 2 && dh === 1 && dw === 1 && ph === 0 && pw === 0) {
    if ((oh - 1) * sh + 2 <= H && (ow - 1) * sw + 2 <= W) {
      const rescan = (b: number, oy: number, ox: number, o: number) => {
        const [best, k] = scanWindow(xf, x.offset + b * HW, W, oy * 2, ox * 2, 0, 2, 0, 2, 1, 1);
        vf[values.offset + o] = best;
        ia[indices.offset + o] = k;
      };
      if (sh === 2 && sw === 2 && maxPool2x2Wasm(x, values, indices, N * C, H, W, oh, ow, rescan)) return;
      maxPool2x2(xa, N * C, H, W, sh, sw, oh, ow, x, values, indices);
      return;
    }
  }
  let vo = values.offset;
  let io = indices.offset;
  for (let b = 0; b < N * C; b++) {
    const xb = x.offset + b * HW;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      const i0 = ry[2 * oy];
      const i1 = ry[2 * oy + 1];
      for (let ox = 0; ox < ow; ox++, vo++, io++) {
        const x0 = ox * sw - pw;
        const j0 = rx[2 * ox];
        const j1 = rx[2 * ox + 1];
        let bits: number;
        let at: number;
        let nan: number;
        if (i0 < i1 && j0 < j1) {
          const k0 = (y0 + i0 * dh) * W + x0 + j0 * dw;
          bits = xa[xb + k0];
          let kb = key(bits);
          at = k0;
          nan = nanSign(bits);
          for (let i = i0; i < i1; i++) {
            const row = (y0 + i * dh) * W + x0;
            for (let j = i === i0 ? j0 + 1 : j0; j < j1; j++) {
              const k = row + j * dw;
              const v = xa[xb + k];
              const kv = key(v);
              const m = lessMask(kb, kv);
              nan |= nanSign(v);
              kb ^= (kb ^ kv) & m;
              bits ^= (bits ^ v) & m;
              at ^= (at ^ k) & m;
            }
          }
        } else {
          // no tap inside the input
          bits = 0;
          at = 0;
          nan = -1;
        }
        if (nan < 0) {
          const [best, k] = scanWindow(xf, xb, W, y0, x0, i0, i1, j0, j1, dh, dw);
          vf[vo] = best;
          ia[io] = k;
        } else {
          va[vo] = bits;
          ia[io] = at;
        }
      }
    }
  }
}

/** 2x2 windows (any stride), all inside the input: `maxPool2dF32` unrolled. */
function maxPool2x2(
  xa: Int32Array,
  B: number,
  H: number,
  W: number,
  sh: number,
  sw: number,
  oh: number,
  ow: number,
  x: View,
  values: View,
  indices: View,
): void {
  const vf = values.handle as Float32Array;
  const va = new Int32Array(vf.buffer, vf.byteOffset, vf.length);
  const ia = indices.handle as TypedArray;
  const HW = H * W;
  let vo = values.offset;
  let io = indices.offset;
  for (let b = 0; b < B; b++) {
    const xb = x.offset + b * HW;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0, k0 = oy * sh * W; ox < ow; ox++, k0 += sw, vo++, io++) {
        const q = xb + k0;
        let bits = xa[q];
        let kb = key(bits);
        let at = k0;
        let nan = nanSign(bits);
        let v = xa[q + 1];
        let kv = key(v);
        let m = lessMask(kb, kv);
        nan |= nanSign(v);
        kb ^= (kb ^ kv) & m;
        bits ^= (bits ^ v) & m;
        at ^= (at ^ (k0 + 1)) & m;
        v = xa[q + W];
        kv = key(v);
        m = lessMask(kb, kv);
        nan |= nanSign(v);
        kb ^= (kb ^ kv) & m;
        bits ^= (bits ^ v) & m;
        at ^= (at ^ (k0 + W)) & m;
        v = xa[q + W + 1];
        kv = key(v);
        m = lessMask(kb, kv);
        nan |= nanSign(v);
        bits ^= (bits ^ v) & m;
        at ^= (at ^ (k0 + W + 1)) & m;
        if (nan < 0) {
          const [best, k] = scanWindow(x.handle as Float32Array, xb, W, oy * sh, ox * sw, 0, 2, 0, 2, 1, 1);
          vf[vo] = best;
          ia[io] = k;
        } else {
          va[vo] = bits;
          ia[io] = at;
        }
      }
    }
  }
}

/** out (overwritten) = grad scattered (added) into each plane at its index. */
export function maxPool2dBackward(grad: View, indices: View, p: Window2d, out: View): void {
  const [N, C, H, W] = dims(out);
  const [oh, ow] = p.output;
  const L = grad.shape[2] * grad.shape[3];
  // 2x2 stride-2 windows inside the input do not overlap: each position is written once, on WebAssembly SIMD
  const inside = 2 * oh <= H && 2 * ow <= W && L === oh * ow;
  const twoByTwo = p.kernel.every(
    (k, i) => k === 2 && p.stride[i] === 2 && p.padding[i] === 0 && p.dilation[i] === 1,
  );
  if (twoByTwo && inside && grad.handle instanceof Float32Array && out.handle instanceof Float32Array) {
    if (maxPool2x2BackwardWasm(grad, indices, out, N * C, H, W, oh, ow)) return;
  }
  const ga = grad.handle as Floats;
  const ia = indices.handle as TypedArray;
  const oa = out.handle as Floats;
  const HW = H * W;
  oa.fill(0, out.offset, out.offset + N * C * HW);
  for (let b = 0; b < N * C; b++) {
    const ob = out.offset + b * HW;
    const gb = grad.offset + b * L;
    const ib = indices.offset + b * L;
    for (let l = 0; l < L; l++) oa[ob + ia[ib + l]] += ga[gb + l];
  }
}
