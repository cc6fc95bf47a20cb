import { arg, type CallsOf, k, signature, type Tensor, zerosLike } from "@cinder/tensor";
import { addcdiv_, addcmul_ } from "./ops";
import {
  type BaseOptions,
  checkNonNegative,
  differentiableArg,
  foreachArg,
  Optimizer,
  paramsArg,
  type UpdateRule,
} from "./optimizer";

export interface RMSpropOptions extends BaseOptions {
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** L2 penalty (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalize by an estimate of the gradient's variance (default false). */
  centered: boolean;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/** Per-parameter state of RMSprop, as in PyTorch's `optimizer.state[p]` (camelCase keys). */
export interface RMSpropState {
  step: number;
  squareAvg: Tensor;
  /** When momentum > 0. */
  momentumBuffer?: Tensor;
  /** When centered. */
  gradAvg?: Tensor;
}

/** RMSprop, as PyTorch 1.13's `_single_tensor_rmsprop`. */
export const rmspropRule: UpdateRule<RMSpropOptions, RMSpropState> = {
  name: "rmsprop",
  check(o, who) {
    checkNonNegative(who, "learning rate", "lr", o.lr);
    checkNonNegative(who, "epsilon value", "eps", o.eps);
    checkNonNegative(who, "momentum value", "momentum", o.momentum);
    checkNonNegative(who, "weight_decay value", "weightDecay", o.weightDecay);
    checkNonNegative(who, "alpha value", "alpha", o.alpha);
  },
  init: (p, o) => ({
    step: 0,
    squareAvg: zerosLike(p),
    ...(o.momentum > 0 ? { momentumBuffer: zerosLike(p) } : {}),
    ...(o.centered ? { gradAvg: zerosLike(p) } : {}),
  }),
  update(p, grad, s, o) {
    s.step += 1;
    let g = o.maximize ? grad.neg() : grad;
    if (o.weightDecay !== 0) g = g.add(p, { alpha: o.weightDecay });
    addcmul_(s.squareAvg.mul_(o.alpha), g, g, 1 - o.alpha);
    let avg: Tensor;
    if (o.centered) {
      s.gradAvg ??= zerosLike(p);
      s.gradAvg.mul_(o.alpha).add_(g, { alpha: 1 - o.alpha });
      avg = s.gradAvg.mul(s.gradAvg).neg_().add_(s.squareAvg).sqrt_(); // squareAvg - gradAvg^2
    } else avg = s.squareAvg.sqrt();
    avg.add_(o.eps);
    if (o.momentum > 0) {
      s.momentumBuffer ??= zerosLike(p);
      addcdiv_(s.momentumBuffer.mul_(o.momentum), g, avg);
      p.add_(s.momentumBuffer, { alpha: -o.lr });
    } else addcdiv_(p, g, avg, -o.lr);
  },
};

/**
 * `RMSprop(params, lr=0.01, alpha=0.99, eps=1e-08, weight_decay=0, momentum=0, centered=False, foreach=None,
 * maximize=False, differentiable=False)`: all positional in PyTorch 1.13.
 */
const RMSPROP = signature("optim.RMSprop", [
  paramsArg<RMSpropOptions>(),
  arg("lr", k.float, 1e-2),
  arg("alpha", k.float, 0.99),
  arg("eps", k.float, 1e-8),
  arg("weightDecay", k.float, 0),
  arg("momentum", k.float, 0),
  arg("centered", k.bool, false),
  foreachArg,
  arg("maximize", k.bool, false),
  differentiableArg,
]);

/** RMSprop (torch.optim.RMSprop): lr 1e-2, alpha 0.99, eps 1e-8. */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  static readonly signature = RMSPROP;
  constructor(...args: CallsOf<typeof RMSPROP>) {
    const a = RMSPROP.parse(args);
    super(
      a.params,
      {
        lr: a.lr,
        alpha: a.alpha,
        eps: a.eps,
        weightDecay: a.weightDecay,
        momentum: a.momentum,
        centered: a.centered,
        maximize: a.maximize,
      },
      rmspropRule,
    );
  }
}
