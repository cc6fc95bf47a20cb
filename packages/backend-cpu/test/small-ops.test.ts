/**
 * The per-call paths of small ops: the flat loop's kernel cache (keyed without strings) must give the strided
 * path's bits, and small copies and reads (`slice`, not `subarray`) must copy bits, NaN payloads included.
 */
import type { BinaryOp, DType, TypedArray, UnaryOp, View } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { loopStats } from "../src/codegen";
import { cpu } from "../src/index";
import { elements, empty, permutedView, view } from "./helpers";

const DTYPES: DType[] = ["float32", "float64", "int32", "uint8", "int8", "int16", "bool"];
const BINARY: BinaryOp[] = ["add", "sub", "mul", "maximum", "eq", "bitwiseAnd"];
const UNARY: UnaryOp[] = ["neg", "abs", "logicalNot"];
const SHAPE = [2, 3];
const A = [1, -2, 3.5, 0, 7, -0];
const B = [4, 5, -6, 0, 2.25, 1];

const isFloat = (d: DType) => d === "float32" || d === "float64";
const outDtype = (op: BinaryOp | UnaryOp, d: DType): DType =>
  op === "eq" || op === "logicalNot" ? "bool" : d;
/** Bit-exact comparison (NaN equals NaN, -0 differs from 0). */
const bitsOf = (xs: number[]) => xs.map((x) => (Object.is(x, -0) ? "-0" : String(x)));

/** `op` on the flat path (dense operands) and on the strided path (the same values through transposed views). */
function bothPaths(
  dtype: DType,
  out: DType,
  run: (inputs: View[], out: View) => void,
  values: number[][],
): { flat: number[]; strided: number[] } {
  const before = { ...loopStats };
  const dense = empty(out, SHAPE);
  run(
    values.map((v) => view(dtype, v, SHAPE)),
    dense,
  );
  expect(loopStats.flat - before.flat).toBe(1);
  const strided = permutedView(out, [0, 0, 0, 0, 0, 0], SHAPE, [1, 0], 1);
  run(
    values.map((v) => permutedView(dtype, v, SHAPE, [1, 0], 2)),
    strided,
  );
  expect(loopStats.strided - before.strided).toBe(1);
  return { flat: elements(dense), strided: elements(strided) };
}

describe("small elementwise ops", () => {
  for (const dtype of DTYPES) {
    for (const op of BINARY) {
      if (op === "bitwiseAnd" && isFloat(dtype)) continue;
      it(`binary ${op} on ${dtype}: the flat loop equals the strided loop`, () => {
        const r = bothPaths(dtype, outDtype(op, dtype), ([a, b], o) => cpu.binary(op, a, b, o), [A, B]);
        expect(bitsOf(r.flat)).toEqual(bitsOf(r.strided));
      });
    }
    for (const op of UNARY) {
      if (op === "neg" && dtype === "bool") continue;
      it(`unary ${op} on ${dtype}: the flat loop equals the strided loop`, () => {
        const r = bothPaths(dtype, outDtype(op, dtype), ([x], o) => cpu.unary(op, x, o), [A]);
        expect(bitsOf(r.flat)).toEqual(bitsOf(r.strided));
      });
    }
  }

  for (const dtype of DTYPES) {
    it(`binary with a broadcast scalar on ${dtype}: the flat loop equals the strided loop`, () => {
      const scalar = (): View => ({ ...view(dtype, [2.5], [1]), shape: SHAPE, strides: [0, 0] });
      for (const op of ["add", "mul", "maximum", "eq"] as BinaryOp[]) {
        const out = outDtype(op, dtype);
        const before = { ...loopStats };
        const dense = empty(out, SHAPE);
        cpu.binary(op, view(dtype, A, SHAPE), scalar(), dense);
        cpu.binary(op, scalar(), view(dtype, A, SHAPE), empty(out, SHAPE));
        expect(loopStats.flat - before.flat).toBe(2);
        const strided = permutedView(out, [0, 0, 0, 0, 0, 0], SHAPE, [1, 0], 1);
        cpu.binary(op, permutedView(dtype, A, SHAPE, [1, 0], 2), scalar(), strided);
        expect(loopStats.strided - before.strided).toBe(1);
        expect(bitsOf(elements(dense))).toEqual(bitsOf(elements(strided)));
      }
    });
  }

  it("caches one kernel per spec and array types: another dtype gets its own kernel", () => {
    const f32 = bothPaths("float32", "float32", ([a, b], o) => cpu.binary("add", a, b, o), [A, B]);
    const i32 = bothPaths("int32", "int32", ([a, b], o) => cpu.binary("add", a, b, o), [A, B]);
    expect(f32.flat).toEqual([5, 3, -2.5, 0, 9.25, 1]);
    expect(i32.flat).toEqual([5, 3, -3, 0, 9, 1]);
  });
});

describe("small copies and reads keep bits", () => {
  /** A float32 view whose elements are NaNs with distinct payloads, at `offset`. */
  function nans(n: number, offset: number): View {
    const bits = new Uint32Array(n + offset);
    for (let i = 0; i < bits.length; i++) bits[i] = 0x7fc00001 + i;
    return {
      handle: new Float32Array(bits.buffer),
      dtype: "float32",
      shape: [n],
      strides: [1],
      offset,
    };
  }
  const payloads = (a: TypedArray) =>
    Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (b) => b - 0x7fc00001);

  for (const n of [1, 4, 16, 17, 300]) {
    it(`readSync of ${n} elements at an offset copies NaN payloads`, () => {
      const r = cpu.readSync(nans(n, 3));
      expect(r.length).toBe(n);
      expect(payloads(r)).toEqual(Array.from({ length: n }, (_, i) => i + 3));
    });
    it(`copy of ${n} elements at an offset copies NaN payloads`, () => {
      const out = empty("float32", [n]);
      cpu.copy(nans(n, 2), out);
      expect(payloads(out.handle as TypedArray)).toEqual(Array.from({ length: n }, (_, i) => i + 2));
    });
  }

  it("readSync of a strided view reads it in row-major order", () => {
    const v = permutedView("int32", [1, 2, 3, 4, 5, 6], SHAPE, [1, 0], 1);
    expect(Array.from(cpu.readSync(v))).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("fill of float dtypes", () => {
  const VALUES = [
    0,
    -0,
    1.1,
    1 / 3,
    3.4028235677973366e38,
    3.5e38,
    -1e-46,
    Number.NaN,
    Number.NEGATIVE_INFINITY,
  ];
  for (const dtype of ["float32", "float64"] as DType[]) {
    it(`${dtype}: converts as a cast from float64 does, contiguous and strided`, () => {
      for (const value of VALUES) {
        const cast = empty(dtype, [1]);
        cpu.copy(view("float64", [value], [1]), cast);
        const dense = empty(dtype, SHAPE);
        cpu.fill(dense, value);
        const strided = permutedView(dtype, [0, 0, 0, 0, 0, 0], SHAPE, [1, 0], 1);
        cpu.fill(strided, value);
        const want = bitsOf(new Array(6).fill(elements(cast)[0]));
        expect(bitsOf(elements(dense))).toEqual(want);
        expect(bitsOf(elements(strided))).toEqual(want);
      }
    });
  }
});
