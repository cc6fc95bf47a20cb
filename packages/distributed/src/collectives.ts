/**
 * The collectives on tensors (`all_reduce`, `reduce`, `broadcast`, `all_gather`, `all_gather_into_tensor`,
 * `reduce_scatter`, `reduce_scatter_tensor`, `gather`, `scatter`, `barrier`), over a group's backend (`reduce` is
 * an all-reduce whose result only `dst` keeps). How tensors become the backend's arrays, and when a call returns a
 * Promise: `staging.ts`.
 *
 * `group` is the default group (null) or a `newGroup` subgroup; roots (`src`, `dst`) are global ranks, as in
 * PyTorch. On a rank outside the group a collective warns and returns without doing anything (PyTorch's
 * behaviour). `bool` travels as uint8, with `sum` and `product` sent as `max` and `min` (logical or / and); `avg`
 * needs a floating dtype; int64 travels as its exact doubles (sums and products checked first: `int64.ts`).
 */
import { arg, k, op, signature, type Tensor } from "@cinder/tensor";
import type { CollectiveArray, ReduceOpName, Work } from "./backend";
import { DistributedError, REDUCE_OP_NAMES } from "./backend";
import { checkInt64Reduction } from "./int64";
import { groupKind, notInGroup, type ProcessGroup, resolveGroup } from "./process-group";
import { type CollectiveResult, run, writeBack } from "./staging";

export type { CollectiveResult } from "./staging";

/** PyTorch's `ReduceOp`: `ReduceOp.SUM` ... (the values are the protocol's op names). */
export const ReduceOp = Object.freeze({
  SUM: "sum",
  PRODUCT: "product",
  MIN: "min",
  MAX: "max",
  AVG: "avg",
} as const satisfies Record<string, ReduceOpName>);

const reduceOpKind = k.oneOf(...REDUCE_OP_NAMES);
const rankKind = k.where(k.int, (r) => r >= 0, "rank >= 0");

/**
 * The op's name for the protocol, given the dtype (bool: or/and; avg only for floats). An int64 sum or product
 * first checks, with every rank of `g`, that its partial results stay exact (`int64.ts`).
 */
function protocolOp(
  op: ReduceOpName,
  t: Tensor,
  what: string,
  g: ProcessGroup,
  inputs: readonly Tensor[],
): ReduceOpName {
  if (t.dtype === "int64" && (op === "sum" || op === "product")) checkInt64Reduction(g, op, inputs, what);
  if (t.dtype === "bool")
    return op === "sum" || op === "max" ? "max" : op === "avg" ? badAvg(t, what) : "min";
  if (op === "avg" && !t.isFloatingPoint()) return badAvg(t, what);
  return op;
}
function badAvg(t: Tensor, what: string): never {
  throw new TypeError(`${what}: ReduceOp.AVG needs a floating-point tensor, got dtype ${t.dtype}`);
}

function checkSame(what: string, ref: Tensor, ts: readonly Tensor[], label: string): void {
  for (const [i, t] of ts.entries()) {
    if (t.dtype !== ref.dtype)
      throw new TypeError(`${what}: ${label}[${i}] has dtype ${t.dtype}, expected ${ref.dtype}`);
    if (t.numel() !== ref.numel())
      throw new RangeError(
        `${what}: ${label}[${i}] has ${t.numel()} elements (shape [${t.shape}]), expected ${ref.numel()} (shape [${ref.shape}])`,
      );
  }
}

function checkList(what: string, label: string, ts: readonly Tensor[], worldSize: number): void {
  if (ts.length !== worldSize)
    throw new RangeError(`${what}: ${label} must hold worldSize = ${worldSize} tensors, got ${ts.length}`);
}

