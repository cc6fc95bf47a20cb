/**
 * The collectives on tensors (`all_reduce`, `reduce`, `broadcast`, `all_gather`, `reduce_scatter`, `gather`,
 * `scatter`, `barrier`), over the default group's backend (`reduce` is an all-reduce whose result only `dst` keeps).
 *
 * Each tensor is read as a contiguous CPU typed array (a copy: strided views and every dtype work), the backend
 * runs on the arrays, and results are written back into the tensors with `copy_` (which keeps their strides and
 * devices) without recording autograd history, as PyTorch's c10d does. `bool` travels as uint8, with `sum` and
 * `product` sent as `max` and `min` (logical or / and); `avg` needs a floating dtype.
 *
 * The staging rule: on a device with synchronous reads (the CPU) a collective returns at once, `undefined` or, with
 * `asyncOp: true`, a {@link Work} whose `wait()` writes the results back. On a device without them (WebGPU) the
 * tensors are read asynchronously, so the collective returns a Promise of the same: `await` it (awaiting a CPU
 * collective's `undefined` is harmless, so code that may meet both awaits).
 */
import { arg, type DType, fromTypedArray, k, noGrad, op, signature, type Tensor } from "@cinder/tensor";
import type { CollectiveArray, ReduceOpName, Work } from "./backend";
import { DistributedError, REDUCE_OP_NAMES } from "./backend";
import { groupKind, resolveGroup } from "./process-group";

/** PyTorch's `ReduceOp`: `ReduceOp.SUM` ... (the values are the protocol's op names). */
export const ReduceOp = Object.freeze({
  SUM: "sum",
  PRODUCT: "product",
  MIN: "min",
  MAX: "max",
  AVG: "avg",
} as const satisfies Record<string, ReduceOpName>);

/** What a collective returns: nothing, a {@link Work} (`asyncOp: true`), or, for WebGPU tensors, a Promise of either. */
export type CollectiveResult = Work | undefined | Promise<Work | undefined>;

const reduceOpKind = k.oneOf(...REDUCE_OP_NAMES);
const rankKind = k.where(k.int, (r) => r >= 0, "rank >= 0");

/** The protocol's array of a tensor's contiguous elements (bool as uint8). */
function asArray(data: ArrayLike<number>, dtype: DType): CollectiveArray {
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) return data;
  if (data instanceof Uint8Array) return data;
  if (dtype === "bool") return Uint8Array.from(data as ArrayLike<number>, Number);
  // int8/int16 travel widened to int32; the write-back casts wrap as the narrow type's own arithmetic would
  if (data instanceof Int8Array || data instanceof Int16Array) return Int32Array.from(data);
  throw new TypeError(`distributed: no collective array for dtype ${dtype}`);
}

const readsSync = (t: Tensor) => typeof t.backend.readSync === "function";

/** Reads tensors (synchronously when every one can be). */
function readAll(ts: readonly Tensor[]): CollectiveArray[] | Promise<CollectiveArray[]> {
  if (ts.every(readsSync)) return ts.map((t) => asArray(t.data() as ArrayLike<number>, t.dtype));
  return Promise.all(ts.map(async (t) => asArray((await t.dataAsync()) as ArrayLike<number>, t.dtype)));
}

/** Writes `data` into `t` in place (any strides, dtype and device), outside autograd. */
function writeBack(t: Tensor, data: CollectiveArray): void {
  let src = fromTypedArray(data, t.shape as number[]);
  if (t.device !== "cpu") src = src.to(t.device);
  noGrad(() => t.copy_(src));
}

