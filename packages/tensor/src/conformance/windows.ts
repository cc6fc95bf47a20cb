/**
 * Conformance of the optional window fast paths (`im2col`, `col2im`, `maxPool2d`, `maxPool2dBackward`) against
 * host references, on float32 views with a storage offset. Each case passes when the backend lacks the member.
 */
import { getBackend, type Window2d } from "../backend";
import "../methods";
import { tensor, zeros } from "../ops/creation";
import type { Tensor } from "../tensor";
import { assertClose, type ConformanceCase, data, EXACT, logical, TOL, toDtypeArray } from "./support";

interface Geometry {
  name: string;
  /** [N, C, H, W] */
  x: [number, number, number, number];
  p: Window2d;
}

/** conv-like grids, plus pooling grids whose last window overhangs the input (ceil mode). */
const GEOMETRIES: Geometry[] = [
  {
    name: "3x3 padding 1",
    x: [2, 3, 5, 4],
    p: { kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], output: [5, 4] },
  },
  {
    name: "3x2 stride (2, 1) padding (1, 0) dilation (1, 2)",
    x: [1, 2, 7, 6],
    p: { kernel: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2], output: [4, 4] },
  },
  {
    name: "2x2 stride 2, ceil mode",
    x: [2, 2, 5, 7],
    p: { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], output: [3, 4] },
  },
];

/** A contiguous float32 tensor of `shape` starting 3 elements into its storage. */
function offsetTensor(values: number[], shape: number[], device: string): Tensor {
  return tensor([0, 0, 0, ...values], { dtype: "float32", device })
    .at("3:")
    .reshape(...shape);
}

/** The input position tap (i, j) of window (oy, ox) reads, or -1 outside the input. */
function tapAt(g: Geometry, oy: number, ox: number, i: number, j: number): number {
  const [, , H, W] = g.x;
  const y = oy * g.p.stride[0] - g.p.padding[0] + i * g.p.dilation[0];
  const x = ox * g.p.stride[1] - g.p.padding[1] + j * g.p.dilation[1];
  return y >= 0 && y < H && x >= 0 && x < W ? y * W + x : -1;
}

export function windowCases(): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const g of GEOMETRIES) {
    const [N, C, H, W] = g.x;
    const [kh, kw] = g.p.kernel;
    const [oh, ow] = g.p.output;
    const L = oh * ow;
    const K = C * kh * kw;
    cases.push({
      name: `im2col and col2im, ${g.name}`,
      async run(device) {
        const b = getBackend(device);
        if (!b.im2col || !b.col2im) return;
        const xs = toDtypeArray(data(N * C * H * W, 31, -2, 2), "float32");
        const cs = toDtypeArray(data(N * L * K, 32, -2, 2), "float32");
        const rows: number[] = [];
        const back = new Array<number>(N * C * H * W).fill(0);
        for (let n = 0; n < N; n++)
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < ow; ox++)
              for (let c = 0; c < C; c++)
                for (let i = 0; i < kh; i++)
                  for (let j = 0; j < kw; j++) {
                    const at = tapAt(g, oy, ox, i, j);
                    const plane = (n * C + c) * H * W;
                    rows.push(at < 0 ? 0 : xs[plane + at]);
                    if (at >= 0) back[plane + at] += cs[rows.length - 1];
                  }
        const x = offsetTensor(xs, g.x, device);
        const out = offsetTensor(new Array(N * L * K).fill(7), [N, L, K], device);
        b.im2col(x.view_, g.p, out.view_);
        assertClose(await logical(out), rows, EXACT, "im2col");
        const cols = offsetTensor(cs, [N, L, K], device);
        const img = offsetTensor(new Array(N * C * H * W).fill(7), g.x, device);
        b.col2im(cols.view_, g.p, img.view_);
        assertClose(await logical(img), back, { rtol: 1e-5, atol: 1e-5 }, "col2im");
      },
    });
    cases.push({
      name: `maxPool2d and maxPool2dBackward, ${g.name}`,
      async run(device) {
        const b = getBackend(device);
        if (!b.maxPool2d || !b.maxPool2dBackward) return;
        const xs = toDtypeArray(data(N * C * H * W, 33, -5, 5), "float32");
        // a NaN wins its window; a plane of -inf picks each window's first tap inside the input
        xs[1] = Number.NaN;
        for (let k = H * W; k < 2 * H * W; k++) xs[k] = Number.NEGATIVE_INFINITY;
        const gs = toDtypeArray(data(N * C * L, 34, -2, 2), "float32");
        const vals: number[] = [];
        const idx: number[] = [];
        const back = new Array<number>(N * C * H * W).fill(0);
        for (let pl = 0; pl < N * C; pl++)
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < ow; ox++) {
              let best = Number.NEGATIVE_INFINITY;
              let at = -1;
              for (let i = 0; i < kh && !Number.isNaN(best); i++)
                for (let j = 0; j < kw; j++) {
                  const k = tapAt(g, oy, ox, i, j);
                  if (k < 0) continue;
                  const v = xs[pl * H * W + k];
                  if (at < 0 || v > best || Number.isNaN(v)) {
                    best = v;
                    at = k;
                    if (Number.isNaN(v)) break;
                  }
                }
              vals.push(best);
              idx.push(at);
              back[pl * H * W + at] += gs[vals.length - 1];
            }
        const x = offsetTensor(xs, g.x, device);
        const values = offsetTensor(new Array(N * C * L).fill(7), [N, C, oh, ow], device);
        const indices = zeros([N, C, oh, ow], { dtype: "int32", device });
        b.maxPool2d(x.view_, g.p, values.view_, indices.view_);
        assertClose(await logical(values), vals, EXACT, "maxPool2d values");
        assertClose(await logical(indices), idx, EXACT, "maxPool2d indices");
        const grad = offsetTensor(gs, [N, C, oh, ow], device);
        const out = offsetTensor(new Array(N * C * H * W).fill(7), g.x, device);
        b.maxPool2dBackward(grad.view_, indices.view_, g.p, out.view_);
        assertClose(await logical(out), back, TOL.float32, "maxPool2dBackward");
      },
    });
  }
  return cases;
}
