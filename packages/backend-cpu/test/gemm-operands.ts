/** Float32 matmul operands of every layout, a float64 reference check and a fast-check problem generator. */
import type { View } from "@cinder/tensor";
import fc from "fast-check";
import { rng } from "./helpers";

export type Layout = "row" | "col" | "gap" | "batchInner";

/**
 * A float32 [B, rows, cols] operand. row/col: row- or column-major matrices; gap: rows padded by 3 unused
 * elements; batchInner: memory order [rows, B, cols], so no matrix is contiguous. `broadcast` gives the batch
 * stride 0 (one matrix shared by every batch).
 */
export function operand(
  B: number,
  rows: number,
  cols: number,
  layout: Layout,
  broadcast: boolean,
  offset: number,
  seed: number,
  int = false,
): View {
  const nb = broadcast ? 1 : B;
  let strides: number[];
  let size: number;
  if (layout === "row") [strides, size] = [[rows * cols, cols, 1], nb * rows * cols];
  else if (layout === "col") [strides, size] = [[rows * cols, 1, rows], nb * rows * cols];
  else if (layout === "gap") [strides, size] = [[rows * (cols + 3), cols + 3, 1], nb * rows * (cols + 3)];
  else [strides, size] = [[cols, nb * cols, 1], nb * rows * cols];
  if (broadcast) strides[0] = 0;
  const r = rng(seed);
  const h = new Float32Array(offset + size + 2).fill(Number.NaN);
  for (let t = 0; t < nb; t++)
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        const v = int ? Math.floor(r() * 11) - 5 : r() * 2 - 1;
        h[offset + t * strides[0] + i * strides[1] + j * strides[2]] = v;
      }
  return { handle: h, dtype: "float32", shape: [B, rows, cols], strides, offset };
}

export const get = (v: View, t: number, i: number, j: number): number =>
  (v.handle as Float32Array)[v.offset + t * v.strides[0] + i * v.strides[1] + j * v.strides[2]];

/** Checks out against a float64 triple loop: |got - want| <= rtol * sum_k |a[i,k] b[k,j]| (rtol 0: exact). */
export function expectProduct(a: View, b: View, out: View, rtol: number): void {
  const [B, M, N] = out.shape;
  const K = a.shape[2];
  for (let t = 0; t < B; t++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        let mag = 0;
        for (let k = 0; k < K; k++) {
          const p = get(a, t, i, k) * get(b, t, k, j);
          s += p;
          mag += Math.abs(p);
        }
        const g = get(out, t, i, j);
        if (!(Math.abs(g - s) <= rtol * mag)) {
          throw new Error(
            `[${B}x${M}x${K}x${N}] out[${t},${i},${j}] = ${g}, expected ${s} (tolerance ${rtol * mag})`,
          );
        }
      }
}

export const size = fc.oneof(fc.constantFrom(1, 3, 17, 64, 129), fc.integer({ min: 1, max: 70 }));
export const layout = fc.constantFrom<Layout>("row", "col", "gap", "batchInner");
export const problem = fc.record({
  B: fc.integer({ min: 1, max: 3 }),
  M: size,
  K: size,
  N: size,
  la: layout,
  lb: layout,
  lo: fc.constantFrom<Layout>("row", "col", "gap"),
  ba: fc.boolean(),
  bb: fc.boolean(),
  off: fc.integer({ min: 0, max: 5 }),
  seed: fc.integer({ min: 1, max: 1 << 20 }),
});
