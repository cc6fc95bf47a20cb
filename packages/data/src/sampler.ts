/**
 * Samplers: iterables of dataset indices (or, for `BatchSampler`, of index lists), like `torch.utils.data`'s.
 * Each iteration is one epoch; random samplers draw a fresh order every time they are iterated, from their
 * `generator` (or Cinder's default generator, so `manualSeed(s)` makes a whole program reproducible).
 */
import { defaultGenerator, type Generator, randomUniform } from "@cinder/tensor";

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

/** 0, 1, ..., n-1 in order. `SequentialSampler(dataset)` or `SequentialSampler(n)`. */
export class SequentialSampler implements Sampler<number> {
  readonly length: number;
  constructor(dataSource: { readonly length: number } | number) {
    this.length = typeof dataSource === "number" ? dataSource : dataSource.length;
    checkCount("SequentialSampler", "the data source length", this.length);
  }
  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.length; i++) yield i;
  }
}

export interface RandomSamplerOptions {
  /** Draw with replacement (`numSamples` independent uniform indices). Default false. */
  replacement?: boolean;
  /** Indices per epoch; default the data source length. Without replacement, more than that chains permutations. */
  numSamples?: number;
  /** The random stream; default Cinder's global generator. */
  generator?: Generator;
}

/**
 * Random order. Without replacement: a new permutation each epoch (each index exactly once per epoch).
 * With replacement: `numSamples` independent uniform draws per epoch.
 */
export class RandomSampler implements Sampler<number> {
  readonly n: number;
  readonly replacement: boolean;
  readonly generator: Generator | undefined;
  private readonly _numSamples: number | undefined;

  constructor(dataSource: { readonly length: number } | number, options: RandomSamplerOptions = {}) {
    this.n = typeof dataSource === "number" ? dataSource : dataSource.length;
    this.replacement = options.replacement ?? false;
    this.generator = options.generator;
    this._numSamples = options.numSamples;
    if (
      options.numSamples !== undefined &&
      (!Number.isInteger(options.numSamples) || options.numSamples <= 0)
    ) {
      throw new RangeError(
        `RandomSampler: numSamples should be a positive integer value, but got numSamples=${options.numSamples}`,
      );
    }
    checkCount("RandomSampler", "the data source length", this.n);
  }

  get numSamples(): number {
    return this._numSamples ?? this.n;
  }
  get length(): number {
    return this.numSamples;
  }

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

/** The given indices in a new random order each epoch. */
export class SubsetRandomSampler implements Sampler<number> {
  readonly indices: readonly number[];
  readonly generator: Generator | undefined;
  constructor(indices: readonly number[], options: { generator?: Generator } = {}) {
    this.indices = [...indices];
    this.generator = options.generator;
  }
  get length(): number {
    return this.indices.length;
  }
  *[Symbol.iterator](): Iterator<number> {
    const p = permutation(this.indices.length, this.generator ?? defaultGenerator);
    for (let i = 0; i < p.length; i++) yield this.indices[p[i]];
  }
}

export interface WeightedRandomSamplerOptions {
  /** Default true. Without replacement an index is drawn at most once per epoch. */
  replacement?: boolean;
  generator?: Generator;
}

/**
 * Index i with probability weights[i] / sum(weights) (torch.multinomial). Weights need not sum to one.
 * Without replacement, draws follow successive sampling without replacement (by exponential keys).
 */
export class WeightedRandomSampler implements Sampler<number> {
  readonly weights: Float64Array;
  readonly numSamples: number;
  readonly replacement: boolean;
  readonly generator: Generator | undefined;
  private readonly cumulative: Float64Array;

  constructor(weights: ArrayLike<number>, numSamples: number, options: WeightedRandomSamplerOptions = {}) {
    if (!Number.isInteger(numSamples) || numSamples <= 0) {
      throw new RangeError(
        `WeightedRandomSampler: numSamples should be a positive integer value, but got numSamples=${numSamples}`,
      );
    }
    this.weights = Float64Array.from(weights);
    this.numSamples = numSamples;
    this.replacement = options.replacement ?? true;
    this.generator = options.generator;
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

  get length(): number {
    return this.numSamples;
  }

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

/** Groups the indices of `sampler` into lists of `batchSize`; the last one is shorter unless `dropLast`. */
export class BatchSampler implements Sampler<number[]> {
  readonly sampler: Sampler<number>;
  readonly batchSize: number;
  readonly dropLast: boolean;
  constructor(sampler: Sampler<number>, batchSize: number, dropLast = false) {
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new RangeError(
        `BatchSampler: batchSize should be a positive integer value, but got batchSize=${batchSize}`,
      );
    }
    this.sampler = sampler;
    this.batchSize = batchSize;
    this.dropLast = dropLast;
  }
  get length(): number {
    const n = this.sampler.length;
    if (n === undefined) throw new TypeError("BatchSampler: the wrapped sampler has no length");
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }
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
