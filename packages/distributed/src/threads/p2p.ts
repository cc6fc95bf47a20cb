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
 * group) with its group and tag; messages of one pair that match are received in the order they were sent. A
 * message no pending receive wants, found while this rank waits, is taken out of its channel into a private buffer
 * (MPI's unexpected-message queue), so a later message of the pair can reach the receive that wants it. Each
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
  /** Messages taken out of their channels before a receive wanted them (oldest first); pending until complete. */
  private readonly unexpected: Op[] = [];
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
        return op.done;
      },
      sourceRank: () => {
        if (!op.done) throw new DistributedError("sourceRank(): the receive has not completed; wait() first");
        return op.group.members.indexOf(op.peer);
      },
    };
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
        if (!op.started && this.fromUnexpected(op)) continue;
        const src = op.started ? op.peer : this.match(op, busyRecvs);
        if (src < 0) continue;
        op.peer = src;
        this.pull(op);
        busyRecvs.add(src);
      }
    }
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i].done) this.pending.splice(i, 1);
  }

  /**
   * Whether `op` is settled by the unexpected queue: true when it took a complete message from it, or must wait for
   * one being taken out of its channel (an older message of the pair it matches); false when none matches.
   */
  private fromUnexpected(op: Op): boolean {
    const i = this.unexpected.findIndex(
      (u) =>
        (op.peer >= 0 ? u.peer === op.peer : op.group.members.includes(u.peer)) &&
        u.group.id === op.group.id &&
        u.tag === op.tag,
    );
    if (i < 0) return false;
    const u = this.unexpected[i];
    if (!u.done) return true;
    this.checkMessage(op, u.peer, u.buf.length, arrayTypeName(u.buf));
    this.unexpected.splice(i, 1);
    op.buf.set(u.buf);
    op.peer = u.peer;
    op.started = op.done = true;
    return true;
  }

  /**
   * Takes every message no pending receive matches out of its channel (called while this rank waits), so the
   * sender can go on and a later message of the pair can be received first.
   */
  private takeUnexpected(): void {
    const { ctrl, rank } = this.view;
    for (let s = 0; s < this.view.init.worldSize; s++) {
      const c = this.view.channelIndex(s, rank);
      if (s === rank || Atomics.load(ctrl, c + FULL) !== 1 || ctrl[c + OFFSET] !== 0) continue;
      const group = ctrl[c + GROUP];
      const tag = ctrl[c + TAG];
      const wanted = this.pending.some(
        (op) =>
          op.kind === "recv" &&
          !op.done &&
          (op.started
            ? op.peer === s
            : (op.peer >= 0 ? op.peer === s : op.group.members.includes(s)) &&
              op.group.id === group &&
              op.tag === tag),
      );
      if (wanted) continue;
      const Type = [Float32Array, Float64Array, Int32Array, Uint8Array][ctrl[c + TYPE]];
      const u: Op = {
        kind: "recv",
        seq: ++this.seq,
        buf: new Type(ctrl[c + LENGTH]),
        tag,
        group: { id: group, members: [] },
        timeoutMs: this.view.timeoutMs,
        peer: s,
        at: 0,
        started: true,
        done: false,
      };
      this.pull(u);
      this.unexpected.push(u);
      if (!u.done) this.pending.push(u);
    }
  }

  /** A message of `length` `type` elements from `src` must fit `op`'s array exactly. */
  private checkMessage(op: Op, src: number, length: number, type: string): void {
    if (length === op.buf.length && type === arrayTypeName(op.buf)) return;
    const message =
      `recv on rank ${this.view.rank}: rank ${src} sent ${length} ${type} elements (tag ${op.tag}), ` +
      `but the receiving tensor holds ${op.buf.length} ${arrayTypeName(op.buf)} elements`;
    abortWorld(this.view.init, this.view.rank, message);
    throw new DistributedError(message, src);
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
        this.checkMessage(op, s, ctrl[c + LENGTH], TYPES[ctrl[c + TYPE]]);
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

  /** Waits until `op` is done (bounded by `timeoutMs`). */
  private wait(op: Op, timeoutMs: number): void {
    const { ctrl, rank } = this.view;
    const bell = this.view.bellIndex(rank);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(ctrl, bell);
      this.progress();
      // a send or receive completes on its own: waiting for earlier ones too would deadlock an exchange whose
      // receive was posted first
      if (op.done) return;
      const first = op;
      const what = first.kind === "send" ? "send" : "recv";
      this.view.checkAbort(what);
      this.takeUnexpected();
      const peers = first.peer >= 0 ? [first.peer] : first.group.members.filter((r) => r !== rank);
      if (peers.every((p) => this.view.finished(p))) {
        this.progress(); // what they sent before returning is in the channels already
        if (op.done) continue;
        this.fail(
          first,
          `${describe(first, rank)} failed: ${peerName(peers)} finished its job without ${verb(first)}${this.unreceived(peers)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        this.fail(
          first,
          `${describe(first, rank)} timed out after ${timeoutMs} ms waiting for ${peerName(peers)} to ${first.kind === "send" ? "receive it" : "send"}${this.unreceived(peers)}`,
        );
      Atomics.wait(ctrl, bell, seen, Math.min(left, WAIT_SLICE_MS));
    }
  }

  /** What `peers` sent that no receive took yet (for errors): " (rank 1 sent 4 float32 elements with tag 5, ...)". */
  private unreceived(peers: readonly number[]): string {
    const got = this.unexpected.filter((u) => peers.includes(u.peer));
    if (got.length === 0) return "";
    const list = got.map(
      (u) =>
        `rank ${u.peer} sent ${u.buf.length} ${arrayTypeName(u.buf)} elements with tag ${u.tag}${u.group.id > 0 ? ` in group ${u.group.id}` : ""}`,
    );
    return ` (not received: ${list.join("; ")})`;
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
