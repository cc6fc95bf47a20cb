/**
 * The "threads" backend: ranks are worker threads of one process sharing a world's memory (`world.ts`).
 *
 * Every collective runs in chunks of at most one slot per rank, and finishes inside the call (its `Work` is already
 * complete). In each chunk the ranks copy their data into their own slot, pass a phase, do their share of the work
 * straight from the shared slots, and pass a last phase before the slots are reused. Reductions are split across
 * ranks: rank r reduces the r-th part of the chunk over every slot, in rank order, so the work is shared and every
 * rank gets bit-identical results (reduce-scatter, then an all-gather that is each rank's copy out).
 *
 * A subgroup (`newGroup`) is a backend of its own over the same memory: its ranks use their world slots and count
 * the group's own phases (`world.ts`); its `rank` and `worldSize` are the group's. Point-to-point messages go
 * through `p2p.ts`, whose engine the backends of one rank share.
 */
import {
  COMPLETED_WORK,
  type CollectiveArray,
  type CollectiveBackend,
  DistributedError,
  type ReduceOpName,
  type Work,
} from "../backend";
import { arrayType, arrayTypeName, combineInto, finishReduce } from "../reduce";
import { P2PEngine, type P2PWork } from "./p2p";
import { type GroupSpec, MAX_GROUPS, type OpDescriptor, RankView, type WorldInit } from "./world";

const OPS = [
  "allReduce",
  "broadcast",
  "allGather",
  "reduceScatter",
  "gather",
  "scatter",
  "barrier",
  "newGroup",
] as const;
type OpName = (typeof OPS)[number];
const TYPES = ["float32", "float64", "int32", "uint8"];

/** The part `[begin, end)` of `n` elements that rank `r` of `w` handles. */
function share(n: number, r: number, w: number): [number, number] {
  const per = Math.ceil(n / w);
  return [Math.min(n, r * per), Math.min(n, (r + 1) * per)];
}

/** One rank of a "threads" process group. */
export class ThreadsBackend implements CollectiveBackend {
  readonly specificationVersion = 1 as const;
  readonly name = "threads";
  /** This rank in the group. */
  readonly rank: number;
  /** The number of ranks in the group. */
  readonly worldSize: number;
  private readonly view: RankView;
  private readonly p2p: P2PEngine;
  /** The world's global ranks of this group's members, ascending. */
  private readonly members: readonly number[];
  /** Subgroups made so far (the world's backend numbers them; the same on every rank). */
  private groupsMade = 0;
  private destroyed = false;

  /** Rank `rank` of the world `init` (or, with `group` and `p2p`, that rank's backend of a subgroup). */
  constructor(init: WorldInit, rank: number, timeoutMs: number, group?: GroupSpec, p2p?: P2PEngine) {
    this.view = new RankView(init, rank, timeoutMs, group);
    this.members = this.view.group.members;
    this.rank = this.members.indexOf(rank);
    this.worldSize = this.members.length;
    this.p2p = p2p ?? new P2PEngine(this.view);
    this.view.idle = () => this.p2p.busy();
  }

  /** A typed view of `count` elements of group rank `r`'s slot, from element `at`, of `like`'s type. */
  private slot(r: number, like: CollectiveArray, at = 0, count = this.chunkElems(like)): CollectiveArray {
    return new (arrayType(like))(
      this.view.init.sab,
      this.view.slotOffset(this.members[r]) + at * like.BYTES_PER_ELEMENT,
      count,
    );
  }

  private chunkElems(like: CollectiveArray): number {
    return Math.floor(this.view.slotBytes / like.BYTES_PER_ELEMENT);
  }

  /** Starts a collective: checks the arguments, publishes its descriptor; returns the deadline. */
  private begin(op: OpName, length: number, like: CollectiveArray | null, root: number): number {
    this.checkAlive(op);
    if (root < 0 || root >= this.worldSize || !Number.isInteger(root))
      throw new RangeError(`${op}: expected a rank in [0, ${this.worldSize}), got ${root}`);
    this.view.checkAbort(op);
    this.view.describe({
      op: OPS.indexOf(op),
      length,
      type: like ? TYPES.indexOf(arrayTypeName(like)) : -1,
      root,
    });
    return Date.now() + this.view.timeoutMs;
  }

