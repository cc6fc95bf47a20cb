/**
 * The optimizer base: parameter groups, per-parameter state, `step()`, `zeroGrad()` and state dicts, with
 * PyTorch 1.13's semantics. Each concrete optimizer is an `UpdateRule` (its hyperparameter checks, its lazy
 * state initialisation and its one-parameter update, all in one small object) handed to this class.
 */
import {
  arg,
  type CallsOf,
  enableGrad,
  fmtShape,
  k,
  keep,
  noGrad,
  signature,
  Tensor,
  tidy,
} from "@cinder/tensor";
import { sameShape } from "./fused";

/** Options every optimizer has. */
export interface BaseOptions {
  lr: number;
}

/** Keys the lr schedulers add to parameter groups (PyTorch's `initial_lr`, `max_lr`, ...). */
export interface SchedulerGroupKeys {
  initialLr?: number;
  maxLr?: number;
  minLr?: number;
  maxMomentum?: number;
  baseMomentum?: number;
}

/** A parameter group: its parameters and every option of the optimizer (mutable: schedulers change `lr`). */
export type ParamGroup<O extends BaseOptions = BaseOptions> = O & SchedulerGroupKeys & { params: Tensor[] };

/** A parameter group as given to a constructor or `addParamGroup`: options it lacks come from the defaults. */
export type ParamGroupInput<O extends BaseOptions = BaseOptions> = Partial<O> &
  SchedulerGroupKeys & { params: Iterable<Tensor> | Tensor };

/** An iterable of tensors (`model.parameters()`) or of parameter groups. */
export type ParamsInput<O extends BaseOptions = BaseOptions> =
  | Iterable<Tensor>
  | Iterable<ParamGroupInput<O>>;

/** A value in an optimizer's per-parameter state. */
export type StateValue = Tensor | number | boolean | null | undefined;

/**
 * One optimizer's algorithm, declared once: PyTorch's `_single_tensor_<name>` function plus its checks.
 * Methods (not function-valued properties) so that every `Optimizer<O, S>` is usable where an `Optimizer` is.
 */
export interface UpdateRule<O extends BaseOptions, S extends object> {
  /** The name a backend's fused optimizer-update fast path would be keyed by ("sgd", "adam", ...). */
  readonly name: string;
  /** Throw a RangeError naming the option, the expected range and the given value. `who` is the class name. */
  check(options: Partial<O>, who: string): void;
  /** Fresh per-parameter state (PyTorch initialises state lazily, at a parameter's first step). */
  init(p: Tensor, group: O): S;
  /** Update `p` in place from `grad`, mutating `state`. Runs under `noGrad`; temporaries are freed after. */
  update(p: Tensor, grad: Tensor, state: S, group: O): void;
}

/** `optimizer.stateDict()`: PyTorch's structure, parameters replaced by their index over all groups. */
export interface OptimizerStateDict<S extends object = object> {
  /** Per-parameter state keyed by the parameter's index; tensors are copies. */
  state: Record<number, S>;
  /** Each group's options, with `params` as the list of its parameters' indices. */
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

/**
 * Base class of all optimizers (torch.optim.Optimizer). `new SGD(model.parameters(), { lr: 0.01 })` or, with
 * parameter groups, `new SGD([{ params: a }, { params: b, lr: 1e-3 }], { lr: 1e-2 })`.
 */
export class Optimizer<O extends BaseOptions = BaseOptions, S extends object = object> {
  /** The constructor's options, completed with the optimizer's defaults; groups inherit what they omit. */
  readonly defaults: O;
  paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (momentum buffers, moment estimates, step counts), created at a parameter's first step. */
  state = new Map<Tensor, S>();
  protected readonly rule: UpdateRule<O, S>;

  /**
   * `defaults` values that are `undefined` are required: every group must then give them (SGD's `lr`).
   */
  constructor(params: ParamsInput<O>, defaults: O, rule: UpdateRule<O, S>) {
    this.defaults = defaults;
    this.rule = rule;
    const who = this.who;
    rule.check(definedOnly(defaults) as Partial<O>, who);
    if (params instanceof Tensor) {
      throw new TypeError(
        `${who}: params should be an iterable of Tensors or parameter groups, but got a Tensor of shape ${fmtShape(params.shape)} (wrap it in an array: [t])`,
      );
    }
    if (!isIterable(params)) {
      throw new TypeError(
        `${who}: params should be an iterable of Tensors or parameter groups, but got ${describe(params)}`,
      );
    }
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0)
      throw new Error(`${who}: optimizer got an empty parameter list (expected at least one tensor)`);
    const groups = list[0] instanceof Tensor ? [{ params: list }] : list;
    for (const g of groups) this.addParamGroup(g as ParamGroupInput<O>);
  }

