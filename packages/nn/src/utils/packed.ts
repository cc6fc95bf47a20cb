/**
 * `PackedSequence` (torch.nn.utils.rnn), and the host copy of its batch order: the permutations are kept as numbers
 * where they were made (`packPaddedSequence`, the recurrent modules), so unpacking needs no read of a device tensor.
 */
import {
  arg,
  type CallsOf,
  defaultIntDtype,
  type Kind,
  k,
  signature,
  type Tensor,
  tensor,
} from "@cinder/tensor";

const sequencesKind: Kind<Tensor | readonly Tensor[]> = k.or(k.tensor, k.tensors);

/** The inverse of a permutation (PyTorch's `invert_permutation`). */
export function invert(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

/** A permutation as an index tensor on `like`'s device (its default integer: PyTorch's int64 on the CPU). */
export const indexTensor = (idx: readonly number[], like: Tensor): Tensor =>
  tensor([...idx], { dtype: defaultIntDtype(like.backend), device: like.device });

const ints = (t: Tensor): number[] => Array.from(t.to("cpu").data() as ArrayLike<number>);
/** The sorted indices as numbers, for sequences whose order was made on the host. */
const hostOrder = new WeakMap<PackedSequence, readonly number[]>();

const PACKED_SEQUENCE = signature("nn.utils.rnn.PackedSequence", [
  arg("data", sequencesKind),
  arg.opt("batchSizes", k.tensor),
  arg.opt("sortedIndices", k.tensor),
  arg.opt("unsortedIndices", k.tensor),
]);

/**
 * `PackedSequence(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None)`: a batch of sequences of
 * different lengths, packed time step by time step. `data` [sum(batchSizes), *] holds step 0 of every sequence
 * (longest first), then step 1 of those still running, ...; `batchSizes` (int32, on the CPU) how many run at each
 * step. `sortedIndices` orders the original batch by decreasing length, `unsortedIndices` restores it (null when
 * the batch was already sorted). Like PyTorch's named tuple it destructures (`const [data, batchSizes] = packed`)
 * and indexes (`packed[0]`). Build one with `packPaddedSequence` or `packSequence`; the recurrent modules take it
 * and return one.
 */
export class PackedSequence {
  static readonly signature = PACKED_SEQUENCE;
  /** The packed steps, [sum(batchSizes), *]. */
  readonly data: Tensor;
  /** How many sequences are still running at each step (int32, CPU, non-increasing). */
  readonly batchSizes: Tensor;
  /** The original batch indices in decreasing order of length, or null. */
  readonly sortedIndices: Tensor | null;
  /** The inverse of `sortedIndices`, or null. */
  readonly unsortedIndices: Tensor | null;
  /** A named tuple's length: 4. */
  readonly length = 4;

  constructor(...args: CallsOf<typeof PACKED_SEQUENCE>) {
    const a = PACKED_SEQUENCE.parse(args);
    let data = a.data as Tensor | readonly Tensor[];
    let batchSizes = a.batchSizes;
    if (Array.isArray(data)) {
      // PyTorch's PackedSequence((data, batch_sizes)) form
      if (data.length !== 2 || batchSizes !== null)
        throw new TypeError(
          "PackedSequence: expected data and batch_sizes, or one list [data, batch_sizes] with batch_sizes None",
        );
      [data, batchSizes] = data as readonly Tensor[];
    }
    if (batchSizes === null)
      throw new TypeError(
        "PackedSequence: batch_sizes is required (build packed batches with packPaddedSequence)",
      );
    if (batchSizes.ndim !== 1 || batchSizes.isFloatingPoint() || batchSizes.device !== "cpu")
      throw new TypeError(
        `PackedSequence: batch_sizes should always be a 1-D integer CPU tensor, got ${batchSizes.ndim}-D ${batchSizes.dtype} on ${batchSizes.device}`,
      );
    this.data = data as Tensor;
    this.batchSizes = batchSizes;
    this.sortedIndices = a.sortedIndices;
    this.unsortedIndices =
      a.unsortedIndices ??
      (a.sortedIndices
        ? indexTensor(
            invert(Array.from(a.sortedIndices.to("cpu").data() as ArrayLike<number>)),
            a.sortedIndices,
          )
        : null);
  }
  /** `packed[0]`: data. */
  get 0(): Tensor {
    return this.data;
  }
  /** `packed[1]`: batchSizes. */
  get 1(): Tensor {
    return this.batchSizes;
  }
  /** `packed[2]`: sortedIndices. */
  get 2(): Tensor | null {
    return this.sortedIndices;
  }
  /** `packed[3]`: unsortedIndices. */
  get 3(): Tensor | null {
    return this.unsortedIndices;
  }
  /** Destructuring as PyTorch's named tuple: `[data, batchSizes, sortedIndices, unsortedIndices]`. */
  *[Symbol.iterator](): Generator<Tensor | null> {
    yield this.data;
    yield this.batchSizes;
    yield this.sortedIndices;
    yield this.unsortedIndices;
  }
  /** The same sequence with `data` (and the permutations) moved to a device; `batchSizes` stays on the CPU. */
  to(device: string): PackedSequence {
    const moved = new PackedSequence(
      this.data.to(device),
      this.batchSizes,
      this.sortedIndices?.to(device) ?? null,
      this.unsortedIndices?.to(device) ?? null,
    );
    const order = hostOrder.get(this);
    if (order) hostOrder.set(moved, order);
    return moved;
  }
  /** The batch sizes as numbers. */
  batchSizeList(): number[] {
    return Array.from(this.batchSizes.data() as ArrayLike<number>);
  }
  /** PyTorch's repr of the named tuple. */
  toString(): string {
    return `PackedSequence(data=${this.data}, batch_sizes=${this.batchSizes}, sorted_indices=${this.sortedIndices ?? "None"}, unsorted_indices=${this.unsortedIndices ?? "None"})`;
  }
}

/**
 * A packed sequence from its parts with the batch order given as numbers (`sorted`, null when already sorted): the
 * index tensors are made on `data`'s device and the order is remembered on the host.
 */
export function packed(
  data: Tensor,
  batchSizes: readonly number[],
  sorted: readonly number[] | null,
): PackedSequence {
  const p = new PackedSequence(
    data,
    tensor([...batchSizes], { dtype: "int64", device: "cpu" }), // PyTorch's: int64 on the CPU
    sorted ? indexTensor(sorted, data) : null,
    sorted ? indexTensor(invert(sorted), data) : null,
  );
  if (sorted) hostOrder.set(p, sorted);
  return p;
}

/** `p`'s batch (sizes and order) with other data: the recurrent modules' packed output. */
export function withData(p: PackedSequence, data: Tensor): PackedSequence {
  const q = new PackedSequence(data, p.batchSizes, p.sortedIndices, p.unsortedIndices);
  const order = hostOrder.get(p);
  if (order) hostOrder.set(q, order);
  return q;
}

/** The sorted indices as numbers (read from the tensor only for a sequence built by hand), or null. */
export function sortedOrder(p: PackedSequence): readonly number[] | null {
  if (!p.sortedIndices) return null;
  return hostOrder.get(p) ?? ints(p.sortedIndices);
}
