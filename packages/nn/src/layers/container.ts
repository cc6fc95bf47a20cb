/**
 * Containers: Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict. Children are ordinary fields
 * named "0", "1", ... (or the given names), so `stateDict()` keys are PyTorch's ("0.weight"); their order is the
 * insertion order.
 */
import {
  type AnyParam,
  arg,
  isPlainObject,
  type Kind,
  k,
  type Param,
  signature,
  Tensor,
} from "@cinder/tensor";
import { Module, Parameter } from "../module";

type Named = Map<string, Module> | Readonly<Record<string, Module>>;

function entriesOf(named: Named | Iterable<readonly [string, Module]>): [string, Module][] {
  if (named instanceof Map) return [...named.entries()];
  if (isPlainObject(named)) return Object.entries(named as Record<string, Module>);
  return [...(named as Iterable<readonly [string, Module]>)].map(([key, m]) => [key, m]);
}

const isModule = (v: unknown): v is Module => v instanceof Module;
/** A Map or a plain object of modules by name. */
const isNamed = (v: unknown): v is Named =>
  (v instanceof Map && [...v].every(([key, m]) => typeof key === "string" && isModule(m))) ||
  (isPlainObject(v) && Object.values(v).every(isModule));
const isPairs = (v: unknown): boolean =>
  Array.isArray(v) &&
  v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && isModule(p[1]));

/** `Sequential(*args)`: modules, or one Map / plain object of modules by name. */
const sequentialArgs: Param<"args", readonly unknown[], true> = {
  name: "args",
  kind: k.where(
    k.any,
    (v) => Array.isArray(v) && (v.every(isModule) || (v.length === 1 && isNamed(v[0]))),
    "Modules, or one Map / object of Modules by name",
  ) as Param<"args", readonly unknown[], true>["kind"],
  optional: true,
  default: [],
  varargs: true,
};
const SEQUENTIAL = signature("nn.Sequential", [sequentialArgs] as readonly AnyParam[]);
/** `ModuleList(modules=None)`: an array (or iterable) of modules. */
const moduleIterable: Kind<Iterable<Module>> = {
  ...k.where(
    k.any,
    (v) =>
      v !== null &&
      typeof v === "object" &&
      !isPlainObject(v) &&
      typeof (v as Iterable<unknown>)[Symbol.iterator] === "function" &&
      [...(v as Iterable<unknown>)].every(isModule),
    "Module[]",
  ),
  takesObjects: false,
} as Kind<Iterable<Module>>;
const MODULE_LIST = signature("nn.ModuleList", [arg.opt("modules", moduleIterable)]);
/** `ModuleDict(modules=None)`: a Map, a plain object, or [name, module] pairs. */
const namedModules = k.where(
  k.any,
  (v) => isNamed(v) || isPairs(v),
  "Map or object of Modules by name, or [name, Module] pairs",
) as Kind<Named | Iterable<readonly [string, Module]>>;
const MODULE_DICT = signature("nn.ModuleDict", [arg.opt("modules", namedModules)]);

/** Shared by every container: named fields (children or parameters) kept in their own order. */
abstract class Keyed<V> extends Module {
  declare private _keys: string[];

  constructor() {
    super();
    Object.defineProperty(this, "_keys", { value: [], writable: true, enumerable: false });
    // `len(seq)`: the number of entries (functions have a read-only `length`, so redefine it)
    Object.defineProperty(this, "length", {
      get: () => this._keys.length,
      configurable: true,
      enumerable: false,
    });
  }

  /** Set the field `name` (appended to the order if new); `what` names the entry kind in errors. */
  protected setKey(name: string, value: V, what: string): void {
    if (name === "" || name.includes("."))
      throw new Error(`${what} name can't be empty or contain ".", got ${JSON.stringify(name)}`);
    if (!this._keys.includes(name)) {
      if (name in this || name.startsWith("_"))
        throw new Error(`attribute '${name}' already exists on ${this.constructor.name}`);
      this._keys.push(name);
    }
    Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
  }

  /** Removes the field `name` and returns its value. */
  protected deleteKey(name: string): V {
    const v = (this as unknown as Record<string, V>)[name];
    this._keys = this._keys.filter((k) => k !== name);
    delete (this as unknown as Record<string, V>)[name];
    return v;
  }