/** The op's name for the protocol, given the dtype (bool: or/and; avg only for floats). */
function protocolOp(op: ReduceOpName, t: Tensor, what: string): ReduceOpName {
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

/**
 * Runs a collective: reads `inputs`, starts `start(arrays)` on the backend, and on completion runs `finish` (the
 * write-back). Returns per the staging rule (module docs).
 */
function run(
  asyncOp: boolean,
  inputs: readonly Tensor[],
  start: (arrays: CollectiveArray[]) => { work: Work; finish: () => void },
): CollectiveResult {
  const go = (arrays: CollectiveArray[]): Work | undefined => {
    const { work, finish } = start(arrays);
    let done = false;
    const complete = () => {
      if (!done) {
        done = true;
        finish();
      }
    };
    if (!asyncOp) {
      work.wait();
      complete();
      return undefined;
    }
    return {
      wait(timeoutMs?: number): void {
        work.wait(timeoutMs);
        complete();
      },
      isCompleted(): boolean {
        if (!done && work.isCompleted()) complete();
        return done;
      },
    };
  };
  const arrays = readAll(inputs);
  return arrays instanceof Promise ? arrays.then(go) : go(arrays);
}

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
    const pop = protocolOp(a.op, a.tensor, "allReduce");
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
    checkRank("reduce", "dst", a.dst, g.size());
    const pop = protocolOp(a.op, a.tensor, "reduce");
    return run(a.asyncOp, [a.tensor], ([buf]) => ({
      work: g.backend.allReduce(buf, pop),
      finish: () => {
        if (g.rank() === a.dst) writeBack(a.tensor, buf);
      },
    }));
  },
);

/** `broadcast(tensor, src, group=None, async_op=False)`: in place, every rank's tensor becomes rank `src`'s. */
export const broadcast = op(
  signature("distributed.broadcast", [arg("tensor", k.tensor), arg("src", rankKind), ...common], [], {
    torch: "torch.distributed.broadcast",
  }),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "broadcast");
    checkRank("broadcast", "src", a.src, g.size());
    return run(a.asyncOp, [a.tensor], ([buf]) => ({
      work: g.backend.broadcast(buf, a.src),
      finish: () => {
        if (g.rank() !== a.src) writeBack(a.tensor, buf);
      },
    }));
  },
);

function checkRank(what: string, name: string, r: number, size: number): void {
  if (r >= size) throw new RangeError(`${what}: ${name} must be a rank in [0, ${size}), got ${r}`);
}

/** `all_gather(tensor_list, tensor, group=None, async_op=False)`: `tensorList[r]` becomes rank r's `tensor`. */
export const allGather = op(
  signature("distributed.allGather", [arg("tensorList", k.tensors), arg("tensor", k.tensor), ...common], [], {
    torch: "torch.distributed.all_gather",
  }),
  (a): CollectiveResult => {
    const g = resolveGroup(a.group, "allGather");
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
    checkList("reduceScatter", "inputList", a.inputList, g.size());
    checkSame("reduceScatter", a.output, a.inputList, "inputList");
    const pop = protocolOp(a.op, a.output, "reduceScatter");
    return run(a.asyncOp, a.inputList, (parts) => {
      const out = new (parts[0].constructor as new (n: number) => CollectiveArray)(parts[0].length);
      return {
        work: g.backend.reduceScatter(out, concat(parts, out), pop),
        finish: () => writeBack(a.output, out),
      };
    });
  },
);

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
    checkRank("gather", "dst", a.dst, g.size());
    const isDst = g.rank() === a.dst;
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
        work: g.backend.gather(input, out, a.dst),
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
    checkRank("scatter", "src", a.src, g.size());
    const isSrc = g.rank() === a.src;
    const list = a.scatterList ?? [];
    if (isSrc) {
      checkList("scatter", "scatterList", list, g.size());
      checkSame("scatter", a.tensor, list, "scatterList");
    } else if (list.length > 0)
      throw new TypeError(
        `scatter: scatterList is only given on rank src = ${a.src}, not on rank ${g.rank()}`,
      );
    return run(a.asyncOp, isSrc ? [a.tensor, ...list] : [a.tensor], ([out, ...parts]) => ({
      work: g.backend.scatter(out, isSrc ? concat(parts, out) : null, a.src),
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
    const work = g.backend.barrier();
    if (a.asyncOp) return work;
    work.wait();
    return undefined;
  },
);

export { DistributedError };
