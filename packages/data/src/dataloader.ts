/**
 * The DataLoader: batches of a dataset, in sampler order, collated. Iterate it with `for await (const [x, y] of
 * loader)` (prefetching the next batches in the background), or, when the dataset is synchronous, with a plain
 * `for (const [x, y] of loader)`. Both yield exactly the same batches for the same random state.
 */
import { arg, type Calls, k, signature } from "@cinder/tensor";
import { type Collated, type CollateFn, defaultCollate } from "./collate";
import { isIterableDataset, isMapDataset, type MapDataset } from "./dataset";
import {
  BatchSampler,
  generatorArg,
  isIterableObject,
  isObject,
  loneSource,
  RandomSampler,
  type Sampler,
  SequentialSampler,
  samplerKind,
} from "./sampler";

/** The options of `new DataLoader(dataset, options)`, PyTorch's keyword arguments in camelCase. */
export interface DataLoaderOptions<T, B> {
  /** Samples per batch (default 1); `null` turns automatic batching off: each sample is yielded as it is. */
  batchSize?: number | null;
  /** A new random order every epoch (a `RandomSampler` over the dataset, fed by `generator`). */
  shuffle?: boolean;
  /** The order of indices; mutually exclusive with `shuffle`. Any iterable of indices works (e.g. an array). */
  sampler?: Sampler<number>;
  /** Yields whole index lists; mutually exclusive with batchSize, shuffle, sampler and dropLast. */
  batchSampler?: Sampler<number[]>;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /**
   * Makes a batch of a list of samples (default `defaultCollate`). With a custom `collateFn` the loader always
   * reads item by item; the dataset's `getBatch` fast path is used only with the default collation.
   */
  collateFn?: CollateFn<Awaited<T>, B>;
  /** Random stream for `shuffle` (default Cinder's global generator). */
  generator?: Generator;
  /** Batches prepared ahead during async iteration (default 1; 0 prepares each batch when it is asked for). */
  prefetch?: number;
  /**
   * PyTorch's `num_workers`, accepted so that ported code runs unchanged: batches are always made on the main
   * thread, and the batches (and their order) are the same whatever the value. Worker threads were measured and
   * do not pay off for in-memory datasets such as MNIST: they save ~0.15-0.2 ms of main-thread time per batch
   * of 64 against a CPU training step of 15-25 ms, and every worker would need its own copy of the dataset
   * (see the README).
   * For slow, I/O-bound datasets, return promises from `getItem` and iterate with `for await`: the loader
   * overlaps them.
   */
  numWorkers?: number;
}

type AnyDataset<T> = MapDataset<T> | readonly T[] | AsyncIterable<T> | Iterable<T>;

/** PyTorch 1.13's positional parameters, typed by the loader's item and batch types. */
function positional<T, B>() {
  return [
    arg(
      "dataset",
      k.test<AnyDataset<T>>(
        "a Dataset (length and getItem), an array of samples, or an iterable of samples",
        (v) => isMapDataset(v) || (isObject(v) && (Symbol.iterator in v || Symbol.asyncIterator in v)),
      ),
    ),
    /** `null`: no automatic batching, each sample is yielded as is (through `collateFn` when given). */
    arg("batchSize", k.opt(k.int), 1),
    arg.opt("shuffle", k.bool),
    arg.opt("sampler", samplerKind),
    arg.opt("batchSampler", k.test<Sampler<number[]>>("a Sampler of index lists", isIterableObject)),
    arg("numWorkers", k.int, 0),
    arg.opt("collateFn", k.fn as unknown as typeof k.fn & { parse(v: unknown): CollateFn<Awaited<T>, B> }),
    arg.unsupported("pinMemory", false, "Cinder has no pinned host memory"),
    arg("dropLast", k.bool, false),
    arg.unsupported("timeout", 0, "batches are made on the main thread: there is no worker to wait for"),
    arg.opt("workerInitFn", k.fn),
    arg.unsupported("multiprocessingContext", null, "Cinder starts no worker processes"),
    generatorArg,
  ] as const;
}
const keywordOnly = [
  arg.unsupported(
    "prefetchFactor",
    2,
    "Cinder starts no workers; its own `prefetch` option sets how many batches async iteration prepares ahead",
  ),
  arg.unsupported("persistentWorkers", false, "Cinder starts no worker processes"),
  arg.unsupported("pinMemoryDevice", "", "Cinder has no pinned host memory"),
  /** Cinder's own: batches prepared ahead during async iteration (default 1; 0 makes each when asked for). */
  arg("prefetch", k.int, 1),
] as const;