const concat = (parts: CollectiveArray[], like: CollectiveArray): CollectiveArray => {
  const out = new (like.constructor as new (n: number) => CollectiveArray)(
    parts.reduce((s, p) => s + p.length, 0),
  );
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const common = [arg("group", groupKind, null), arg("asyncOp", k.bool, false)] as const;

/** `all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False)`: in place, the reduction over every rank. */
export const allReduce = op(
  signature(
    "distributed.allReduce",
    [arg("tensor", k.tensor), arg("op", reduceOpKind, "sum"), ...common],
    [],
    {
      torch: "torch.distributed.all_reduce",
    },
  ),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "allReduce");
    if (notInGroup(g, "all_reduce")) return undefined;
    const pop = protocolOp(a.op, a.tensor, "allReduce", g, [a.tensor]);
    return run(a.asyncOp, [a.tensor], ([buf]) => ({
      work: g.backend.allReduce(buf, pop),
      finish: () => writeBack(a.tensor, buf),
    }));
  },
);

/**
 * `reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False)`: rank `dst`'s tensor becomes the reduction over
 * every rank; the others' tensors are left as they were.
 */
export const reduce = op(
  signature(
    "distributed.reduce",
    [arg("tensor", k.tensor), arg("dst", rankKind), arg("op", reduceOpKind, "sum"), ...common],
    [],
    { torch: "torch.distributed.reduce" },
  ),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "reduce");
    if (notInGroup(g, "reduce")) return undefined;
    const dst = groupRank(g, "reduce", "dst", a.dst);
    const pop = protocolOp(a.op, a.tensor, "reduce", g, [a.tensor]);
    return run(a.asyncOp, [a.tensor], ([staged]) => {
      // the others keep their tensors: they reduce a copy (the staged array may be the tensor's own memory)
      const buf = g.rank() === dst ? staged : staged.slice();
      return {
        work: g.backend.allReduce(buf, pop),
        finish: () => {
          if (g.rank() === dst) writeBack(a.tensor, buf);
        },
      };
    });
  },
);

/** `broadcast(tensor, src, group=None, async_op=False)`: in place, every rank's tensor becomes rank `src`'s. */
export const broadcast = op(
  signature("distributed.broadcast", [arg("tensor", k.tensor), arg("src", rankKind), ...common], [], {
    torch: "torch.distributed.broadcast",
  }),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "broadcast");
    if (notInGroup(g, "broadcast")) return undefined;
    const src = groupRank(g, "broadcast", "src", a.src);
    return run(a.asyncOp, [a.tensor], ([buf]) => ({
      work: g.backend.broadcast(buf, src),
      finish: () => {
        if (g.rank() !== src) writeBack(a.tensor, buf);
      },
    }));
  },
);

/** The group rank of global rank `r` (a root), or a clear error. */
export function groupRank(g: ProcessGroup, what: string, name: string, r: number): number {
  const world = g.root.ranks.length;
  if (r >= world) throw new RangeError(`${what}: ${name} must be a rank in [0, ${world}), got ${r}`);
  const i = g.ranks.indexOf(r);
  if (i < 0)
    throw new RangeError(`${what}: ${name} = ${r} is not a rank of the group [${g.ranks.join(", ")}]`);
  return i;
}

/** `all_gather(tensor_list, tensor, group=None, async_op=False)`: `tensorList[r]` becomes rank r's `tensor`. */
export const allGather = op(
  signature("distributed.allGather", [arg("tensorList", k.tensors), arg("tensor", k.tensor), ...common], [], {
    torch: "torch.distributed.all_gather",
  }),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "allGather");
    if (notInGroup(g, "all_gather")) return undefined;
    checkList("allGather", "tensorList", a.tensorList, g.size());
    checkSame("allGather", a.tensor, a.tensorList, "tensorList");
    return run(a.asyncOp, [a.tensor], ([input]) => {
      const out = new (input.constructor as new (n: number) => CollectiveArray)(input.length * g.size());
      return {
        work: g.backend.allGather(out, input),
        finish: () => scatterInto(a.tensorList, out, input.length),
      };
    });
  },
);

