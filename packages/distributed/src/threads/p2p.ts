/**
 * Point-to-point messages of the "threads" backend (`send`/`recv` of every group of a world).
 *
 * Each ordered pair of ranks has a one-slot channel in the world's shared memory: control words (full/empty, and
 * the header of the chunk it holds: tag, group, message length, type, offset, count) and a data area. A message
 * goes in chunks of at most the data area: the sender fills the empty channel, the receiver empties it. So a send
 * never waits for its receiver to be inside `recv`: a message that fits one chunk completes inside `send` (as gloo's
 * small sends do), and larger ones move on whenever this rank waits on anything (a `Work`, a collective's phase).
 *
 * Matching follows MPI's rules: a receive takes the oldest message from its source (or from any member of its
 * group) with its group and tag; messages of one pair that match are received in the order they were sent. Each
 * rank's doorbell word is bumped (and notified) when a chunk arrives for it or a chunk it sent was taken, so a
 * waiting rank sleeps on one word. A wait is bounded by its timeout and fails at once when the peer's job returned
 * or the world was aborted, naming the peer.
 */
import { type CollectiveArray, DistributedError, type Work } from "../backend";
import { arrayType, arrayTypeName } from "../reduce";
import { abortWorld, type GroupSpec, type RankView } from "./world";

const TYPES = ["float32", "float64", "int32", "uint8"];
// the channel's words
const FULL = 0;
const TAG = 1;
const LENGTH = 2;
const TYPE = 3;
const OFFSET = 4;
const COUNT = 5;
const GROUP = 6;
const WAIT_SLICE_MS = 50;

/** A started send or receive. `peer` is a global rank (-1: a receive from any member of the group). */
interface Op {
  readonly kind: "send" | "recv";
  readonly seq: number;
  readonly buf: CollectiveArray;
  readonly tag: number;
  readonly group: GroupSpec;
  /** The bound on a wait without its own (the group's timeout). */
  readonly timeoutMs: number;
  peer: number;
  /** Elements moved so far. */
  at: number;
  /** Whether its first chunk moved (a zero-length message is one empty chunk). */
  started: boolean;
  done: boolean;
}

/** A point-to-point `Work`; for receives, `sourceRank()` is the sender's rank in the group. */
export interface P2PWork extends Work {
  sourceRank(): number;
}

/** One rank's point-to-point engine, shared by its backends of every group of the world. */
export class P2PEngine {
  private readonly pending: Op[] = [];
  private seq = 0;

  constructor(private readonly view: RankView) {}

  /** Starts sending `buf` to global rank `dst` (a member of `group`, whose timeout is `timeoutMs`). */
  send(buf: CollectiveArray, dst: number, tag: number, group: GroupSpec, timeoutMs: number): P2PWork {
    return this.start({ kind: "send", buf, tag, group, timeoutMs, peer: dst });
  }

  /** Starts receiving into `buf` from global rank `src` (-1: any member of `group`, whose timeout is `timeoutMs`). */
  recv(buf: CollectiveArray, src: number, tag: number, group: GroupSpec, timeoutMs: number): P2PWork {
    return this.start({ kind: "recv", buf, tag, group, timeoutMs, peer: src });
  }

  /** Whether operations are pending (after moving them on). */
  busy(): boolean {
    this.progress();
    return this.pending.length > 0;
  }

  private start(o: Pick<Op, "kind" | "buf" | "tag" | "group" | "timeoutMs" | "peer">): P2PWork {
    const op: Op = { ...o, seq: ++this.seq, at: 0, started: false, done: false };
    this.pending.push(op);
    this.progress();
    return {
      wait: (timeoutMs?: number) => this.wait(op, timeoutMs ?? op.timeoutMs),
      isCompleted: () => {
        this.progress();
        return this.upTo(op) === null;
      },
      sourceRank: () => {
        if (!op.done) throw new DistributedError("sourceRank(): the receive has not completed; wait() first");
        return op.group.members.indexOf(op.peer);
      },
    };
  }

  /** The first operation issued no later than `op` that is not done, or null. */
  private upTo(op: Op): Op | null {
    for (const p of this.pending) if (p.seq <= op.seq && !p.done) return p;
    return null;
  }

