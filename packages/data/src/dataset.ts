/**
 * Datasets: map-style (`length` + `getItem(i)`, optionally `getBatch(indices)`) and iterable-style (an async or
 * sync iterator), with the wrappers of `torch.utils.data`: TensorDataset, Subset, ConcatDataset, randomSplit.
 */
import {
  ArgumentError,
  arg,
  cat,
  defaultGenerator,
  fmtShape,
  type Generator,
  indexSelect,
  isPlainObject,
  k,
  type Param,
  signature,
  Tensor,
  tensor,
} from "@cinder/tensor";
import type { Collated } from "./collate";
import { generatorKind, indicesKind, isObject, numbersOf, permutation } from "./sampler";

/** A map-style dataset: an array of samples or an object with `getItem`. */
export const isMapDataset = (v: unknown): boolean =>
  Array.isArray(v) || (isObject(v) && typeof (v as { getItem?: unknown }).getItem === "function");

/** A map-style dataset: `length` and `getItem` (a `Dataset`, an array of samples, or any object with both). */
export const mapDatasetKind = k.test<MapDataset<unknown>>(
  "a map-style Dataset (length and getItem) or an array",
  isMapDataset,
);

/** `*tensors`: a varargs parameter of tensors (`arg.varargs` is for ints). */
const tensorsVarargs: Param<"tensors", readonly Tensor[], false> = {
  name: "tensors",
  kind: k.tensors,
  optional: false,
  default: undefined,
  varargs: true,
};

const TENSOR_DATASET = signature("utils.data.TensorDataset", [tensorsVarargs] as const);
const SUBSET = signature("utils.data.Subset", [arg("dataset", mapDatasetKind), arg("indices", indicesKind)]);
const CONCAT_DATASET = signature("utils.data.ConcatDataset", [
  arg(
    "datasets",
    k.test<readonly MapDataset<unknown>[]>(
      "a list of datasets",
      (v) => Array.isArray(v) && v.every(isObject),
    ),
  ),
]);
const RANDOM_SPLIT = signature("utils.data.randomSplit", [
  arg("dataset", mapDatasetKind),
  arg(
    "lengths",
    k.test<readonly number[]>(
      "a sequence of int or of float",
      (v) => Array.isArray(v) && v.every((x) => typeof x === "number"),
    ),
  ),
  arg("generator", generatorKind, defaultGenerator),
]);

