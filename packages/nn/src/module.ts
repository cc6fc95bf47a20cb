/**
 * `Module`, PyTorch's building block. Subclasses assign submodules, parameters and buffers as ordinary fields;
 * they are found by walking the instance's own properties in assignment order, so `parameters()`,
 * `stateDict()` and `print(model)` see them exactly as PyTorch's `__setattr__` registration would. Modules are
 * callable: `model(x)` runs forward hooks around `forward(x)`.
 */
import { type Device, type DType, noGrad, Tensor } from "@cinder/tensor";

/** A tensor that is a module's learnable parameter (`requiresGrad` by default). */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    const d = data.detach();
    super(d.storage, d.shape, d.strides, d.offset);
    this.requiresGrad = requiresGrad;
  }
}

/** Mark a tensor as a buffer (saved in the state dict, moved by `to()`, not a parameter): `this.runningMean = buffer(zeros(n))`. */
export function buffer(t: Tensor, persistent = true): Tensor {
  bufferTags.set(t, persistent);
  return t;
}
const bufferTags = new WeakMap<Tensor, boolean>();

export type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => unknown;
// biome-ignore lint/suspicious/noConfusingVoidType: a pre-hook may return nothing at all
export type ForwardPreHook = (module: Module, inputs: unknown[]) => unknown[] | undefined | void;

export interface Module {
  /** Calling a module runs its forward pre-hooks, `forward`, then its forward hooks. */
  // biome-ignore lint/style/useShorthandFunctionType: an interface, so that it merges with the class
  (...args: Parameters<this["forward"]>): ReturnType<this["forward"]>;
}

const INTERNAL = new Set(["training", "_hooks", "_preHooks", "_buffers", "name", "length"]);

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the call signature of callable modules (interface above)
export class Module {
  /** Training mode (dropout active, batch norm updates running stats); toggled by `train()` / `eval()`. */
  declare training: boolean;
  declare private _hooks: ForwardHook[];
  declare private _preHooks: ForwardPreHook[];

  constructor() {
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
    let out = (this.forward as (...a: unknown[]) => unknown)(...inputs);
    for (const h of this._hooks) {
      const r = h(this, inputs, out);
      if (r !== undefined) out = r;
    }
    return out;
  }

  /** Register a hook run after every forward; returns a function that removes it. */
  registerForwardHook(hook: ForwardHook): () => void {
    this._hooks.push(hook);
    return () => {
      this._hooks = this._hooks.filter((h) => h !== hook);
    };
  }
  registerForwardPreHook(hook: ForwardPreHook): () => void {
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
    for (const key of Object.keys(this)) {
      if (INTERNAL.has(key) || key.startsWith("_")) continue;
      yield [names?.[key] ?? key, (this as unknown as Record<string, unknown>)[key], key];
    }
  }

  *namedChildren(): Generator<[string, Module]> {
    for (const [k, v] of this.fields()) if (v instanceof Module) yield [k, v];
  }
  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }
  /** This module and every descendant, depth first, each once. */
  *namedModules(prefix = "", seen = new Set<Module>()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix, this];
    for (const [k, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${k}` : k, seen);
  }
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  *namedParameters(prefix = "", recurse = true): Generator<[string, Parameter]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
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
  parameters(recurse = true): Parameter[] {
    return [...this.namedParameters("", recurse)].map(([, p]) => p);
  }

  *namedBuffers(prefix = "", recurse = true): Generator<[string, Tensor]> {
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [name, m] of mods) {
      for (const [k, v] of m.fields()) {
        if (v instanceof Tensor && !(v instanceof Parameter) && bufferTags.has(v))
          yield [name ? `${name}.${k}` : k, v];
      }
    }
  }
  buffers(recurse = true): Tensor[] {
    return [...this.namedBuffers("", recurse)].map(([, b]) => b);
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Apply `fn` to every submodule (children first) and this module. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Zero (or, by default as in PyTorch 2, drop) every parameter's gradient. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) {
      if (!p.grad) continue;
      if (opts.setToNone ?? true) {
        const g = p.grad;
        p.grad = null;
        g.dispose(); // owned by the parameter: free device memory now, not when the GC notices
      } else noGrad(() => p.grad!.zero_());
    }
  }

  /** Move (or cast) every parameter and buffer, in place on the module; returns this. */
  to(target: Device | DType | { device?: Device; dtype?: DType }): this {
    const { device, dtype } =
      typeof target === "string"
        ? isDType(target)
          ? { device: undefined, dtype: target }
          : { device: target, dtype: undefined }
        : target;
    // dtype casts apply to floating point tensors only, as in PyTorch
    const move = (t: Tensor): Tensor =>
      t.to({ device, dtype: dtype && t.isFloatingPoint() ? dtype : undefined });
    for (const m of this.modules()) {
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

  /**
   * Parameters and persistent buffers by dotted name, module by module (each module's parameters, then its
   * buffers), in PyTorch's order. Values share storage with the module's tensors.
   */
  stateDict(): Map<string, Tensor> {
    const sd = new Map<string, Tensor>();
    for (const [name, m] of this.namedModules()) {
      const key = (k: string) => (name ? `${name}.${k}` : k);
      for (const [k, v] of m.fields()) if (v instanceof Parameter) sd.set(key(k), v.detach());
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
  loadStateDict(
    sd: Map<string, Tensor> | Record<string, Tensor>,
    opts: { strict?: boolean } = {},
  ): { missingKeys: string[]; unexpectedKeys: string[] } {
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !src.has(k));
    const unexpectedKeys = [...src.keys()].filter((k) => !own.has(k));
    if ((opts.strict ?? true) && (missingKeys.length || unexpectedKeys.length)) {
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
      if (v.ndim !== dst.ndim || v.shape.some((d, i) => d !== dst.shape[i])) {
        throw new Error(
          `Error(s) in loading state_dict for ${this.constructor.name}: size mismatch for ${k}: copying a param with shape [${v.shape}] from checkpoint, the shape in current model is [${dst.shape}].`,
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

  /** A printout like PyTorch's `print(model)`. */
  toString(): string {
    const lines: string[] = [];
    for (const [k, m] of this.namedChildren()) {
      const sub = m.toString().split("\n").join("\n  ");
      lines.push(`(${k}): ${sub}`);
    }
    const name = this.constructor.name;
    const extra = this.extraRepr();
    if (lines.length === 0) return `${name}(${extra})`;
    return `${name}(${extra ? `\n  ${extra}` : ""}\n  ${lines.join("\n  ")}\n)`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

function isDType(s: string): s is DType {
  return ["float32", "float64", "int32", "uint8", "bool"].includes(s);
}