  /** The key at `index` (negative counts from the end); `what` names the caller in the range error. */
  protected keyAt(index: number, what: string): string {
    const n = this._keys.length;
    if (!Number.isInteger(index) || index < -n || index >= n)
      throw new RangeError(`${what}: index ${index} is out of range (length ${n})`);
    return this._keys[index < 0 ? index + n : index];
  }

  /** The field names, in order. */
  protected names(): readonly string[] {
    return this._keys;
  }
}

/** Base of the module containers: an ordered set of named children. */
abstract class Container extends Keyed<Module> {
  protected override *childEntries(): Generator<[string, Module]> {
    const rec = this as unknown as Record<string, Module>;
    for (const k of this.names()) yield [k, rec[k]];
  }

  /** `addModule(name, module)` appends a named child to the container. */
  protected override setChild(name: string, module: Module | null): void {
    if (module === null)
      throw new TypeError(`${this.constructor.name}.addModule: a container holds modules, not null`);
    this.register(name, module);
  }

  /** Adds (or replaces) the child module `name`; throws for anything but a Module. */
  protected register(name: string, m: Module): void {
    if (!(m instanceof Module))
      throw new TypeError(`${this.constructor.name}: ${String(m)} is not a Module subclass`);
    this.setKey(name, m, "module");
  }

  /** Removes the child module `name` and returns it. */
  protected unregister(name: string): Module {
    return this.deleteKey(name);
  }

  /** Renumber children 0..n-1 after an insertion or removal (Sequential and ModuleList). */
  protected renumber(mods: readonly Module[]): void {
    for (const k of [...this.names()]) this.unregister(k);
    for (const [i, m] of mods.entries()) this.register(String(i), m);
  }
}

/** `Sequential(*args)`: an ordered list of modules; `forward` feeds each one's output to the next. */
export class Sequential<T extends Module[] = Module[]> extends Container {
  static override readonly name: string = "Sequential";
  static readonly signature = SEQUENTIAL;
  /**
   * `new Sequential(a, b, c)`, or named children (PyTorch's OrderedDict form):
   * `new Sequential(new Map([["fc", fc], ["act", act]]))` or `new Sequential({ fc, act })`.
   */
  constructor(...modules: T);
  constructor(named: Named);
  constructor(...args: unknown[]) {
    super();
    const modules = SEQUENTIAL.parse(args).args as readonly unknown[];
    if (modules.length === 1 && !(modules[0] instanceof Module)) {
      for (const [k, m] of entriesOf(modules[0] as Named)) this.register(k, m);
    } else {
      for (const [i, m] of (modules as Module[]).entries()) this.register(String(i), m);
    }
  }

  override forward(input: Tensor): Tensor {
    let x: unknown = input;
    for (const m of this) x = (m as unknown as (a: unknown) => unknown)(x);
    return x as Tensor;
  }

  /** The i-th module (negative counts from the end), like `seq[i]`. */
  at<I extends number>(index: I): T[I] {
    return (this as unknown as Record<string, T[I]>)[this.keyAt(index, "Sequential")];
  }
  /** The i-th module; the same as `at`. */
  get<I extends number>(index: I): T[I] {
    return this.at(index);
  }
  /** A new Sequential of modules [start, end), keeping their names, like `seq[start:end]`. */
  slice(start = 0, end?: number): Sequential {
    const items = [...this.childEntries()].slice(start, end);
    return new Sequential(new Map(items));
  }
  /** Appends a module at the end, like `seq.append(m)`. */
  append(m: Module): this {
    this.register(String(this.names().length), m);
    return this;
  }
  /** Appends each module in turn. */
  extend(mods: Iterable<Module>): this {
    for (const m of mods) this.append(m);
    return this;
  }
  /** Inserts a module before `index` (negative counts from the end); the modules are renumbered. */
  insert(index: number, m: Module): this {
    const mods = [...this];
    const n = mods.length;
    const i = index < 0 ? index + n : index;
    if (i < 0 || i > n)
      throw new RangeError(`Sequential.insert: index ${index} is out of range (length ${n})`);
    mods.splice(i, 0, m);
    this.renumber(mods);
    return this;
  }
  /** Remove and return the module at `index` (the rest are renumbered). */
  pop(index = -1): Module {
    const mods = [...this];
    const k = this.keyAt(index, "Sequential.pop");
    const i = this.names().indexOf(k);
    const [m] = mods.splice(i, 1);
    this.renumber(mods);
    return m;
  }
  /** Iterates over the modules in order. */
  *[Symbol.iterator](): Iterator<T[number]> {
    for (const [, m] of this.childEntries()) yield m as T[number];
  }
}