  /** The class name, for error messages. */
  protected get who(): string {
    return this.constructor.name;
  }

  /**
   * Add a parameter group (e.g. layers unfrozen during fine-tuning). Options it omits come from the defaults;
   * a parameter may belong to only one group.
   */
  addParamGroup(paramGroup: ParamGroupInput<O>, ...extra: []): void {
    const group = ADD_PARAM_GROUP.parse([paramGroup, ...extra]).paramGroup as ParamGroupInput<O>;
    const who = this.who;
    if (group === null || typeof group !== "object" || group instanceof Tensor || !("params" in group)) {
      throw new TypeError(
        `${who}: a parameter group must be an object with a params field, got ${describe(group)}`,
      );
    }
    const raw = group.params;
    if (!(raw instanceof Tensor) && !isIterable(raw)) {
      throw new TypeError(
        `${who}: a parameter group's params must be a Tensor or an iterable of Tensors, got ${describe(raw)}`,
      );
    }
    const params = raw instanceof Tensor ? [raw] : [...(raw as Iterable<Tensor>)];
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) {
        throw new TypeError(
          `${who}: optimizer can only optimize Tensors, but params[${i}] is ${describe(p)}`,
        );
      }
      if (!(p.isLeaf || p.retainsGrad)) {
        throw new Error(
          `${who}: can't optimize a non-leaf Tensor: expected a leaf (a parameter), but params[${i}] (shape ${fmtShape(p.shape)}) ` +
            `was computed by ${p.gradFn?.name}; optimize the leaf it came from, or a copy: t.detach().requiresGrad_()`,
        );
      }
    });
    const full: Record<string, unknown> = { ...group, params };
    for (const [k, v] of Object.entries(this.defaults)) {
      if (full[k] !== undefined) continue;
      if (v === undefined) {
        throw new Error(
          `${who}: parameter group didn't specify a value of required optimization parameter ${k} (give it in the group or in the options)`,
        );
      }
      full[k] = Array.isArray(v) ? [...v] : v;
    }
    this.rule.check(full as Partial<O>, who);
    if (new Set(params).size !== params.length) {
      console.warn(
        `${who}: optimizer contains a parameter group with duplicate parameters; in future, this will cause an error (PyTorch issue 40967)`,
      );
    }
    this.paramGroups.forEach((g, gi) => {
      const existing = new Set(g.params);
      const i = params.findIndex((p) => existing.has(p));
      if (i >= 0) {
        throw new Error(
          `${who}: some parameters appear in more than one parameter group: params[${i}] of the new group is already in paramGroups[${gi}]`,
        );
      }
    });
    this.paramGroups.push(full as object as ParamGroup<O>);
  }

  /**
   * `zeroGrad(setToNone=false)`: clear the gradients. By default (PyTorch 1.13's) they are zeroed in place; with
   * `setToNone` (`zeroGrad(true)` or `zeroGrad({ setToNone: true })`, PyTorch 2's default) `.grad` becomes null
   * and is freed at once, so the next step skips parameters that receive no gradient.
   */
  zeroGrad(...args: CallsOf<typeof ZERO_GRAD>): void {
    const { setToNone } = ZERO_GRAD.parse(args);
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const g = p.grad;
        if (!g) continue;
        if (setToNone) {
          // the gradient belongs to the parameter: free it now rather than when the GC notices (device memory)
          p.grad = null;
          g.dispose();
          continue;
        }
        if (g.gradFn) g.detach_();
        else g.requiresGrad_(false);
        g.zero_();
      }
    }
  }

  /**
   * One optimization step over every parameter that has a gradient. `closure` (optional) re-evaluates the
   * model with gradients enabled and returns the loss, which `step` returns.
   */
  step<L = unknown>(
    ...args: [closure?: (() => L) | null] | [options: { closure?: (() => L) | null }]
  ): L | undefined {
    const closure = STEP.parse(args).closure as (() => L) | null;
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() =>
      tidy(() => {
        this.paramGroups.forEach((g, i) => {
          this.stepGroup(g, i);
        });
      }),
    );
    return loss;
  }

  /**
   * Update one group, parameter by parameter.
   *
   * Fused fast paths: the SGD and Adam/AdamW rules offer each update to the backend's optional `sgdStep` /
   * `adamStep` (one pass over parameter, gradient and state) from inside `rule.update` (see `fused.ts`), and
   * compose it from core ops when the backend lacks it, declines, or a tensor is strided.
   */
  protected stepGroup(group: ParamGroup<O>, groupIndex: number): void {
    group.params.forEach((p, i) => {
      const grad = p.grad;
      if (!grad) return;
      if (!sameShape(grad.shape, p.shape)) {
        throw new Error(
          `${this.who}: paramGroups[${groupIndex}].params[${i}] has shape ${fmtShape(p.shape)} but its grad has shape ${fmtShape(grad.shape)}`,
        );
      }
      if (grad.dtype !== p.dtype || grad.device !== p.device) {
        throw new Error(
          `${this.who}: paramGroups[${groupIndex}].params[${i}] is ${p.dtype} on ${p.device} but its grad is ${grad.dtype} on ${grad.device}; expected the same dtype and device`,
        );
      }
      let s = this.state.get(p);
      if (!s) {
        s = this.rule.init(p, group);
        this.state.set(p, s);
      }
      this.rule.update(p, grad, s, group);
      keepTensors(s);
    });
  }

  /** The optimizer's state as a plain object (PyTorch's `state_dict()` structure); tensors are deep copies. */
  stateDict(...args: []): OptimizerStateDict<S> {
    STATE_DICT.parse(args);
    const index = new Map<Tensor, number>();
    let start = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== "params") packed[k] = copyPlain(v);
      g.params.forEach((p, i) => {
        if (!index.has(p)) index.set(p, start + i);
      });
      start += g.params.length;
      return Object.assign(packed, { params: g.params.map((p) => index.get(p)!) });
    });
    const state: Record<number, S> = {};
    noGrad(() => {
      for (const [p, s] of this.state) {
        const i = index.get(p);
        if (i === undefined) continue;
        const copy: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(s))
          copy[k] = v instanceof Tensor ? v.detach().clone() : copyPlain(v);
        state[i] = copy as S;
      }
    });
    return { state, paramGroups };
  }

  /**
   * Load a `stateDict()`: groups must match in number and sizes. State tensors are copied and converted to
   * each parameter's dtype (floating point) and device; group options are replaced, parameters kept.
   */
  loadStateDict(stateDict: OptimizerStateDict<S>, ...extra: []): void {
    LOAD_STATE_DICT.parse([stateDict, ...extra]);
    const who = this.who;
    const saved = stateDict?.paramGroups;
    if (!Array.isArray(saved) || typeof stateDict.state !== "object" || stateDict.state === null) {
      throw new TypeError(
        `${who}: loadStateDict expected an object { state, paramGroups } from stateDict(), got ${describe(stateDict)}`,
      );
    }
    const groups = this.paramGroups;
    if (groups.length !== saved.length) {
      throw new Error(
        `${who}: loaded state dict has a different number of parameter groups: expected ${groups.length} (the optimizer's), got ${saved.length}`,
      );
    }
    groups.forEach((g, i) => {
      const n = saved[i].params?.length;
      if (n !== g.params.length) {
        throw new Error(
          `${who}: loaded state dict contains a parameter group that doesn't match the size of optimizer's group: ` +
            `paramGroups[${i}] has ${g.params.length} parameters, the state dict's has ${n}`,
        );
      }
    });
    const idMap = new Map<number, Tensor>();
    saved.forEach((sg, gi) => {
      sg.params.forEach((id, i) => {
        idMap.set(id, groups[gi].params[i]);
      });
    });
    const state = new Map<Tensor, S>();
    noGrad(() => {
      for (const [key, value] of Object.entries(stateDict.state)) {
        const p = idMap.get(Number(key));
        if (!p) {
          throw new Error(
            `${who}: loaded state dict has state for parameter ${key}, but its parameter groups list only ${[...idMap.keys()].join(", ")}`,
          );
        }
        state.set(p, keepTensors(castState(p, value as Record<string, unknown>, key, who) as S));
      }
    });
    groups.forEach((g, i) => {
      const params = g.params;
      for (const k of Object.keys(g)) delete asRecord(g)[k];
      const next: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(this.defaults)) next[k] = copyPlain(v);
      for (const [k, v] of Object.entries(saved[i])) next[k] = copyPlain(v);
      Object.assign(g, next, { params });
    });
    this.state = state;
  }

  /** Like PyTorch's repr: each group's options, sorted by name. */
  toString(): string {
    let s = `${this.who} (`;
    this.paramGroups.forEach((g, i) => {
      s += `\nParameter Group ${i}\n`;
      for (const k of Object.keys(g).sort()) if (k !== "params") s += `    ${k}: ${pyRepr(asRecord(g)[k])}\n`;
    });
    return `${s})`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

function castState(
  p: Tensor,
  value: Record<string, unknown>,
  key: string,
  who: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v instanceof Tensor) {
      if (v.numel() !== 1 && (v.ndim !== p.ndim || v.shape.some((d, i) => d !== p.shape[i]))) {
        throw new Error(
          `${who}: loaded state ${k} of parameter ${key} has shape ${fmtShape(v.shape)}, but the parameter has shape ${fmtShape(p.shape)}`,
        );
      }
      out[k] = v.to({ dtype: p.isFloatingPoint() ? p.dtype : v.dtype, device: p.device, copy: true });
    } else out[k] = copyPlain(v);
  }
  return out;
}

