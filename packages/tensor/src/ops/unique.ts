/**
 * unique and unique_consecutive, with PyTorch 1.13's results: sorted unique values (or slices along `dim`), the
 * inverse indices and the counts, int64 as PyTorch's (int32 on a backend without int64).
 *
 * Composed of the backend's stable sort, cumsum, gather and scatter: the runs of equal values in sorted order are
 * numbered by a cumsum of "differs from the previous one", and each run's first position is scattered to its
 * number. Unique slices along `dim` are sorted lexicographically by one stable sort per element of a slice, from
 * the last to the first (a radix sort). The one value read back is the number of unique values (the result's size),
 * so these need a device with synchronous reads, as `nonzero` does.
 *
 * Differences from PyTorch 1.13, whose CPU kernel does these inconsistently: `sorted=False` also sorts (PyTorch
 * returns its hash set's order, which no order promises), and each NaN is a value of its own, sorted last with a
 * count of 1 (PyTorch 1.13 places NaN out of order with a count of 0).
 */
import { defaultIntDtype } from "../dtype";
import { DeviceError, IndexError, ShapeError } from "../errors";
import { noGrad as noRecord } from "../grad";
import { normDim } from "../shape";
import {
  type AnyParam,
  arg,
  k,
  type Overloaded,
  op,
  type Param,
  type Signature,
  self,
  signature,
} from "../signature";
import type { Tensor } from "../tensor";
import { arange, full } from "./creation";
import { cat } from "./view";

/** Options of an index tensor on `t`'s device: its backend's default integer (PyTorch's int64). */
const ints = (t: Tensor) => ({ dtype: defaultIntDtype(t.backend), device: t.device });

interface Runs {
  /** Run number of each position in the given order (int64 [n]). */
  runId: Tensor;
  /** Position (in the given order) where each run starts (int64 [count]). */
  starts: Tensor;
  /** Length of each run (int64 [count]). */
  counts: Tensor;
}

/** Runs of equal neighbours in a sequence of n >= 1 items, from `fresh` (bool [n - 1]: item i + 1 differs from i). */
function runsOf(fresh: Tensor, n: number, what: string): Runs {
  const dev = { device: fresh.device };
  const isStart = cat([full([1], true, { dtype: "bool", ...dev }), fresh], 0);
  const runId = isStart.to(ints(fresh).dtype).cumsum(0).sub(1);
  if (!fresh.backend.readSync) {
    throw new DeviceError(
      `${what}() reads the input's values (the result's size depends on them), which needs a device with synchronous reads; use (await x.toAsync("cpu")).${what}(...)`,
    );
  }
  const count = (runId.at(-1).item() as number) + 1;
  // each run's first position goes to its run number; the other positions to a spare slot past the end
  const slot = runId.maskedFill(isStart.logicalNot(), count);
  const pos = arange(n, ints(fresh));
  const starts = full([count + 1], 0, ints(fresh))
    .scatter(0, slot, pos)
    .narrow(0, 0, count);
  const ends = cat([starts.narrow(0, 1, count - 1), full([1], n, ints(fresh))], 0);
  return { runId, starts, counts: ends.sub(starts) };
}

/** (output, inverse, counts) of unique / unique_consecutive without `dim`. */
function uniqueFlat(x: Tensor, consecutive: boolean, what: string): [Tensor, Tensor, Tensor] {
  const flat = x.reshape(-1);
  const n = flat.numel();
  const dev = { device: x.device };
  if (n === 0) {
    return [full([0], 0, { dtype: x.dtype, ...dev }), full(x.shape, 0, ints(x)), full([0], 0, ints(x))];
  }
  const sorted = consecutive ? null : flat.sort();
  const values = sorted ? sorted.values : flat;
  const fresh = values.narrow(0, 1, n - 1).ne(values.narrow(0, 0, n - 1));
  const { runId, starts, counts } = runsOf(fresh, n, what);
  const out = values.indexSelect(0, starts);
  const inverse = sorted ? full([n], 0, ints(x)).scatter(0, sorted.indices, runId) : runId;
  return [out, inverse.reshape(x.shape), counts];
}

