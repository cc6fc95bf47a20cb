import {
  accepts,
  BINARY_OPS,
  type BinaryOp,
  binaryOps,
  type DType,
  type TypedArray,
  UNARY_OPS,
  type UnaryOp,
  unaryOps,
} from "@cinder/tensor";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cpu } from "../src/index";
import goldens from "./fixtures/elementwise_goldens.json";
import { elements, empty, expandTo, permutedView, roundTo, sizeOf, view } from "./helpers";

/** Values written by fixtures/make_goldens.py (Python reprs). */
function num(s: string): number {
  if (s === "nan") return Number.NaN;
  if (s === "inf") return Number.POSITIVE_INFINITY;
  if (s === "-inf") return Number.NEGATIVE_INFINITY;
  return Number(s);
}

const SPECIAL = goldens.special.map(num);
const G = goldens as unknown as {
  unary: Record<string, Record<UnaryOp, string[]>>;
  binary: Record<string, Record<BinaryOp, string[]>>;
  intUnary: Record<string, number[]>;
  intBinary: Record<string, { a: number[]; b: number[]; out: number[] }>;
  ints: number[];
};

// bool-output ops, from the core's op table
const BOOL_UNARY = new Set<UnaryOp>(UNARY_OPS.filter((op) => unaryOps[op].kind === "bool"));
const BOOL_BINARY = new Set<BinaryOp>(
  BINARY_OPS.filter((op) => ["compare", "logical"].includes(binaryOps[op].kind)),
);
/** Ops whose sign of a zero result PyTorch leaves to the code path (vectorised or not). */
const ANY_ZERO_SIGN = new Set<string>(["maximum", "minimum"]);

const ERF_GOLDEN: [number, number][] = [
  [0.1, 0.1124629160182849],
  [0.5, 0.5204998778130465],
  [1.0, 0.8427007929497149],
  [2.0, 0.9953222650189527],
  [3.5, 0.9999992569016276],
  [-1.3, -0.9340079449406524],
  [1e-5, 1.1283791670579e-5],
];

function pyRemainder(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && b < 0 !== m < 0 ? m + b : m;
}

/** Simple references for the property test. */
const PROP_REF: Partial<Record<BinaryOp, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  maximum: (a, b) => Math.max(a, b),
  lt: (a, b) => +(a < b),
  remainder: pyRemainder,
};

function close(actual: number, expected: number, rtol: number, zeroSign = true): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (actual === expected) return !zeroSign || expected !== 0 || Object.is(actual, expected);
  if (!Number.isFinite(expected)) return false;
  return Math.abs(actual - expected) <= rtol * Math.max(1e-30, Math.abs(expected)) + 1e-300;
}

function run(f: (out: ReturnType<typeof empty>) => void, dtype: DType, shape: readonly number[]): number[] {
  const out = empty(dtype, shape);
  f(out);
  return elements(out);
}