  /** Moves every pending operation on as far as the channels allow, without waiting. */
  private progress(): void {
    if (this.pending.length === 0) return; // the common case: called from every collective's waits
    const busySends = new Set<number>();
    const busyRecvs = new Set<number>();
    for (const op of this.pending) {
      if (op.kind === "send") {
        // messages of one pair leave in the order they were sent
        if (!busySends.has(op.peer)) this.push(op);
        busySends.add(op.peer);
      } else {
        const src = op.started ? op.peer : this.match(op, busyRecvs);
        if (src < 0) continue;
        op.peer = src;
        this.pull(op);
        busyRecvs.add(src);
      }
    }
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i].done) this.pending.splice(i, 1);
  }

  /** The source whose oldest unread message `op` receives (one no earlier receive is taking), or -1. */
  private match(op: Op, taken: ReadonlySet<number>): number {
    const sources = op.peer >= 0 ? [op.peer] : op.group.members;
    for (const s of sources) {
      if (s === this.view.rank || taken.has(s)) continue;
      const c = this.view.channelIndex(s, this.view.rank);
      const ctrl = this.view.ctrl;
      if (
        Atomics.load(ctrl, c + FULL) === 1 &&
        ctrl[c + OFFSET] === 0 &&
        ctrl[c + GROUP] === op.group.id &&
        ctrl[c + TAG] === op.tag
      ) {
        const length = ctrl[c + LENGTH];
        const type = TYPES[ctrl[c + TYPE]];
        if (length !== op.buf.length || type !== arrayTypeName(op.buf)) {
          const message =
            `recv on rank ${this.view.rank}: rank ${s} sent ${length} ${type} elements (tag ${op.tag}), ` +
            `but the receiving tensor holds ${op.buf.length} ${arrayTypeName(op.buf)} elements`;
          abortWorld(this.view.init, this.view.rank, message);
          throw new DistributedError(message, s);
        }
        return s;
      }
    }
    return -1;
  }

  /** Sends the next chunk of `op` if its channel is empty. */
  private push(op: Op): void {
    const { ctrl, rank } = this.view;
    const c = this.view.channelIndex(rank, op.peer);
    if (Atomics.load(ctrl, c + FULL) !== 0) return;
    const per = Math.floor(this.view.channelBytes / op.buf.BYTES_PER_ELEMENT);
    const count = Math.min(per, op.buf.length - op.at);
    new (arrayType(op.buf))(this.view.init.sab, this.view.channelOffset(rank, op.peer), count).set(
      op.buf.subarray(op.at, op.at + count),
    );
    ctrl[c + TAG] = op.tag;
    ctrl[c + LENGTH] = op.buf.length;
    ctrl[c + TYPE] = TYPES.indexOf(arrayTypeName(op.buf));
    ctrl[c + OFFSET] = op.at;
    ctrl[c + COUNT] = count;
    ctrl[c + GROUP] = op.group.id;
    Atomics.store(ctrl, c + FULL, 1); // publishes the words and data written above
    this.ring(op.peer);
    op.at += count;
    op.started = true;
    op.done = op.at >= op.buf.length;
  }

  /** Receives the chunk waiting in `op`'s channel, if any. */
  private pull(op: Op): void {
    const { ctrl, rank } = this.view;
    const c = this.view.channelIndex(op.peer, rank);
    if (Atomics.load(ctrl, c + FULL) !== 1) return;
    const count = ctrl[c + COUNT];
    op.buf.set(
      new (arrayType(op.buf))(this.view.init.sab, this.view.channelOffset(op.peer, rank), count),
      op.at,
    );
    Atomics.store(ctrl, c + FULL, 0);
    this.ring(op.peer);
    op.at += count;
    op.started = true;
    op.done = op.at >= op.buf.length;
  }

  private ring(r: number): void {
    const i = this.view.bellIndex(r);
    Atomics.add(this.view.ctrl, i, 1);
    Atomics.notify(this.view.ctrl, i);
  }

  /** Waits until `op` and every operation issued before it are done (bounded by `timeoutMs`). */
  private wait(op: Op, timeoutMs: number): void {
    const { ctrl, rank } = this.view;
    const bell = this.view.bellIndex(rank);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(ctrl, bell);
      this.progress();
      const first = this.upTo(op);
      if (first === null) return;
      const what = first.kind === "send" ? "send" : "recv";
      this.view.checkAbort(what);
      this.checkHead(first);
      const peers = first.peer >= 0 ? [first.peer] : first.group.members.filter((r) => r !== rank);
      if (peers.every((p) => this.view.finished(p))) {
        this.progress(); // what they sent before returning is in the channels already
        if (this.upTo(op) !== first) continue;
        this.fail(
          first,
          `${describe(first, rank)} failed: ${peerName(peers)} finished its job without ${verb(first)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        this.fail(
          first,
          `${describe(first, rank)} timed out after ${timeoutMs} ms waiting for ${peerName(peers)} to ${first.kind === "send" ? "receive it" : "send"}`,
        );
      Atomics.wait(ctrl, bell, seen, Math.min(left, WAIT_SLICE_MS));
    }
  }

  /**
   * A receive from one rank whose next message no pending receive matches (another tag or group) would wait forever
   * (a pair's messages are received in the order they were sent): fail now, naming both.
   */
  private checkHead(op: Op): void {
    if (op.kind !== "recv" || op.started || op.peer < 0) return;
    const ctrl = this.view.ctrl;
    const c = this.view.channelIndex(op.peer, this.view.rank);
    const stuck = () =>
      Atomics.load(ctrl, c + FULL) === 1 &&
      ctrl[c + OFFSET] === 0 &&
      (ctrl[c + TAG] !== op.tag || ctrl[c + GROUP] !== op.group.id);
    if (!stuck()) return;
    this.progress(); // a receive posted meanwhile may take it
    if (!stuck() || this.pending.indexOf(op) < 0) return;
    const other = ctrl[c + GROUP] !== op.group.id ? "belongs to another group" : `has tag ${ctrl[c + TAG]}`;
    this.fail(
      op,
      `${describe(op, this.view.rank)} cannot match: rank ${op.peer}'s next message ${other} (messages between two ranks are received in the order they were sent)`,
    );
  }

  /** Aborts the world (so the peer fails too instead of waiting for this rank) and throws. */
  private fail(op: Op, message: string): never {
    abortWorld(this.view.init, this.view.rank, message);
    throw new DistributedError(message, op.peer >= 0 ? op.peer : undefined);
  }
}

function describe(op: Op, rank: number): string {
  const msg = `${op.buf.length} ${arrayTypeName(op.buf)} elements, tag ${op.tag}`;
  return op.kind === "send"
    ? `send on rank ${rank} to rank ${op.peer} (${msg})`
    : `recv on rank ${rank} from ${op.peer >= 0 ? `rank ${op.peer}` : "any rank"} (${msg})`;
}

const peerName = (peers: number[]) => (peers.length === 1 ? `rank ${peers[0]}` : `ranks ${peers.join(", ")}`);
const verb = (op: Op) => (op.kind === "send" ? "receiving the message" : "sending a matching message");