/** Writes consecutive `n`-element parts of `flat` into `ts`. */
function scatterInto(ts: readonly Tensor[], flat: CollectiveArray, n: number): void {
  for (const [r, t] of ts.entries()) writeBack(t, flat.subarray(r * n, (r + 1) * n));
}

/**
 * `reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False)`: `output` becomes the reduction
 * over ranks of their `inputList[rank]`.
 */
export const reduceScatter = op(
  signature(
    "distributed.reduceScatter",
    [arg("output", k.tensor), arg("inputList", k.tensors), arg("op", reduceOpKind, "sum"), ...common],
    [],
    { torch: "torch.distributed.reduce_scatter" },
  ),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "reduceScatter");
    if (notInGroup(g, "reduce_scatter")) return undefined;
    checkList("reduceScatter", "inputList", a.inputList, g.size());
    checkSame("reduceScatter", a.output, a.inputList, "inputList");
    const pop = protocolOp(a.op, a.output, "reduceScatter", g, a.inputList);
    return run(a.asyncOp, a.inputList, (parts) => {
      const out = new (parts[0].constructor as new (n: number) => CollectiveArray)(parts[0].length);
      return {
        work: g.backend.reduceScatter(out, concat(parts, out), pop),
        finish: () => writeBack(a.output, out),
      };
    });
  },
);

/**
 * `all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False)`: `outputTensor` (worldSize times
 * the input's elements, e.g. the inputs concatenated or stacked along dim 0) becomes every rank's input, rank-major.
 */
export const allGatherIntoTensor = op(
  signature(
    "distributed.allGatherIntoTensor",
    [arg("outputTensor", k.tensor), arg("inputTensor", k.tensor), ...common],
    [],
    { torch: "torch.distributed.all_gather_into_tensor" },
  ),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "allGatherIntoTensor");
    if (notInGroup(g, "all_gather_into_tensor")) return undefined;
    checkFlat("allGatherIntoTensor", a.outputTensor, "outputTensor", a.inputTensor, "inputTensor", g);
    return run(a.asyncOp, [a.outputTensor, a.inputTensor], ([out, input]) => ({
      work: g.backend.allGather(out, input),
      finish: () => writeBack(a.outputTensor, out),
    }));
  },
);

/**
 * `reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False)`: `output` becomes the reduction
 * over ranks of their `input`'s rank-th block (`input` holds worldSize times the output's elements).
 */
export const reduceScatterTensor = op(
  signature(
    "distributed.reduceScatterTensor",
    [arg("output", k.tensor), arg("input", k.tensor), arg("op", reduceOpKind, "sum"), ...common],
    [],
    { torch: "torch.distributed.reduce_scatter_tensor" },
  ),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "reduceScatterTensor");
    if (notInGroup(g, "reduce_scatter_tensor")) return undefined;
    checkFlat("reduceScatterTensor", a.input, "input", a.output, "output", g);
    const pop = protocolOp(a.op, a.output, "reduceScatterTensor", g, [a.input]);
    return run(a.asyncOp, [a.output, a.input], ([out, input]) => ({
      work: g.backend.reduceScatter(out, input, pop),
      finish: () => writeBack(a.output, out),
    }));
  },
);

/**
 * `big` has the dtype of `small` and worldSize times its elements; they share no memory, except that an all-gather's
 * input may be exactly this rank's block of the output (in place, as PyTorch's FSDP does).
 */