describe("unary ops", () => {
  for (const dtype of ["float64", "float32"] as const) {
    for (const op of UNARY_OPS) {
      if (!accepts(unaryOps[op].only, dtype)) continue; // bitwise_not: integers only
      it(`${op} ${dtype} matches PyTorch on special values`, () => {
        const x = view(dtype, SPECIAL);
        const outDtype: DType = BOOL_UNARY.has(op) ? "bool" : dtype;
        const got = run((out) => cpu.unary(op, x, out), outDtype, [SPECIAL.length]);
        const want = G.unary[dtype][op].map(num);
        const rtol = dtype === "float32" ? 3e-7 : 1e-15;
        got.forEach((g, i) => {
          if (!close(g, want[i], rtol))
            throw new Error(`${op}(${SPECIAL[i]}) = ${g}, PyTorch gives ${want[i]}`);
        });
      });
    }
  }

  it("follows PyTorch at the corners", () => {
    const f = (op: UnaryOp, xs: number[]) =>
      run((o) => cpu.unary(op, view("float32", xs), o), "float32", [xs.length]);
    expect(f("round", [0.5, 1.5, 2.5, -0.5, -1.5, 3.5, -2.5])).toEqual([0, 2, 2, -0, -2, 4, -2]);
    expect(Object.is(f("round", [-0.5])[0], -0)).toBe(true);
    expect(f("sign", [Number.NaN, -0, 0, 1, -2])).toEqual([0, 0, 0, 1, -1]);
    expect(Object.is(f("sign", [-0])[0], 0)).toBe(true);
    const relu = f("relu", [Number.NaN, -0, 0, 1, -2]);
    expect(relu[0]).toBeNaN();
    expect(Object.is(relu[1], -0)).toBe(true);
    expect(relu.slice(2)).toEqual([0, 1, 0]);
    expect(f("rsqrt", [0, -0, -1])).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]);
    expect(f("sigmoid", [-1000, 1000, 0])).toEqual([0, 1, 0.5]);
  });

  it("erf is accurate to double precision", () => {
    const x = view(
      "float64",
      ERF_GOLDEN.map(([v]) => v),
    );
    const got = run((o) => cpu.unary("erf", x, o), "float64", [ERF_GOLDEN.length]);
    ERF_GOLDEN.forEach(([, want], i) => {
      expect(Math.abs(got[i] - want) / Math.abs(want)).toBeLessThan(1e-14);
    });
    const z = run((o) => cpu.unary("erf", view("float64", [-0, 0, 7, -7]), o), "float64", [4]);
    expect(Object.is(z[0], -0)).toBe(true);
    expect(z.slice(1)).toEqual([0, 1, -1]);
  });

  it("integer unary ops stay exact and wrap", () => {
    const x = view("int32", [-2147483648, -3, 0, 7, 46341]);
    const g = (op: UnaryOp) => run((o) => cpu.unary(op, x, o), "int32", [5]);
    expect(g("neg")).toEqual([-2147483648, 3, 0, -7, -46341]);
    expect(g("abs")).toEqual([-2147483648, 3, 0, 7, 46341]);
    expect(g("square")).toEqual([0, 9, 0, 49, (46341 * 46341) | 0]);
    expect(g("sign")).toEqual([-1, -1, 0, 1, 1]);
    expect(g("relu")).toEqual([0, 0, 0, 7, 46341]);
    expect(g("round")).toEqual([-2147483648, -3, 0, 7, 46341]);
    expect(run((o) => cpu.unary("logicalNot", x, o), "bool", [5])).toEqual([0, 0, 1, 0, 0]);
    expect(run((o) => cpu.unary("isnan", x, o), "bool", [5])).toEqual([0, 0, 0, 0, 0]);
  });
});

