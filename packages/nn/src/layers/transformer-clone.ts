/**
 * `_get_clones(module, N)`: N deep copies of a module, as PyTorch's `copy.deepcopy` makes them for the Transformer
 * stacks: every copy has its own parameters and buffers with the prototype's values, its own submodules, the same
 * training mode and hooks; functions, numbers and strings are shared, as deepcopy shares them.
 */
import { Tensor } from "@cinder/tensor";
import { Module } from "../module";
import { buffer, bufferTags, Parameter } from "../parameter";
import { ModuleList } from "./container";

/** Keys every function object has; a module's copy keeps its own. */
const FUNCTION_KEYS = new Set<PropertyKey>(["length", "name", "prototype", "arguments", "caller"]);

function copyValue(v: unknown, memo: Map<unknown, unknown>): unknown {
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return v;
  const seen = memo.get(v);
  if (seen !== undefined) return seen;
  if (v instanceof Module) return copyModule(v, memo);
  if (v instanceof Parameter) {
    const p = new Parameter(v.detach().clone(), v.requiresGrad);
    memo.set(v, p);
    return p;
  }
  if (v instanceof Tensor) {
    const t = v.detach().clone();
    const persistent = bufferTags.get(v);
    if (persistent !== undefined) buffer(t, persistent);
    memo.set(v, t);
    return t;
  }
  if (Array.isArray(v)) {
    const a: unknown[] = [];
    memo.set(v, a);
    for (const x of v) a.push(copyValue(x, memo));
    return a;
  }
  if (v instanceof Map) {
    const m = new Map();
    memo.set(v, m);
    for (const [key, x] of v) m.set(key, copyValue(x, memo));
    return m;
  }
  if (Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, unknown> = {};
    memo.set(v, o);
    for (const [key, x] of Object.entries(v)) o[key] = copyValue(x, memo);
    return o;
  }
  return v; // functions and other objects are shared
}

function copyModule(m: Module, memo: Map<unknown, unknown>): Module {
  // a new callable module object of m's class, without running m's constructor (as deepcopy does not)
  const c = Reflect.construct(Module, [], m.constructor) as Module;
  memo.set(m, c);
  const target = c as unknown as Record<PropertyKey, unknown>;
  for (const key of Reflect.ownKeys(m)) {
    if (FUNCTION_KEYS.has(key)) continue;
    const d = Object.getOwnPropertyDescriptor(m, key) as PropertyDescriptor;
    const value = "value" in d ? copyValue(d.value, memo) : undefined;
    if (Object.hasOwn(c, key)) target[key] = value;
    else Object.defineProperty(c, key, "value" in d ? { ...d, value } : d);
  }
  return c;
}

/** A deep copy of a module (PyTorch's `copy.deepcopy(module)`). */
export function deepCopyModule<M extends Module>(m: M): M {
  return copyModule(m, new Map()) as M;
}

/** `_get_clones(module, N)`: a ModuleList of N deep copies of `module`. */
export function getClones<M extends Module>(m: M, n: number): ModuleList<M> {
  if (!(n >= 0)) throw new RangeError(`the number of layers must be at least 0, got ${n}`);
  return new ModuleList(Array.from({ length: n }, () => deepCopyModule(m)));
}
