/**
 * Datasets: map-style (`length` + `getItem(i)`, optionally `getBatch(indices)`) and iterable-style (an async or
 * sync iterator), with the wrappers of `torch.utils.data`: TensorDataset, Subset, ConcatDataset, randomSplit.
 */
import { cat, defaultGenerator, fmtShape, type Generator, indexSelect, Tensor, tensor } from "@cinder/tensor";
import type { Collated } from "./collate";
import { permutation } from "./sampler";

/**
 * What a DataLoader needs of a map-style dataset. `getBatch(indices)`, when present, is a fast path that must
 * return what `defaultCollate` would make of `indices.map(getItem)`, but in one go (e.g. one gather per
 * tensor). `getItem` may return a promise; such a dataset is read with `for await` only.
 */
export interface MapDataset<T> {
  readonly length: number;
  getItem(index: number): T;
  getBatch?(indices: readonly number[]): BatchOf<T>;
}

/** What `getBatch` returns: the collated items; a promise of them only for datasets whose items are promises. */
export type BatchOf<T> = T extends PromiseLike<infer U> ? Collated<U> | Promise<Collated<U>> : Collated<T>;

/**
 * The base class of map-style datasets, PyTorch's `Dataset`: implement `length` (a getter or a field) and
 * `getItem(index)`; add `getBatch(indices)` when whole batches can be made faster than item by item.
 */
export abstract class Dataset<T> implements MapDataset<T> {
  abstract readonly length: number;
  abstract getItem(index: number): T;
  getBatch?(indices: readonly number[]): BatchOf<T>;
}

/**
 * The base class of iterable-style datasets (streams), PyTorch's `IterableDataset`: implement
 * `*[Symbol.iterator]()` (read with `for` and `for await`) or `async *[Symbol.asyncIterator]()` (read with
 * `for await` only). Set `length` when the number of items is known. Any object with one of those iterators and
 * no `getItem` is treated as an iterable-style dataset; this class only names the idea.
 */
export abstract class IterableDataset<T> {
  declare readonly length?: number;
  /** Never set: records the item type for TypeScript. */
  declare readonly __item?: T;
}

/** Is `ds` an iterable-style dataset (no `getItem`, but an iterator)? Arrays count as map-style. */
export function isIterableDataset(ds: unknown): ds is AsyncIterable<unknown> | Iterable<unknown> {
  if (ds instanceof IterableDataset) return true;
  if (ds === null || typeof ds !== "object" || Array.isArray(ds)) return false;
  if (typeof (ds as { getItem?: unknown }).getItem === "function") return false;
  return Symbol.asyncIterator in ds || Symbol.iterator in ds;
}

function checkIndex(name: string, index: number, length: number): number {
  if (!Number.isInteger(index) || index < -length || index >= length) {
    throw new RangeError(`${name}: index ${index} is out of range for a dataset of length ${length}`);
  }
  return index < 0 ? index + length : index;
}

function indexTensor(indices: readonly number[], device: string): Tensor {
  return tensor(Int32Array.from(indices), { device });
}

/**
 * Rows of tensors that share their first dimension: `getItem(i)` is `[t0.at(i), t1.at(i), ...]` (views), and
 * `getBatch(indices)` gathers each tensor with one `indexSelect` (no per-sample tensors).
 */
