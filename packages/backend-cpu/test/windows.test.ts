/**
 * The window kernels (im2col, col2im, maxPool2d, maxPool2dBackward) against their definitions, written as plain
 * loops over every (window, tap): the interior/border split and the unrolled kW = 3 rows of im2col/col2im, and
 * the branch-free float32 max pooling (integer keys, masked selects, the NaN rescan), on float32 and float64, with
 * offsets, padding, dilation, strides and ceil-mode windows that overhang the input.
 */
import type { DType, TypedArray, View, Window2d } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { col2im, im2col, maxPool2d, maxPool2dBackward } from "../src/windows";
import { empty, sizeOf, stridesOf } from "./helpers";

interface Geo {
  N: number;
  C: number;
  H: number;
  W: number;
  k: [number, number];
  s: [number, number];
  p: [number, number];
  d: [number, number];
  /** Extra output rows/cols beyond the floor formula (ceil mode). */
  extra?: [number, number];
}

function window(g: Geo): Window2d {
  const out = (n: number, i: number) =>
    Math.floor((n + 2 * g.p[i] - g.d[i] * (g.k[i] - 1) - 1) / g.s[i]) + 1 + (g.extra?.[i] ?? 0);
  return { kernel: g.k, stride: g.s, padding: g.p, dilation: g.d, output: [out(g.H, 0), out(g.W, 1)] };
}

/** A view of `shape` placed `offset` elements into a larger array filled with `data(i)`. */
function filled(dtype: DType, shape: number[], data: (i: number) => number, offset = 3): View {
  const n = sizeOf(shape);
  const a = (dtype === "float32" ? new Float32Array(n + offset + 2) : new Float64Array(n + offset + 2)).fill(
    -7,
  );
  for (let i = 0; i < n; i++) a[offset + i] = data(i);
  return { handle: a, dtype, shape, strides: stridesOf(shape), offset };
}

function values(v: View): number[] {
  const a = v.handle as TypedArray;
  return Array.from(a.subarray(v.offset, v.offset + sizeOf(v.shape)));
}

/** (y, x) read by tap (i, j) of window (oy, ox), or null in the padding. */
function tap(g: Geo, w: Window2d, oy: number, ox: number, i: number, j: number): [number, number] | null {
  const y = oy * w.stride[0] - w.padding[0] + i * w.dilation[0];
  const x = ox * w.stride[1] - w.padding[1] + j * w.dilation[1];
  return y >= 0 && y < g.H && x >= 0 && x < g.W ? [y, x] : null;
}

function refIm2col(g: Geo, w: Window2d, x: number[]): number[] {
  const [oh, ow] = w.output;
  const out: number[] = [];
  for (let n = 0; n < g.N; n++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let c = 0; c < g.C; c++)
          for (let i = 0; i < g.k[0]; i++)
            for (let j = 0; j < g.k[1]; j++) {
              const t = tap(g, w, oy, ox, i, j);
              out.push(t ? x[((n * g.C + c) * g.H + t[0]) * g.W + t[1]] : 0);
            }
  return out;
}

function refCol2im(g: Geo, w: Window2d, cols: number[]): number[] {
  const [oh, ow] = w.output;
  const out = new Array<number>(g.N * g.C * g.H * g.W).fill(0);
  let q = 0;
  for (let n = 0; n < g.N; n++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let c = 0; c < g.C; c++)
          for (let i = 0; i < g.k[0]; i++)
            for (let j = 0; j < g.k[1]; j++, q++) {
              const t = tap(g, w, oy, ox, i, j);
              if (t) out[((n * g.C + c) * g.H + t[0]) * g.W + t[1]] += cols[q];
            }
  return out;
}

/** The first maximum (strictly greater replaces), the first NaN winning outright. */
function refMaxPool(g: Geo, w: Window2d, x: number[]): [number[], number[]] {
  const [oh, ow] = w.output;
  const vals: number[] = [];
  const idx: number[] = [];
  for (let b = 0; b < g.N * g.C; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let best = Number.NEGATIVE_INFINITY;
        let at = -1;
        for (let i = 0; i < g.k[0] && !Number.isNaN(best); i++)
          for (let j = 0; j < g.k[1]; j++) {
            const t = tap(g, w, oy, ox, i, j);
            if (!t) continue;
            const v = x[b * g.H * g.W + t[0] * g.W + t[1]];
            if (at < 0 || v > best || Number.isNaN(v)) {
              best = v;
              at = t[0] * g.W + t[1];
              if (Number.isNaN(v)) break;
            }
          }
        vals.push(best);
        idx.push(at);
      }
  return [vals, idx];
}

