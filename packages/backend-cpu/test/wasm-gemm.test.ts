import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { cpu } from "../src/index";
import {
  gemmStats,
  matmulWasm,
  setTransposedStoreCost,
  setWasmGemmEnabled,
  wasmGemm,
} from "../src/wasm/gemm";
import { expectProduct, get, type Layout, operand, problem } from "./gemm-operands";

afterEach(() => setWasmGemmEnabled(true));

describe("WASM SIMD float32 matmul", () => {
  it("is available on Node 20", () => {
    expect(wasmGemm()).not.toBeNull();
  });

  it("matches a float64 triple loop on random shapes and layouts (property)", () => {
    fc.assert(
      fc.property(problem, ({ B, M, K, N, la, lb, lo, ba, bb, off, seed }) => {
        const a = operand(B, M, K, la, ba, off, seed);
        const b = operand(B, K, N, lb, bb, off + 1, seed + 1);
        const out = operand(B, M, N, lo, false, off + 2, seed + 2);
        expect(matmulWasm(a, b, out)).toBe(true);
        expectProduct(a, b, out, 1e-5);
        const again = operand(B, M, N, lo, false, off, seed + 3);
        cpu.matmul(a, b, again);
        expectProduct(a, b, again, 1e-5);
      }),
      { numRuns: 150 },
    );
  });

  it("is exact on small integer-valued operands", () => {
    fc.assert(
      fc.property(problem, ({ B, M, K, N, la, lb, lo, ba, bb, off, seed }) => {
        const a = operand(B, M, K, la, ba, off, seed, true);
        const b = operand(B, K, N, lb, bb, off, seed + 1, true);
        const out = operand(B, M, N, lo, false, off, seed + 2);
        expect(matmulWasm(a, b, out)).toBe(true);
        expectProduct(a, b, out, 0);
      }),
      { numRuns: 60 },
    );
  });

  it("covers several k, row and column blocks, folded and swapped products", () => {
    const cases: [number, number, number, number, Layout, Layout, boolean][] = [
      [1, 300, 600, 40, "row", "row", false], // 3 k blocks, 3 row blocks
      [1, 5, 3, 1100, "row", "col", false], // 2 column blocks
      [1, 130, 70, 9, "col", "row", false], // N small: computed as C^T = B^T A^T
      [1, 1, 784, 128, "row", "col", false], // vector-matrix
      [1, 33, 257, 1, "row", "row", false], // matrix-vector
      [4, 20, 30, 12, "row", "row", true], // shared B: batches folded into rows
      [4, 20, 30, 12, "col", "row", true], // shared B, transposed A: not folded
      [3, 7, 40, 50, "row", "gap", true],
    ];
    let seed = 1;
    for (const [B, M, K, N, la, lb, bb] of cases) {
      const a = operand(B, M, K, la, false, 1, seed++);
      const b = operand(B, K, N, lb, bb, 2, seed++);
      const out = operand(B, M, N, "row", false, 0, seed++);
      cpu.matmul(a, b, out);
      expectProduct(a, b, out, 1e-5);
    }
  });

  it("keeps working after its memory grows and for small products afterwards", () => {
    for (const [M, K, N] of [
      [8, 8, 8],
      [400, 500, 300],
      [8, 8, 8],
    ]) {
      const a = operand(1, M, K, "row", false, 0, M);
      const b = operand(1, K, N, "col", false, 0, N);
      const out = operand(1, M, N, "row", false, 0, 0);
      expect(matmulWasm(a, b, out)).toBe(true);
      expectProduct(a, b, out, 1e-5);
    }
  });

  it("propagates NaN and infinities", () => {
    const a = operand(1, 5, 6, "row", false, 0, 1);
    const b = operand(1, 6, 9, "row", false, 0, 2);
    (a.handle as Float32Array)[0] = Number.NaN; // row 0
    (b.handle as Float32Array)[9 + 4] = Number.POSITIVE_INFINITY; // b[1, 4]: column 4 is +-inf or NaN
    const out = operand(1, 5, 9, "row", false, 0, 3);
    expect(matmulWasm(a, b, out)).toBe(true);
    for (let j = 0; j < 9; j++) expect(get(out, 0, 0, j)).toBeNaN();
    for (let i = 1; i < 5; i++) {
      expect(Math.abs(get(out, 0, i, 4))).toBe(Number.POSITIVE_INFINITY);
      expect(Number.isFinite(get(out, 0, i, 3))).toBe(true);
    }
  });

  it("writes zeros for K = 0 through the backend", () => {
    const out = operand(2, 3, 4, "row", false, 0, 1);
    cpu.matmul(operand(2, 3, 0, "row", false, 0, 2), operand(2, 0, 4, "row", false, 0, 3), out);
    for (let t = 0; t < 2; t++)
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expect(get(out, t, i, j)).toBe(0);
  });

  it("weighs C's strided store against padding when it computes C^T, with the same bits either way", () => {
    // [B, M, K, N, out's layout, shared A, computed as C^T by the default rule]
    const cases: [number, number, number, number, Layout, boolean, boolean][] = [
      [3, 16, 40, 49, "row", true, false], // a conv forward: C^T pads less, but C copies out whole
      [3, 16, 40, 49, "col", true, true], // the same into a column-major out: C^T copies out whole
      [1, 130, 70, 9, "row", false, true], // N small: C^T saves more than its strided store costs
      [2, 64, 288, 196, "row", true, false], // MNIST conv2's forward per item (with W shared)
    ];
    let seed = 100;
    for (const [B, M, K, N, lo, sharedA, swapped] of cases) {
      const a = operand(B, M, K, "row", sharedA, 0, seed++);
      const b = operand(B, K, N, "col", false, 0, seed++);
      const chosen = operand(B, M, N, lo, false, 0, seed);
      const byPadding = operand(B, M, N, lo, false, 0, seed++);
      const swaps = gemmStats.swaps;
      expect(matmulWasm(a, b, chosen)).toBe(true);
      expect(gemmStats.swaps - swaps).toBe(swapped ? 1 : 0);
      const was = setTransposedStoreCost(0);
      try {
        expect(matmulWasm(a, b, byPadding)).toBe(true);
      } finally {
        setTransposedStoreCost(was);
      }
      // padding alone computes C^T for each of these shapes
      expect(gemmStats.swaps - swaps).toBe(swapped ? 2 : 1);
      expectProduct(a, b, chosen, 1e-5);
      // every element is the same multiply-adds in the same order whichever operand is packed
      expect(new Uint32Array((chosen.handle as Float32Array).buffer)).toEqual(
        new Uint32Array((byPadding.handle as Float32Array).buffer),
      );
    }
  });

  it("falls back to the JS kernel when WebAssembly SIMD is unavailable", () => {
    setWasmGemmEnabled(false);
    expect(wasmGemm()).toBeNull();
    const a = operand(2, 37, 129, "col", false, 1, 1);
    const b = operand(2, 129, 17, "row", true, 0, 2);
    const out = operand(2, 37, 17, "gap", false, 0, 3);
    expect(matmulWasm(a, b, out)).toBe(false);
    cpu.matmul(a, b, out);
    expectProduct(a, b, out, 1e-5);
    fc.assert(
      fc.property(problem, ({ B, M, K, N, la, lb, lo, ba, bb, off, seed }) => {
        const a = operand(B, M, K, la, ba, off, seed);
        const b = operand(B, K, N, lb, bb, off + 1, seed + 1);
        const out = operand(B, M, N, lo, false, off + 2, seed + 2);
        cpu.matmul(a, b, out);
        expectProduct(a, b, out, 1e-5);
      }),
      { numRuns: 40 },
    );
    setWasmGemmEnabled(true);
    expect(wasmGemm()).not.toBeNull();
  });
});

const hasWabt = await import("wabt").then(
  () => true,
  () => false,
);

describe("kernel.generated.ts", () => {
  it.skipIf(!hasWabt)("is up to date with gemm.wat (both memories, rebuilt with wabt)", async () => {
    const { generate, generatedPath } = await import("../scripts/build-wasm");
    expect(readFileSync(generatedPath, "utf8")).toBe(await generate());
  });
});
