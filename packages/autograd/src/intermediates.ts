/**
 * Forward intermediates owned by the graph (`graphOwned` in the core, used around every module call): the
 * tensors a library call made and did not return can be reached only through the graph, so the backward pass
 * that frees the graph disposes them (device memory then does not wait for the garbage collector): outputs of
 * recorded ops, tensors the graph saved, and the ops' own internal tensors (a kernel's output seen through a
 * returned view), which would otherwise keep a storage referenced until they are collected.
 */
import { Tensor } from "@cinder/tensor";
import { Node } from "./engine";

/**
 * Add to `into` the tensors in `v` (a tensor, or arrays, Maps and plain objects of them and of other values);
 * false when `v` holds an object of another kind, which might hide a tensor.
 */
function tensorsIn(v: unknown, into: Set<Tensor>, depth = 0): boolean {
  if (v === null || typeof v !== "object") return true;
  if (v instanceof Tensor) {
    into.add(v);
    return true;
  }
  if (depth > 4) return false;
  let values: Iterable<unknown>;
  if (Array.isArray(v)) values = v;
  else if (v instanceof Map) values = v.values();
  else if (Object.getPrototypeOf(v) === Object.prototype) values = Object.values(v);
  else return false;
  for (const x of values) if (!tensorsIn(x, into, depth + 1)) return false;
  return true;
}

/** The core's `adopt` hook: the graph of `result` owns what `made` holds and `result` does not. */
export function adopt(result: unknown, made: ReadonlySet<Tensor>): void {
  let anchor: Node | null = null;
  let returned: Set<Tensor> | null = null;
  if (result instanceof Tensor) {
    if (result.gradFn instanceof Node) anchor = result.gradFn; // (the common case: no set to build)
  } else {
    returned = new Set<Tensor>();
    if (!tensorsIn(result, returned)) return; // a result of unknown shape: leave all to the garbage collector
    for (const t of returned) {
      if (t.gradFn instanceof Node) {
        anchor = t.gradFn;
        break;
      }
    }
  }
  if (anchor === null) return;
  const owned: Tensor[] = [];
  for (const t of made) {
    if (t !== result && !returned?.has(t) && !t.isDisposed) owned.push(t);
  }
  if (owned.length === 0) return;
  anchor.owns = anchor.owns === null ? owned : anchor.owns.concat(owned);
}