export class TensorDataset<T extends Tensor[] = Tensor[]> extends Dataset<T> {
  readonly tensors: T;
  readonly length: number;
  constructor(...tensors: T) {
    super();
    if (tensors.length === 0) throw new TypeError("TensorDataset: expected at least one tensor");
    for (const [i, t] of tensors.entries()) {
      if (!(t instanceof Tensor)) throw new TypeError(`TensorDataset: argument ${i} is not a Tensor`);
      if (t.ndim === 0)
        throw new RangeError(`TensorDataset: argument ${i} is a 0-dim tensor; expected a first dimension`);
      if (t.shape[0] !== tensors[0].shape[0]) {
        throw new RangeError(
          `TensorDataset: size mismatch between tensors: tensor 0 has shape ${fmtShape(tensors[0].shape)}, tensor ${i} has shape ${fmtShape(t.shape)} (first dimensions must match)`,
        );
      }
    }
    this.tensors = tensors;
    this.length = tensors[0].shape[0];
  }
  getItem(index: number): T {
    const i = checkIndex("TensorDataset", index, this.length);
    return this.tensors.map((t) => t.at(i)) as T;
  }
  override getBatch(indices: readonly number[]): BatchOf<T> {
    for (const i of indices) checkIndex("TensorDataset", i, this.length);
    const byDevice = new Map<string, Tensor>();
    return this.tensors.map((t) => {
      let idx = byDevice.get(t.device);
      if (!idx) {
        idx = indexTensor(
          indices.map((i) => (i < 0 ? i + this.length : i)),
          t.device,
        );
        byDevice.set(t.device, idx);
      }
      return indexSelect(t, 0, idx);
    }) as BatchOf<T>;
  }
}

/** The items of `dataset` at `indices`, in that order. */
export class Subset<T> extends Dataset<T> {
  readonly dataset: MapDataset<T>;
  readonly indices: readonly number[];
  constructor(dataset: MapDataset<T>, indices: readonly number[]) {
    super();
    this.dataset = dataset;
    this.indices = [...indices];
    const inner = dataset.getBatch;
    if (inner) {
      this.getBatch = (idx) =>
        inner.call(
          dataset,
          idx.map((i) => this.indices[checkIndex("Subset", i, this.indices.length)]),
        );
    }
  }
  get length(): number {
    return this.indices.length;
  }
  getItem(index: number): T {
    return this.dataset.getItem(this.indices[checkIndex("Subset", index, this.indices.length)]);
  }
}

/**
 * Datasets one after another. `getBatch` exists when every part has one: each part makes the rows it owns in
 * one call, and the rows are put back in the requested order with one gather per tensor.
 */
export class ConcatDataset<T> extends Dataset<T> {
  readonly datasets: readonly MapDataset<T>[];
  /** cumulativeSizes[k] is the total length of datasets 0..k. */
  readonly cumulativeSizes: readonly number[];
  constructor(datasets: readonly MapDataset<T>[]) {
    super();
    if (datasets.length === 0) throw new TypeError("ConcatDataset: datasets should not be an empty iterable");
    for (const [k, d] of datasets.entries()) {
      if (isIterableDataset(d))
        throw new TypeError(`ConcatDataset: dataset ${k} is an IterableDataset, which is not supported`);
    }
    this.datasets = [...datasets];
    let total = 0;
    this.cumulativeSizes = this.datasets.map((d) => (total += d.length));
    if (this.datasets.every((d) => typeof d.getBatch === "function"))
      this.getBatch = (idx) => this.batchFromParts(idx);
  }
  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1];
  }
  /** Which dataset holds global index i, and where in it. */
  locate(index: number): [number, number] {
    const i = checkIndex("ConcatDataset", index, this.length);
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulativeSizes[mid] > i) hi = mid;
      else lo = mid + 1;
    }
    return [lo, lo === 0 ? i : i - this.cumulativeSizes[lo - 1]];
  }
  getItem(index: number): T {
    const [k, j] = this.locate(index);
    return this.datasets[k].getItem(j);
  }

  private batchFromParts(indices: readonly number[]): BatchOf<T> {
    const groups = new Map<number, { local: number[]; positions: number[] }>();
    indices.forEach((g, pos) => {
      const [k, j] = this.locate(g);
      let grp = groups.get(k);
      if (!grp) {
        grp = { local: [], positions: [] };
        groups.set(k, grp);
      }
      grp.local.push(j);
      grp.positions.push(pos);
    });
    const parts = [...groups.entries()];
    const made: unknown[] = parts.map(([k, g]) => this.datasets[k].getBatch!(g.local));
    const finish = (batches: unknown[]): BatchOf<T> => {
      if (batches.length === 1) return batches[0] as BatchOf<T>;
      // rows arrive grouped by part; `order[pos]` is where the row for requested position pos sits
      const order = new Int32Array(indices.length);
      let at = 0;
      for (const [, g] of parts) for (const pos of g.positions) order[pos] = at++;
      return catBatches(batches, order) as BatchOf<T>;
    };
    if (!made.some((b) => b instanceof Promise)) return finish(made);
    return Promise.all(made).then((b): unknown => finish(b)) as BatchOf<T>;
  }
}