  /** The first phase of a collective: every rank has published; they must agree. */
  private agree(op: OpName, deadline: number): void {
    this.view.phase(op, deadline);
    const ds = this.view.descriptors();
    const show = (d: OpDescriptor) =>
      `${OPS[d.op] ?? "?"}(${d.length} ${TYPES[d.type] ?? ""} elements${d.root > 0 ? `, root ${d.root}` : ""})`;
    const bad = ds.findIndex(
      (d) => d.op !== ds[0].op || d.length !== ds[0].length || d.type !== ds[0].type || d.root !== ds[0].root,
    );
    const who = (i: number) =>
      this.view.group.id === 0 ? `rank ${i}` : `group rank ${i} (rank ${this.members[i]})`;
    if (bad >= 0)
      throw new DistributedError(
        `${op}: the ranks disagree on the collective: ${who(0)} called ${show(ds[0])}, ${who(bad)} called ${show(ds[bad])}`,
        this.members[bad],
      );
  }

  /**
   * Runs `body(begin, end, first)` over chunks of `[0, n)` of at most `chunk` elements, with the agreement phase
   * before the first chunk and a closing phase after each (so slots are free for the next chunk).
   */
  private chunks(
    op: OpName,
    n: number,
    chunk: number,
    deadline: number,
    body: (a: number, b: number) => void,
  ): Work {
    for (let a = 0, first = true; first || a < n; a += chunk, first = false) {
      const b = Math.min(n, a + chunk);
      body(a, b);
      this.view.phase(op, deadline);
    }
    return COMPLETED_WORK;
  }

  allReduce(buf: CollectiveArray, op: ReduceOpName): Work {
    const deadline = this.begin("allReduce", buf.length, buf, 0);
    this.agree("allReduce", deadline);
    const w = this.worldSize;
    return this.chunks("allReduce", buf.length, this.chunkElems(buf), deadline, (a, b) => {
      this.slot(this.rank, buf).set(buf.subarray(a, b));
      this.view.phase("allReduce", deadline);
      const [s, e] = share(b - a, this.rank, w);
      if (e > s) {
        const acc = this.slot(0, buf, s, e - s);
        for (let r = 1; r < w; r++) combineInto(op, acc, this.slot(r, buf, s, e - s), e - s);
        finishReduce(op, acc, e - s, w);
      }
      this.view.phase("allReduce", deadline);
      buf.set(this.slot(0, buf, 0, b - a), a);
    });
  }

  broadcast(buf: CollectiveArray, src: number): Work {
    const deadline = this.begin("broadcast", buf.length, buf, src);
    this.agree("broadcast", deadline);
    return this.chunks("broadcast", buf.length, this.chunkElems(buf), deadline, (a, b) => {
      if (this.rank === src) this.slot(src, buf).set(buf.subarray(a, b));
      this.view.phase("broadcast", deadline);
      if (this.rank !== src) buf.set(this.slot(src, buf, 0, b - a), a);
    });
  }

  allGather(out: CollectiveArray, input: CollectiveArray): Work {
    this.checkLength("allGather", out, input.length * this.worldSize, "out");
    return this.gatherTo("allGather", out, input, -1);
  }

  gather(input: CollectiveArray, out: CollectiveArray | null, dst: number): Work {
    if (this.rank === dst) {
      if (out === null)
        throw new TypeError(`gather: rank ${dst} is the destination and needs an output array`);
      this.checkLength("gather", out, input.length * this.worldSize, "out");
    }
    return this.gatherTo("gather", out, input, dst);
  }

  /** allGather (`dst` -1) and gather: each rank's input chunk goes to its slot, the receivers copy every slot. */
  private gatherTo(op: OpName, out: CollectiveArray | null, input: CollectiveArray, dst: number): Work {
    const n = input.length;
    const deadline = this.begin(op, n, input, Math.max(0, dst));
    this.agree(op, deadline);
    return this.chunks(op, n, this.chunkElems(input), deadline, (a, b) => {
      this.slot(this.rank, input).set(input.subarray(a, b));
      this.view.phase(op, deadline);
      if (out !== null && (dst < 0 || this.rank === dst))
        for (let r = 0; r < this.worldSize; r++) out.set(this.slot(r, input, 0, b - a), r * n + a);
    });
  }