/** Describe a value for an index error. */
function describeIndex(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list [${v.slice(0, 6).join(", ")}${v.length > 6 ? ", ..." : ""}]`;
  if (v instanceof Tensor) return `a Tensor of shape ${fmtShape(v.shape)}`;
  if (isPlainObject(v)) return `an object {${Object.keys(v).slice(0, 6).join(", ")}}`;
  if (typeof v === "number") return `float ${v}`;
  if (typeof v === "string") return `str ${JSON.stringify(v)}`;
  return typeof v === "object" ? (v.constructor?.name ?? "object") : `${typeof v} ${String(v)}`;
}

/**
 * What a DataLoader needs of a map-style dataset. `getBatch(indices)`, when present, is a fast path that must
 * return what `defaultCollate` would make of `indices.map(getItem)`, but in one go (e.g. one gather per
 * tensor). `getItem` may return a promise; such a dataset is read with `for await` only.
 */
export interface MapDataset<T> {
  /** Number of items (PyTorch's `__len__`). */
  readonly length: number;
  /** The item at `index` (PyTorch's `__getitem__`); may return a promise. */
  getItem(index: number): T;
  /**
   * Optional fast path: the collated batch of `indices` in one go, what `defaultCollate` would make of their
   * items.
   */
  getBatch?(indices: readonly number[]): BatchOf<T>;
}

/** What `getBatch` returns: the collated items; a promise of them only for datasets whose items are promises. */
export type BatchOf<T> = T extends PromiseLike<infer U> ? Collated<U> | Promise<Collated<U>> : Collated<T>;

/**
 * The base class of map-style datasets, PyTorch's `Dataset`: implement `length` (a getter or a field) and
 * `getItem(index)`; add `getBatch(indices)` when whole batches can be made faster than item by item.
 */
export abstract class Dataset<T> implements MapDataset<T> {
  /** Number of items (PyTorch's `__len__`): a getter or a field. */
  abstract readonly length: number;
  /** The item at `index` (PyTorch's `__getitem__`); may return a promise. */
  abstract getItem(index: number): T;
  /**
   * Optional fast path: the collated batch of `indices` in one go, what `defaultCollate` would make of their
   * items.
   */
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

/** `getItem(index)` of a dataset takes an int: anything else is an `ArgumentError` saying so (not "out of range"). */
export function checkIntIndex(name: string, index: unknown): asserts index is number {
  if (!Number.isInteger(index)) {
    throw new ArgumentError(`${name}.getItem(): expected an int index, got ${describeIndex(index)}`);
  }
}

/** A dataset index: an int in [-length, length), made non-negative. */
function checkIndex(name: string, index: number, length: number): number {
  checkIntIndex(name, index);
  if (index < -length || index >= length) {
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
  static readonly signature = TENSOR_DATASET;
  readonly tensors: T;
  readonly length: number;
  /** `TensorDataset(*tensors)`: `new TensorDataset(x, y)`. */
  constructor(...tensors: T) {
    super();
    const parsed = TENSOR_DATASET.parse(tensors).tensors as unknown as T;
    if (parsed.length === 0) throw new TypeError("TensorDataset: expected at least one tensor");
    for (const [i, t] of parsed.entries()) {
      if (!(t instanceof Tensor)) throw new TypeError(`TensorDataset: argument ${i} is not a Tensor`);
      if (t.ndim === 0)
        throw new RangeError(`TensorDataset: argument ${i} is a 0-dim tensor; expected a first dimension`);
      if (t.shape[0] !== parsed[0].shape[0]) {
        throw new RangeError(
          `TensorDataset: size mismatch between tensors: tensor 0 has shape ${fmtShape(parsed[0].shape)}, tensor ${i} has shape ${fmtShape(t.shape)} (first dimensions must match)`,
        );
      }
    }
    this.tensors = parsed;
    this.length = parsed[0].shape[0];
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

type Indices = readonly number[] | ArrayLike<number> | Tensor;

/** `Subset(dataset, indices)`: the items of `dataset` at `indices`, in that order. */
export class Subset<T> extends Dataset<T> {
  static readonly signature = SUBSET;
  readonly dataset: MapDataset<T>;
  readonly indices: readonly number[];
  constructor(
    ...args:
      | [dataset: MapDataset<T> | readonly T[], indices: Indices]
      | [dataset: MapDataset<T> | readonly T[], options: { indices: Indices }]
      | [options: { dataset: MapDataset<T> | readonly T[]; indices: Indices }]
  ) {
    super();
    const a = SUBSET.parse(args);
    const dataset = asMap(a.dataset as MapDataset<T> | readonly T[]);
    this.dataset = dataset;
    this.indices = numbersOf(a.indices);
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
  static readonly signature = CONCAT_DATASET;
  /** `ConcatDataset(datasets)`. */
  constructor(
    ...args: [datasets: readonly MapDataset<T>[]] | [options: { datasets: readonly MapDataset<T>[] }]
  ) {
    super();
    const datasets = CONCAT_DATASET.parse(args).datasets as readonly MapDataset<T>[];
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
 * `random_split(dataset, lengths, generator=default_generator)`: split a dataset into non-overlapping random
 * subsets: `randomSplit(ds, [800, 200])`, by fractions `randomSplit(ds, [0.8, 0.2], new Generator(42))` or
 * `randomSplit(ds, [0.8, 0.2], { generator })`. Fractions follow PyTorch: each split gets floor(n * fraction) and
 * the leftover items go one each to the splits in order from the first.
 */
export function randomSplit<T>(
  ...args:
    | [dataset: MapDataset<T> | readonly T[], lengths: readonly number[], generator?: Generator]
    | [dataset: MapDataset<T> | readonly T[], lengths: readonly number[], options: { generator?: Generator }]
    | [dataset: MapDataset<T> | readonly T[], options: { lengths: readonly number[]; generator?: Generator }]
    | [options: { dataset: MapDataset<T> | readonly T[]; lengths: readonly number[]; generator?: Generator }]
): Subset<T>[] {
  const a = RANDOM_SPLIT.parse(args);
  const dataset = asMap(a.dataset as MapDataset<T> | readonly T[]);
  const sizes = lengthsOf(dataset.length, a.lengths);
  const total = sizes.reduce((x, y) => x + y, 0);
  const perm = permutation(total, a.generator);
  let offset = 0;
  return sizes.map((len) => {
    const idx = Array.from(perm.subarray(offset, offset + len));
    offset += len;
    return new Subset(dataset, idx);
  });
}
Object.defineProperty(randomSplit, "signature", { value: RANDOM_SPLIT });

/** An array of samples as a map-style dataset. */
function asMap<T>(ds: MapDataset<T> | readonly T[]): MapDataset<T> {
  if (!Array.isArray(ds)) return ds as MapDataset<T>;
  const items = ds as readonly T[];
  return { length: items.length, getItem: (i: number) => items[checkIndex("list", i, items.length)] };
}
