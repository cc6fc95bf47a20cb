/**
 * DistributedDataParallel's gradient reducer: parameters in buckets (reverse registration order, the order
 * gradients roughly become ready in backward, split by dtype and by `bucketCapMb`), a gradient hook on every
 * parameter, and one all-reduce (average) per bucket started as soon as its last gradient arrives, in bucket order
 * on every rank.
 *
 * A hook runs before the engine accumulates into `.grad`, so it computes the value `.grad` will have (the old
 * `.grad`, accumulated under `noSync`, plus this gradient), copies it into the bucket, clears `.grad` and returns
 * that value for the engine to store. When the last bucket has been started the reducer waits for every bucket
 * and writes the averages into each parameter's `.grad` (and into the returned values the engine has not stored
 * yet). Each bucket carries one flag per parameter (1 when this rank produced a gradient), so a parameter no rank
 * used keeps `.grad` null, as PyTorch's.
 */
import { AccumulateGrad } from "@cinder/autograd";
import type { Parameter } from "@cinder/nn";
import {
  type DType,
  fromTypedArray,
  type GradFn,
  noGrad,
  type RemovableHandle,
  type Tensor,
} from "@cinder/tensor";
import type { CollectiveArray, CollectiveBackend, Work } from "./backend";
import { DistributedError } from "./backend";

interface Bucket {
  params: Parameter[];
  names: string[];
  offsets: number[];
  /** The values, then one used-flag per parameter. */
  flat: Float32Array | Float64Array;
  /** What each hook returned (the engine may store it as `.grad` after the bucket is reduced). */
  values: (Tensor | null)[];
  ready: boolean[];
  readyCount: number;
  work: Work | null;
}

const arrayFor = (dtype: DType, n: number): Float32Array | Float64Array =>
  dtype === "float64" ? new Float64Array(n) : new Float32Array(n);

/** Buckets, hooks and the per-iteration state of one DistributedDataParallel. */
export class Reducer {
  private readonly buckets: Bucket[] = [];
  private readonly where = new Map<Parameter, [Bucket, number]>();
  private readonly handles: RemovableHandle[] = [];
  private next = 0;
  /** This iteration reduces (a forward ran with grad enabled and outside `noSync`). */
  private active = false;

  constructor(
    named: [string, Parameter][],
    private readonly backend: CollectiveBackend,
    capBytes: number,
  ) {
    let current: Bucket | null = null;
    let bytes = 0;
    for (const [name, p] of [...named].reverse()) {
      if (p.dtype !== "float32" && p.dtype !== "float64")
        throw new TypeError(
          `DistributedDataParallel: parameter ${name} has dtype ${p.dtype}; gradients need float32 or float64`,
        );
      const size = p.numel() * (p.dtype === "float64" ? 8 : 4);
      if (current === null || current.params[0].dtype !== p.dtype || (bytes + size > capBytes && bytes > 0)) {
        current = {
          params: [],
          names: [],
          offsets: [],
          flat: new Float32Array(0),
          values: [],
          ready: [],
          readyCount: 0,
          work: null,
        };
        this.buckets.push(current);
        bytes = 0;
      }
      current.offsets.push(current.params.reduce((s, q) => s + q.numel(), 0));
      current.params.push(p);
      current.names.push(name);
      bytes += size;
    }
    for (const b of this.buckets) {
      const n = b.params.reduce((s, q) => s + q.numel(), 0);
      b.flat = arrayFor(b.params[0].dtype, n + b.params.length);
      b.values = b.params.map(() => null);
      b.ready = b.params.map(() => false);
      b.params.forEach((p, i) => {
        this.where.set(p, [b, i]);
        this.handles.push(p.registerHook((g: Tensor) => this.hook(b, i, g)));
      });
    }
  }

  /** The number of buckets (for tests and docs). */
  get bucketCount(): number {
    return this.buckets.length;
  }

  /** The parameters of each bucket, by name. */
  bucketNames(): string[][] {
    return this.buckets.map((b) => b.names.slice());
  }

  /**
   * Starts an iteration after a forward pass: checks that the previous one finished, and with `findUnused` marks the
   * parameters the outputs' graph does not reach as ready (they contribute no gradient).
   */
  prepare(outputs: unknown, sync: boolean, findUnused: boolean): void {
    this.checkFinished();
    this.reset();
    this.active = sync;
    if (!sync || !findUnused) return;
    const reached = reachedLeaves(outputs);
    for (const [p, [b, i]] of this.where) if (!reached.has(p)) this.markReady(b, i, null);
  }

