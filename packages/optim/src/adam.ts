import { arg, type CallsOf, k, signature, type Tensor, zerosLike } from "@cinder/tensor";
import { canFuse, wrote } from "./fused";
import { addcdiv_, addcmul_ } from "./ops";
import {
  type BaseOptions,
  betasArg,
  capturableArg,
  checkBetas,
  checkNonNegative,
  differentiableArg,
  foreachArg,
  fusedArg,
  Optimizer,
  paramsArg,
  type UpdateRule,
} from "./optimizer";

export interface AdamOptions extends BaseOptions {
  /** Coefficients of the running averages of the gradient and its square (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay: number;
  /** Use the AMSGrad variant (default false). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/** Per-parameter state of Adam and AdamW, as in PyTorch's `optimizer.state[p]` (camelCase keys). */
export interface AdamState {
  /** Steps taken for this parameter (PyTorch keeps it in a 0-dim tensor). */
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
  /** AMSGrad only. */
  maxExpAvgSq?: Tensor;
}

function check(o: Partial<AdamOptions>, who: string): void {
  checkNonNegative(who, "learning rate", "lr", o.lr);
  checkNonNegative(who, "epsilon value", "eps", o.eps);
  checkBetas(who, o.betas);
  checkNonNegative(who, "weight_decay value", "weightDecay", o.weightDecay);
}

/**
 * Adam, and AdamW when `decoupled` (PyTorch 1.13's `_single_tensor_adam` / `_single_tensor_adamw`): they differ
 * only in where weight decay enters, so one rule holds both.
 */
function makeAdamRule(decoupled: boolean): UpdateRule<AdamOptions, AdamState> {
  return {
    name: decoupled ? "adamw" : "adam",
    check,
    init: (p, o) => ({
      step: 0,
      expAvg: zerosLike(p),
      expAvgSq: zerosLike(p),
      ...(o.amsgrad ? { maxExpAvgSq: zerosLike(p) } : {}),
    }),
    update(p, grad, s, o) {
      const [beta1, beta2] = o.betas;
      if (o.amsgrad) s.maxExpAvgSq ??= zerosLike(p);
      const vmax = o.amsgrad ? (s.maxExpAvgSq ?? null) : null;
      if (p.backend.adamStep && canFuse(p, [grad, s.expAvg, s.expAvgSq, vmax])) {
        const opts = {
          lr: o.lr,
          beta1,
          beta2,
          eps: o.eps,
          weightDecay: o.weightDecay,
          decoupled,
          maximize: o.maximize,
          step: s.step + 1,
        };
        if (
          p.backend.adamStep(
            p.writeView_,
            grad.view_,
            s.expAvg.writeView_,
            s.expAvgSq.writeView_,
            vmax?.writeView_ ?? null,
            opts,
          )
        ) {
          s.step += 1;
          wrote([p, s.expAvg, s.expAvgSq, vmax]);
          return;
        }
      }
      let g = o.maximize ? grad.neg() : grad;
      s.step += 1;
      if (decoupled) {
        if (o.weightDecay !== 0) p.mul_(1 - o.lr * o.weightDecay);
      } else if (o.weightDecay !== 0) g = g.add(p, { alpha: o.weightDecay });
      s.expAvg.mul_(beta1).add_(g, { alpha: 1 - beta1 });
      addcmul_(s.expAvgSq.mul_(beta2), g, g, 1 - beta2);
      const stepSize = o.lr / (1 - beta1 ** s.step);
      const bc2Sqrt = Math.sqrt(1 - beta2 ** s.step);
      let v = s.expAvgSq;
      if (o.amsgrad) {
        s.maxExpAvgSq ??= zerosLike(p);
        v = s.maxExpAvgSq.maximum_(s.expAvgSq);
      }
      const denom = v.sqrt().div_(bc2Sqrt).add_(o.eps);
      addcdiv_(p, s.expAvg, denom, -stepSize);
    },
  };
}

/** The Adam update (PyTorch 1.13's `_single_tensor_adam`), for `Optimizer` subclasses. */
export const adamRule = makeAdamRule(false);
/** The AdamW update: Adam with decoupled weight decay. */
export const adamwRule = makeAdamRule(true);

function adamPositional(weightDecay: number) {
  return [
    paramsArg<AdamOptions>(),
    arg("lr", k.float, 1e-3),
    betasArg,
    arg("eps", k.float, 1e-8),
    arg("weightDecay", k.float, weightDecay),
    arg("amsgrad", k.bool, false),
  ] as const;
}

/**
 * `Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=False, *, foreach=None,
 * maximize=False, capturable=False, differentiable=False, fused=False)`.
 */
const ADAM = signature("optim.Adam", adamPositional(0), [
  foreachArg,
  arg("maximize", k.bool, false),
  capturableArg,
  differentiableArg,
  fusedArg,
]);

/**
 * `AdamW(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False, *, maximize=False,
 * foreach=None, capturable=False)`.
 */
const ADAMW = signature("optim.AdamW", adamPositional(1e-2), [
  arg("maximize", k.bool, false),
  foreachArg,
  capturableArg,
]);

function defaultsOf(a: {
  lr: number;
  betas: readonly number[];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}): AdamOptions {
  return {
    lr: a.lr,
    betas: [...a.betas] as [number, number],
    eps: a.eps,
    weightDecay: a.weightDecay,
    amsgrad: a.amsgrad,
    maximize: a.maximize,
  };
}

/**
 * Adam (torch.optim.Adam): lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0 (an L2 term on the gradient).
 * `new Adam(params, 1e-3)` or `new Adam(params, { lr: 1e-3, weightDecay: 1e-4 })`.
 */
export class Adam extends Optimizer<AdamOptions, AdamState> {
  static readonly signature = ADAM;
  constructor(...args: CallsOf<typeof ADAM>) {
    const a = ADAM.parse(args);
    super(a.params, defaultsOf(a), adamRule);
  }
}

/** AdamW (torch.optim.AdamW): Adam with decoupled weight decay, `p *= 1 - lr * weightDecay` (default 1e-2). */
export class AdamW extends Optimizer<AdamOptions, AdamState> {
  static readonly signature = ADAMW;
  constructor(...args: CallsOf<typeof ADAMW>) {
    const a = ADAMW.parse(args);
    super(a.params, defaultsOf(a), adamwRule);
  }
}