/** Keep the state's tensors alive past the `tidy` scope of `step()` (they belong to the optimizer). */
export function keepTensors<T extends object>(s: T): T {
  for (const v of Object.values(s)) if (v instanceof Tensor) keep(v);
  return s;
}

function asRecord(o: object): Record<string, unknown> {
  return o as Record<string, unknown>;
}

function copyPlain(v: unknown): unknown {
  return Array.isArray(v) ? v.map(copyPlain) : v;
}

function definedOnly(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return (
    v !== null &&
    typeof v === "object" &&
    typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function"
  );
}

/** A short description of a value for error messages: "a number (3)", "a string", "null", "an Array". */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (v instanceof Tensor) return `a Tensor of shape ${fmtShape(v.shape)}`;
  if (typeof v === "object") return `an object (${v.constructor?.name ?? "Object"})`;
  if (typeof v === "number" || typeof v === "boolean") return `a ${typeof v} (${v})`;
  return `a ${typeof v}`;
}

// ---- signature pieces shared by the optimizers (PyTorch 1.13's constructor parameters) ----

/** `params`: an iterable of Tensors (`model.parameters()`) or of parameter groups. */
export function paramsArg<O extends BaseOptions>() {
  return arg(
    "params",
    k.test<ParamsInput<O>>(
      "an iterable of Tensors or of parameter groups",
      (v) => v instanceof Tensor || isIterable(v), // a lone Tensor gets the constructor's "wrap it in an array"
    ),
  );
}