  /** Throws when the previous iteration left buckets unreduced (some parameter got no gradient). */
  checkFinished(): void {
    if (!this.active || this.buckets.every((b) => b.readyCount === 0)) return;
    const missing = this.buckets.flatMap((b) => b.names.filter((_, i) => !b.ready[i]));
    throw new DistributedError(
      "DistributedDataParallel: Expected to have finished reduction in the prior iteration before starting a new one. " +
        `These parameters did not receive gradients: ${missing.join(", ")}. If the model does not use every parameter ` +
        "in every forward pass, pass { findUnusedParameters: true }; make sure every forward output takes part in the loss.",
    );
  }

  private reset(): void {
    for (const b of this.buckets) {
      b.values.fill(null);
      b.ready.fill(false);
      b.readyCount = 0;
      b.work = null;
    }
    this.next = 0;
  }

  private hook(b: Bucket, i: number, g: Tensor): Tensor | undefined {
    if (!this.active) return undefined;
    if (b.ready[i])
      throw new DistributedError(
        `DistributedDataParallel: parameter ${b.names[i]} received a gradient twice in one iteration (backward run twice after one forward?)`,
      );
    const p = b.params[i];
    const old = p.grad;
    const v = noGrad(() => (old !== null ? old.add(g) : g.clone()));
    p.grad = null;
    this.markReady(b, i, v);
    return v;
  }

  private markReady(b: Bucket, i: number, v: Tensor | null): void {
    b.ready[i] = true;
    b.readyCount++;
    b.values[i] = v;
    const n = b.params[i].numel();
    const at = b.offsets[i];
    const src = v ?? b.params[i].grad;
    if (src !== null) b.flat.set(src.data() as Float32Array, at);
    else b.flat.fill(0, at, at + n);
    b.flat[b.flat.length - b.params.length + i] = v !== null ? 1 : 0;
    if (b.readyCount < b.params.length) return;
    // start buckets in bucket order, so every rank issues the same all-reduces in the same order
    while (
      this.next < this.buckets.length &&
      this.buckets[this.next].readyCount === this.buckets[this.next].params.length
    ) {
      const nb = this.buckets[this.next++];
      nb.work = this.backend.allReduce(nb.flat, "avg");
    }
    if (this.next === this.buckets.length) this.finish();
  }

  /** Waits for every bucket and writes the averaged gradients. */
  private finish(): void {
    for (const b of this.buckets) {
      (b.work as Work).wait();
      const flags = b.flat.length - b.params.length;
      b.params.forEach((p, i) => {
        const n = p.numel();
        const avg = b.flat.subarray(b.offsets[i], b.offsets[i] + n) as CollectiveArray;
        const usedSomewhere = b.flat[flags + i] > 0;
        const v = b.values[i];
        if (v !== null) write(v, avg);
        if (p.grad !== null && p.grad.storage !== v?.storage) write(p.grad, avg);
        else if (p.grad === null && v === null && usedSomewhere)
          p.grad = fromTypedArray(avg.slice(), p.shape as number[]).to(p.device);
      });
    }
    this.active = false;
    this.reset();
  }

  /** Removes the gradient hooks. */
  remove(): void {
    for (const h of this.handles) h.remove();
  }
}

function write(t: Tensor, data: CollectiveArray): void {
  const src = fromTypedArray(data, t.shape as number[]);
  noGrad(() => t.copy_(t.device === "cpu" ? src : src.to(t.device)));
}

/** The leaves (parameters) the graphs of the tensors in `outputs` (a tensor, or arrays/objects of them) reach. */
function reachedLeaves(outputs: unknown): Set<Tensor> {
  const seen = new Set<GradFn>();
  const leaves = new Set<Tensor>();
  const stack: GradFn[] = [];
  const visit = (o: unknown): void => {
    if (o === null || typeof o !== "object") return;
    const fn = (o as { gradFn?: GradFn | null }).gradFn;
    if (fn !== undefined && typeof (o as Tensor).numel === "function") {
      if (fn !== null) stack.push(fn);
      return;
    }
    for (const v of Array.isArray(o) ? o : o instanceof Map ? o.values() : Object.values(o)) visit(v);
  };
  visit(outputs);
  while (stack.length > 0) {
    const fn = stack.pop() as GradFn;
    if (seen.has(fn)) continue;
    seen.add(fn);
    if (fn instanceof AccumulateGrad) leaves.add(fn.variable);
    for (const [next] of fn.nextFunctions) if (next !== null) stack.push(next);
  }
  return leaves;
}