describe("binary ops", () => {
  const as = SPECIAL.flatMap((a) => SPECIAL.map(() => a));
  const bs = SPECIAL.flatMap(() => SPECIAL);
  for (const dtype of ["float64", "float32"] as const) {
    for (const op of BINARY_OPS) {
      if (!accepts(binaryOps[op].only, dtype)) continue; // bitwise ops: integers only
      it(`${op} ${dtype} matches PyTorch on all pairs of special values`, () => {
        const outDtype: DType = BOOL_BINARY.has(op) ? "bool" : dtype;
        const got = run((o) => cpu.binary(op, view(dtype, as), view(dtype, bs), o), outDtype, [as.length]);
        const want = G.binary[dtype][op].map(num);
        const rtol = dtype === "float32" ? 3e-7 : 1e-15;
        got.forEach((g, i) => {
          if (!close(g, want[i], rtol, !ANY_ZERO_SIGN.has(op))) {
            throw new Error(`${op}(${as[i]}, ${bs[i]}) = ${g}, PyTorch gives ${want[i]}`);
          }
        });
      });
    }
  }

  for (const [op, { a, b, out }] of Object.entries(G.intBinary)) {
    it(`${op} int32 matches PyTorch`, () => {
      const outDtype: DType = BOOL_BINARY.has(op as BinaryOp) ? "bool" : "int32";
      const got = run((o) => cpu.binary(op as BinaryOp, view("int32", a), view("int32", b), o), outDtype, [
        a.length,
      ]);
      expect(got).toEqual(out.map((v) => roundTo(outDtype, v)));
    });
  }

  it("int32 unary ops match PyTorch", () => {
    for (const [op, out] of Object.entries(G.intUnary)) {
      const outDtype: DType = BOOL_UNARY.has(op as UnaryOp) ? "bool" : "int32";
      const got = run((o) => cpu.unary(op as UnaryOp, view("int32", G.ints), o), outDtype, [G.ints.length]);
      expect(got, op).toEqual(out.map((v) => roundTo(outDtype, v)));
    }
  });

  it("matches PyTorch goldens for remainder, fmod, floorDivide and pow", () => {
    const f = (op: BinaryOp, a: number[], b: number[]) =>
      run((o) => cpu.binary(op, view("float32", a), view("float32", b), o), "float32", [a.length]);
    const inf = Number.POSITIVE_INFINITY;
    const rem = f("remainder", [5, -5, 5, -5, -0, 3, -3], [3, 3, -3, -3, 3, inf, inf]);
    expect(rem).toEqual([2, 1, -1, -2, -0, 3, inf]);
    expect(Object.is(rem[4], -0)).toBe(true);
    expect(f("fmod", [5, -5, 5, -5], [3, 3, -3, -3])).toEqual([2, -2, 2, -2]);
    expect(f("floorDivide", [5, -5, 5, -5, 1, -1, 0], [3, 3, -3, -3, 0, 0, 0])).toEqual([
      1,
      -2,
      -2,
      1,
      inf,
      -inf,
      Number.NaN,
    ]);
    expect(f("floorDivide", [-0.5, 0.5, 2, -2], [2, -2, inf, inf])).toEqual([-1, -1, 0, -1]);
    expect(f("pow", [1, -1, Number.NaN], [Number.NaN, inf, 0])).toEqual([1, 1, 1]);
    expect(f("maximum", [Number.NaN, 1], [1, Number.NaN])).toEqual([Number.NaN, Number.NaN]);
    expect(
      run(
        (o) =>
          cpu.binary(
            "logicalXor",
            view("float32", [0, Number.NaN, 1]),
            view("float32", [Number.NaN, 0, 2]),
            o,
          ),
        "bool",
        [3],
      ),
    ).toEqual([1, 1, 0]);
  });

  it("int32 arithmetic wraps and follows PyTorch's integer division semantics", () => {
    const a = view("int32", [7, -7, 7, -7, 2147483647, -2147483648, 0]);
    const b = view("int32", [2, 2, -2, -2, 1, 3, 5]);
    const g = (op: BinaryOp) => run((o) => cpu.binary(op, a, b, o), "int32", [7]);
    expect(g("remainder")).toEqual([1, 1, -1, -1, 0, 1, 0]);
    expect(g("floorDivide")).toEqual([3, -4, -4, 3, 2147483647, -715827883, 0]);
    expect(g("fmod")).toEqual([1, -1, 1, -1, 0, -2, 0]);
    expect(g("add")).toEqual([9, -5, 5, -9, -2147483648, -2147483645, 5]);
    expect(g("sub")).toEqual([5, -9, 9, -5, 2147483646, 2147483645, -5]);
    expect(g("mul")).toEqual([14, -14, -14, 14, 2147483647, -2147483648, 0]);
    const big = run(
      (o) => cpu.binary("mul", view("int32", [65536, 123456789]), view("int32", [65536, 987654321]), o),
      "int32",
      [2],
    );
    expect(big).toEqual([0, -67153019]);
    const pow = run(
      (o) =>
        cpu.binary(
          "pow",
          view("int32", [2, -2, 3, 1, -1, 0, 2]),
          view("int32", [10, 3, 21, -5, -3, 0, -1]),
          o,
        ),
      "int32",
      [7],
    );
    expect(pow).toEqual([1024, -8, 1870418611, 1, -1, 1, 0]);
    // Division by zero is defined as 0 (PyTorch raises).
    const z = (op: BinaryOp) =>
      run((o) => cpu.binary(op, view("int32", [5, -5, 0]), view("int32", [0, 0, 0]), o), "int32", [3]);
    expect(z("floorDivide")).toEqual([0, 0, 0]);
    expect(z("remainder")).toEqual([0, 0, 0]);
    expect(z("fmod")).toEqual([0, 0, 0]);
    expect(z("div")).toEqual([0, 0, 0]);
  });

  it("uint8 wraps at 8 bits and bool arithmetic stays 0/1", () => {
    const g = (op: BinaryOp, a: number[], b: number[]) =>
      run((o) => cpu.binary(op, view("uint8", a), view("uint8", b), o), "uint8", [a.length]);
    expect(g("add", [250, 3], [10, 5])).toEqual([4, 8]);
    expect(g("sub", [3], [5])).toEqual([254]);
    expect(g("mul", [16, 200], [16, 2])).toEqual([0, 144]);
    const h = (op: BinaryOp) =>
      run((o) => cpu.binary(op, view("bool", [1, 1, 0]), view("bool", [1, 0, 0]), o), "bool", [3]);
    expect(h("add")).toEqual([1, 1, 0]);
    expect(h("mul")).toEqual([1, 0, 0]);
    expect(h("maximum")).toEqual([1, 1, 0]);
  });
});

