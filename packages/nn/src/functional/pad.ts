/** torch.nn.functional.pad: constant, reflect, replicate and circular modes, differentiable by composition. */
import { arg, cat, full, k, op, signature, type Tensor, tensor } from "@cinder/tensor";
import { fmt, inputArg } from "../util";

/** The modes of `F.pad`: a constant value, or the input reflected, replicated or wrapped around. */
export type PadMode = "constant" | "reflect" | "replicate" | "circular";

/** @deprecated the options of `pad`; kept for the module classes' types. */
export interface PadOptions {
  mode?: PadMode;
  /** Fill value for "constant" mode (default 0). */
  value?: number | null;
}

/**
 * `pad(input, pad, mode='constant', value=None)`: pad the last dims: `pad` is [left, right] for the last dim, then
 * [top, bottom] for the one before, and so on (PyTorch's order). Negative amounts crop, in every mode as in
 * PyTorch 1.13 (reflect and replicate index the uncropped input; circular crops first, then wraps around what is
 * left). `value` (default 0) is for "constant" mode only. `pad(x, [1, 1], "reflect")`, `pad(x, [1, 1], { value: 5 })`.
 */
export const pad = op(
  signature("nn.functional.pad", [
    inputArg,
    arg("pad", k.ints),
    arg("mode", k.oneOf("constant", "reflect", "replicate", "circular"), "constant"),
    arg.opt("value", k.float),
  ]),
  ({ input, pad: amounts, mode, value }): Tensor => padImpl(input, amounts, mode, value),
);

function padImpl(x: Tensor, amounts: readonly number[], mode: PadMode, value: number | null): Tensor {
  if (amounts.length % 2 !== 0) throw new Error("pad(): Padding length must be divisible by 2");
  if (amounts.length / 2 > x.ndim) {
    throw new Error(
      `pad(): Padding length too large: ${amounts.length} amounts for a ${x.ndim}-D input of shape ${fmt(x.shape)}`,
    );
  }
  if (mode !== "constant" && value !== null && value !== 0) {
    throw new Error(`pad(): Padding mode "${mode}" doesn't take in value argument`);
  }
  if (mode !== "constant" && amounts.length / 2 > 3) {
    throw new Error("pad(): Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now");
  }
  let y = x;
  for (let i = 0; i < amounts.length / 2; i++) {
    const dim = x.ndim - 1 - i;
    const left = amounts[2 * i];
    const right = amounts[2 * i + 1];
    if (left === 0 && right === 0) continue;
    y =
      mode === "constant"
        ? padConstant(y, dim, left, right, value ?? 0)
        : padIndexed(y, dim, left, right, mode);
  }
  return y;
}

/** Crop negative amounts: the narrowed view of `x` along `dim`. */
function crop(x: Tensor, dim: number, left: number, right: number): Tensor {
  const n = x.shape[dim];
  const a = Math.max(0, -left);
  const b = Math.max(0, -right);
  return a === 0 && b === 0 ? x : x.narrow(dim, a, n - a - b);
}

function padConstant(x: Tensor, dim: number, left: number, right: number, value: number): Tensor {
  const n = x.shape[dim];
  if (n + left + right < 0)
    throw new Error(
      `pad(): the padded size ${n + left + right} of dimension ${dim} (size ${n}, padding (${left}, ${right})) would be negative`,
    );
  let y = crop(x, dim, left, right);
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
  const out = n + left + right;
  const where = `padding (${left}, ${right}) at dimension ${dim} of input ${fmt(x.shape)}`;
  if (mode === "reflect" && (left >= n || right >= n)) {
    throw new Error(
      `pad(): Argument #4: Padding size should be less than the corresponding input dimension, but got: ${where}`,
    );
  }
  if (mode === "circular") {
    // PyTorch crops first, then wraps around what is left (at most once)
    if (out < 0)
      throw new Error(`pad(): Negative padding value is resulting in an empty dimension (${where})`);
    const m = n - Math.max(0, -left) - Math.max(0, -right);
    if (left > m || right > m)
      throw new Error(`pad(): Padding value causes wrapping around more than once (${where})`);
    const c = crop(x, dim, left, right);
    const l = Math.max(0, left);
    const idx = Int32Array.from({ length: out }, (_, k) => ((((k - l) % m) + m) % m) | 0);
    return c.indexSelect(dim, tensor(idx, { device: x.device }));
  }
  if (out < 1) {
    throw new Error(`pad(): input (size ${n}) is too small: the padded size would be ${out} (${where})`);
  }
  const idx = new Int32Array(out);
  for (let k = 0; k < out; k++) {
    const i = k - left;
    idx[k] =
      mode === "reflect" ? (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i) : Math.min(Math.max(i, 0), n - 1);
  }
  return x.indexSelect(dim, tensor(idx, { device: x.device }));
}
