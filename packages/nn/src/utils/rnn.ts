/**
 * `torch.nn.utils.rnn`: padded batches of variable-length sequences and `PackedSequence`, PyTorch 1.13's layout
 * (time-major `data` rows, `batchSizes` per step, sorted/unsorted permutations). Everything is composed of tensor
 * ops (narrow, cat, stack, indexSelect), so gradients flow through packing and padding on every device.
 */
import {
  arg,
  type CallsOf,
  cat,
  full,
  type Kind,
  k,
  ShapeError,
  signature,
  stack,
  type Tensor,
  tensor,
} from "@cinder/tensor";
import { indexTensor, invert, PackedSequence, packed, sortedOrder } from "./packed";

/** Lengths as PyTorch takes them: a 1-D integer tensor (read on the host) or a list of ints. */
const lengthsKind: Kind<Tensor | readonly number[]> = k.or(k.tensor, k.ints);
const sequencesKind: Kind<Tensor | readonly Tensor[]> = k.or(k.tensor, k.tensors);

export { PackedSequence };

/** The lengths as numbers (a tensor is read synchronously: PyTorch keeps them on the CPU too). */
function hostLengths(lengths: Tensor | readonly number[], what: string): number[] {
  if (Array.isArray(lengths)) return [...lengths];
  const t = lengths as Tensor;
  if (t.ndim !== 1 || t.isFloatingPoint())
    throw new ShapeError(
      `${what}: lengths must be a 1-D integer tensor or a list of ints, got ${t.ndim}-D ${t.dtype}`,
    );
  return Array.from(t.data() as ArrayLike<number>);
}

const PAD_SEQUENCE = signature("nn.utils.rnn.padSequence", [
  arg("sequences", sequencesKind),
  arg("batchFirst", k.bool, false),
  arg("paddingValue", k.float, 0),
]);

/** Sequences [L_i, *] padded with `value` to [maxLen, B, *] (time-major) or [B, maxLen, *]. */
function padImpl(seqs: readonly Tensor[], batchFirst: boolean, value: number, total?: number): Tensor {
  if (seqs.length === 0) throw new ShapeError("padSequence: received an empty list of sequences");
  const tail = seqs[0].shape.slice(1);
  for (const [i, s] of seqs.entries()) {
    if (s.ndim !== tail.length + 1 || s.shape.slice(1).some((d, j) => d !== tail[j]))
      throw new ShapeError(
        `padSequence: every sequence must be [L, ${tail.join(", ")}] like sequence 0 (${seqs[0].shape.join(", ")}), got [${s.shape.join(", ")}] at ${i}`,
      );
  }
  const maxLen = total ?? Math.max(...seqs.map((s) => s.shape[0]));
  const padded = seqs.map((s) =>
    s.shape[0] === maxLen
      ? s
      : cat([s, full([maxLen - s.shape[0], ...tail], value, { dtype: s.dtype, device: s.device })]),
  );
  return stack(padded, batchFirst ? 0 : 1);
}

/**
 * `pad_sequence(sequences, batch_first=False, padding_value=0.0)`: a list of tensors [L_i, *] (or one tensor, split
 * along dim 0) padded to the longest: [maxLen, B, *], or [B, maxLen, *] with `batchFirst`.
 */
export function padSequence(...args: CallsOf<typeof PAD_SEQUENCE>): Tensor {
  const { sequences, batchFirst, paddingValue } = PAD_SEQUENCE.parse(args);
  const seqs = Array.isArray(sequences) ? (sequences as readonly Tensor[]) : (sequences as Tensor).unbind(0);
  return padImpl(seqs, batchFirst, paddingValue);
}

const PACK_PADDED = signature("nn.utils.rnn.packPaddedSequence", [
  arg("input", k.tensor),
  arg("lengths", lengthsKind),
  arg("batchFirst", k.bool, false),
  arg("enforceSorted", k.bool, true),
]);

/**
 * `pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True)`: a padded batch [T, B, *] (or
 * [B, T, *]) and each sequence's length as a `PackedSequence`. With `enforceSorted` the lengths must be
 * non-increasing; otherwise the batch is sorted first (stably, where PyTorch's order among equal lengths is
 * unspecified) and the permutation kept so that results come back in the original order.
 */
export function packPaddedSequence(...args: CallsOf<typeof PACK_PADDED>): PackedSequence {
  const { input, lengths, batchFirst, enforceSorted } = PACK_PADDED.parse(args);
  let lens = hostLengths(lengths, "packPaddedSequence");
  let x = input;
  let sorted: number[] | null = null;
  if (!enforceSorted) {
    const perm = lens.map((_, i) => i).sort((a, b) => lens[b] - lens[a]);
    lens = perm.map((i) => lens[i]);
    sorted = perm;
    if (x.ndim >= 2) x = x.indexSelect(batchFirst ? 0 : 1, indexTensor(perm, input));
  }
  if (x.ndim < 2)
    throw new ShapeError(`packPaddedSequence: input must have at least 2 dims [T, B, *], got ${x.ndim}-D`);
  if (batchFirst) x = x.transpose(0, 1);
  const [steps, batch] = x.shape;
  if (lens.length !== batch)
    throw new ShapeError(
      `packPaddedSequence: Expected \`len(lengths)\` to be equal to batch_size, but got ${lens.length} (batch_size=${batch})`,
    );
  if (lens.some((l) => !(l > 0)))
    throw new RangeError(
      "packPaddedSequence: Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0",
    );
  if (lens.some((l, i) => i > 0 && l > lens[i - 1]))
    throw new RangeError(
      "packPaddedSequence: `lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do not need ONNX exportability.",
    );
  if (lens[0] > steps)
    throw new RangeError(
      `packPaddedSequence: a length of ${lens[0]} exceeds the input's ${steps} time steps (input of shape [${input.shape.join(", ")}], batchFirst=${batchFirst})`,
    );
  const batchSizes: number[] = [];
  for (let t = 0; t < lens[0]; t++) batchSizes.push(lens.filter((l) => l > t).length);
  const data = cat(batchSizes.map((b, t) => x.select(0, t).narrow(0, 0, b)));
  return packed(data, batchSizes, sorted);
}

