/**
 * Samplers: iterables of dataset indices (or, for `BatchSampler`, of index lists), like `torch.utils.data`'s.
 * Each iteration is one epoch; random samplers draw a fresh order every time they are iterated, from their
 * `generator` (or Cinder's default generator, so `manualSeed(s)` makes a whole program reproducible).
 */
import {
  arg,
  type CallsOf,
  defaultGenerator,
  Generator,
  isPlainObject,
  k,
  randomUniform,
  signature,
  Tensor,
} from "@cinder/tensor";

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
export const isObject = (v: unknown): v is object => v !== null && typeof v === "object";

/** A Cinder `Generator`. */
export const generatorKind = k.instance(Generator, "Generator");
/** `generator=None`: a Cinder `Generator`. */
export const generatorArg = arg.opt("generator", generatorKind);

/** A sized data source: anything with a numeric `length` (a dataset, an array), or the length itself. */
export const dataSourceKind = k.test<{ readonly length: number } | number>(
  "a Sized data source (an object with a length) or an int",
  (v) => isInt(v) || (isObject(v) && typeof (v as { length?: unknown }).length === "number"),
);

/** A list of indices: an array (or typed array) of ints, or a 1-D integer tensor. */
export const indicesKind = k.test<readonly number[] | ArrayLike<number> | Tensor>(
  "a sequence of int or a 1-D integer Tensor",
  (v) =>
    v instanceof Tensor
      ? v.ndim === 1 && !v.isFloatingPoint() && v.dtype !== "bool"
      : (Array.isArray(v) || ArrayBuffer.isView(v)) && Array.from(v as ArrayLike<number>).every(isInt),
);

/** The numbers of a sequence or of a 1-D tensor (read from its device: CPU tensors, or `readSync` backends). */
export function numbersOf(v: ArrayLike<number> | Tensor): number[] {
  return v instanceof Tensor ? (v.toArray() as number[]) : Array.from(v);
}

/** An object with an iterator (a sampler, an array). */
export const isIterableObject = (v: unknown): boolean =>
  isObject(v) && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";

/** Anything iterable that yields indices (a sampler, an array). */
export const samplerKind = k.test<Sampler<number>>("a Sampler or an iterable of int", isIterableObject);

/**
 * A lone plain object given where the first parameter is a data source (`new SequentialSampler({ length: 3 })`)
 * is that data source, not the options object (which would have to name `key`, a required parameter).
 */
export function loneSource(args: readonly unknown[], key: string): readonly unknown[] {
  return args.length === 1 && isPlainObject(args[0]) && !(key in args[0]) ? [args[0], {}] : args;
}

const SEQUENTIAL_SAMPLER = signature("utils.data.SequentialSampler", [arg("dataSource", dataSourceKind)]);
const RANDOM_SAMPLER = signature("utils.data.RandomSampler", [
  arg("dataSource", dataSourceKind),
  arg("replacement", k.bool, false),
  arg.opt("numSamples", k.int),
  generatorArg,
]);
const SUBSET_RANDOM_SAMPLER = signature("utils.data.SubsetRandomSampler", [
  arg("indices", indicesKind),
  generatorArg,
]);
const WEIGHTED_RANDOM_SAMPLER = signature("utils.data.WeightedRandomSampler", [
  arg(
    "weights",
    k.test<ArrayLike<number> | Tensor>("a sequence of float or a 1-D Tensor", (v) =>
      v instanceof Tensor
        ? v.ndim === 1
        : (Array.isArray(v) || ArrayBuffer.isView(v)) &&
          Array.from(v as ArrayLike<number>).every((x) => typeof x === "number"),
    ),
  ),
  arg("numSamples", k.int),
  arg("replacement", k.bool, true),
  generatorArg,
]);
const BATCH_SAMPLER = signature("utils.data.BatchSampler", [
  arg("sampler", samplerKind),
  arg("batchSize", k.int),
  arg("dropLast", k.bool),
]);

/** Anything that yields indices; `length` (when known) is the number of items one iteration yields. */
export interface Sampler<T = number> extends Iterable<T> {
  readonly length?: number;
}

/** n uniform numbers in [0, 1) from `generator`, reserving n counters of its stream. */
function uniforms(n: number, generator: Generator): Float64Array {
  const { key, counter } = generator.next(n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = randomUniform(key, counter + i);
  return out;
}

/**
 * A random permutation of 0..n-1 as an Int32Array. The same algorithm and stream as `randperm(n, { generator })`
 * of `@cinder/tensor` (a Fisher-Yates shuffle fed by counters `counter + i`), without making a tensor.
 */
export function permutation(n: number, generator: Generator = defaultGenerator): Int32Array {
  const { key, counter } = generator.next(n);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(randomUniform(key, counter + i) * (i + 1));
    const tmp = p[i];
    p[i] = p[j];
    p[j] = tmp;
  }
  return p;
}