/** `ModuleList(modules=None)`: a list of modules, registered as children (no forward of its own). */
export class ModuleList<T extends Module = Module> extends Container {
  static override readonly name: string = "ModuleList";
  static readonly signature = MODULE_LIST;
  constructor(modules?: Iterable<T> | null);
  constructor(opts: { modules?: Iterable<T> | null });
  constructor(...args: unknown[]) {
    super();
    const { modules } = MODULE_LIST.parse(args as never);
    for (const m of modules ?? []) this.append(m as T);
  }
  override forward(): never {
    throw new Error("ModuleList has no forward(): iterate over it and call its modules");
  }
  /** The i-th module (negative counts from the end), like `mlist[i]`. */
  at(index: number): T {
    return (this as unknown as Record<string, T>)[this.keyAt(index, "ModuleList")];
  }
  /** The i-th module; the same as `at`. */
  get(index: number): T {
    return this.at(index);
  }
  /** Replace the module at `index`, like `list[i] = m`. */
  set(index: number, m: T): this {
    this.register(this.keyAt(index, "ModuleList"), m);
    return this;
  }
  /** Appends a module at the end. */
  append(m: T): this {
    this.register(String(this.names().length), m);
    return this;
  }
  /** Appends each module in turn. */
  extend(mods: Iterable<T>): this {
    for (const m of mods) this.append(m);
    return this;
  }
  /**
   * Inserts a module before `index` (negative counts from the end, clamped to the list); the modules are
   * renumbered.
   */
  insert(index: number, m: T): this {
    const mods = [...this];
    const n = mods.length;
    const i = Math.max(0, Math.min(n, index < 0 ? index + n : index));
    mods.splice(i, 0, m);
    this.renumber(mods);
    return this;
  }
  /** Removes and returns the module at `index` (default the last); the rest are renumbered. */
  pop(index = -1): T {
    const mods = [...this];
    const i = this.names().indexOf(this.keyAt(index, "ModuleList.pop"));
    const [m] = mods.splice(i, 1);
    this.renumber(mods);
    return m;
  }
  /** A new ModuleList of modules [start, end), like `mlist[start:end]`. */
  slice(start = 0, end?: number): ModuleList<T> {
    return new ModuleList([...this].slice(start, end));
  }
  /** Iterates over the modules in order. */
  *[Symbol.iterator](): Iterator<T> {
    for (const [, m] of this.childEntries()) yield m as T;
  }
}

/**
 * `ModuleDict(modules=None)`: modules by name, in insertion order (iterating yields the names, as PyTorch's
 * ModuleDict); from a Map, a plain object or [name, module] pairs.
 */
export class ModuleDict<T extends Module = Module> extends Container {
  static override readonly name: string = "ModuleDict";
  static readonly signature = MODULE_DICT;
  constructor(modules?: Map<string, T> | Readonly<Record<string, T>> | Iterable<readonly [string, T]> | null);
  constructor(...args: unknown[]) {
    super();
    const { modules } = MODULE_DICT.parse(args as never);
    if (modules) this.update(modules as Map<string, T>);
  }
  override forward(): never {
    throw new Error("ModuleDict has no forward(): look its modules up by name and call them");
  }
  /** The module named `key`, or undefined. */
  get(key: string): T | undefined {
    return this.has(key) ? (this as unknown as Record<string, T>)[key] : undefined;
  }
  /** Adds or replaces the module named `key`, like `mdict[key] = m`. */
  set(key: string, m: T): this {
    this.register(key, m);
    return this;
  }
  /** Whether a module is named `key`, like `key in mdict`. */
  has(key: string): boolean {
    return this.names().includes(key);
  }
  /** Remove and return the module named `key`. */
  pop(key: string): T {
    if (!this.has(key)) throw new Error(`ModuleDict: no module named ${JSON.stringify(key)}`);
    return this.unregister(key) as T;
  }
  /** Removes the module named `key`; false when there was none. */
  delete(key: string): boolean {
    if (!this.has(key)) return false;
    this.unregister(key);
    return true;
  }
  /** Removes every module. */
  clear(): void {
    for (const k of [...this.names()]) this.unregister(k);
  }
  /** Adds or replaces modules from a Map, a plain object or [name, module] pairs. */
  update(modules: Map<string, T> | Readonly<Record<string, T>> | Iterable<readonly [string, T]>): this {
    for (const [k, m] of entriesOf(modules as Named)) this.register(k, m);
    return this;
  }
  /** The names, in insertion order. */
  keys(): string[] {
    return [...this.names()];
  }
  /** The modules, in insertion order. */
  values(): T[] {
    return [...this.childEntries()].map(([, m]) => m as T);
  }
  /** [name, module] pairs, in insertion order. */
  items(): [string, T][] {
    return [...this.childEntries()] as [string, T][];
  }
  /** Iterates over the names, as PyTorch's ModuleDict does. */
  *[Symbol.iterator](): Iterator<string> {
    yield* this.names();
  }
}

