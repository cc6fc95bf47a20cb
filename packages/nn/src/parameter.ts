/** `Parameter`, a module's learnable tensor, and `buffer`, the mark of a module's saved non-learnable tensor. */
import { arg, type CallsOf, empty, k, signature, Tensor } from "@cinder/tensor";

/** `Parameter(data=None, requires_grad=True)`. */
const PARAMETER = signature("nn.Parameter", [arg.opt("data", k.tensor), arg("requiresGrad", k.bool, true)]);

/** A tensor that is a module's learnable parameter (`requiresGrad` by default). */
export class Parameter extends Tensor {
  static readonly signature = PARAMETER;
  /** `new nn.Parameter(data, requiresGrad?)`; without data, an empty float32 tensor (as PyTorch's). */
  constructor(...args: CallsOf<typeof PARAMETER>) {
    const { data, requiresGrad } = PARAMETER.parse(args);
    const d = (data ?? empty([0])).detach();
    super(d.storage, d.shape, d.strides, d.offset);
    this.requiresGrad = requiresGrad;
  }
  /** PyTorch's `repr` of a parameter: `Parameter containing:` above the tensor's own. */
  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}

/** Mark a tensor as a buffer (saved in the state dict, moved by `to()`, not a parameter): `this.runningMean = buffer(zeros(n))`. */
export function buffer(t: Tensor, persistent = true): Tensor {
  bufferTags.set(t, persistent);
  return t;
}
/** The tensors marked by `buffer()`, each with whether it is persistent (saved in the state dict). */
export const bufferTags = new WeakMap<Tensor, boolean>();
