/** torch.nn.functional.pad: constant, reflect, replicate and circular modes, differentiable by composition. */
import { cat, full, type Tensor, tensor } from "@cinder/tensor";
import { fmt } from "../util";

export type PadMode = "constant" | "reflect" | "replicate" | "circular";

export interface PadOptions {
  mode?: PadMode;
  /** Fill value for "constant" mode (default 0). */
  value?: number;
}

/**
 * Pad the last dims: `pad` is [left, right] for the last dim, then [top, bottom] for the one before, and so on
 * (PyTorch's order). Negative amounts crop in "constant" mode. `pad(x, [1, 1], { mode: "reflect" })`.
 */
export function pad(x: Tensor, amounts: readonly number[], opts: PadOptions | PadMode = {}): Tensor {
  const o = typeof opts === "string" ? { mode: opts } : opts;
  const mode = o.mode ?? "constant";
  if (amounts.length % 2 !== 0)
    throw new Error(`pad: padding length must be divisible by 2, got ${amounts.length}`);
  if (amounts.length / 2 > x.ndim) {
    throw new Error(
      `pad: padding length ${amounts.length} is too large for a ${x.ndim}-D input of shape ${fmt(x.shape)}`,
    );
  }
  if (!["constant", "reflect", "replicate", "circular"].includes(mode)) {
    throw new Error(
      `pad: unknown mode ${JSON.stringify(mode)} (expected constant, reflect, replicate or circular)`,
    );
  }
  let y = x;
  for (let i = 0; i < amounts.length / 2; i++) {
    const dim = x.ndim - 1 - i;
    const left = amounts[2 * i];
    const right = amounts[2 * i + 1];
    if (left === 0 && right === 0) continue;
    y =
      mode === "constant"
        ? padConstant(y, dim, left, right, o.value ?? 0)
        : padIndexed(y, dim, left, right, mode);
  }
  return y;
}

function padConstant(x: Tensor, dim: number, left: number, right: number, value: number): Tensor {
  const n = x.shape[dim];
  if (n + left + right < 0)
    throw new Error(`pad: resulting size ${n + left + right} of dim ${dim} would be negative`);
  // negative amounts crop
  let y = x.narrow(dim, Math.max(0, -left), n - Math.max(0, -left) - Math.max(0, -right));
  const block = (k: number) => {
    const shape = [...y.shape];
    shape[dim] = k;
    return full(shape, value, { dtype: x.dtype, device: x.device });
  };
  const parts: Tensor[] = [];
  if (left > 0) parts.push(block(left));
  parts.push(y);
  if (right > 0) parts.push(block(right));
  if (parts.length > 1) y = cat(parts, dim);
  return y;
}

function padIndexed(
  x: Tensor,
  dim: number,
  left: number,
  right: number,
  mode: Exclude<PadMode, "constant">,
): Tensor {
  const n = x.shape[dim];
  if (left < 0 || right < 0)
    throw new Error(`pad: negative padding is only supported in constant mode, got ${left}, ${right}`);
  if (mode === "reflect" && (left >= n || right >= n)) {
    throw new Error(
      `pad: padding size should be less than the corresponding input dimension, but got padding (${left}, ${right}) at dimension ${dim} of input ${fmt(x.shape)}`,
    );
  }
  if (mode === "circular" && (left > n || right > n)) {
    throw new Error(
      `pad: padding value causes wrapping around more than once (padding (${left}, ${right}), size ${n})`,
    );
  }
  if (mode === "replicate" && n === 0) throw new Error(`pad: cannot replicate-pad an empty dimension ${dim}`);
  const idx = new Int32Array(n + left + right);
  for (let k = 0; k < idx.length; k++) {
    const i = k - left;
    if (mode === "reflect") idx[k] = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
    else if (mode === "replicate") idx[k] = Math.min(Math.max(i, 0), n - 1);
    else idx[k] = ((i % n) + n) % n;
  }
  return x.indexSelect(dim, tensor(idx, { device: x.device }));
}
