/**
 * Point-to-point communication on tensors: `send`, `recv`, `isend`, `irecv`, `P2POp` and `batch_isend_irecv`, over
 * the optional `send`/`recv` members of the backend protocol (the built-in "threads" backend and "mpi" have them).
 *
 * As in PyTorch, peers (`dst`, `src`) are global ranks also when `group` is a subgroup, `recv` without `src` takes a
 * message from any rank and returns the sender's global rank, and a rank outside `group` warns and does nothing
 * (`recv` returns -1). The tensor is staged as for the collectives (`staging.ts`): a contiguous CPU tensor is sent
 * from and received into its own memory; a WebGPU tensor makes the call return a Promise.
 */
import { arg, type CallsOf, k, op, signature, type Tensor } from "@cinder/tensor";
import type { CollectiveBackend, RecvWork, Work } from "./backend";
import { DistributedError } from "./backend";
import { groupRank } from "./collectives";
import { groupKind, notInGroup, type ProcessGroup, resolveGroup } from "./process-group";
import { run, writeBack } from "./staging";

const rankKind = k.where(k.int, (r) => r >= 0, "rank >= 0");
const tagKind = k.where(k.int, (t) => t >= 0, "tag >= 0");

/** The backend's point-to-point members, or a clear error. */
function p2pOf(
  g: ProcessGroup,
  what: string,
): Required<Pick<CollectiveBackend, "send" | "recv">> & CollectiveBackend {
  const b = g.backend;
  if (typeof b.send !== "function" || typeof b.recv !== "function")
    throw new DistributedError(
      `${what}: backend "${b.name}" does not support point-to-point communication (no send/recv)`,
    );
  return b as Required<Pick<CollectiveBackend, "send" | "recv">> & CollectiveBackend;
}

/** The group rank of peer `peer` (a global rank), which must not be this rank. */
function peerOf(g: ProcessGroup, what: string, name: string, peer: number): number {
  const r = groupRank(g, what, name, peer);
  if (r === g.rank())
    throw new RangeError(
      `${what}: ${name} = ${peer} is this rank; a rank cannot send to or receive from itself`,
    );
  return r;
}

function startSend(
  tensor: Tensor,
  dst: number,
  group: ProcessGroup | null,
  tag: number,
  what: string,
  asyncOp: boolean,
) {
  const g = resolveGroup(group, what);
  if (notInGroup(g, what)) return undefined;
  const b = p2pOf(g, what);
  const peer = peerOf(g, what, "dst", dst);
  return run(asyncOp, [tensor], ([buf]) => ({ work: b.send(buf, peer, tag), finish: () => {} }));
}

/** Starts a receive; `onSource` gets the sender's global rank once it completed. */
function startRecv(
  tensor: Tensor,
  src: number | null,
  group: ProcessGroup | null,
  tag: number,
  what: string,
  asyncOp: boolean,
  onSource: (rank: number) => void = () => {},
) {
  const g = resolveGroup(group, what);
  if (notInGroup(g, what)) return undefined;
  const b = p2pOf(g, what);
  const peer = src === null ? -1 : peerOf(g, what, "src", src);
  return run(asyncOp, [tensor], ([buf]) => {
    const work: RecvWork = b.recv(buf, peer, tag);
    return {
      work,
      finish: () => {
        writeBack(tensor, buf);
        onSource(g.ranks[work.sourceRank()]);
      },
    };
  });
}

/** `send(tensor, dst, group=None, tag=0)`: sends `tensor` to global rank `dst`; returns once it is sent. */
export const send = op(
  signature(
    "distributed.send",
    [arg("tensor", k.tensor), arg("dst", rankKind), arg("group", groupKind, null), arg("tag", tagKind, 0)],
    [],
    { torch: "torch.distributed.send" },
  ),
  (a): undefined | Promise<undefined> =>
    startSend(a.tensor, a.dst, a.group, a.tag, "send", false) as undefined | Promise<undefined>,
);

/**
 * `recv(tensor, src=None, group=None, tag=0)`: `tensor` becomes the message from global rank `src` (from any rank
 * when null); returns the sender's global rank (-1 on a rank outside `group`).
 */
