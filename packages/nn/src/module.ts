/**
 * `Module`, PyTorch's building block. Subclasses assign submodules, parameters and buffers as ordinary fields;
 * they are found by walking the instance's own properties in assignment order, so `parameters()`,
 * `stateDict()` and `print(model)` see them exactly as PyTorch's `__setattr__` registration would. Modules are
 * callable: `model(x)` runs forward hooks around `forward(x)`.
 */
import {
  arg,
  type CallsOf,
  type Device,
  type DType,
  graphOwned,
  type Kind,
  k,
  noGrad,
  type Param,
  signature,
  Tensor,
  userVisible,
} from "@cinder/tensor";
import { checkName, cycleError, parseTo, TO, type ToOptions } from "./module-args";
import { buffer, bufferTags, Parameter } from "./parameter";

export type { ToOptions } from "./module-args";
export { buffer, Parameter } from "./parameter";

/**
 * A forward hook (`registerForwardHook`): called after `forward` with the module, its inputs and its output;
 * a returned value other than undefined replaces the output.
 */
export type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => unknown;
/**
 * A forward pre-hook (`registerForwardPreHook`): called before `forward` with the module and its inputs; a
 * returned array replaces the inputs.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a pre-hook may return nothing at all
export type ForwardPreHook = (module: Module, inputs: unknown[]) => unknown[] | undefined | void;

export interface Module {
  /** Calling a module runs its forward pre-hooks, `forward`, then its forward hooks. */
  // biome-ignore lint/style/useShorthandFunctionType: an interface, so that it merges with the class
  (...args: Parameters<this["forward"]>): ReturnType<this["forward"]>;
}

const INTERNAL = new Set(["training", "_hooks", "_preHooks", "_buffers", "name", "length"]);

const isModule = (v: unknown): v is Module => v instanceof Module;
/** Modules are callable (function objects), so this kind never mistakes a trailing options object for one. */
const moduleKind: Kind<Module> = k.where(k.fn, isModule, "Module") as Kind<unknown> as Kind<Module>;
const parameterKind: Kind<Parameter> = k.where(
  k.tensor,
  (v) => v instanceof Parameter,
  "Parameter",
) as Kind<Tensor> as Kind<Parameter>;

const MODULE = signature("nn.Module", []);
// PyTorch 1.13's `torch.nn.Module` methods that take arguments (and the argument-less ones, so that an argument
// given to them is an error rather than ignored).
const TRAIN = signature("nn.Module.train", [arg("mode", k.bool, true)]);
const EVAL = signature("nn.Module.eval", []);
const HALF = signature("nn.Module.half", []);
const BFLOAT16 = signature("nn.Module.bfloat16", []);
/** `zero_grad(set_to_none=False)` in PyTorch 1.13; True here, as PyTorch 2 (see DEFAULT_DIFFERENCES). */
const ZERO_GRAD = signature("nn.Module.zeroGrad", [arg("setToNone", k.bool, false)]);
const PARAMETERS = signature("nn.Module.parameters", [arg("recurse", k.bool, true)]);
const NAMED_PARAMETERS = signature("nn.Module.namedParameters", [
  arg("prefix", k.str, ""),
  arg("recurse", k.bool, true),
]);
const BUFFERS = signature("nn.Module.buffers", [arg("recurse", k.bool, true)]);
const NAMED_BUFFERS = signature("nn.Module.namedBuffers", [
  arg("prefix", k.str, ""),
  arg("recurse", k.bool, true),
]);
const CHILDREN = signature("nn.Module.children", []);
const NAMED_CHILDREN = signature("nn.Module.namedChildren", []);
const MODULES = signature("nn.Module.modules", []);
const NAMED_MODULES = signature("nn.Module.namedModules", [
  arg.opt("memo", k.instance<Set<Module>>(Set, "Set")),
  arg("prefix", k.str, ""),
  arg("removeDuplicate", k.bool, true),
]);
const APPLY = signature("nn.Module.apply", [
  arg("fn", k.fn as Kind<unknown> as Kind<(m: Module) => unknown>),
]);
const REQUIRES_GRAD_ = signature("nn.Module.requiresGrad_", [arg("requiresGrad", k.bool, true)]);
const REGISTER_BUFFER = signature("nn.Module.registerBuffer", [
  arg("name", k.str),
  arg("tensor", k.opt(k.tensor)),
  arg("persistent", k.bool, true),
]);
const REGISTER_PARAMETER = signature("nn.Module.registerParameter", [
  arg("name", k.str),
  arg("param", k.opt(parameterKind)),
]);
const ADD_MODULE = signature("nn.Module.addModule", [arg("name", k.str), arg("module", k.opt(moduleKind))]);
const GET_SUBMODULE = signature("nn.Module.getSubmodule", [arg("target", k.str)]);
const GET_PARAMETER = signature("nn.Module.getParameter", [arg("target", k.str)]);
const REGISTER_FORWARD_HOOK = signature("nn.Module.registerForwardHook", [
  arg("hook", k.fn as Kind<unknown> as Kind<ForwardHook>),
]);
const REGISTER_FORWARD_PRE_HOOK = signature("nn.Module.registerForwardPreHook", [
  arg("hook", k.fn as Kind<unknown> as Kind<ForwardPreHook>),
]);
/**
 * `state_dict(*args, destination=None, prefix='', keep_vars=False)`: PyTorch's positional form is deprecated, so
 * `*args` takes nothing here and the three are options.
 */