function checkCount(name: string, what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`${name}: ${what} should be a non-negative integer, got ${n}`);
}

/** `SequentialSampler(data_source)`: 0, 1, ..., n-1 in order. `SequentialSampler(dataset)` or `SequentialSampler(n)`. */
export class SequentialSampler implements Sampler<number> {
  static readonly signature = SEQUENTIAL_SAMPLER;
  readonly length: number;
  constructor(...args: CallsOf<typeof SEQUENTIAL_SAMPLER>) {
    const { dataSource } = SEQUENTIAL_SAMPLER.parse(loneSource(args, "dataSource"));
    this.length = typeof dataSource === "number" ? dataSource : dataSource.length;
    checkCount("SequentialSampler", "the data source length", this.length);
  }
  /** Yields 0, 1, ..., length - 1. */
  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.length; i++) yield i;
  }
}

/** Options of `new RandomSampler(dataSource, options)`. */
export interface RandomSamplerOptions {
  /** Draw with replacement (`numSamples` independent uniform indices). Default false. */
  replacement?: boolean;
  /** Indices per epoch; default the data source length. Without replacement, more than that chains permutations. */
  numSamples?: number;
  /** The random stream; default Cinder's global generator. */
  generator?: Generator;
}

/**
 * `RandomSampler(data_source, replacement=False, num_samples=None, generator=None)`: random order. Without replacement: a new permutation each epoch (each index exactly once per epoch).
 * With replacement: `numSamples` independent uniform draws per epoch.
 */
export class RandomSampler implements Sampler<number> {
  readonly n: number;
  readonly replacement: boolean;
  readonly generator: Generator | undefined;
  private readonly _numSamples: number | undefined;

  static readonly signature = RANDOM_SAMPLER;
  constructor(...args: CallsOf<typeof RANDOM_SAMPLER>) {
    const options = RANDOM_SAMPLER.parse(loneSource(args, "dataSource"));
    const { dataSource } = options;
    this.n = typeof dataSource === "number" ? dataSource : dataSource.length;
    this.replacement = options.replacement;
    this.generator = options.generator ?? undefined;
    this._numSamples = options.numSamples ?? undefined;
    if (options.numSamples !== null && options.numSamples <= 0) {
      throw new RangeError(
        `RandomSampler: numSamples should be a positive integer value, but got numSamples=${options.numSamples}`,
      );
    }
    checkCount("RandomSampler", "the data source length", this.n);
  }

  /** Indices drawn per epoch: the `numSamples` option, or the data source's length. */
  get numSamples(): number {
    return this._numSamples ?? this.n;
  }
  /** Indices yielded per iteration (`numSamples`). */
  get length(): number {
    return this.numSamples;
  }

  /** Draws a fresh random order (or indices with replacement) and yields it. */
  *[Symbol.iterator](): Iterator<number> {
    const gen = this.generator ?? defaultGenerator;
    const n = this.n;
    const k = this.numSamples;
    if (this.replacement) {
      if (n === 0 && k > 0)
        throw new RangeError("RandomSampler: cannot draw with replacement from an empty data source");
      // drawn in blocks of 32 like PyTorch, so a consumer that stops early reserves little of the stream
      for (let done = 0; done < k; done += 32) {
        const u = uniforms(Math.min(32, k - done), gen);
        for (let i = 0; i < u.length; i++) yield Math.floor(u[i] * n);
      }
      return;
    }
    for (let done = 0; done < k; done += n) {
      const p = permutation(n, gen);
      const take = Math.min(n, k - done);
      for (let i = 0; i < take; i++) yield p[i];
      if (n === 0) return;
    }
  }
}

/** `SubsetRandomSampler(indices, generator=None)`: the given indices in a new random order each epoch. */
export class SubsetRandomSampler implements Sampler<number> {
  static readonly signature = SUBSET_RANDOM_SAMPLER;
  readonly indices: readonly number[];
  readonly generator: Generator | undefined;
  constructor(...args: CallsOf<typeof SUBSET_RANDOM_SAMPLER>) {
    const a = SUBSET_RANDOM_SAMPLER.parse(args);
    this.indices = numbersOf(a.indices);
    this.generator = a.generator ?? undefined;
  }
  /** Number of indices in the subset. */
  get length(): number {
    return this.indices.length;
  }
  /** Yields the subset's indices in a fresh random order. */
  *[Symbol.iterator](): Iterator<number> {
    const p = permutation(this.indices.length, this.generator ?? defaultGenerator);
    for (let i = 0; i < p.length; i++) yield this.indices[p[i]];
  }
}

/** Options of `new WeightedRandomSampler(weights, numSamples, options)`. */
export interface WeightedRandomSamplerOptions {
  /** Default true. Without replacement an index is drawn at most once per epoch. */
  replacement?: boolean;
  generator?: Generator;
}