export const recv = op(
  signature(
    "distributed.recv",
    [
      arg("tensor", k.tensor),
      arg.opt("src", rankKind),
      arg("group", groupKind, null),
      arg("tag", tagKind, 0),
    ],
    [],
    { torch: "torch.distributed.recv" },
  ),
  (a): number | Promise<number> => {
    let source = -1;
    const r = startRecv(a.tensor, a.src, a.group, a.tag, "recv", false, (s) => {
      source = s;
    });
    return r instanceof Promise ? r.then(() => source) : source;
  },
);

/** `isend(tensor, dst, group=None, tag=0)`: starts sending; the {@link Work} says when `tensor` may change again. */
export const isend = op(
  signature(
    "distributed.isend",
    [arg("tensor", k.tensor), arg("dst", rankKind), arg("group", groupKind, null), arg("tag", tagKind, 0)],
    [],
    { torch: "torch.distributed.isend" },
  ),
  (a): Work | undefined | Promise<Work | undefined> =>
    startSend(a.tensor, a.dst, a.group, a.tag, "isend", true),
);

/** `irecv(tensor, src=None, group=None, tag=0)`: starts receiving; `tensor` holds the message after `wait()`. */
export const irecv = op(
  signature(
    "distributed.irecv",
    [
      arg("tensor", k.tensor),
      arg.opt("src", rankKind),
      arg("group", groupKind, null),
      arg("tag", tagKind, 0),
    ],
    [],
    { torch: "torch.distributed.irecv" },
  ),
  (a): Work | undefined | Promise<Work | undefined> =>
    startRecv(a.tensor, a.src, a.group, a.tag, "irecv", true),
);

const P2P_OP = signature(
  "distributed.P2POp",
  [
    arg(
      "op",
      k.where(k.fn, (f) => f === isend || f === irecv, "dist.isend or dist.irecv"),
    ),
    arg("tensor", k.tensor),
    arg("peer", rankKind),
    arg("group", groupKind, null),
    arg("tag", tagKind, 0),
  ],
  [],
  { torch: "torch.distributed.P2POp" },
);

/** `P2POp(op, tensor, peer, group=None, tag=0)`: one send or receive of a {@link batchIsendIrecv}. */
export class P2POp {
  /** The declared signature (parsing, docs and the PyTorch schema check). */
  static readonly signature = P2P_OP;
  /** `isend` or `irecv`. */
  readonly op: typeof isend | typeof irecv;
  readonly tensor: Tensor;
  /** The peer's global rank. */
  readonly peer: number;
  readonly group: ProcessGroup | null;
  readonly tag: number;
  constructor(...args: CallsOf<typeof P2P_OP>) {
    const a = P2P_OP.parse(args);
    this.op = a.op as typeof isend | typeof irecv;
    this.tensor = a.tensor;
    this.peer = a.peer;
    this.group = a.group;
    this.tag = a.tag;
  }
}

/**
 * `batch_isend_irecv(p2p_op_list)`: starts every send and receive of the list (all of one group) and returns their
 * {@link Work}s, in the list's order (none on a rank outside the group).
 */
export const batchIsendIrecv = op(
  signature(
    "distributed.batchIsendIrecv",
    [
      arg(
        "p2pOpList",
        k.where(
          k.any,
          (v) => Array.isArray(v) && v.length > 0 && v.every((o) => o instanceof P2POp),
          "a non-empty P2POp[]",
        ),
      ),
    ],
    [],
    { torch: "torch.distributed.batch_isend_irecv" },
  ),
  (a): Work[] | Promise<Work[]> => {
    const list = a.p2pOpList as P2POp[];
    if (!list.every((o) => o.group === list[0].group))
      throw new DistributedError("batchIsendIrecv: all ops need to use the same group");
    // both ops take (tensor, peer, group, tag)
    const start = (o: P2POp) => (o.op as typeof isend)(o.tensor, o.peer, o.group, o.tag);
    const works = list.map(start);
    const keep = (ws: (Work | undefined)[]) => ws.filter((w): w is Work => w !== undefined);
    return works.some((w) => w instanceof Promise)
      ? Promise.all(works).then(keep)
      : keep(works as (Work | undefined)[]);
  },
);