describe("strided elementwise", () => {
  it("handles transposed, broadcast, offset, rank-0 and empty views", () => {
    // a: [2,3] stored transposed at offset 5; b: [3] broadcast over rows; out: [2,3] transposed at offset 2.
    const a = permutedView("float32", [1, 2, 3, 4, 5, 6], [2, 3], [1, 0], 5);
    const b = expandTo(view("float32", [10, 20, 30]), [2, 3]);
    const out = permutedView("float32", [0, 0, 0, 0, 0, 0], [2, 3], [1, 0], 2);
    cpu.binary("add", a, b, out);
    expect(elements(out)).toEqual([11, 22, 33, 14, 25, 36]);
    const buf = out.handle as TypedArray;
    expect([buf[0], buf[1], buf[8], buf[9], buf[10]]).toEqual([-999, -999, -999, -999, -999]);

    const s = { ...view("float64", [0, 0, 4]), shape: [], strides: [], offset: 2 };
    const o = empty("float64", []);
    cpu.unary("sqrt", s, o);
    expect(elements(o)).toEqual([2]);

    const e = empty("float32", [0, 3]);
    cpu.binary("mul", empty("float32", [0, 3]), empty("float32", [0, 3]), e);
    cpu.unary("exp", empty("float32", [3, 0]), empty("float32", [3, 0]));
    expect(elements(e)).toEqual([]);
  });

  it("supports in-place updates through an aliasing output", () => {
    const x = view("float32", [1, 2, 3, 4]);
    cpu.binary("mul", x, expandTo(view("float32", [3]), [4]), x);
    expect(elements(x)).toEqual([3, 6, 9, 12]);
  });

  it("where selects with broadcasting", () => {
    const c = expandTo(view("bool", [1, 0, 1]), [2, 3]);
    const a = view("float32", [1, 2, 3, 4, 5, 6], [2, 3]);
    const b = expandTo(view("float32", [-1]), [2, 3]);
    const out = empty("float32", [2, 3]);
    cpu.where(c, a, b, out);
    expect(elements(out)).toEqual([1, -1, 3, 4, -1, 6]);
  });

  it("binary ops agree with a naive strided reference on random layouts (property)", () => {
    const arb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }).chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        permA: fc.shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        ),
        permOut: fc.shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        ),
        bcast: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
        offA: fc.integer({ min: 0, max: 3 }),
        offOut: fc.integer({ min: 0, max: 3 }),
        op: fc.constantFrom<BinaryOp>("add", "sub", "mul", "maximum", "lt", "remainder"),
        dtype: fc.constantFrom<DType>("float32", "float64", "int32"),
      }),
    );
    fc.assert(
      fc.property(arb, ({ shape, permA, permOut, bcast, offA, offOut, op, dtype }) => {
        const n = sizeOf(shape);
        const av = Array.from({ length: n }, (_, i) => ((i * 7) % 11) - 5);
        const a = permutedView(dtype, av, shape, permA, offA);
        const bShape = shape.map((s, d) => (bcast[d] ? 1 : s));
        const bv = Array.from({ length: sizeOf(bShape) }, (_, i) => ((i * 5) % 9) - 3 || 2);
        const b = expandTo(view(dtype, bv, bShape), shape);
        const outDtype: DType = BOOL_BINARY.has(op) ? "bool" : dtype;
        const out = permutedView(outDtype, new Array(n).fill(0), shape, permOut, offOut, 0);
        cpu.binary(op, a, b, out);
        const ea = elements(a);
        const eb = elements(b);
        const want = ea.map((x, i) => roundTo(outDtype, PROP_REF[op]!(x, eb[i])));
        expect(elements(out)).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });
});