/** Tensors (wrapped as Parameters, as PyTorch's containers do) of a ParameterList / ParameterDict. */
const isTensor = (v: unknown): v is Tensor => v instanceof Tensor;
const asParameter = (t: Tensor): Parameter => (t instanceof Parameter ? t : new Parameter(t));
const tensorIterable: Kind<Iterable<Tensor>> = {
  ...k.where(
    k.any,
    (v) =>
      v !== null &&
      typeof v === "object" &&
      !isPlainObject(v) &&
      !isTensor(v) &&
      typeof (v as Iterable<unknown>)[Symbol.iterator] === "function" &&
      [...(v as Iterable<unknown>)].every(isTensor),
    "Tensor[]",
  ),
  takesObjects: false,
} as Kind<Iterable<Tensor>>;
const PARAMETER_LIST = signature("nn.ParameterList", [arg.opt("values", tensorIterable)]);
type NamedTensors =
  | Map<string, Tensor>
  | Readonly<Record<string, Tensor>>
  | Iterable<readonly [string, Tensor]>;
const namedTensors = k.where(
  k.any,
  (v) =>
    (v instanceof Map && [...v].every(([key, t]) => typeof key === "string" && isTensor(t))) ||
    (isPlainObject(v) && Object.values(v).every(isTensor)) ||
    (Array.isArray(v) &&
      v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && isTensor(p[1]))),
  "Map or object of Tensors by name, or [name, Tensor] pairs",
) as Kind<NamedTensors>;
const PARAMETER_DICT = signature("nn.ParameterDict", [arg.opt("parameters", namedTensors)]);

/** PyTorch's line for a parameter in ParameterList / ParameterDict printouts. */
function paramLine(key: string, p: Tensor, type: string): string {
  return `  (${key}): Parameter containing: [${type} of size ${p.shape.join("x")}]`;
}
const TYPE_NAMES: Record<string, string> = {
  float32: "torch.FloatTensor",
  float64: "torch.DoubleTensor",
  int32: "torch.IntTensor",
  uint8: "torch.ByteTensor",
  bool: "torch.BoolTensor",
};

/** Shared by ParameterList and ParameterDict: parameters as fields in their own order. */
abstract class ParameterContainer extends Keyed<Parameter> {
  protected override fieldKeys(): readonly string[] {
    return this.names();
  }
  /** Stores a tensor as the parameter `key` (wrapped as a Parameter unless it is one). */
  protected put(key: string, value: Tensor): void {
    if (!isTensor(value))
      throw new TypeError(
        `${this.constructor.name}: ${String(value)} is not a Tensor (a Parameter is expected)`,
      );
    this.setKey(key, asParameter(value), "parameter");
  }
  /** Removes the parameter `key` and returns it. */
  protected remove(key: string): Parameter {
    return this.deleteKey(key);
  }
  /** The parameter stored as `key`. */
  protected value(key: string): Parameter {
    return (this as unknown as Record<string, Parameter>)[key];
  }
}