/**
 * `WeightedRandomSampler(weights, num_samples, replacement=True, generator=None)`: index i with probability weights[i] / sum(weights) (torch.multinomial). Weights need not sum to one.
 * Without replacement, draws follow successive sampling without replacement (by exponential keys).
 */
export class WeightedRandomSampler implements Sampler<number> {
  readonly weights: Float64Array;
  readonly numSamples: number;
  readonly replacement: boolean;
  readonly generator: Generator | undefined;
  private readonly cumulative: Float64Array;

  static readonly signature = WEIGHTED_RANDOM_SAMPLER;
  constructor(...args: CallsOf<typeof WEIGHTED_RANDOM_SAMPLER>) {
    const { weights, numSamples, ...options } = WEIGHTED_RANDOM_SAMPLER.parse(args);
    if (numSamples <= 0) {
      throw new RangeError(
        `WeightedRandomSampler: numSamples should be a positive integer value, but got numSamples=${numSamples}`,
      );
    }
    this.weights = Float64Array.from(numbersOf(weights));
    this.numSamples = numSamples;
    this.replacement = options.replacement;
    this.generator = options.generator ?? undefined;
    let total = 0;
    let positive = 0;
    this.cumulative = new Float64Array(this.weights.length);
    for (let i = 0; i < this.weights.length; i++) {
      const w = this.weights[i];
      if (!(w >= 0) || !Number.isFinite(w)) {
        throw new RangeError(
          `WeightedRandomSampler: weights must be finite and non-negative, got weights[${i}] = ${w}`,
        );
      }
      if (w > 0) positive++;
      total += w;
      this.cumulative[i] = total;
    }
    if (!(total > 0))
      throw new RangeError("WeightedRandomSampler: the weights sum to zero; there is nothing to draw");
    if (!this.replacement && numSamples > positive) {
      throw new RangeError(
        `WeightedRandomSampler: cannot draw ${numSamples} samples without replacement from ${positive} indices of nonzero weight`,
      );
    }
  }

  /** Indices drawn per epoch (`numSamples`). */
  get length(): number {
    return this.numSamples;
  }

  /** Draws `numSamples` indices, index i with probability proportional to `weights[i]`. */
  *[Symbol.iterator](): Iterator<number> {
    const gen = this.generator ?? defaultGenerator;
    const k = this.numSamples;
    const c = this.cumulative;
    const total = c[c.length - 1];
    if (this.replacement) {
      const u = uniforms(k, gen);
      for (let s = 0; s < k; s++) {
        // first i with cumulative[i] > u * total (binary search); weight-0 entries are never chosen
        const target = u[s] * total;
        let lo = 0;
        let hi = c.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (c[mid] > target) hi = mid;
          else lo = mid + 1;
        }
        yield lo;
      }
      return;
    }
    // Efraimidis-Spirakis: the k smallest of -log(u_i) / w_i are a weighted draw without replacement, in order
    const u = uniforms(this.weights.length, gen);
    const keyed: { i: number; key: number }[] = [];
    for (let i = 0; i < this.weights.length; i++) {
      const w = this.weights[i];
      if (w > 0) keyed.push({ i, key: -Math.log(1 - u[i]) / w });
    }
    keyed.sort((a, b) => a.key - b.key);
    for (let s = 0; s < k; s++) yield keyed[s].i;
  }
}

/**
 * `BatchSampler(sampler, batch_size, drop_last)`: groups the indices of `sampler` into lists of `batchSize`; the
 * last one is shorter unless `dropLast`. As in PyTorch, all three are required.
 */
export class BatchSampler implements Sampler<number[]> {
  static readonly signature = BATCH_SAMPLER;
  readonly sampler: Sampler<number>;
  readonly batchSize: number;
  readonly dropLast: boolean;
  constructor(...args: CallsOf<typeof BATCH_SAMPLER>) {
    const { sampler, batchSize, dropLast } = BATCH_SAMPLER.parse(args);
    if (batchSize <= 0) {
      throw new RangeError(
        `BatchSampler: batchSize should be a positive integer value, but got batchSize=${batchSize}`,
      );
    }
    this.sampler = sampler;
    this.batchSize = batchSize;
    this.dropLast = dropLast;
  }
  /**
   * Batches per iteration: `ceil(n / batchSize)`, or `floor` with `dropLast`; throws when the wrapped sampler
   * has no length.
   */
  get length(): number {
    const n = this.sampler.length;
    if (n === undefined) throw new TypeError("BatchSampler: the wrapped sampler has no length");
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }
  /** Groups the wrapped sampler's indices into lists of `batchSize`. */
  *[Symbol.iterator](): Iterator<number[]> {
    let batch: number[] = [];
    for (const i of this.sampler) {
      batch.push(i);
      if (batch.length === this.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0 && !this.dropLast) yield batch;
  }
}