  reduceScatter(out: CollectiveArray, input: CollectiveArray, op: ReduceOpName): Work {
    const n = out.length;
    const w = this.worldSize;
    this.checkLength("reduceScatter", input, n * w, "input");
    const deadline = this.begin("reduceScatter", n, out, 0);
    this.agree("reduceScatter", deadline);
    // a chunk covers [a, b) of every rank's segment: slot j holds rank j's w segments' parts, one after another
    const chunk = Math.max(1, Math.floor(this.chunkElems(out) / w));
    return this.chunks("reduceScatter", n, chunk, deadline, (a, b) => {
      const len = b - a;
      const mine = this.slot(this.rank, out, 0, w * len);
      for (let r = 0; r < w; r++) mine.set(input.subarray(r * n + a, r * n + b), r * len);
      this.view.phase("reduceScatter", deadline);
      const acc = out.subarray(a, b);
      acc.set(this.slot(0, out, this.rank * len, len));
      for (let r = 1; r < w; r++) combineInto(op, acc, this.slot(r, out, this.rank * len, len), len);
      finishReduce(op, acc, len, w);
    });
  }

  scatter(out: CollectiveArray, input: CollectiveArray | null, src: number): Work {
    const n = out.length;
    const w = this.worldSize;
    if (this.rank === src) {
      if (input === null) throw new TypeError(`scatter: rank ${src} is the source and needs an input array`);
      this.checkLength("scatter", input, n * w, "input");
    }
    const deadline = this.begin("scatter", n, out, src);
    this.agree("scatter", deadline);
    // the source puts rank r's part of the chunk in slot r
    return this.chunks("scatter", n, this.chunkElems(out), deadline, (a, b) => {
      if (input !== null && this.rank === src)
        for (let r = 0; r < w; r++) this.slot(r, out, 0, b - a).set(input.subarray(r * n + a, r * n + b));
      this.view.phase("scatter", deadline);
      out.set(this.slot(this.rank, out, 0, b - a), a);
    });
  }

  barrier(): Work {
    const deadline = this.begin("barrier", 0, null, 0);
    this.agree("barrier", deadline);
    this.view.phase("barrier", deadline);
    return COMPLETED_WORK;
  }

  send(buf: CollectiveArray, dst: number, tag: number): Work {
    this.checkAlive("send");
    return this.p2p.send(buf, this.peer("send", dst), tag, this.view.group, this.view.timeoutMs);
  }

  recv(buf: CollectiveArray, src: number, tag: number): P2PWork {
    this.checkAlive("recv");
    return this.p2p.recv(
      buf,
      src === -1 ? -1 : this.peer("recv", src),
      tag,
      this.view.group,
      this.view.timeoutMs,
    );
  }

  /**
   * Collective over the world: the backend of the subgroup of `ranks` (global ranks, ascending), or null on a rank
   * outside it. Ranks that disagree on the ranks fail as for any collective.
   */
  newGroup(ranks: readonly number[], timeoutMs = this.view.timeoutMs): ThreadsBackend | null {
    if (this.view.group.id !== 0)
      throw new DistributedError(
        "newGroup: subgroups are made from the world's backend, not from a subgroup",
      );
    // the descriptor's root carries a hash of the ranks, so ranks asking for different groups fail
    let hash = 0;
    for (const r of ranks) hash = (Math.imul(hash, 31) + r + 1) | 0;
    const deadline = this.begin("newGroup", ranks.length, null, 0);
    this.view.describe({
      op: OPS.indexOf("newGroup"),
      length: ranks.length,
      type: -1,
      root: hash & 0x7fffffff,
    });
    this.agree("newGroup", deadline);
    this.view.phase("newGroup", deadline);
    const id = ++this.groupsMade;
    if (id >= MAX_GROUPS)
      throw new DistributedError(`newGroup: a threads world has at most ${MAX_GROUPS - 1} subgroups`);
    if (!ranks.includes(this.view.rank)) return null;
    const group = { id, members: [...ranks] };
    return new ThreadsBackend(this.view.init, this.view.rank, timeoutMs, group, this.p2p);
  }

  destroy(): void {
    this.destroyed = true;
  }

  private checkAlive(op: string): void {
    if (this.destroyed)
      throw new DistributedError(`${op}: the threads backend of rank ${this.view.rank} was destroyed`);
  }

  /** The global rank of group rank `r` (a peer: not this rank). */
  private peer(op: string, r: number): number {
    if (!Number.isInteger(r) || r < 0 || r >= this.worldSize)
      throw new RangeError(`${op}: expected a peer rank in [0, ${this.worldSize}), got ${r}`);
    if (r === this.rank)
      throw new RangeError(`${op}: the peer must be another rank than this one (rank ${r})`);
    return this.members[r];
  }

  private checkLength(op: string, a: CollectiveArray, expected: number, what: string): void {
    if (a.length !== expected)
      throw new RangeError(
        `${op}: expected ${what} of ${expected} elements (worldSize x input), got ${a.length}`,
      );
  }
}
