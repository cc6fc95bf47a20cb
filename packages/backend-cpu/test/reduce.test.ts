import type { DType, ReduceOp, TypedArray, View } from "@cinder/tensor";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cpu } from "../src/index";
import { elements, empty, expandTo, indices, permutedView, rng, roundTo, sizeOf, view } from "./helpers";

/** Naive reduction over `axes` by enumerating every input index. */
function reduceRef(op: ReduceOp, x: View, axes: readonly number[]): number[] {
  const wraps = x.dtype === "int32"; // int32 products wrap at every step (exact with Math.imul)
  const outShape = x.shape.map((s, d) => (axes.includes(d) ? 1 : s));
  const init = { sum: 0, prod: 1, max: Number.NEGATIVE_INFINITY, min: Number.POSITIVE_INFINITY }[op];
  const acc = new Array(sizeOf(outShape)).fill(init);
  const xs = elements(x);
  indices(x.shape).forEach((idx, f) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o = o * outShape[d] + (axes.includes(d) ? 0 : idx[d]);
    const v = xs[f];
    if (op === "sum") acc[o] += v;
    else if (op === "prod") acc[o] = wraps ? Math.imul(acc[o], v) : acc[o] * v;
    else if (op === "max")
      acc[o] = Number.isNaN(acc[o]) || Number.isNaN(v) ? Number.NaN : Math.max(acc[o], v);
    else acc[o] = Number.isNaN(acc[o]) || Number.isNaN(v) ? Number.NaN : Math.min(acc[o], v);
  });
  return acc;
}

function outFor(x: View, axes: readonly number[], dtype: DType = x.dtype): View {
  return empty(
    dtype,
    x.shape.map((s, d) => (axes.includes(d) ? 1 : s)),
  );
}

describe("reduce", () => {
  it("reduces over any set of axes of any layout (property)", () => {
    const arb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }).chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        perm: fc.shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        ),
        axes: fc.subarray(shape.map((_, i) => i)),
        offset: fc.integer({ min: 0, max: 3 }),
        op: fc.constantFrom<ReduceOp>("sum", "prod", "max", "min"),
        dtype: fc.constantFrom<DType>("float64", "float32", "int32"),
      }),
    );
    fc.assert(
      fc.property(arb, ({ shape, perm, axes, offset, op, dtype }) => {
        const n = sizeOf(shape);
        const data = Array.from({ length: n }, (_, i) => ((i * 5) % 7) - 3 || 1);
        const x = permutedView(dtype, data, shape, perm, offset);
        const out = outFor(x, axes);
        cpu.reduce(op, x, axes, out);
        const want = reduceRef(op, x, axes).map((v) => roundTo(dtype, v));
        const got = elements(out);
        got.forEach((g, i) => {
          // a product past the dtype's range is an infinity of the reference's sign (inf - inf would be NaN)
          if (!Number.isFinite(want[i])) expect(g).toBe(want[i]);
          else expect(Math.abs(g - want[i])).toBeLessThanOrEqual(1e-5 * Math.abs(want[i]));
        });
      }),
      { numRuns: 300 },
    );
  });

  it("sums large contiguous rows and columns accurately", () => {
    const r = rng(3);
    const data = Array.from({ length: 300 * 257 }, () => r() - 0.5);
    const x = view("float32", data, [300, 257]);
    for (const axes of [[0], [1], [0, 1]]) {
      const out = outFor(x, axes);
      cpu.reduce("sum", x, axes, out);
      const want = reduceRef("sum", x, axes);
      elements(out).forEach((g, i) => {
        expect(Math.abs(g - want[i])).toBeLessThan(1e-4);
      });
    }
  });

  it("propagates NaN through max/min and sums", () => {
    const x = view("float32", [1, 5, 3, Number.NaN, 2, Number.NaN], [2, 3]);
    for (const op of ["max", "min", "sum"] as const) {
      const out = outFor(x, [1]);
      cpu.reduce(op, x, [1], out);
      const g = elements(out);
      expect(g[1]).toBeNaN();
      expect(g[0]).toBe({ max: 5, min: 1, sum: 9 }[op]);
    }
  });

  it("int32 sums and products wrap; bool sums count", () => {
    const x = view("int32", [2147483647, 1]);
    const o = empty("int32", [1]);
    cpu.reduce("sum", x, [0], o);
    expect(elements(o)).toEqual([-2147483648]);
    cpu.reduce("prod", view("int32", [65536, 65536, 3]), [0], o);
    expect(elements(o)).toEqual([0]);
    cpu.reduce("prod", view("int32", [123456, 7891]), [0], o);
    expect(elements(o)).toEqual([Math.imul(123456, 7891)]);
    cpu.reduce("sum", view("bool", [1, 0, 1, 1]), [0], o);
    expect(elements(o)).toEqual([3]);
    const u = view("uint8", [200, 200, 200]);
    cpu.reduce("sum", u, [0], o);
    expect(elements(o)).toEqual([600]);
  });

  it("handles empty axes, rank 0 and broadcast inputs", () => {
    const e = empty("float32", [2, 0]);
    const o = empty("float32", [2, 1]);
    cpu.reduce("sum", e, [1], o);
    expect(elements(o)).toEqual([0, 0]);
    cpu.reduce("prod", e, [1], o);
    expect(elements(o)).toEqual([1, 1]);
    const s = view("float64", [4], []);
    const so = empty("float64", []);
    cpu.reduce("sum", s, [], so);
    expect(elements(so)).toEqual([4]);
    const b = expandTo(view("float32", [1, 2, 3], [3, 1]), [3, 4]);
    const bo = empty("float32", [1, 1]);
    cpu.reduce("sum", b, [0, 1], bo);
    expect(elements(bo)).toEqual([24]);
    const f64 = permutedView("float64", [1, 2, 3, 4], [2, 2], [1, 0], 2);
    const fo = { ...permutedView("float64", [0, 0], [1, 2], [1, 0], 1) };
    cpu.reduce("max", f64, [0], fo);
    expect(elements(fo)).toEqual([3, 4]);
  });
});