const noPositional: Param<"args", readonly number[], true> = {
  name: "args",
  kind: k.where(
    k.ints,
    (v) => v.length === 0,
    "nothing (PyTorch deprecates positional arguments here: pass { destination, prefix, keepVars })",
  ),
  optional: true,
  default: [],
  varargs: true,
};
const STATE_DICT = signature(
  "nn.Module.stateDict",
  [noPositional],
  [
    arg.opt("destination", k.instance<Map<string, Tensor>>(Map, "Map")),
    arg("prefix", k.str, ""),
    arg("keepVars", k.bool, false),
  ],
);
const LOAD_STATE_DICT = signature("nn.Module.loadStateDict", [
  arg("stateDict", k.or(k.instance<Map<string, Tensor>>(Map, "Map"), k.dict as Kind<Record<string, Tensor>>)),
  arg("strict", k.bool, true),
]);

/** Mark the tensors of a module's output (a tensor, or an array of them) as seen by user code. */
function markVisible(out: unknown): void {
  if (out instanceof Tensor) userVisible(out);
  else if (Array.isArray(out)) for (const t of out) if (t instanceof Tensor) userVisible(t);
}

/** PyTorch's printing of a shape: `torch.Size([5, 3])`. */
const torchSize = (shape: readonly number[]): string => `torch.Size([${[...shape].join(", ")}])`;