describe("copy and fill", () => {
  it("casts like PyTorch (documented choices at undefined corners)", () => {
    const src = view("float32", [Number.NaN, 1e10, -1.7, 300, -1, 2.9, -1e10]);
    expect(run((o) => cpu.copy(src, o), "int32", [7])).toEqual([0, 2147483647, -1, 300, -1, 2, -2147483648]);
    expect(run((o) => cpu.copy(view("float32", [-1.5, 300, 255.9, Number.NaN]), o), "uint8", [4])).toEqual([
      255, 44, 255, 0,
    ]);
    expect(run((o) => cpu.copy(view("float32", [0, -0, Number.NaN, 0.1]), o), "bool", [4])).toEqual([
      0, 0, 1, 1,
    ]);
    expect(run((o) => cpu.copy(view("bool", [1, 0]), o), "float32", [2])).toEqual([1, 0]);
    expect(run((o) => cpu.copy(view("int32", [-1, 256, 257]), o), "uint8", [3])).toEqual([255, 0, 1]);
    expect(run((o) => cpu.copy(view("float64", [0.1]), o), "float32", [1])).toEqual([Math.fround(0.1)]);
  });

  it("copies strided views into strided outputs", () => {
    const x = permutedView("float64", [1, 2, 3, 4, 5, 6], [2, 3], [1, 0], 1);
    const out = permutedView("float32", [0, 0, 0, 0, 0, 0], [2, 3], [1, 0], 3);
    cpu.copy(x, out);
    expect(elements(out)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("fills contiguous and strided views with conversion", () => {
    const a = empty("float32", [2, 2]);
    cpu.fill(a, 1.5);
    expect(elements(a)).toEqual([1.5, 1.5, 1.5, 1.5]);
    const b = permutedView("int32", [0, 0, 0, 0, 0, 0], [2, 3], [1, 0], 1, 7);
    cpu.fill(b, -2.7);
    expect(elements(b)).toEqual([-2, -2, -2, -2, -2, -2]);
    expect((b.handle as TypedArray)[0]).toBe(7);
    const c = empty("bool", [3]);
    cpu.fill(c, 5);
    expect(elements(c)).toEqual([1, 1, 1]);
    const d = empty("float32", []);
    cpu.fill(d, 3);
    expect(elements(d)).toEqual([3]);
  });
});
