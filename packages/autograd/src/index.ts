/**
 * @cinder/autograd: define-by-run automatic differentiation. Importing this module installs the autograd
 * layer into the tensor core (its one side effect): from then on ops on tensors with `requiresGrad` are
 * recorded, and `backward()`, `grad`, `gradFn` and `isLeaf` work as in PyTorch.
 */
import { enableGrad, isGradEnabled, noGrad, setGradEnabled } from "@cinder/tensor";
import { install } from "./engine";
import { adopt } from "./intermediates";

install(adopt);

export {
  AccumulateGrad,
  type BackwardOptions,
  type BackwardPass,
  currentBackwardPass,
  type Edge,
  FunctionNode,
  Node,
  type OutputMeta,
  sumToShape,
} from "./engine";
export { type ApplyArgs, Function, type FunctionClass, FunctionCtx } from "./function";
export { GradcheckError, type GradcheckOptions, type GradOptions, grad, gradcheck } from "./functional";
export { enableGrad, isGradEnabled, noGrad, setGradEnabled };