/**
 * `DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
 * collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None, multiprocessing_context=None,
 * generator=None, *, prefetch_factor=2, persistent_workers=False, pin_memory_device='', prefetch=1)`.
 */
const DATA_LOADER = signature("utils.data.DataLoader", positional<unknown, unknown>(), keywordOnly);

/** Every way to call `new DataLoader(...)`: PyTorch's positional order, an options object, or a mix. */
export type DataLoaderCalls<T, B> = Calls<ReturnType<typeof positional<T, B>>, typeof keywordOnly>;

function isPromise(v: unknown): v is Promise<unknown> {
  return v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function";
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`DataLoader: ${name} should be an integer >= ${min}, but got ${name}=${v}`);
  }
}

/** Resolve on a later macrotask, so background work runs while the consumer awaits something else. */
function nextTick(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}

const ASYNC_HINT = "iterate it with `for await (const batch of loader)`";

/**
 * `new DataLoader(dataset, { batchSize: 64, shuffle: true })`. `dataset` is a map-style dataset (`length` and
 * `getItem`, e.g. a `Dataset` subclass or a plain array of samples) or an iterable-style one (async or sync
 * iterator). `length` is the number of batches per epoch.
 */
export class DataLoader<T, B = Collated<Awaited<T>>> implements AsyncIterable<B>, Iterable<B> {
  readonly dataset: AnyDataset<T>;
  /** Null when a `batchSampler` was given or automatic batching is off (as in PyTorch). */
  readonly batchSize: number | null;
  readonly dropLast: boolean;
  /** The index sampler (undefined for iterable-style datasets and for a user-given batchSampler). */
  readonly sampler: Sampler<number> | undefined;
  /** The sampler of index lists (undefined for iterable-style datasets). */
  readonly batchSampler: Sampler<number[]> | undefined;
  readonly collateFn: CollateFn<Awaited<T>, B>;
  readonly prefetch: number;
  readonly numWorkers: number;
  private readonly map: MapDataset<T> | undefined;
  /** With `batchSize` null (no automatic batching): what each sample becomes (itself, or `collateFn(sample)`). */
  private readonly convert: ((item: unknown) => B) | undefined;
  private readonly useGetBatch: boolean;