/** Concatenate batch structures along dim 0 and reorder the rows by `order`. */
function catBatches(batches: unknown[], order: Int32Array): unknown {
  const first = batches[0];
  if (first instanceof Tensor) {
    const all = cat(batches as Tensor[], 0);
    return indexSelect(all, 0, tensor(order, { device: all.device }));
  }
  if (Array.isArray(first)) {
    if (first.length > 0 && typeof first[0] === "string") {
      const flat = (batches as string[][]).flat();
      return Array.from(order, (o) => flat[o]);
    }
    return first.map((_, k) =>
      catBatches(
        batches.map((b) => (b as unknown[])[k]),
        order,
      ),
    );
  }
  if (first !== null && typeof first === "object") {
    return Object.fromEntries(
      Object.keys(first).map((key) => [
        key,
        catBatches(
          batches.map((b) => (b as Record<string, unknown>)[key]),
          order,
        ),
      ]),
    );
  }
  throw new TypeError(`ConcatDataset: cannot concatenate batches holding ${typeof first}`);
}

/** PyTorch's fraction rule: floor(n * f) each, then the remainder one by one round-robin from the first split. */
function lengthsOf(n: number, lengths: readonly number[]): number[] {
  const sum = lengths.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) <= 1e-9 && sum <= 1) {
    for (const [i, f] of lengths.entries()) {
      if (!(f >= 0 && f <= 1))
        throw new RangeError(`randomSplit: fraction at index ${i} is not between 0 and 1: ${f}`);
    }
    const out = lengths.map((f) => Math.floor(n * f));
    const remainder = n - out.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) out[i % out.length] += 1;
    out.forEach((len, i) => {
      if (len === 0)
        console.warn(
          `randomSplit: length of split at index ${i} is 0; this might result in an empty dataset`,
        );
    });
    return out;
  }
  for (const [i, len] of lengths.entries()) {
    if (!Number.isInteger(len) || len < 0) {
      throw new RangeError(
        `randomSplit: lengths must be non-negative integers or fractions summing to 1, got lengths[${i}] = ${len}`,
      );
    }
  }
  if (sum !== n) {
    throw new RangeError(
      `randomSplit: sum of input lengths (${lengths.join(" + ")} = ${sum}) does not equal the length of the input dataset (${n})`,
    );
  }
  return [...lengths];
}

/**
 * Split a dataset into non-overlapping random subsets: `randomSplit(ds, [800, 200])` or by fractions
 * `randomSplit(ds, [0.8, 0.2], { generator: new Generator(42) })`. Fractions follow PyTorch: each split gets
 * floor(n * fraction) and the leftover items go one each to the splits in order from the first.
 */
export function randomSplit<T>(
  dataset: MapDataset<T>,
  lengths: readonly number[],
  options: { generator?: Generator } = {},
): Subset<T>[] {
  const sizes = lengthsOf(dataset.length, lengths);
  const total = sizes.reduce((a, b) => a + b, 0);
  const perm = permutation(total, options.generator ?? defaultGenerator);
  let offset = 0;
  return sizes.map((len) => {
    const idx = Array.from(perm.subarray(offset, offset + len));
    offset += len;
    return new Subset(dataset, idx);
  });
}