/**
 * The base class of every layer and model, PyTorch's `nn.Module`: subclass it, assign layers and parameters
 * to fields (registered in assignment order) and implement `forward`; calling the module runs it
 * (`model(x)`).
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the call signature of callable modules (interface above)
export class Module {
  /**
   * The PyTorch class name that printouts and messages show (`this.constructor.name`). Every nn class sets its
   * own, so that a minifier renaming the classes (`Sequential` to `jc`) cannot change what `String(model)` prints;
   * a subclass of yours keeps the name JavaScript gives it.
   */
  static readonly name: string = "Module";
  /** Training mode (dropout active, batch norm updates running stats); toggled by `train()` / `eval()`. */
  declare training: boolean;
  declare private _hooks: ForwardHook[];
  declare private _preHooks: ForwardPreHook[];

  /** `Module()`: takes no arguments (subclasses take their own). */
  constructor(...args: CallsOf<typeof MODULE>) {
    MODULE.parse(args);
    // a function object with this class's prototype, so that `model(x)` works
    const fn = function (this: unknown, ...args: unknown[]) {
      return (fn as unknown as Module)._call(...args);
    };
    Object.setPrototypeOf(fn, new.target.prototype);
    // base fields live on the returned function object (initialisers would run on the discarded `this`)
    Object.defineProperties(fn, {
      training: { value: true, writable: true, enumerable: false },
      _hooks: { value: [], writable: true, enumerable: false },
      _preHooks: { value: [], writable: true, enumerable: false },
    });
    // biome-ignore lint/correctness/noConstructorReturn: modules are callable, like PyTorch's
    return fn as unknown as Module;
  }

  /** The computation; subclasses override it. */
  forward(..._args: any[]): any {
    throw new Error(`${this.constructor.name} has no forward() method`);
  }

  private _call(...args: unknown[]): unknown {
    let inputs = args;
    for (const h of this._preHooks) inputs = (h(this, inputs) as unknown[] | undefined) ?? inputs;
    // what forward makes and neither returns nor keeps in a field is the graph's: backward() disposes it
    const forward = this.forward as (...a: unknown[]) => unknown;
    let out = graphOwned(() => forward.apply(this, inputs), this);
    for (const h of this._hooks) {
      // a forward hook may keep its inputs and the output: no enclosing module's graph owns them
      markVisible(inputs);
      markVisible(out);
      const r = h(this, inputs, out);
      if (r !== undefined) out = r;
    }
    return out;
  }

  /** Register a hook run after every forward; returns a function that removes it. */
  registerForwardHook(...args: CallsOf<typeof REGISTER_FORWARD_HOOK>): () => void {
    const { hook } = REGISTER_FORWARD_HOOK.parse(args);
    this._hooks.push(hook);
    return () => {
      this._hooks = this._hooks.filter((h) => h !== hook);
    };
  }
  /** Register a hook run before every forward (it may return replacement inputs); returns its remover. */
  registerForwardPreHook(...args: CallsOf<typeof REGISTER_FORWARD_PRE_HOOK>): () => void {
    const { hook } = REGISTER_FORWARD_PRE_HOOK.parse(args);
    this._preHooks.push(hook);
    return () => {
      this._preHooks = this._preHooks.filter((h) => h !== hook);
    };
  }

  /**
   * Names under which fields appear in `stateDict()`, `namedParameters()` and the printout, where they differ
   * from the TypeScript field name: BatchNorm's `runningMean` is PyTorch's `running_mean`, so checkpoints
   * move between the two unchanged. Subclasses (also user modules porting a PyTorch model) may set it.
   */
  static stateNames?: Readonly<Record<string, string>>;

  /** Own fields in assignment order, skipping internals: [state name, value, field key]. */
  private *fields(): Generator<[string, unknown, string]> {
    const names = (this.constructor as typeof Module).stateNames;
    for (const key of this.fieldKeys()) {
      if (INTERNAL.has(key) || key.startsWith("_")) continue;
      yield [names?.[key] ?? key, (this as unknown as Record<string, unknown>)[key], key];
    }
  }

  /** The own field names, in order (assignment order; ParameterDict keeps its own, as JS puts "10" before "a"). */
  protected fieldKeys(): readonly string[] {
    return Object.keys(this);
  }

  /** The direct children by name (containers override this to keep their own order). */
  protected *childEntries(): Generator<[string, Module]> {
    for (const [k, v] of this.fields()) if (v instanceof Module) yield [k, v];
  }

  /** The direct children by name, each once (a module held under two names is listed under the first). */
  namedChildren(...args: CallsOf<typeof NAMED_CHILDREN>): Generator<[string, Module]> {
    NAMED_CHILDREN.parse(args);
    return this.uniqueChildren();
  }
  private *uniqueChildren(): Generator<[string, Module]> {
    const memo = new Set<Module>();
    for (const [k, m] of this.childEntries()) {
      if (memo.has(m)) continue;
      memo.add(m);
      yield [k, m];
    }
  }
  /** The direct child modules, each once. */
  children(...args: CallsOf<typeof CHILDREN>): Generator<Module> {
    CHILDREN.parse(args);
    return (function* (m: Module) {
      for (const [, c] of m.uniqueChildren()) yield c;
    })(this);
  }
  /** This module and every descendant, depth first, each once (unless `removeDuplicate: false`). */
  namedModules(...args: CallsOf<typeof NAMED_MODULES>): Generator<[string, Module]> {
    const { memo, prefix, removeDuplicate } = NAMED_MODULES.parse(args);
    return this.walk(memo ?? new Set<Module>(), prefix, removeDuplicate);
  }
  /**
   * Depth first from this module. With `removeDuplicate`, each module once (under its first path); without, every
   * path, as PyTorch's `state_dict` walks `_modules`, and a module that contains itself is a `cycleError`.
   */
  private *walk(
    memo: Set<Module>,
    prefix: string,
    removeDuplicate: boolean,
    ancestors = new Map<Module, string>(),
  ): Generator<[string, Module]> {
    if (removeDuplicate) {
      if (memo.has(this)) return;
      memo.add(this);
    } else {
      const from = ancestors.get(this);
      if (from !== undefined) throw cycleError(this, from, prefix);
    }
    yield [prefix, this];
    ancestors.set(this, prefix);
    try {
      for (const [k, m] of this.childEntries())
        yield* m.walk(memo, prefix ? `${prefix}.${k}` : k, removeDuplicate, ancestors);
    } finally {
      ancestors.delete(this);
    }
  }
  /** This module and every descendant, depth first, each once. */
  modules(...args: CallsOf<typeof MODULES>): Generator<Module> {
    MODULES.parse(args);
    return (function* (m: Module) {
      for (const [, x] of m.walk(new Set(), "", true)) yield x;
    })(this);
  }

  /** Parameters by dotted name, each once (shared parameters are not repeated). */
  namedParameters(...args: CallsOf<typeof NAMED_PARAMETERS>): Generator<[string, Parameter]> {
    const { prefix, recurse } = NAMED_PARAMETERS.parse(args);
    return this.namedParams(prefix, recurse);
  }
  private *namedParams(prefix: string, recurse: boolean): Generator<[string, Parameter]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> = recurse ? this.walk(new Set(), prefix, true) : [[prefix, this]];
    for (const [name, m] of mods) {
      for (const [k, v] of m.fields()) {
        if (v instanceof Parameter && !seen.has(v)) {
          seen.add(v);
          yield [name ? `${name}.${k}` : k, v];
        }
      }
    }
  }
  /** The learnable parameters, each once (shared parameters are not repeated). */
  parameters(...args: CallsOf<typeof PARAMETERS>): Parameter[] {
    const { recurse } = PARAMETERS.parse(args);
    return [...this.namedParams("", recurse)].map(([, p]) => p);
  }

  /** Buffers (non-learnable state such as BatchNorm's running statistics) by dotted name. */
  namedBuffers(...args: CallsOf<typeof NAMED_BUFFERS>): Generator<[string, Tensor]> {
    const { prefix, recurse } = NAMED_BUFFERS.parse(args);
    return this.namedBufs(prefix, recurse);
  }
  private *namedBufs(prefix: string, recurse: boolean): Generator<[string, Tensor]> {
    const mods: Iterable<[string, Module]> = recurse ? this.walk(new Set(), prefix, true) : [[prefix, this]];
    for (const [name, m] of mods) {
      for (const [k, v] of m.fields()) {
        if (v instanceof Tensor && !(v instanceof Parameter) && bufferTags.has(v))
          yield [name ? `${name}.${k}` : k, v];
      }
    }
  }
  /** The buffers (non-learnable state such as BatchNorm's running statistics). */
  buffers(...args: CallsOf<typeof BUFFERS>): Tensor[] {
    const { recurse } = BUFFERS.parse(args);
    return [...this.namedBufs("", recurse)].map(([, b]) => b);
  }

  /** The submodule at a dotted path (`"encoder.layers.0"`); `""` is this module. */
  getSubmodule(...args: CallsOf<typeof GET_SUBMODULE>): Module {
    const { target } = GET_SUBMODULE.parse(args);
    if (target === "") return this;
    let m: Module = this;
    for (const item of target.split(".")) {
      const child = [...m.childEntries()].find(([name]) => name === item)?.[1];
      if (!child) {
        const v = [...m.fields()].find(([name]) => name === item);
        if (v) throw new Error(`\`${item}\` is not an nn.Module`);
        throw new Error(`${m.constructor.name} has no attribute \`${item}\``);
      }
      m = child;
    }
    return m;
  }
  /** The parameter at a dotted path (`"fc1.weight"`). */
  getParameter(...args: CallsOf<typeof GET_PARAMETER>): Parameter {
    const { target } = GET_PARAMETER.parse(args);
    const at = target.lastIndexOf(".");
    const mod = this.getSubmodule(target.slice(0, Math.max(at, 0)));
    const name = target.slice(at + 1);
    const hit = [...mod.fields()].find(([n]) => n === name);
    if (!hit) throw new Error(`${mod.constructor.name} has no attribute \`${name}\``);
    if (!(hit[1] instanceof Parameter)) throw new Error(`\`${name}\` is not an nn.Parameter`);
    return hit[1];
  }

  /** Add a buffer (`null` for an absent one); non-persistent buffers stay out of `stateDict()`. */
  registerBuffer(...args: CallsOf<typeof REGISTER_BUFFER>): void {
    const { name, tensor, persistent } = REGISTER_BUFFER.parse(args);
    checkName("buffer", name, this);
    (this as unknown as Record<string, unknown>)[name] = tensor === null ? null : buffer(tensor, persistent);
  }
  /** Add a parameter (`null` for an absent one), as assigning a Parameter field does. */
  registerParameter(...args: CallsOf<typeof REGISTER_PARAMETER>): void {
    const { name, param } = REGISTER_PARAMETER.parse(args);
    checkName("parameter", name, this);
    (this as unknown as Record<string, unknown>)[name] = param;
  }
  /** Add a child module (`null` for an absent one), as assigning a Module field does. */
  addModule(...args: CallsOf<typeof ADD_MODULE>): void {
    const { name, module } = ADD_MODULE.parse(args);
    this.setChild(name, module);
  }
  /** Containers keep their own order of children. */
  protected setChild(name: string, module: Module | null): void {
    checkName("module", name, this);
    (this as unknown as Record<string, unknown>)[name] = module;
  }

  /** Training mode on (or off with `false`) for this module and every descendant. */
  train(...args: CallsOf<typeof TRAIN>): this {
    const { mode } = TRAIN.parse(args);
    for (const [, m] of this.walk(new Set(), "", true)) m.training = mode;
    return this;
  }
  /** Evaluation mode: `train(false)`. */
  eval(...args: CallsOf<typeof EVAL>): this {
    EVAL.parse(args);
    return this.train(false);
  }
  /** Set `requiresGrad` on every parameter (freeze with `false`). */
  requiresGrad_(...args: CallsOf<typeof REQUIRES_GRAD_>): this {
    const { requiresGrad } = REQUIRES_GRAD_.parse(args);
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Apply `fn` to every submodule (children first) and this module. */
  apply(...args: CallsOf<typeof APPLY>): this {
    const { fn } = APPLY.parse(args);
    this.applyTo(fn, new Map(), "");
    return this;
  }
  private applyTo(fn: (m: Module) => unknown, ancestors: Map<Module, string>, path: string): void {
    ancestors.set(this, path);
    for (const [k, c] of this.uniqueChildren()) {
      const at = path ? `${path}.${k}` : k;
      const from = ancestors.get(c);
      if (from !== undefined) throw cycleError(c, from, at);
      c.applyTo(fn, ancestors, at);
    }
    ancestors.delete(this);
    fn(this);
  }

  /**
   * Zero every parameter's gradient in place (PyTorch 1.13's default, as the optimizers' `zeroGrad`), or drop it
   * and free its memory at once with `zeroGrad(true)` / `zeroGrad({ setToNone: true })` (PyTorch 2's default).
   */
  zeroGrad(...args: CallsOf<typeof ZERO_GRAD>): void {
    const { setToNone } = ZERO_GRAD.parse(args);
    for (const p of this.parameters()) {
      if (!p.grad) continue;
      if (setToNone) {
        const g = p.grad;
        p.grad = null;
        g.dispose(); // owned by the parameter: free device memory now, not when the GC notices
      } else noGrad(() => p.grad!.zero_());
    }
  }

  /**
   * Move (or cast) every parameter and buffer, in place on the module; returns this. As PyTorch's:
   * `to(device)`, `to(dtype)`, `to(device, dtype)`, `to(tensor)`, or `to({ device, dtype })`. Dtype casts apply
   * to floating point tensors only.
   */
  to(target: Device | DType | Tensor | ToOptions, opts?: ToOptions | boolean): this;
  to(device: Device | null, dtype: DType | null, opts?: ToOptions | boolean): this;
  to(...args: unknown[]): this {
    const { device, dtype } = parseTo(TO.parse(args as never).args);
    const move = (t: Tensor): Tensor =>
      t.to({ device, dtype: dtype && t.isFloatingPoint() ? dtype : undefined });
    for (const [, m] of this.walk(new Set(), "", true)) {
      const rec = m as unknown as Record<string, unknown>;
      for (const [, v, k] of m.fields()) {
        if (v instanceof Parameter) {
          const moved = noGrad(() => move(v));
          if (moved !== v) rec[k] = new Parameter(moved, v.requiresGrad);
        } else if (v instanceof Tensor && bufferTags.has(v)) {
          const moved = noGrad(() => move(v));
          if (moved !== v) rec[k] = buffer(moved, bufferTags.get(v));
        }
      }
    }
    return this;
  }

  /** `half()`: every floating point parameter and buffer cast to float16, in place (as `to("float16")`). */
  half(...args: CallsOf<typeof HALF>): this {
    HALF.parse(args);
    return this.to("float16");
  }
  /** `bfloat16()`: every floating point parameter and buffer cast to bfloat16, in place. */
  bfloat16(...args: CallsOf<typeof BFLOAT16>): this {
    BFLOAT16.parse(args);
    return this.to("bfloat16");
  }

  /**
   * Parameters and persistent buffers by dotted name, module by module (each module's parameters, then its
   * buffers), in PyTorch's order. As PyTorch's, a submodule held under two names is listed under both (a
   * checkpoint has `x.weight` and `y.weight`), and a module that contains itself is an error naming the cycle. Values share storage with the module's tensors; parameters are detached
   * unless `keepVars`. `prefix` goes in front of every key; `destination` is a Map to add them to.
   */
  stateDict(opts?: {
    destination?: Map<string, Tensor> | null;
    prefix?: string;
    keepVars?: boolean;
  }): Map<string, Tensor>;
  stateDict(...args: unknown[]): Map<string, Tensor> {
    const { destination, prefix, keepVars } = STATE_DICT.parse(args as never);
    const sd = destination ?? new Map<string, Tensor>();
    for (const [name, m] of this.walk(new Set(), "", false)) {
      // as PyTorch: the prefix is put in front as given ("net." gives "net.fc1.weight")
      const key = (k: string) => prefix + (name ? `${name}.${k}` : k);
      for (const [k, v] of m.fields()) if (v instanceof Parameter) sd.set(key(k), keepVars ? v : v.detach());
      for (const [k, v] of m.fields()) {
        if (v instanceof Tensor && !(v instanceof Parameter) && bufferTags.get(v)) sd.set(key(k), v);
      }
    }
    return sd;
  }

  /**
   * Copy tensors into this module's parameters and buffers. With `strict` (default) missing or unexpected keys
   * are an error naming them; shapes must match. Returns the missing and unexpected keys.
   */
  loadStateDict(...args: CallsOf<typeof LOAD_STATE_DICT>): {
    missingKeys: string[];
    unexpectedKeys: string[];
  } {
    const { stateDict: sd, strict } = LOAD_STATE_DICT.parse(args);
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !src.has(k));
    const unexpectedKeys = [...src.keys()].filter((k) => !own.has(k));
    if (strict && (missingKeys.length || unexpectedKeys.length)) {
      const parts = [];
      if (missingKeys.length)
        parts.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(", ")}.`);
      if (unexpectedKeys.length)
        parts.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(", ")}.`);
      throw new Error(
        `Error(s) in loading state_dict for ${this.constructor.name}:\n\t${parts.join("\n\t")}`,
      );
    }
    for (const [k, dst] of own) {
      const v = src.get(k);
      if (!v) continue;
      if (!(v instanceof Tensor))
        throw new TypeError(
          `Error(s) in loading state_dict for ${this.constructor.name}: the value of "${k}" is not a Tensor`,
        );
      if (v.ndim !== dst.ndim || v.shape.some((d, i) => d !== dst.shape[i])) {
        throw new Error(
          `Error(s) in loading state_dict for ${this.constructor.name}: size mismatch for ${k}: copying a param with shape ${torchSize(v.shape)} from checkpoint, the shape in current model is ${torchSize(dst.shape)}.`,
        );
      }
      noGrad(() => dst.copy_(v.to(dst.device)));
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Extra text inside this module's line of the printout, e.g. "in_features=784, out_features=128, bias=True". */
  extraRepr(): string {
    return "";
  }

  /** A printout like PyTorch's `print(model)`; a module that contains itself is an error naming the cycle. */
  toString(): string {
    return this.repr(new Map(), "");
  }
  private repr(ancestors: Map<Module, string>, path: string): string {
    const lines: string[] = [];
    ancestors.set(this, path);
    for (const [k, m] of this.childEntries()) {
      const at = path ? `${path}.${k}` : k;
      const from = ancestors.get(m);
      if (from !== undefined) throw cycleError(m, from, at);
      const sub = m.repr(ancestors, at).split("\n").join("\n  ");
      lines.push(`(${k}): ${sub}`);
    }
    ancestors.delete(this);
    const name = this.constructor.name;
    const extra = this.extraRepr();
    // as PyTorch's Module.__repr__: one extra line and no children print inline, anything else one per line
    const extraLines = extra ? extra.split("\n") : [];
    if (extraLines.length + lines.length === 0) return `${name}()`;
    if (extraLines.length === 1 && lines.length === 0) return `${name}(${extra})`;
    return `${name}(\n  ${[...extraLines, ...lines].join("\n  ")}\n)`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