/** `betas=(0.9, 0.999)`. */
export const betasArg = arg(
  "betas",
  k.test<[number, number]>(
    "(float, float)",
    (v) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number"),
  ),
  [0.9, 0.999] as [number, number],
);

/** `foreach=None`: Cinder has one implementation (per parameter, with the backend's fused update where it has one). */
export const foreachArg = arg(
  "foreach",
  k.test<boolean | null>(
    "None or False (Cinder has no multi-tensor foreach implementation; its per-parameter update gives the same results)",
    (v) => v === null || v === false,
  ),
  null,
);
export const capturableArg = arg.unsupported(
  "capturable",
  false,
  "CUDA graph capture does not exist in Cinder",
);
export const differentiableArg = arg.unsupported(
  "differentiable",
  false,
  "Cinder's step runs under noGrad and is not differentiable",
);
export const fusedArg = arg.unsupported(
  "fused",
  false,
  "Cinder offers each update to the backend's fused kernel by itself where the backend has one",
);

const ZERO_GRAD = signature("optim.Optimizer.zeroGrad", [arg("setToNone", k.bool, false)], [], {
  torch: "torch.optim.Optimizer.zero_grad",
});
const STEP = signature("optim.Optimizer.step", [arg.opt("closure", k.fn)], [], {
  torch: "torch.optim.Optimizer.step",
});
const ADD_PARAM_GROUP = signature("optim.Optimizer.addParamGroup", [arg("paramGroup", k.dict)], [], {
  torch: "torch.optim.Optimizer.add_param_group",
});
const LOAD_STATE_DICT = signature("optim.Optimizer.loadStateDict", [arg("stateDict", k.any)], [], {
  torch: "torch.optim.Optimizer.load_state_dict",
});
const STATE_DICT = signature("optim.Optimizer.stateDict", [], [], {
  torch: "torch.optim.Optimizer.state_dict",
});

function pyRepr(v: unknown): string {
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null || v === undefined) return "None";
  if (Array.isArray(v)) return `(${v.map(pyRepr).join(", ")})`;
  return String(v);
}

// ---- hyperparameter checks shared by the rules ----

/** `value >= 0`, else a RangeError like PyTorch's "Invalid learning rate: -1". */
export function checkNonNegative(who: string, what: string, name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!(value >= 0)) throw new RangeError(`${who}: invalid ${what}: expected ${name} >= 0, got ${value}`);
}

/** Each beta in [0, 1). */
export function checkBetas(who: string, betas: readonly number[] | undefined): void {
  if (betas === undefined) return;
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new RangeError(`${who}: expected betas to be a pair [beta1, beta2], got ${describe(betas)}`);
  }
  betas.forEach((b, i) => {
    if (!(b >= 0 && b < 1))
      throw new RangeError(
        `${who}: invalid beta parameter at index ${i}: expected 0 <= betas[${i}] < 1, got ${b}`,
      );
  });
}