const convGeos: [string, Geo][] = [
  ["3x3 padding 1", { N: 2, C: 3, H: 6, W: 5, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1] }],
  ["3x3 no padding", { N: 1, C: 2, H: 5, W: 7, k: [3, 3], s: [1, 1], p: [0, 0], d: [1, 1] }],
  ["3x3 stride 2, dilation 2", { N: 2, C: 2, H: 9, W: 8, k: [3, 3], s: [2, 2], p: [2, 1], d: [2, 2] }],
  ["2x4 stride (1, 3)", { N: 1, C: 3, H: 5, W: 11, k: [2, 4], s: [1, 3], p: [1, 2], d: [1, 1] }],
  ["1x3 (one row)", { N: 2, C: 2, H: 1, W: 9, k: [1, 3], s: [1, 2], p: [0, 1], d: [1, 1] }],
  ["kernel larger than the input", { N: 1, C: 1, H: 2, W: 2, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1] }],
];

describe.each(["float32", "float64"] as const)("window kernels, %s", (dtype) => {
  for (const [name, g] of convGeos) {
    const w = window(g);
    const L = w.output[0] * w.output[1];
    const K = g.C * g.k[0] * g.k[1];
    it(`im2col and col2im: ${name}`, () => {
      const x = filled(dtype, [g.N, g.C, g.H, g.W], (i) => (i % 13) - 6.5 + i / 64);
      const cols = empty(dtype, [g.N, L, K]);
      (cols.handle as TypedArray).fill(99); // every entry is written
      im2col(x, w, cols);
      expect(values(cols)).toEqual(refIm2col(g, w, values(x)));
      const c = filled(dtype, [g.N, L, K], (i) => ((i * 7) % 11) - 5);
      const out = filled(dtype, [g.N, g.C, g.H, g.W], () => 42, 5);
      col2im(c, w, out);
      expect(values(out)).toEqual(refCol2im(g, w, values(c)));
    });
  }

  const poolGeos: [string, Geo][] = [
    ["2x2 stride 2", { N: 2, C: 3, H: 6, W: 8, k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1] }],
    [
      "2x2 ceil mode (windows overhang)",
      { N: 1, C: 2, H: 5, W: 7, k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], extra: [1, 1] },
    ],
    ["3x3 stride 2 padding 1", { N: 1, C: 2, H: 7, W: 6, k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1] }],
    ["3x2 dilation 2", { N: 1, C: 2, H: 9, W: 9, k: [3, 2], s: [1, 2], p: [1, 1], d: [2, 2] }],
  ];
  // values with ties, signed zeros, infinities and the odd NaN (of either sign)
  const specials = [0, -0, 1, 1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2.5, -2.5, 3];
  const sample = (i: number, nans: boolean): number => {
    if (nans && i % 17 === 5) return i % 2 ? Number.NaN : -Number.NaN;
    const r = (i * 2654435761) % 97;
    return r < 30 ? specials[r % specials.length] : (r - 48) / 7;
  };
  it("maxPool2d: ties (also -0 against 0) keep the first maximum", () => {
    // four 2x2 windows over a 2x8 plane: [-0, 0 | -1, -2], [0, -0 | -3, -4], [-1, -0 | 0, -5], [2, 1 | 2, 2]
    const plane = [-0, 0, 0, -0, -1, -0, 2, 1, -1, -2, -3, -4, 0, -5, 2, 2];
    const g: Geo = { N: 1, C: 1, H: 2, W: 8, k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1] };
    const x = filled(dtype, [1, 1, 2, 8], (i) => plane[i]);
    const vals = empty(dtype, [1, 1, 1, 4]);
    const idx = empty("int32", [1, 1, 1, 4]);
    maxPool2d(x, window(g), vals, idx);
    expect(values(idx)).toEqual([0, 2, 5, 6]);
    expect(values(vals).map((v) => Object.is(v, -0))).toEqual([true, false, true, false]);
  });

  for (const [name, g] of poolGeos) {
    for (const nans of [false, true]) {
      it(`maxPool2d: ${name}${nans ? ", with NaNs" : ""}`, () => {
        const w = window(g);
        const x = filled(dtype, [g.N, g.C, g.H, g.W], (i) => sample(i, nans));
        const vals = filled(dtype, [g.N, g.C, ...w.output], () => 0, 1);
        const idx: View = {
          handle: new Int32Array(sizeOf(vals.shape) + 4),
          dtype: "int32",
          shape: vals.shape,
          strides: vals.strides,
          offset: 2,
        };
        maxPool2d(x, w, vals, idx);
        const [rv, ri] = refMaxPool(g, w, values(x));
        expect(values(idx)).toEqual(ri);
        // Object.is: -0 and 0 are told apart, NaN equals NaN
        values(vals).forEach((v, i) => {
          expect(Object.is(v, rv[i]) || (Number.isNaN(v) && Number.isNaN(rv[i]))).toBe(true);
        });
        const grad = filled(dtype, [...vals.shape], (i) => i + 1);
        const gx = filled(dtype, [g.N, g.C, g.H, g.W], () => 5, 4);
        maxPool2dBackward(grad, idx, w, gx);
        const want = new Array<number>(sizeOf(gx.shape)).fill(0);
        const plane = g.H * g.W;
        const per = w.output[0] * w.output[1];
        ri.forEach((at, i) => {
          want[Math.floor(i / per) * plane + at] += i + 1;
        });
        expect(values(gx)).toEqual(want);
      });
    }
  }
});
