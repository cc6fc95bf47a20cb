/**
 * bfloat16 products as PyTorch 1.13's CPU computes them, which depends on size and layout:
 * - more than 4096 multiply-adds in all (batch x m x k x n): oneDNN's GEMM, float32 accumulation rounded once (the
 *   backend's float32 product, rounded: the default path);
 * - otherwise its naive loops (`gemm_notrans_`, `gemm_transb_`, `gemm_transab_`, gemv, dot, and `bmm`'s kernel under
 *   400 multiply-adds per matrix) round every product and every partial sum to bfloat16, in order of k; only
 *   `gemm_transa_` (the right operand column-major, the left one not: `F.linear`'s `weight.t()`) sums in float32.
 * The rounding loop runs on the values where the device reads synchronously (the CPU), else as the elementwise ops
 * themselves (a bfloat16 `mul` and `add` round once each); without recording: the caller records the product's
 * own derivative. Checked bit for bit against PyTorch
 * (tests/test/half.test.mjs).
 */
import { noGrad } from "../grad";
import { roundBFloat16, valuesOf } from "../half";
import { type Tensor, tensorFromData } from "../tensor";
import { zeros } from "./creation";

/** Which product asks: mv and dot take the naive loops at any layout; bmm's kernel at small sizes. */
export type ProductKind = "product" | "bmm" | "mv" | "dot";

/** oneDNN takes bfloat16 products of more multiply-adds than this (PyTorch 1.13's `use_mkldnn_bf16_matmul`). */
const ONEDNN_MIN_WORK = 4096;
/** `bmm` of fewer multiply-adds per matrix runs its own kernel (`baddbmm_cpu_kernel`), whatever the layout. */
const BMM_KERNEL_MAX = 400;

/** A matrix `addmm` passes to BLAS as is (rows contiguous), as PyTorch checks it first. */
function rowMajor(t: Tensor): boolean {
  const [r, c] = [t.ndim - 2, t.ndim - 1];
  return t.strides[c] === 1 && t.strides[r] >= Math.max(1, t.shape[c]);
}

/** A matrix `addmm` passes transposed (columns contiguous); neither layout is copied row-major. */
function colMajor(t: Tensor): boolean {
  const [r, c] = [t.ndim - 2, t.ndim - 1];
  return !rowMajor(t) && t.strides[r] === 1 && t.strides[c] >= Math.max(1, t.shape[r]);
}

/** Whether PyTorch 1.13's CPU rounds every multiply-add of this bfloat16 product ([..., m, k] @ [..., k, n]). */
export function roundsEachStep(a: Tensor, b: Tensor, batch: number, kind: ProductKind): boolean {
  const [m, k, n] = [a.shape[a.ndim - 2], a.shape[a.ndim - 1], b.shape[b.ndim - 1]];
  if (batch * m * k * n > ONEDNN_MIN_WORK) return false;
  if (kind === "mv" || kind === "dot") return true;
  if (kind === "bmm" && m * k * n < BMM_KERNEL_MAX) return true;
  return !(colMajor(b) && !colMajor(a));
}

/** Stepwise products run on the values (`host`) and as tensor ops (`ops`): tests check which path ran. */
export const stepwiseStats = { host: 0, ops: 0 };

/** `a3 @ b3` ([B, m, k] @ [B, k, n], bfloat16) with every product and partial sum rounded, summed in order of k. */
export function stepwiseProduct(a3: Tensor, b3: Tensor, shape: readonly number[]): Tensor {
  const [B, m, k] = a3.shape;
  const n = b3.shape[2];
  return noGrad(() => {
    // at most 4096 multiply-adds: on a device read synchronously, a loop over the values beats k tensor ops
    if (a3.backend.readSync) {
      stepwiseStats.host++;
      const av = valuesOf("bfloat16", a3.contiguous().data());
      const bv = valuesOf("bfloat16", b3.contiguous().data());
      const out = new Float32Array(B * m * n);
      for (let q = 0; q < B; q++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let acc = 0; // (+0, as PyTorch's zeroed output: 0 + -0 is +0)
            for (let l = 0; l < k; l++)
              acc = roundBFloat16(acc + roundBFloat16(av[(q * m + i) * k + l] * bv[(q * k + l) * n + j]));
            out[(q * m + i) * n + j] = acc;
          }
      return tensorFromData(out, shape, "bfloat16", a3.device);
    }
    // elsewhere the same roundings as tensor ops: a bfloat16 mul and add round once each
    stepwiseStats.ops++;
    let acc = zeros([B, m, n], { dtype: "bfloat16", device: a3.device });
    for (let l = 0; l < k; l++) acc = acc.add(a3.narrow(2, l, 1).mul(b3.narrow(1, l, 1)));
    return acc.reshape([...shape]);
  });
}
