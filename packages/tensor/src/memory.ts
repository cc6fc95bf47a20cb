import { type Cohort, countTensor, stats, uncountTensor } from "./accounting";
import { autogradHooks, isGradEnabled } from "./grad";
import type { Tensor } from "./tensor";

/**
 * Memory management. CPU storage is ordinary garbage-collected memory; device memory (WebGPU) is not, so
 * every tensor also frees its storage when: it is disposed (`t.dispose()`, `using t = ...`), the `tidy()`
 * scope that created it ends without returning it, or, as a safety net, the garbage collector finalises it.
 *
 * The per-tensor safety net is registered only for storage the garbage collector does not manage
 * (`!backend.gcManaged`): on a GC-managed backend (CPU) finalising a tensor would free nothing, and a
 * registration costs more than a small op itself. Such tensors are counted in cohorts instead (accounting.ts),
 * so `memory()` stops counting them once the collector has collected them.
 */
const finalizer = new FinalizationRegistry<{ release(): void }>((held) => {
  stats.tensors--;
  held.release();
});

const scopes: Set<Tensor>[] = [];

/**
 * Called by the Tensor constructor; returns the cohort the tensor must reference (GC-managed storage), or null
 * (the tensor is registered with the finaliser).
 */
export function trackTensor(t: Tensor): Cohort | null {
  const storage = t.storage;
  const gcManaged = storage.backend.gcManaged;
  const cohort = countTensor(gcManaged);
  storage.account.retain();
  if (gcManaged !== true) finalizer.register(t, storage.account, t);
  if (scopes.length !== 0) scopes[scopes.length - 1].add(t);
  return cohort;
}

/** Called once per tensor by `dispose()` (which makes a second call a no-op), with its cohort. */
export function releaseTensor(t: Tensor, cohort: Cohort | null): void {
  const storage = t.storage;
  // on a non-GC-managed backend, a tensor the finaliser already released is not released twice
  if (storage.backend.gcManaged !== true && !finalizer.unregister(t)) return;
  uncountTensor(cohort);
  storage.account.release();
}

/**
 * Run `fn`; every tensor created inside and not returned (in the result, an array or an object of tensors)
 * nor passed to `keep()` is disposed when it returns. Like tf.tidy, for synchronous code.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) throw new TypeError("tidy(fn): fn must be synchronous; got a Promise");
  const kept = new Set<unknown>();
  collect(result, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/**
 * For the autograd engine: run `fn` (a derivative formula) as `tidy` would, disposing the tensors it created
 * except the ones in its result (an array of tensors), and add to `made` the returned tensors it created (the
 * engine owns those; a returned tensor made outside, as the incoming gradient, is not added).
 */
export function tidyMade<A, T extends readonly (Tensor | null | undefined)[]>(
  fn: (a: A) => T,
  a: A,
  made: Set<Tensor>,
): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn(a);
  } finally {
    scopes.pop();
  }
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (result.includes(t)) {
      made.add(t);
      parent?.add(t);
    } else t.dispose();
  }
  return result;
}

function collect(v: unknown, into: Set<unknown>, depth = 0): void {
  if (v === null || typeof v !== "object" || depth > 4) return;
  if (isTensorLike(v)) {
    into.add(v);
    const g = (v as Tensor).grad;
    if (g) into.add(g);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collect(x, into, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) collect(x, into, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype)
    for (const x of Object.values(v)) collect(x, into, depth + 1);
}

function isTensorLike(v: object): boolean {
  return "storage" in v && "strides" in v && typeof (v as { dispose?: unknown }).dispose === "function";
}

/** The scopes of the `graphOwned` calls running (also in `scopes`): what `userVisible` takes tensors out of. */
const owning: Set<Tensor>[] = [];

/**
 * Run `fn`, a library call such as a module's forward, and hand what it made and did not return (in its result,
 * or in a field of `holder`, directly or in an array, Set, Map or plain object there) to autograd: the graph
 * owns those intermediates, and `backward()` (without `retainGraph`) disposes them with the graph, so device
 * memory does not wait for the garbage collector. The caller could reach them only through the graph. Tensors
 * shown to user code (`userVisible`) or passed to `keep()` are not handed over.
 * Without gradient recording, nothing is handed over (the garbage collector or an enclosing `tidy` frees them).
 */
export function graphOwned<T>(fn: () => T, holder?: object): T {
  const made = new Set<Tensor>();
  scopes.push(made);
  owning.push(made);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
    owning.pop();
    const parent = scopes[scopes.length - 1];
    if (parent !== undefined) for (const t of made) parent.add(t);
  }
  const hooks = autogradHooks();
  if (made.size !== 0 && hooks?.adopt !== undefined && isGradEnabled()) {
    if (holder !== undefined) for (const v of Object.values(holder)) unmark(made, v);
    hooks.adopt(result, made);
  }
  return result;
}

/** Take out of `made` a field's value and, in an array, Set, Map or plain object, its elements (a cache). */
function unmark(made: Set<unknown>, v: unknown): void {
  if (v === null || typeof v !== "object") return;
  made.delete(v);
  if (Array.isArray(v) || v instanceof Set) for (const x of v) made.delete(x);
  else if (v instanceof Map) for (const x of v.values()) made.delete(x);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) made.delete(x);
}

/** Mark a tensor as seen by user code (a forward hook's argument): no enclosing `graphOwned` call owns it. */
export function userVisible(t: Tensor): void {
  for (const s of owning) s.delete(t);
}

/** Keep a tensor alive past the enclosing `tidy()` scope. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/**
 * What `memory()` reports, over every device. A tensor or storage counts from its creation until it is released
 * (disposed, freed by `tidy`, or disposed by the backward pass that frees the graph owning it: `graphOwned`),
 * counted exactly at once, or until the garbage collector has collected it, which `memory()` learns from a
 * finaliser: that runs between event-loop tasks after a full collection, never inside synchronous code. A
 * GC-managed (CPU) tensor is finalised with its cohort (up to 64 tensors and small storages made around the same
 * time; accounting.ts), so after a collection the counts exceed what the program holds by at most the dead
 * members of cohorts that a live tensor keeps.
 */
export interface MemoryInfo {
  /** Tensors neither released nor known to be collected. */
  liveTensors: number;
  /** Storages (device buffers, CPU arrays) referenced by those tensors, or not yet known to be collected. */
  liveStorages: number;
  /** Bytes held by those storages. */
  bytesInUse: number;
}

/**
 * Counts of live tensors and storages and the bytes they hold, on every device (see `MemoryInfo` for when a
 * collected tensor stops counting). Between collections a loop that does not dispose shows what it left for the
 * collector too; `tidy`, `using` and `dispose()` keep the counts exact at every step.
 */
export function memory(): MemoryInfo {
  return { liveTensors: stats.tensors, liveStorages: stats.storages, bytesInUse: stats.bytes };
}
