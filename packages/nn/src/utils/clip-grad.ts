/**
 * `torch.nn.utils`' gradient clipping and parameter vectors (`clip_grad.py`, `convert_parameters.py` in PyTorch
 * 1.13), composed of tensor ops under `noGrad`, so they run on every device without reading values back (except
 * `errorIfNonfinite`, which reads the norm).
 */
import {
  arg,
  type CallsOf,
  cat,
  type Kind,
  k,
  noGrad,
  signature,
  stack,
  Tensor,
  tensor,
} from "@cinder/tensor";

/** A tensor or an iterable of tensors (a list, `model.parameters()`, a generator). */
const paramsKind: Kind<Tensor | Iterable<Tensor>> = k.test(
  "Tensor or Iterable[Tensor]",
  (v) =>
    v instanceof Tensor ||
    (typeof v === "object" && v !== null && Symbol.iterator in v && !(typeof v === "string")),
);

function tensorsOf(parameters: Tensor | Iterable<Tensor>, what: string): Tensor[] {
  const list = parameters instanceof Tensor ? [parameters] : [...parameters];
  for (const [i, p] of list.entries())
    if (!(p instanceof Tensor))
      throw new TypeError(`${what}: expected tensors, got ${String(p)} at position ${i}`);
  return list;
}

const CLIP_GRAD_NORM = signature("nn.utils.clipGradNorm_", [
  arg("parameters", paramsKind),
  arg("maxNorm", k.float),
  arg("normType", k.float, 2),
  arg("errorIfNonfinite", k.bool, false),
]);

/**
 * `clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False)`: scales the gradients of
 * `parameters` in place so that their joint `normType`-norm (of all gradients together, `Infinity` for the max
 * norm) is at most `maxNorm`, multiplying by `maxNorm / (norm + 1e-6)` when that is below 1. Returns the total norm
 * before clipping (a 0-dim tensor on the gradients' device); parameters without a gradient are skipped.
 */
export function clipGradNorm_(...args: CallsOf<typeof CLIP_GRAD_NORM>): Tensor {
  const { parameters, maxNorm, normType, errorIfNonfinite } = CLIP_GRAD_NORM.parse(args);
  const grads = tensorsOf(parameters, "clipGradNorm_")
    .map((p) => p.grad)
    .filter((g): g is Tensor => g !== null && g !== undefined);
  if (grads.length === 0) return tensor(0);
  const device = grads[0].device;
  return noGrad(() => {
    const norms = grads.map((g) =>
      (normType === Number.POSITIVE_INFINITY ? g.abs().max() : g.norm(normType)).to(device),
    );
    const total =
      normType === Number.POSITIVE_INFINITY
        ? norms.length === 1
          ? norms[0]
          : stack(norms).max()
        : stack(norms).norm(normType);
    if (errorIfNonfinite && !Number.isFinite(total.item()))
      throw new Error(
        `The total norm of order ${normType} for gradients from \`parameters\` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \`errorIfNonfinite=false\``,
      );
    const coef = tensor(maxNorm, { dtype: total.dtype, device }).div(total.add(1e-6)).clamp({ max: 1 });
    for (const g of grads) g.mul_(coef.to(g.device));
    return total;
  });
}

const CLIP_GRAD_VALUE = signature("nn.utils.clipGradValue_", [
  arg("parameters", paramsKind),
  arg("clipValue", k.float),
]);

/**
 * `clip_grad_value_(parameters, clip_value)`: clamps every gradient of `parameters` in place to
 * [-clipValue, clipValue]; parameters without a gradient are skipped.
 */
export function clipGradValue_(...args: CallsOf<typeof CLIP_GRAD_VALUE>): void {
  const { parameters, clipValue } = CLIP_GRAD_VALUE.parse(args);
  noGrad(() => {
    for (const p of tensorsOf(parameters, "clipGradValue_")) p.grad?.clamp_(-clipValue, clipValue);
  });
}

const PARAMETERS_TO_VECTOR = signature("nn.utils.parametersToVector", [arg("parameters", paramsKind)]);

/** `parameters_to_vector(parameters)`: every parameter flattened and concatenated into one 1-D tensor. */
export function parametersToVector(...args: CallsOf<typeof PARAMETERS_TO_VECTOR>): Tensor {
  const { parameters } = PARAMETERS_TO_VECTOR.parse(args);
  const list = tensorsOf(parameters, "parametersToVector");
  const device = list[0]?.device;
  for (const p of list)
    if (p.device !== device)
      throw new Error(
        `parametersToVector: Found two parameters on different devices, this is currently not supported (${device} and ${p.device})`,
      );
  return cat(list.map((p) => p.reshape(-1)));
}

const VECTOR_TO_PARAMETERS = signature("nn.utils.vectorToParameters", [
  arg("vec", k.tensor),
  arg("parameters", paramsKind),
]);

/**
 * `vector_to_parameters(vec, parameters)`: copies consecutive slices of the 1-D `vec` into the parameters (in
 * place, without recording a gradient), the inverse of `parametersToVector`.
 */
export function vectorToParameters(...args: CallsOf<typeof VECTOR_TO_PARAMETERS>): void {
  const { vec, parameters } = VECTOR_TO_PARAMETERS.parse(args);
  const list = tensorsOf(parameters, "vectorToParameters");
  const total = list.reduce((n, p) => n + p.numel(), 0);
  if (vec.ndim !== 1 || vec.shape[0] !== total)
    throw new Error(
      `vectorToParameters: expected a 1-D vector of ${total} elements (the parameters' total), got shape [${vec.shape.join(", ")}]`,
    );
  let at = 0;
  noGrad(() => {
    for (const p of list) {
      p.copy_(vec.narrow(0, at, p.numel()).reshape(p.shape));
      at += p.numel();
    }
  });
}