describe("argReduce", () => {
  it("returns the first extreme index and lets NaN win", () => {
    const x = view("float32", [1, 5, 3, 5, Number.NaN, 2, Number.NaN, 0, 7, 7, -1, -1], [3, 4]);
    const o = empty("int32", [3, 1]);
    cpu.argReduce("argmax", x, 1, o);
    expect(elements(o)).toEqual([1, 0, 0]);
    cpu.argReduce("argmin", x, 1, o);
    expect(elements(o)).toEqual([0, 0, 2]);
    const col = empty("int32", [1, 4]);
    cpu.argReduce("argmax", x, 0, col);
    expect(elements(col)).toEqual([1, 2, 1, 0]);
    const t = permutedView("float64", [3, 1, 2, 9, 8, 9], [2, 3], [1, 0], 1);
    const to = empty("int32", [2, 1]);
    cpu.argReduce("argmin", t, 1, to);
    expect(elements(to)).toEqual([1, 1]);
    const scalar = empty("int32", []);
    cpu.argReduce("argmax", view("int32", [4], []), 0, scalar);
    expect(elements(scalar)).toEqual([0]);
  });
});

describe("scan", () => {
  it("cumsum and cumprod along any axis", () => {
    const x = view("float32", [1, 2, 3, 4, 5, 6], [2, 3]);
    const o = empty("float32", [2, 3]);
    cpu.scan("cumsum", x, 1, o);
    expect(elements(o)).toEqual([1, 3, 6, 4, 9, 15]);
    cpu.scan("cumsum", x, 0, o);
    expect(elements(o)).toEqual([1, 2, 3, 5, 7, 9]);
    cpu.scan("cumprod", x, 1, o);
    expect(elements(o)).toEqual([1, 2, 6, 4, 20, 120]);
    const t = permutedView("float64", [1, 2, 3, 4, 5, 6], [2, 3], [1, 0], 3);
    const to = permutedView("float64", [0, 0, 0, 0, 0, 0], [2, 3], [1, 0], 1);
    cpu.scan("cumsum", t, 1, to);
    expect(elements(to)).toEqual([1, 3, 6, 4, 9, 15]);
  });

  it("int32 scans wrap; NaN propagates", () => {
    const o = empty("int32", [3]);
    cpu.scan("cumsum", view("int32", [2147483647, 1, 5]), 0, o);
    expect(elements(o)).toEqual([2147483647, -2147483648, -2147483643]);
    cpu.scan("cumprod", view("int32", [65536, 65536, 3]), 0, o);
    expect(elements(o)).toEqual([65536, 0, 0]);
    const f = empty("float32", [3]);
    cpu.scan("cumsum", view("float32", [1, Number.NaN, 1]), 0, f);
    expect(elements(f)[0]).toBe(1);
    expect(elements(f)[2]).toBeNaN();
    cpu.scan("cumsum", empty("float32", [0]), 0, empty("float32", [0]));
  });
});

describe("softmax fast path", () => {
  function ref(row: number[], log: boolean): number[] {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return log ? row.map((v) => v - m - Math.log(s)) : e.map((v) => v / s);
  }

  it("is numerically stable and matches the definition", () => {
    const rows = [
      [1, 2, 3],
      [1000, 1001, 1002],
      [-1000, 0, -1000],
    ];
    const x = view("float32", rows.flat(), [3, 3]);
    for (const log of [false, true]) {
      const o = empty("float32", [3, 3]);
      cpu.softmax!(x, log, o);
      const want = rows.flatMap((r) => ref(r, log));
      elements(o).forEach((g, i) => {
        expect(Math.abs(g - want[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(want[i])));
      });
    }
  });

  it("gives NaN rows for NaN input and handles offsets and strided outputs", () => {
    const x = { ...view("float64", [9, 9, 0, Number.NaN, 1, 2]), shape: [2, 2], strides: [2, 1], offset: 2 };
    const o = permutedView("float64", [0, 0, 0, 0], [2, 2], [1, 0], 1);
    cpu.softmax!(x, false, o);
    const g = elements(o);
    expect(g[0]).toBeNaN();
    expect(g[1]).toBeNaN();
    expect(g[2] + g[3]).toBeCloseTo(1, 12);
    expect(g[3] / g[2]).toBeCloseTo(Math.E, 12);
    expect((o.handle as TypedArray)[0]).toBe(-999);
  });
});