const PAD_PACKED = signature("nn.utils.rnn.padPackedSequence", [
  arg("sequence", k.instance(PackedSequence, "PackedSequence")),
  arg("batchFirst", k.bool, false),
  arg("paddingValue", k.float, 0),
  arg.opt("totalLength", k.int),
]);

/**
 * `pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None)`: the inverse of
 * `packPaddedSequence`: `[padded, lengths]`, padded [T, B, *] (or [B, T, *]) in the original batch order, T the
 * longest length or `totalLength`; `lengths` an int32 CPU tensor.
 */
export function padPackedSequence(...args: CallsOf<typeof PAD_PACKED>): [Tensor, Tensor] {
  const { sequence, batchFirst, paddingValue, totalLength } = PAD_PACKED.parse(args);
  const sizes = sequence.batchSizeList();
  const maxLen = sizes.length;
  if (totalLength !== null && totalLength < maxLen)
    throw new RangeError(
      `padPackedSequence: Expected total_length to be at least the length of the longest sequence in input, but got total_length=${totalLength} and max sequence length being ${maxLen}`,
    );
  const { data } = sequence;
  const batch = sizes[0];
  const tail = data.shape.slice(1);
  const fill = (rows: number) =>
    full([rows, ...tail], paddingValue, { dtype: data.dtype, device: data.device });
  const steps: Tensor[] = [];
  let at = 0;
  for (const b of sizes) {
    const rows = data.narrow(0, at, b);
    steps.push(b === batch ? rows : cat([rows, fill(batch - b)]));
    at += b;
  }
  for (let t = maxLen; t < (totalLength ?? maxLen); t++) steps.push(fill(batch));
  let padded = stack(steps, 0);
  const lens = Array.from({ length: batch }, (_, i) => sizes.filter((b) => b > i).length);
  let lengths = lens;
  const order = sortedOrder(sequence);
  if (sequence.unsortedIndices && order) {
    padded = padded.indexSelect(1, sequence.unsortedIndices);
    lengths = invert(order).map((i) => lens[i]);
  }
  return [batchFirst ? padded.transpose(0, 1) : padded, tensor(lengths, { dtype: "int64", device: "cpu" })];
}

const PACK_SEQUENCE = signature("nn.utils.rnn.packSequence", [
  arg("sequences", k.tensors),
  arg("enforceSorted", k.bool, true),
]);

/** `pack_sequence(sequences, enforce_sorted=True)`: a list of tensors [L_i, *] as a `PackedSequence`. */
export function packSequence(...args: CallsOf<typeof PACK_SEQUENCE>): PackedSequence {
  const { sequences, enforceSorted } = PACK_SEQUENCE.parse(args);
  const lengths = sequences.map((s) => s.shape[0]);
  return packPaddedSequence(padImpl(sequences, false, 0), lengths, false, enforceSorted);
}

const UNPACK_SEQUENCE = signature("nn.utils.rnn.unpackSequence", [
  arg("packedSequences", k.instance(PackedSequence, "PackedSequence")),
]);

/** `unpack_sequence(packed_sequences)`: a `PackedSequence` back to its list of tensors [L_i, *], in batch order. */
export function unpackSequence(...args: CallsOf<typeof UNPACK_SEQUENCE>): Tensor[] {
  const { packedSequences } = UNPACK_SEQUENCE.parse(args);
  const [padded, lengths] = padPackedSequence(packedSequences, true);
  return unpadImpl(padded, lengths, true);
}

const UNPAD_SEQUENCE = signature("nn.utils.rnn.unpadSequence", [
  arg("paddedSequences", k.tensor),
  arg("lengths", lengthsKind),
  arg("batchFirst", k.bool, false),
]);

function unpadImpl(padded: Tensor, lengths: Tensor | readonly number[], batchFirst: boolean): Tensor[] {
  const x = batchFirst ? padded : padded.transpose(0, 1);
  const lens = hostLengths(lengths, "unpadSequence");
  if (lens.length !== x.shape[0] || lens.some((l) => l < 0 || l > x.shape[1]))
    throw new ShapeError(
      `unpadSequence: lengths [${lens.join(", ")}] do not fit a padded batch of ${x.shape[0]} sequences of ${x.shape[1]} steps`,
    );
  return lens.map((l, i) => x.select(0, i).narrow(0, 0, l));
}

/** `unpad_sequence(padded_sequences, lengths, batch_first=False)`: a padded batch back to its list of tensors. */
export function unpadSequence(...args: CallsOf<typeof UNPAD_SEQUENCE>): Tensor[] {
  const { paddedSequences, lengths, batchFirst } = UNPAD_SEQUENCE.parse(args);
  return unpadImpl(paddedSequences, lengths, batchFirst);
}
