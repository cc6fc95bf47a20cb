import type { DType, View } from "@cinder/tensor";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cpu } from "../src/index";
import { at, elements, empty, permutedView, rng, sizeOf } from "./helpers";

function naive(a: View, b: View): number[] {
  const [B, M, K] = a.shape;
  const N = b.shape[2];
  const out: number[] = [];
  for (let t = 0; t < B; t++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += at(a, [t, i, k]) * at(b, [t, k, j]);
        out.push(s);
      }
  return out;
}

function randomData(n: number, seed: number, int = false): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => (int ? Math.floor(r() * 10) - 5 : r() * 2 - 1));
}

/** A [B, rows, cols] operand with `transposed` storage and an optional stride-0 batch. */
function operand(
  dtype: DType,
  B: number,
  rows: number,
  cols: number,
  transposed: boolean,
  broadcastBatch: boolean,
  seed: number,
  offset = 0,
): View {
  const shape = [broadcastBatch ? 1 : B, rows, cols];
  const data = randomData(sizeOf(shape), seed, dtype === "int32");
  const v = permutedView(dtype, data, shape, transposed ? [0, 2, 1] : [0, 1, 2], offset);
  if (!broadcastBatch) return v;
  return { ...v, shape: [B, rows, cols], strides: [0, v.strides[1], v.strides[2]] };
}

function check(a: View, b: View, out: View, tol: number): void {
  cpu.matmul(a, b, out);
  const want = naive(a, b);
  const got = elements(out);
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    if (Math.abs(g - want[i]) > tol * Math.max(1, Math.abs(want[i]))) {
      throw new Error(`out[${i}] = ${g}, expected ${want[i]}`);
    }
  });
}

describe("matmul", () => {
  it("matches a naive triple loop on random shapes and layouts (property)", () => {
    const arb = fc.record({
      B: fc.integer({ min: 1, max: 3 }),
      M: fc.integer({ min: 1, max: 40 }),
      K: fc.integer({ min: 0, max: 40 }),
      N: fc.integer({ min: 1, max: 40 }),
      ta: fc.boolean(),
      tb: fc.boolean(),
      ba: fc.boolean(),
      bb: fc.boolean(),
      tout: fc.boolean(),
      off: fc.integer({ min: 0, max: 5 }),
      dtype: fc.constantFrom<DType>("float32", "float64", "int32"),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    fc.assert(
      fc.property(arb, ({ B, M, K, N, ta, tb, ba, bb, tout, off, dtype, seed }) => {
        const a = operand(dtype, B, M, K, ta, ba, seed, off);
        const b = operand(dtype, B, K, N, tb, bb, seed + 1, off + 1);
        const out = permutedView(
          dtype,
          new Array(B * M * N).fill(7),
          [B, M, N],
          tout ? [0, 2, 1] : [0, 1, 2],
          off,
        );
        check(a, b, out, dtype === "float32" ? 1e-5 : 1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it("handles the large blocked path, vector-matrix and matrix-vector shapes", () => {
    const shapes: [number, number, number, number][] = [
      [1, 67, 300, 530], // several k and j blocks, M not a multiple of 4
      [2, 1, 784, 128], // vector-matrix
      [1, 33, 257, 1], // matrix-vector (dot kernel)
      [1, 64, 100, 7], // narrow N (dot kernel)
      [3, 9, 1, 20], // K = 1
    ];
    let seed = 10;
    for (const [B, M, K, N] of shapes) {
      for (const [ta, tb] of [
        [false, false],
        [true, true],
      ]) {
        const a = operand("float32", B, M, K, ta, false, seed++);
        const b = operand("float32", B, K, N, tb, B > 1, seed++);
        check(a, b, empty("float32", [B, M, N]), 1e-5);
      }
    }
  });

  it("writes zeros for K = 0 and nothing for empty outputs", () => {
    const out = permutedView("float32", [5, 5, 5, 5, 5, 5], [1, 2, 3], [0, 1, 2]);
    cpu.matmul(empty("float32", [1, 2, 0]), empty("float32", [1, 0, 3]), out);
    expect(elements(out)).toEqual([0, 0, 0, 0, 0, 0]);
    cpu.matmul(empty("float32", [0, 2, 2]), empty("float32", [0, 2, 2]), empty("float32", [0, 2, 2]));
    cpu.matmul(empty("float32", [1, 0, 2]), empty("float32", [1, 2, 3]), empty("float32", [1, 0, 3]));
  });

  it("1x1 and int32 wrap", () => {
    const a = { ...empty("float64", [1, 1, 1]) };
    (a.handle as Float64Array)[0] = 3;
    const b = { ...empty("float64", [1, 1, 1]) };
    (b.handle as Float64Array)[0] = -2;
    const o = empty("float64", [1, 1, 1]);
    cpu.matmul(a, b, o);
    expect(elements(o)).toEqual([-6]);
    const ia = permutedView("int32", [65536, 1], [1, 1, 2], [0, 1, 2]);
    const ib = permutedView("int32", [65536, 5], [1, 2, 1], [0, 1, 2]);
    const io = empty("int32", [1, 1, 1]);
    cpu.matmul(ia, ib, io);
    expect(elements(io)).toEqual([5]);
  });

  it("propagates NaN and inf like IEEE sums of products", () => {
    const a = permutedView("float32", [0, 1, 2, 3], [1, 2, 2], [0, 1, 2]);
    const b = permutedView("float32", [Number.NaN, 1, Number.POSITIVE_INFINITY, 1], [1, 2, 2], [0, 1, 2]);
    const o = empty("float32", [1, 2, 2]);
    cpu.matmul(a, b, o);
    const g = elements(o);
    expect(g[0]).toBeNaN(); // 0 * NaN
    expect(g[2]).toBeNaN();
    expect(g[1]).toBe(1);
    expect(g[3]).toBe(5);
  });
});
