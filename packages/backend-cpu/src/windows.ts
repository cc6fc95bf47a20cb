/**
 * Regular 2-D window kernels (the optional `im2col`, `col2im`, `maxPool2d`, `maxPool2dBackward` fast paths):
 * tight loops over contiguous float arrays, one pass each.
 */
import type { TypedArray, View, Window2d } from "@cinder/tensor";

type Floats = Float32Array | Float64Array;

/** The first tap t (of stride d from `start`) landing at or after 0. */
function first(start: number, d: number): number {
  return start >= 0 ? 0 : Math.ceil(-start / d);
}

/** One past the last tap t < k landing before n. */
function end(start: number, d: number, k: number, n: number): number {
  return start >= n ? 0 : Math.min(k, Math.floor((n - 1 - start) / d) + 1);
}

function dims(x: View): [number, number, number, number] {
  const s = x.shape;
  return [s[0], s[1], s[2], s[3]];
}

/** out[n, l, (c * kH + i) * kW + j] = x[n, c, y, x] (0 outside the input). */
export function im2col(x: View, p: Window2d, out: View): void {
  const [N, C, H, W] = dims(x);
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const [oh, ow] = p.output;
  const xa = x.handle as Floats;
  const oa = out.handle as Floats;
  const HW = H * W;
  let o = out.offset;
  for (let n = 0; n < N; n++) {
    const xn = x.offset + n * C * HW;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pw;
        const j0 = first(x0, dw);
        const j1 = end(x0, dw, kw, W);
        const partial = j0 > 0 || j1 < kw;
        for (let c = 0; c < C; c++) {
          const xc = xn + c * HW + x0;
          for (let i = 0; i < kh; i++) {
            const y = y0 + i * dh;
            if (partial || y < 0 || y >= H) for (let j = 0; j < kw; j++) oa[o + j] = 0;
            if (y >= 0 && y < H) {
              const xr = xc + y * W;
              for (let j = j0; j < j1; j++) oa[o + j] = xa[xr + j * dw];
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
  const [N, C, H, W] = dims(out);
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const [oh, ow] = p.output;
  const ca = cols.handle as Floats;
  const oa = out.handle as Floats;
  const HW = H * W;
  oa.fill(0, out.offset, out.offset + N * C * HW);
  let o = cols.offset;
  for (let n = 0; n < N; n++) {
    const xn = out.offset + n * C * HW;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pw;
        const j0 = first(x0, dw);
        const j1 = end(x0, dw, kw, W);
        for (let c = 0; c < C; c++) {
          const xc = xn + c * HW + x0;
          for (let i = 0; i < kh; i++) {
            const y = y0 + i * dh;
            if (y >= 0 && y < H) {
              const xr = xc + y * W;
              for (let j = j0; j < j1; j++) oa[xr + j * dw] += ca[o + j];
            }
            o += kw;
          }
        }
      }
    }
  }
}

/** Max over each window (padding skipped): the first maximum's value and flat plane index; NaN wins. */
export function maxPool2d(x: View, p: Window2d, values: View, indices: View): void {
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
  let o = 0;
  for (let b = 0; b < N * C; b++) {
    const xb = x.offset + b * HW;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pw;
        let best = Number.NEGATIVE_INFINITY;
        let at = -1;
        const i1 = end(y0, dh, kh, H);
        const j0 = first(x0, dw);
        const j1 = end(x0, dw, kw, W);
        search: for (let i = first(y0, dh); i < i1; i++) {
          const row = (y0 + i * dh) * W + x0;
          for (let j = j0; j < j1; j++) {
            const k = row + j * dw;
            const v = xa[xb + k];
            if (at < 0 || v > best || Number.isNaN(v)) {
              best = v;
              at = k;
              if (Number.isNaN(v)) break search;
            }
          }
        }
        va[values.offset + o] = best;
        ia[indices.offset + o] = at;
        o++;
      }
    }
  }
}

/** out (overwritten) = grad scattered (added) into each plane at its index. */
export function maxPool2dBackward(grad: View, indices: View, _p: Window2d, out: View): void {
  const [N, C, H, W] = dims(out);
  const L = grad.shape[2] * grad.shape[3];
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
