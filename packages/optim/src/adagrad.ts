import { arg, type CallsOf, fullLike, k, noGrad, signature, type Tensor } from "@cinder/tensor";
import { addcdiv_, addcmul_ } from "./ops";
import {
  type BaseOptions,
  checkNonNegative,
  foreachArg,
  keepTensors,
  Optimizer,
  paramsArg,
  type UpdateRule,
} from "./optimizer";

export interface AdagradOptions extends BaseOptions {
  /** Learning-rate decay: step t uses lr / (1 + (t - 1) * lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty (default 0). */
  weightDecay: number;
  /** Starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator for numerical stability (default 1e-10). */
  eps: number;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

export interface AdagradState {
  step: number;
  sum: Tensor;
}

/** Adagrad, as PyTorch 1.13's `_single_tensor_adagrad` (dense gradients). */
export const adagradRule: UpdateRule<AdagradOptions, AdagradState> = {
  name: "adagrad",
  check(o, who) {
    checkNonNegative(who, "learning rate", "lr", o.lr);
    checkNonNegative(who, "lr_decay value", "lrDecay", o.lrDecay);
    checkNonNegative(who, "weight_decay value", "weightDecay", o.weightDecay);
    checkNonNegative(
      who,
      "initial_accumulator_value value",
      "initialAccumulatorValue",
      o.initialAccumulatorValue,
    );
    checkNonNegative(who, "epsilon value", "eps", o.eps);
  },
  init: (p, o) => ({ step: 0, sum: fullLike(p, o.initialAccumulatorValue) }),
  update(p, grad, s, o) {
    s.step += 1;
    let g = o.maximize ? grad.neg() : grad;
    if (o.weightDecay !== 0) g = g.add(p, { alpha: o.weightDecay });
    const clr = o.lr / (1 + (s.step - 1) * o.lrDecay);
    addcmul_(s.sum, g, g);
    const std = s.sum.sqrt().add_(o.eps);
    addcdiv_(p, g, std, -clr);
  },
};

/**
 * `Adagrad(params, lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, foreach=None, *,
 * maximize=False)`.
 */
const ADAGRAD = signature(
  "optim.Adagrad",
  [
    paramsArg<AdagradOptions>(),
    arg("lr", k.float, 1e-2),
    arg("lrDecay", k.float, 0),
    arg("weightDecay", k.float, 0),
    arg("initialAccumulatorValue", k.float, 0),
    arg("eps", k.float, 1e-10),
    foreachArg,
  ],
  [arg("maximize", k.bool, false)],
);

/**
 * Adagrad (torch.optim.Adagrad): lr 1e-2, eps 1e-10. Like PyTorch, the state of the constructor's parameters is
 * created at once (so `stateDict()` lists it before any step); parameters added later get it at their first step.
 */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  static readonly signature = ADAGRAD;
  constructor(...args: CallsOf<typeof ADAGRAD>) {
    const a = ADAGRAD.parse(args);
    super(
      a.params,
      {
        lr: a.lr,
        lrDecay: a.lrDecay,
        weightDecay: a.weightDecay,
        initialAccumulatorValue: a.initialAccumulatorValue,
        eps: a.eps,
        maximize: a.maximize,
      },
      adagradRule,
    );
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params)
          if (!this.state.has(p)) this.state.set(p, keepTensors(adagradRule.init(p, group)));
      }
    });
  }
}