  /** The declared PyTorch signature of `DataLoader(...)`, which the constructor parses its arguments with. */
  static readonly signature = DATA_LOADER;
  /**
   * `new DataLoader(dataset, 64, true)`, `new DataLoader(dataset, { batchSize: 64, shuffle: true })` or
   * `new DataLoader(dataset, 64, { shuffle: true })`. A map-style dataset that is a plain object
   * (`{ length, getItem }`) given alone is the dataset, not the options.
   */
  constructor(...args: DataLoaderCalls<T, B>) {
    const options = DATA_LOADER.parse(loneSource(args, "dataset"));
    const { dataset, batchSize, sampler, batchSampler, dropLast } = options as unknown as {
      dataset: AnyDataset<T>;
      batchSize: number | null;
      sampler: Sampler<number> | null;
      batchSampler: Sampler<number[]> | null;
      dropLast: boolean;
    };
    const shuffle = options.shuffle ?? false;
    const generator = options.generator ?? undefined;
    this.prefetch = options.prefetch;
    this.numWorkers = options.numWorkers;
    if (batchSize !== null) checkInt("batchSize", batchSize, 1);
    checkInt("prefetch", this.prefetch, 0);
    checkInt("numWorkers", this.numWorkers, 0);
    if (options.workerInitFn && this.numWorkers > 0) {
      throw new TypeError(
        `DataLoader: workerInitFn is not supported with numWorkers=${this.numWorkers}: Cinder makes every batch on the main thread and starts no workers to initialise (with numWorkers=0 it is not called, as in PyTorch)`,
      );
    }
    this.dataset = dataset;
    this.dropLast = dropLast;
    this.collateFn =
      (options.collateFn as CollateFn<Awaited<T>, B> | null) ??
      (defaultCollate as unknown as CollateFn<Awaited<T>, B>);
    if (batchSize === null) {
      if (batchSampler) throw mutex();
      if (dropLast) {
        throw new TypeError(
          "DataLoader: batchSize=null option disables auto-batching and is mutually exclusive with dropLast",
        );
      }
      // PyTorch's default_convert is the identity on JS values: samples pass through unless collateFn is given
      const convert = options.collateFn as ((item: unknown) => unknown) | null;
      this.convert = (item) => (convert ? convert(item) : item) as B;
    }

    if (isIterableDataset(dataset)) {
      if (shuffle)
        throw new TypeError(
          "DataLoader with an IterableDataset: expected unspecified shuffle option, but got shuffle=true",
        );
      if (sampler)
        throw new TypeError("DataLoader with an IterableDataset: expected unspecified sampler option");
      if (batchSampler)
        throw new TypeError("DataLoader with an IterableDataset: expected unspecified batchSampler option");
      this.batchSize = batchSize;
      this.useGetBatch = false;
      return;
    }
    this.map = Array.isArray(dataset)
      ? { length: dataset.length, getItem: (i: number) => (dataset as readonly T[])[i] }
      : (dataset as MapDataset<T>);
    if (sampler && shuffle)
      throw new TypeError("DataLoader: sampler option is mutually exclusive with shuffle");
    if (batchSampler) {
      if (batchSize !== 1) throw mutex();
      if (shuffle || sampler || dropLast) throw mutex();
      this.batchSize = null;
      this.batchSampler = batchSampler;
    } else {
      this.sampler =
        sampler ?? (shuffle ? new RandomSampler(this.map, { generator }) : new SequentialSampler(this.map));
      this.batchSize = batchSize;
      if (batchSize !== null) this.batchSampler = new BatchSampler(this.sampler, batchSize, dropLast);
    }
    this.useGetBatch =
      batchSize !== null && options.collateFn === null && typeof this.map.getBatch === "function";
  }

  /** Number of batches per epoch (of samples, with `batchSize` null). */
  get length(): number {
    if (this.convert && this.sampler) {
      const n = this.sampler.length;
      if (n === undefined) throw new TypeError("DataLoader: the sampler has no length");
      return n;
    }
    if (this.batchSampler) {
      const n = this.batchSampler.length;
      if (n === undefined) throw new TypeError("DataLoader: the batch sampler has no length");
      return n;
    }
    const n = (this.dataset as { length?: number }).length;
    if (typeof n !== "number")
      throw new TypeError("DataLoader: this IterableDataset has no length, so neither has the loader");
    if (this.convert) return n;
    return this.dropLast ? Math.floor(n / this.batchSize!) : Math.ceil(n / this.batchSize!);
  }

  /** One batch of a map-style dataset, synchronously. */
  private fetchSync(indices: readonly number[]): B {
    const ds = this.map!;
    if (this.useGetBatch) {
      const b = ds.getBatch!(indices);
      if (isPromise(b))
        throw new TypeError(`DataLoader: the dataset's getBatch returned a Promise: ${ASYNC_HINT}`);
      return b as B;
    }
    const items = indices.map((i) => {
      const item = ds.getItem(i);
      if (isPromise(item))
        throw new TypeError(`DataLoader: the dataset's getItem returned a Promise: ${ASYNC_HINT}`);
      return item as Awaited<T>;
    });
    return this.collateFn(items);
  }