function checkFlat(
  what: string,
  big: Tensor,
  bigName: string,
  small: Tensor,
  smallName: string,
  g: ProcessGroup,
): void {
  const w = g.size();
  if (big.dtype !== small.dtype)
    throw new TypeError(
      `${what}: ${bigName} has dtype ${big.dtype}, expected ${smallName}'s dtype ${small.dtype}`,
    );
  if (big.numel() !== small.numel() * w)
    throw new RangeError(
      `${what}: ${bigName} must hold worldSize (${w}) x ${small.numel()} = ${small.numel() * w} elements, got ${big.numel()} (shape [${big.shape}])`,
    );
  const inPlace =
    what === "allGatherIntoTensor" &&
    big.isContiguous() &&
    small.isContiguous() &&
    small.offset === big.offset + g.rank() * small.numel();
  if (big.storage === small.storage && !inPlace)
    throw new RangeError(
      `${what}: ${bigName} and ${smallName} share memory${what === "allGatherIntoTensor" ? " without the input being this rank's block of the output" : ""}`,
    );
}

/** `gather(tensor, gather_list=None, dst=0, group=None, async_op=False)`: on `dst`, `gatherList[r]` becomes rank r's `tensor`. */
export const gather = op(
  signature(
    "distributed.gather",
    [arg("tensor", k.tensor), arg.opt("gatherList", k.tensors), arg("dst", rankKind, 0), ...common],
    [],
    { torch: "torch.distributed.gather" },
  ),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "gather");
    if (notInGroup(g, "gather")) return undefined;
    const dst = groupRank(g, "gather", "dst", a.dst);
    const isDst = g.rank() === dst;
    if (isDst) {
      if (a.gatherList === null) throw new TypeError(`gather: rank ${a.dst} is dst and needs a gatherList`);
      checkList("gather", "gatherList", a.gatherList, g.size());
      checkSame("gather", a.tensor, a.gatherList, "gatherList");
    } else if (a.gatherList !== null && a.gatherList.length > 0)
      throw new TypeError(`gather: gatherList is only given on rank dst = ${a.dst}, not on rank ${g.rank()}`);
    return run(a.asyncOp, [a.tensor], ([input]) => {
      const out = isDst
        ? new (input.constructor as new (n: number) => CollectiveArray)(input.length * g.size())
        : null;
      return {
        work: g.backend.gather(input, out, dst),
        finish: () => {
          if (out !== null && a.gatherList !== null) scatterInto(a.gatherList, out, input.length);
        },
      };
    });
  },
);

/** `scatter(tensor, scatter_list=None, src=0, group=None, async_op=False)`: `tensor` becomes rank `src`'s `scatterList[rank]`. */
export const scatter = op(
  signature(
    "distributed.scatter",
    [arg("tensor", k.tensor), arg.opt("scatterList", k.tensors), arg("src", rankKind, 0), ...common],
    [],
    { torch: "torch.distributed.scatter" },
  ),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "scatter");
    if (notInGroup(g, "scatter")) return undefined;
    const src = groupRank(g, "scatter", "src", a.src);
    const isSrc = g.rank() === src;
    const list = a.scatterList ?? [];
    if (isSrc) {
      checkList("scatter", "scatterList", list, g.size());
      checkSame("scatter", a.tensor, list, "scatterList");
    } else if (list.length > 0)
      throw new TypeError(
        `scatter: scatterList is only given on rank src = ${a.src}, not on rank ${g.rank()}`,
      );
    return run(a.asyncOp, isSrc ? [a.tensor, ...list] : [a.tensor], ([out, ...parts]) => ({
      work: g.backend.scatter(out, isSrc ? concat(parts, out) : null, src),
      finish: () => writeBack(a.tensor, out),
    }));
  },
);

/** `barrier(group=GroupMember.WORLD, async_op=False, device_ids=None)`: returns once every rank has called it. */
export const barrier = op(
  signature(
    "distributed.barrier",
    [...common, arg.unsupported("deviceIds", null, "no device needs selecting")],
    [],
    { torch: "torch.distributed.barrier" },
  ),
  (a): Work | undefined => {
    const g = resolveGroup(a.group, "barrier");
    if (notInGroup(g, "barrier")) return undefined;
    const work = g.backend.barrier();
    if (a.asyncOp) return work;
    work.wait();
    return undefined;
  },
);

export { DistributedError };
