/**
 * `DistributedSampler`: each of `numReplicas` ranks reads its own `1/numReplicas` of the dataset, as
 * `torch.utils.data.distributed.DistributedSampler` (the same padding, `dropLast` trimming and rank striding).
 *
 * Shuffled orders come from Cinder's counter-based generator seeded with `seed + epoch`, so every rank draws the
 * same permutation and `setEpoch` changes it; Cinder's generator is not PyTorch's stream, so shuffled lists differ
 * from PyTorch's (unshuffled ones are identical, which the fixtures check).
 */
import { arg, type CallsOf, Generator, k, signature } from "@cinder/tensor";
import { dataSourceKind, permutation, type Sampler } from "./sampler";

const DISTRIBUTED_SAMPLER = signature(
  "utils.data.DistributedSampler",
  [
    arg("dataset", dataSourceKind),
    arg.opt("numReplicas", k.int),
    arg.opt("rank", k.int),
    arg("shuffle", k.bool, true),
    arg("seed", k.int, 0),
    arg("dropLast", k.bool, false),
  ],
  [],
  { torch: "torch.utils.data.distributed.DistributedSampler" },
);

/** What `@cinder/distributed` publishes while a default process group exists (read for the defaults). */
interface DefaultGroup {
  rank: number;
  worldSize: number;
}
const GROUP_KEY = Symbol.for("@cinder/distributed.defaultGroup");

function defaultGroup(what: string): DefaultGroup {
  const g = (globalThis as Record<symbol, unknown>)[GROUP_KEY] as DefaultGroup | undefined;
  if (g === undefined)
    throw new Error(
      `DistributedSampler: ${what} not given and no default process group is initialized; ` +
        "call initProcessGroup() of @cinder/distributed first, or pass numReplicas and rank",
    );
  return g;
}

/**
 * `DistributedSampler(dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False)`: this rank's
 * indices. `numReplicas` and `rank` default to the default process group's world size and rank. Without `dropLast`
 * the index list is padded with its own beginning to a multiple of `numReplicas`; with it, the tail is dropped.
 * Call `setEpoch(epoch)` before each epoch so that shuffling differs between epochs.
 */
export class DistributedSampler implements Sampler<number> {
  static readonly signature = DISTRIBUTED_SAMPLER;
  /** The dataset's length. */
  readonly datasetLength: number;
  /** The number of ranks sharing the dataset. */
  readonly numReplicas: number;
  /** This rank. */
  readonly rank: number;
  /** Whether each epoch draws a new order (from `seed + epoch`). */
  readonly shuffle: boolean;
  /** The seed every rank shares. */
  readonly seed: number;
  /** Drop the tail that does not divide evenly (instead of padding). */
  readonly dropLast: boolean;
  /** Indices this rank yields per epoch. */
  readonly numSamples: number;
  /** `numSamples * numReplicas`. */
  readonly totalSize: number;
  /** The epoch the order is drawn for (`setEpoch`). */
  epoch = 0;

  constructor(...args: CallsOf<typeof DISTRIBUTED_SAMPLER>) {
    const a = DISTRIBUTED_SAMPLER.parse(args);
    this.datasetLength = typeof a.dataset === "number" ? a.dataset : a.dataset.length;
    this.numReplicas = a.numReplicas ?? defaultGroup("numReplicas").worldSize;
    this.rank = a.rank ?? defaultGroup("rank").rank;
    if (this.numReplicas < 1)
      throw new RangeError(`DistributedSampler: numReplicas must be >= 1, got ${this.numReplicas}`);
    if (this.rank >= this.numReplicas || this.rank < 0)
      throw new RangeError(
        `DistributedSampler: Invalid rank ${this.rank}, rank should be in the interval [0, ${this.numReplicas - 1}]`,
      );
    this.shuffle = a.shuffle;
    this.seed = a.seed;
    this.dropLast = a.dropLast;
    const n = this.datasetLength;
    const w = this.numReplicas;
    // (| 0: Math.ceil(-0.5) is -0, Python's math.ceil gives 0)
    this.numSamples = (this.dropLast && n % w !== 0 ? Math.ceil((n - w) / w) : Math.ceil(n / w)) | 0;
    this.totalSize = this.numSamples * w;
  }

  /** Indices yielded per iteration (`numSamples`). */
  get length(): number {
    return this.numSamples;
  }

  /** `set_epoch(epoch)`: the order of the next iterations is drawn from `seed + epoch`. */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch))
      throw new TypeError(`DistributedSampler.setEpoch: expected an int, got ${epoch}`);
    this.epoch = epoch;
  }

  /** This rank's indices of the epoch. */
  indices(): number[] {
    const n = this.datasetLength;
    let all: number[] = this.shuffle
      ? Array.from(permutation(n, new Generator().manualSeed(this.seed + this.epoch)))
      : Array.from({ length: n }, (_, i) => i);
    if (!this.dropLast) {
      const pad = this.totalSize - all.length;
      if (pad > 0 && all.length > 0) {
        const reps = Math.ceil(pad / all.length);
        all = all.concat(
          Array.from({ length: reps }, () => all)
            .flat()
            .slice(0, pad),
        );
      }
    } else all = all.slice(0, this.totalSize);
    const mine: number[] = [];
    for (let i = this.rank; i < this.totalSize; i += this.numReplicas) mine.push(all[i]);
    return mine;
  }

  /** Yields this rank's indices of the epoch. */
  *[Symbol.iterator](): Iterator<number> {
    yield* this.indices();
  }
}