/** (output, inverse, counts) of unique / unique_consecutive of the slices along `dim`. */
function uniqueDim(x: Tensor, dim: number, consecutive: boolean, what: string): [Tensor, Tensor, Tensor] {
  if (x.ndim === 0) throw new IndexError(`Dimension specified as ${dim} but tensor has no dimensions`);
  const d = normDim(dim, x.ndim, what);
  const zeroDims = x.shape.filter((s) => s === 0).length;
  const dev = { device: x.device };
  if (x.shape[d] === 0) {
    if (zeroDims > 1) {
      throw new ShapeError("Number of zero sized dimensions is more than one, so unique cannot be applied ");
    }
    const none = full([0], 0, ints(x));
    return [x.clone(), none, none.clone()];
  }
  if (zeroDims > 0) {
    throw new ShapeError(
      "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied",
    );
  }
  const n = x.shape[d];
  const others = x.shape.map((_, i) => i).filter((i) => i !== d);
  const moved = x.permute([d, ...others]);
  const rows = moved.reshape([n, -1]);
  const m = rows.shape[1];
  // lexicographic order of the rows: stable sorts by each column, the last column first
  let order = arange(n, ints(x));
  if (!consecutive) {
    for (let j = m - 1; j >= 0; j--) {
      const key = rows.select(1, j).indexSelect(0, order);
      order = order.indexSelect(0, key.sort(0).indices);
    }
  }
  const sortedRows = consecutive ? rows : rows.indexSelect(0, order);
  const fresh =
    n > 1
      ? sortedRows
          .narrow(0, 1, n - 1)
          .ne(sortedRows.narrow(0, 0, n - 1))
          .any(1)
      : full([0], false, { dtype: "bool", ...dev });
  const { runId, starts, counts } = runsOf(fresh, n, what);
  const kept = sortedRows.indexSelect(0, starts).reshape([starts.shape[0], ...moved.shape.slice(1)]);
  // back to the input's dim order
  const back = [0, ...others].map((_, i) => [d, ...others].indexOf(i));
  const out = kept.permute(back).contiguous();
  const inverse = consecutive ? runId : full([n], 0, ints(x)).scatter(0, order, runId);
  return [out, inverse, counts];
}

type Result = Tensor | Tensor[];
function pickResults(r: [Tensor, Tensor, Tensor], returnInverse: boolean, returnCounts: boolean): Result {
  if (!returnInverse && !returnCounts) return r[0];
  const out = [r[0]];
  if (returnInverse) out.push(r[1]);
  if (returnCounts) out.push(r[2]);
  return out;
}

const sortedArg = arg("sorted", k.bool, true);
const inverseArg = arg("returnInverse", k.bool, false);
const countsArg = arg("returnCounts", k.bool, false);
const dimArg = arg.opt("dim", k.int);

const UNIQUE = signature("unique", [self, sortedArg, inverseArg, countsArg, dimArg]);
const UNIQUE_CONSECUTIVE = signature("uniqueConsecutive", [self, inverseArg, countsArg, dimArg]);

// The result's type by the flags, for TypeScript (one declared signature each, as `nonzero`)
type Flag<N extends string, V extends boolean> = V extends true
  ? Param<N, true, false>
  : Param<N, false, true>;
type Form<P extends readonly AnyParam[], R> = { readonly signature: Signature<P, []> } & ((
  ...a: never[]
) => R);
type UniqueForm<I extends boolean, C extends boolean, R> = Form<
  [
    typeof self,
    Param<"sorted", boolean, true>,
    Flag<"returnInverse", I>,
    Flag<"returnCounts", C>,
    Param<"dim", number | null, true>,
  ],
  R
>;
type ConsecutiveForm<I extends boolean, C extends boolean, R> = Form<
  [typeof self, Flag<"returnInverse", I>, Flag<"returnCounts", C>, Param<"dim", number | null, true>],
  R
>;
type Pair = [output: Tensor, second: Tensor];
type Triple = [output: Tensor, inverse: Tensor, counts: Tensor];

/**
 * `unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None)`: the sorted unique elements (or
 * unique slices along `dim`), and with `returnInverse` / `returnCounts` a tuple adding the index of each input
 * element (slice) in the output and the count of each unique one. Not differentiable, as in PyTorch.
 */
export const unique = Object.assign(
  op(
    UNIQUE,
    ({ input, returnInverse, returnCounts, dim }): Result =>
      noRecord(() =>
        pickResults(
          dim === null ? uniqueFlat(input, false, "unique") : uniqueDim(input, dim, false, "unique"),
          returnInverse,
          returnCounts,
        ),
      ),
  ),
  { signatures: [UNIQUE] },
) as unknown as Overloaded<
  UniqueForm<false, false, Tensor>,
  UniqueForm<true, false, Pair>,
  UniqueForm<false, true, Pair>,
  UniqueForm<true, true, Triple>
>;

/**
 * `unique_consecutive(input, return_inverse=False, return_counts=False, dim=None)`: one element (or slice along
 * `dim`) of each run of equal consecutive ones, with the optional inverse indices and run lengths.
 */
export const uniqueConsecutive = Object.assign(
  op(
    UNIQUE_CONSECUTIVE,
    ({ input, returnInverse, returnCounts, dim }): Result =>
      noRecord(() =>
        pickResults(
          dim === null
            ? uniqueFlat(input, true, "uniqueConsecutive")
            : uniqueDim(input, dim, true, "uniqueConsecutive"),
          returnInverse,
          returnCounts,
        ),
      ),
  ),
  { signatures: [UNIQUE_CONSECUTIVE] },
) as unknown as Overloaded<
  ConsecutiveForm<false, false, Tensor>,
  ConsecutiveForm<true, false, Pair>,
  ConsecutiveForm<false, true, Pair>,
  ConsecutiveForm<true, true, Triple>
>;