/** `ParameterList(values=None)`: a list of parameters (tensors are wrapped as Parameters); keys "0", "1", ... */
export class ParameterList extends ParameterContainer {
  static override readonly name: string = "ParameterList";
  static readonly signature = PARAMETER_LIST;
  declare readonly length: number;
  constructor(values?: Iterable<Tensor> | null);
  constructor(opts: { values?: Iterable<Tensor> | null });
  constructor(...args: unknown[]) {
    super();
    const { values } = PARAMETER_LIST.parse(args as never);
    for (const t of values ?? []) this.append(t);
  }
  override forward(): never {
    throw new Error("ParameterList has no forward(): index it for its parameters");
  }
  /** The i-th parameter (negative counts from the end), like `plist[i]`. */
  at(index: number): Parameter {
    return this.value(this.keyAt(index, "ParameterList"));
  }
  /** The i-th parameter; the same as `at`. */
  get(index: number): Parameter {
    return this.at(index);
  }
  /** Replace the i-th parameter, like `plist[i] = p`. */
  set(index: number, p: Tensor): this {
    this.put(this.keyAt(index, "ParameterList"), p);
    return this;
  }
  /** Appends a parameter (a tensor is wrapped as a Parameter). */
  append(p: Tensor): this {
    this.put(String(this.names().length), p);
    return this;
  }
  /** Appends each tensor in turn, as Parameters. */
  extend(ps: Iterable<Tensor>): this {
    for (const p of ps) this.append(p);
    return this;
  }
  /** Iterates over the parameters in order. */
  *[Symbol.iterator](): Iterator<Parameter> {
    for (const key of this.names()) yield this.value(key);
  }
  override extraRepr(): string {
    return [...this].map((p, i) => paramLine(String(i), p, `torch.${p.dtype}`)).join("\n");
  }
}

/** `ParameterDict(parameters=None)`: parameters by name, in insertion order (iterating yields the names). */
export class ParameterDict extends ParameterContainer {
  static override readonly name: string = "ParameterDict";
  static readonly signature = PARAMETER_DICT;
  declare readonly length: number;
  constructor(parameters?: NamedTensors | null);
  constructor(...args: unknown[]) {
    super();
    const { parameters } = PARAMETER_DICT.parse(args as never);
    if (parameters) this.update(parameters);
  }
  override forward(): never {
    throw new Error("ParameterDict has no forward(): look its parameters up by name");
  }
  /** The parameter named `key`, or undefined. */
  get(key: string): Parameter | undefined {
    return this.has(key) ? this.value(key) : undefined;
  }
  /** Adds or replaces the parameter named `key` (a tensor is wrapped as a Parameter). */
  set(key: string, p: Tensor): this {
    this.put(key, p);
    return this;
  }
  /** Whether a parameter is named `key`. */
  has(key: string): boolean {
    return this.names().includes(key);
  }
  /** Remove and return the parameter named `key`. */
  pop(key: string): Parameter {
    if (!this.has(key)) throw new Error(`ParameterDict: no parameter named ${JSON.stringify(key)}`);
    return this.remove(key);
  }
  /** Removes the parameter named `key`; false when there was none. */
  delete(key: string): boolean {
    if (!this.has(key)) return false;
    this.remove(key);
    return true;
  }
  /** Removes every parameter. */
  clear(): void {
    for (const key of [...this.names()]) this.remove(key);
  }
  /**
   * Adds or replaces parameters from a Map (in its order), a plain object (sorted by key, as PyTorch's dict
   * update) or [name, tensor] pairs.
   */
  update(parameters: NamedTensors): this {
    const entries: [string, Tensor][] =
      parameters instanceof Map
        ? [...parameters.entries()]
        : isPlainObject(parameters)
          ? // a plain object is PyTorch's dict, whose items ParameterDict.update sorts by key (a Map keeps its order)
            Object.entries(parameters as Record<string, Tensor>).sort(([a], [b]) =>
              a < b ? -1 : a > b ? 1 : 0,
            )
          : [...(parameters as Iterable<readonly [string, Tensor]>)].map(([key, t]) => [key, t]);
    for (const [key, t] of entries) this.put(key, t);
    return this;
  }
  /** The names, in insertion order. */
  keys(): string[] {
    return [...this.names()];
  }
  /** The parameters, in insertion order. */
  values(): Parameter[] {
    return this.names().map((key) => this.value(key));
  }
  /** [name, parameter] pairs, in insertion order. */
  items(): [string, Parameter][] {
    return this.names().map((key) => [key, this.value(key)]);
  }
  /** Iterates over the names. */
  *[Symbol.iterator](): Iterator<string> {
    yield* this.names();
  }
  override extraRepr(): string {
    return this.items()
      .map(([key, p]) => paramLine(key, p, TYPE_NAMES[p.dtype] ?? p.dtype))
      .join("\n");
  }
}