  private async fetchAsync(indices: readonly number[]): Promise<B> {
    const ds = this.map!;
    if (this.useGetBatch) return (await ds.getBatch!(indices)) as B;
    const items = indices.map((i) => ds.getItem(i));
    return this.collateFn((items.some(isPromise) ? await Promise.all(items) : items) as Awaited<T>[]);
  }

  /** Synchronous iteration: map-style datasets whose items are not promises, or sync iterable datasets. */
  *[Symbol.iterator](): Iterator<B> {
    const convert = this.convert;
    if (convert && this.sampler) {
      for (const i of this.sampler) {
        const item = this.map!.getItem(i);
        if (isPromise(item))
          throw new TypeError(`DataLoader: the dataset's getItem returned a Promise: ${ASYNC_HINT}`);
        yield convert(item);
      }
      return;
    }
    if (this.batchSampler) {
      for (const indices of this.batchSampler) yield this.fetchSync(indices);
      return;
    }
    const ds = this.dataset as Partial<Iterable<T>>;
    if (typeof ds[Symbol.iterator] !== "function")
      throw new TypeError(`DataLoader: this IterableDataset is asynchronous: ${ASYNC_HINT}`);
    let items: Awaited<T>[] = [];
    for (const item of ds as Iterable<T>) {
      if (isPromise(item)) throw new TypeError(`DataLoader: the dataset yielded a Promise: ${ASYNC_HINT}`);
      if (convert) {
        yield convert(item);
        continue;
      }
      items.push(item as Awaited<T>);
      if (items.length === this.batchSize) {
        yield this.collateFn(items);
        items = [];
      }
    }
    if (items.length > 0 && !this.dropLast) yield this.collateFn(items);
  }

  /** The batches of one epoch, one after another, without read-ahead. */
  private async *produce(): AsyncGenerator<B> {
    const convert = this.convert;
    if (convert && this.sampler) {
      for (const i of this.sampler) {
        await nextTick();
        yield convert(await this.map!.getItem(i));
      }
      return;
    }
    if (this.batchSampler) {
      for (const indices of this.batchSampler) {
        await nextTick();
        yield await this.fetchAsync(indices);
      }
      return;
    }
    const ds = this.dataset as AsyncIterable<T> & Partial<Iterable<T>>;
    const source: AsyncIterable<T> | Iterable<T> =
      typeof ds[Symbol.asyncIterator] === "function" ? ds : (ds as Iterable<T>);
    let items: Awaited<T>[] = [];
    for await (const item of source) {
      if (convert) {
        yield convert(item);
        await nextTick();
        continue;
      }
      items.push(item as Awaited<T>);
      if (items.length === this.batchSize) {
        yield this.collateFn(items);
        items = [];
        await nextTick();
      }
    }
    if (items.length > 0 && !this.dropLast) yield this.collateFn(items);
  }

  /** Async iteration: while you work on batch k, batches k+1..k+prefetch are being made. */
  async *[Symbol.asyncIterator](): AsyncIterator<B> {
    const source = this.produce();
    const depth = this.prefetch;
    const ahead: Promise<IteratorResult<B>>[] = [];
    const pull = () => {
      const p = source.next();
      p.catch(() => {}); // reported when awaited, in order
      ahead.push(p);
    };
    try {
      while (true) {
        if (ahead.length === 0) pull();
        const next = ahead.shift()!;
        while (ahead.length < depth) pull();
        const r = await next;
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await source.return(undefined).catch(() => {});
    }
  }
}

function mutex(): TypeError {
  return new TypeError(
    "DataLoader: batchSampler option is mutually exclusive with batchSize, shuffle, sampler, and dropLast",
  );
}
