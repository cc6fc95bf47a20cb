import { arg, type CallsOf, emptyLike, type Kind, k, signature, type Tensor } from "@cinder/tensor";
import { canFuse, wrote } from "./fused";
import {
  type BaseOptions,
  checkNonNegative,
  differentiableArg,
  foreachArg,
  Optimizer,
  paramsArg,
  type UpdateRule,
} from "./optimizer";

export interface SGDOptions extends BaseOptions {
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening for momentum (default 0). */
  dampening: number;
  /** L2 penalty (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false); needs momentum > 0 and zero dampening. */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/** Per-parameter state of SGD, as in PyTorch's `optimizer.state[p]` (camelCase keys). */
export interface SGDState {
  /** null until the first step with momentum (PyTorch stores None when momentum is 0). */
  momentumBuffer: Tensor | null;
}

/** SGD with momentum, as PyTorch 1.13's `_single_tensor_sgd`. */
export const sgdRule: UpdateRule<SGDOptions, SGDState> = {
  name: "sgd",
  check(o, who) {
    checkNonNegative(who, "learning rate", "lr", o.lr);
    checkNonNegative(who, "momentum value", "momentum", o.momentum);
    checkNonNegative(who, "weight_decay value", "weightDecay", o.weightDecay);
    if (o.nesterov && !((o.momentum ?? 0) > 0 && (o.dampening ?? 0) === 0)) {
      throw new RangeError(
        `${who}: Nesterov momentum requires a momentum and zero dampening: expected momentum > 0 and dampening = 0, got momentum ${o.momentum ?? 0} and dampening ${o.dampening ?? 0}`,
      );
    }
  },
  init: () => ({ momentumBuffer: null }),
  update(p, grad, state, o) {
    if (p.backend.sgdStep && canFuse(p, [grad, state.momentumBuffer])) {
      const first = o.momentum !== 0 && !state.momentumBuffer;
      const buf = o.momentum === 0 ? null : (state.momentumBuffer ?? emptyLike(p));
      const opts = {
        lr: o.lr,
        momentum: o.momentum,
        dampening: o.dampening,
        nesterov: o.nesterov,
        weightDecay: o.weightDecay,
        maximize: o.maximize,
        first,
      };
      if (p.backend.sgdStep(p.writeView_, grad.view_, buf?.writeView_ ?? null, opts)) {
        if (first) state.momentumBuffer = buf;
        wrote([p, buf]);
        return;
      }
    }
    let d = o.maximize ? grad.neg() : grad;
    if (o.weightDecay !== 0) d = d.add(p, { alpha: o.weightDecay });
    if (o.momentum !== 0) {
      let buf = state.momentumBuffer;
      if (!buf) buf = state.momentumBuffer = d.clone();
      else buf.mul_(o.momentum).add_(d, { alpha: 1 - o.dampening });
      d = o.nesterov ? d.add(buf, { alpha: o.momentum }) : buf;
    }
    p.add_(d, { alpha: -o.lr });
  },
};

/**
 * `SGD(params, lr=<required>, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
 * foreach=None, differentiable=False)`. `lr` may be left out only when every parameter group gives it.
 */
const SGD_SIG = signature(
  "optim.SGD",
  [
    paramsArg<SGDOptions>(),
    arg("lr", k.float as Kind<number | undefined>, undefined), // PyTorch's `required`: from the groups then
    arg("momentum", k.float, 0),
    arg("dampening", k.float, 0),
    arg("weightDecay", k.float, 0),
    arg("nesterov", k.bool, false),
  ],
  [arg("maximize", k.bool, false), foreachArg, differentiableArg],
);

/**
 * Stochastic gradient descent, optionally with momentum (torch.optim.SGD): `new SGD(model.parameters(), 0.1)`,
 * `new SGD(params, 0.1, 0.9)` or `new SGD(params, { lr: 0.1, momentum: 0.9 })`. `lr` is required (in the
 * arguments or in every parameter group).
 */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  static readonly signature = SGD_SIG;
  constructor(...args: CallsOf<typeof SGD_SIG>) {
    const a = SGD_SIG.parse(args);
    const defaults: SGDOptions = {
      lr: a.lr as number, // undefined = required: every group must then give it
      momentum: a.momentum,
      dampening: a.dampening,
      weightDecay: a.weightDecay,
      nesterov: a.nesterov,
      maximize: a.maximize,
    };
    super(a.params, defaults, sgdRule);
  }
}
