/**
 * The shared memory of one "threads" process group: a `SharedArrayBuffer` every rank (a worker thread) maps, with
 * a control block of `Int32Array` words and one data slot per rank.
 *
 * Control words: [0] the abort flag, [1] the rank that aborted (-1: the launcher), [2] the length of the abort
 * message (its UTF-8 bytes follow the control block); then per group (the world is group 0, `newGroup` numbers
 * subgroups in creation order, the same on every rank) and per rank, `RANK_WORDS` words: its phase counter (how many
 * barrier phases it has reached in that group), the descriptor of its current collective (operation, length, type,
 * root), which every rank compares at the first phase so that ranks calling different collectives fail instead of
 * mixing data, and (group 0 only) a flag set when its job has returned (a collective waiting for it then fails at
 * once). Each group counts its own phases because its ranks run collectives the other ranks do not. Then the
 * point-to-point words (`p2p.ts`): a doorbell per rank and a channel per ordered pair of ranks, whose data areas
 * follow the data slots.
 *
 * Synchronisation is one primitive, `phase()`: a rank bumps its counter, wakes its waiters (`Atomics.notify`) and
 * waits (`Atomics.wait`, in slices so an abort is noticed) until every counter has reached its own. A failing rank,
 * or the launcher when a worker dies, sets the abort flag; every wait then throws a `DistributedError` naming that
 * rank, and every wait is bounded by the group's timeout.
 */
import { DistributedError } from "../backend";

const HEADER_WORDS = 4;
const RANK_WORDS = 8;
const MESSAGE_BYTES = 4096;
const WAIT_SLICE_MS = 50;
/** The most process groups (the world and its subgroups) a world can have. */
export const MAX_GROUPS = 32;
/** Control words per ordered pair of ranks (see `p2p.ts`). */
export const CHANNEL_WORDS = 8;
/** The word (after a rank's phase counter) set when the rank's job has returned. */
const FINISHED_WORD = 5;

/** The default data slot per rank: collectives larger than this run in chunks. */
export const DEFAULT_SLOT_BYTES = 8 << 20;

/** What identifies a collective call, compared across ranks. */
export interface OpDescriptor {
  op: number;
  length: number;
  type: number;
  root: number;
}

/** The plain data that makes a world (sent to each worker in `workerData`). */
export interface WorldInit {
  sab: SharedArrayBuffer;
  worldSize: number;
  slotBytes: number;
}

const groupWords = (worldSize: number) => HEADER_WORDS + RANK_WORDS * MAX_GROUPS * worldSize;
const controlWords = (w: number) => groupWords(w) + w + w * w * CHANNEL_WORDS;
const controlBytes = (worldSize: number) => controlWords(worldSize) * 4;
const dataOffset = (worldSize: number) => Math.ceil((controlBytes(worldSize) + MESSAGE_BYTES) / 64) * 64;

/** Allocates the shared memory of a world of `worldSize` ranks. */
export function createWorld(worldSize: number, slotBytes = DEFAULT_SLOT_BYTES): WorldInit {
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new RangeError(`expected worldSize >= 1, got ${worldSize}`);
  slotBytes = Math.max(64, Math.floor(slotBytes / 64) * 64);
  // a point-to-point channel holds a slot's worth of bytes split over the receivers (at least 64)
  const channel = Math.max(64, Math.floor(slotBytes / worldSize / 64) * 64);
  const sab = new SharedArrayBuffer(dataOffset(worldSize) + (slotBytes + channel * worldSize) * worldSize);
  return { sab, worldSize, slotBytes };
}

/** Marks the world failed (first caller wins) and wakes every waiter; used by ranks and by the launcher. */
export function abortWorld(init: WorldInit, rank: number, message: string): void {
  const ctrl = new Int32Array(init.sab, 0, controlWords(init.worldSize));
  if (Atomics.compareExchange(ctrl, 0, 0, 1) !== 0) return;
  const bytes = new TextEncoder().encode(message).subarray(0, MESSAGE_BYTES);
  new Uint8Array(init.sab, controlBytes(init.worldSize), MESSAGE_BYTES).set(bytes);
  Atomics.store(ctrl, 1, rank);
  Atomics.store(ctrl, 2, bytes.length);
  Atomics.store(ctrl, 3, 1); // the message is readable
  // wake every waiter: phase waits (any group) and point-to-point waits (the doorbells)
  for (let i = HEADER_WORDS; i < groupWords(init.worldSize); i += RANK_WORDS) Atomics.notify(ctrl, i);
  for (let r = 0; r < init.worldSize; r++) Atomics.notify(ctrl, groupWords(init.worldSize) + r);
}

/** Marks rank `rank` as finished (its job returned): a collective still waiting for it fails instead of waiting. */
export function markFinished(init: WorldInit, rank: number): void {
  const ctrl = new Int32Array(init.sab, 0, controlWords(init.worldSize));
  const idx = HEADER_WORDS + RANK_WORDS * rank;
  Atomics.store(ctrl, idx + FINISHED_WORD, 1);
  for (let i = idx; i < groupWords(init.worldSize); i += RANK_WORDS * init.worldSize) Atomics.notify(ctrl, i);
  Atomics.notify(ctrl, groupWords(init.worldSize) + rank);
}

/** The abort of a world, if any: the rank that aborted (-1: the launcher) and its message. */
export function worldAbort(init: WorldInit): { rank: number; message: string } | null {
  const ctrl = new Int32Array(init.sab, 0, HEADER_WORDS);
  if (Atomics.load(ctrl, 0) === 0) return null;
  while (Atomics.load(ctrl, 3) === 0) Atomics.wait(ctrl, 3, 0, 1);
  const len = Atomics.load(ctrl, 2);
  const message = new TextDecoder().decode(
    new Uint8Array(init.sab, controlBytes(init.worldSize), len).slice(),
  );
  return { rank: Atomics.load(ctrl, 1), message };
}

/** A process group of a world: its number (0: the world) and its members' global ranks, ascending. */
export interface GroupSpec {
  id: number;
  members: readonly number[];
}

/**
 * One rank's view of one group of a world: its slots, the group's phase barrier, and the world's point-to-point
 * words. Ranks here are global ranks (the world's).
 */
export class RankView {
  readonly ctrl: Int32Array;
  readonly slotBytes: number;
  /** The bytes of one point-to-point channel's data area. */
  readonly channelBytes: number;
  readonly group: GroupSpec;
  /**
   * Runs while a phase waits: the point-to-point engine progresses pending sends and receives there, and answers
   * whether some are still pending (the wait then polls every millisecond instead of sleeping on the counter).
   */
  idle: (() => boolean) | null = null;
  private phaseCount = 0;
  private readonly base: number;

  constructor(
    readonly init: WorldInit,
    readonly rank: number,
    readonly timeoutMs: number,
    group?: GroupSpec,
  ) {
    const w = init.worldSize;
    this.group = group ?? { id: 0, members: Array.from({ length: w }, (_, r) => r) };
    this.ctrl = new Int32Array(init.sab, 0, controlWords(w));
    this.slotBytes = init.slotBytes;
    this.base = dataOffset(w);
    this.channelBytes = Math.max(64, Math.floor(init.slotBytes / w / 64) * 64);
    // a rank that joins after others moved on (never in a fresh world) starts from its own counter
    this.phaseCount = Atomics.load(this.ctrl, this.counterIndex(rank));
  }

  private counterIndex(rank: number): number {
    return HEADER_WORDS + RANK_WORDS * (this.group.id * this.init.worldSize + rank);
  }

  /** The byte offset of rank `r`'s data slot in the shared buffer. */
  slotOffset(r: number): number {
    return this.base + r * this.slotBytes;
  }

  /** The control word of rank `r`'s doorbell, bumped whenever a channel to or from it changes. */
  bellIndex(r: number): number {
    return groupWords(this.init.worldSize) + r;
  }

  /** The first control word of the channel from rank `src` to rank `dst`. */
  channelIndex(src: number, dst: number): number {
    const w = this.init.worldSize;
    return groupWords(w) + w + (src * w + dst) * CHANNEL_WORDS;
  }

  /** The byte offset of the data area of the channel from rank `src` to rank `dst`. */
  channelOffset(src: number, dst: number): number {
    const w = this.init.worldSize;
    return this.base + w * this.slotBytes + (src * w + dst) * this.channelBytes;
  }

  /** Whether rank `r`'s job has returned. */
  finished(r: number): boolean {
    return Atomics.load(this.ctrl, HEADER_WORDS + RANK_WORDS * r + FINISHED_WORD) === 1;
  }

  /** Throws the world's abort as a `DistributedError`, if there is one. */
  checkAbort(what: string): void {
    const abort = worldAbort(this.init);
    if (abort === null) return;
    const who =
      abort.rank < 0 ? "the launcher" : abort.rank === this.rank ? "this rank" : `rank ${abort.rank}`;
    throw new DistributedError(
      `${what} on rank ${this.rank} failed: ${who} aborted the group: ${abort.message}`,
      abort.rank < 0 ? undefined : abort.rank,
    );
  }

  /** Publishes this rank's descriptor of the collective it is starting. */
  describe(d: OpDescriptor): void {
    const i = this.counterIndex(this.rank);
    this.ctrl[i + 1] = d.op;
    this.ctrl[i + 2] = d.length;
    this.ctrl[i + 3] = d.type;
    this.ctrl[i + 4] = d.root;
  }

  /** Every rank's descriptor (read after a phase, when they are all published). */
  descriptors(): OpDescriptor[] {
    const out: OpDescriptor[] = [];
    for (const r of this.group.members) {
      const i = this.counterIndex(r);
      out.push({
        op: this.ctrl[i + 1],
        length: this.ctrl[i + 2],
        type: this.ctrl[i + 3],
        root: this.ctrl[i + 4],
      });
    }
    return out;
  }

  /**
   * A barrier phase: returns once every rank has reached this phase. Throws a `DistributedError` if the world
   * aborts, or after the timeout (naming the ranks that did not arrive, and aborting the world so they fail too).
   */
  phase(what: string, deadline: number): void {
    const target = ++this.phaseCount;
    const mine = this.counterIndex(this.rank);
    Atomics.store(this.ctrl, mine, target);
    Atomics.notify(this.ctrl, mine);
    for (const r of this.group.members) {
      const idx = this.counterIndex(r);
      for (;;) {
        const seen = Atomics.load(this.ctrl, idx);
        if (seen >= target) break;
        this.checkAbort(what);
        if (this.finished(r) && Atomics.load(this.ctrl, idx) < target) {
          const message = `${what} on rank ${this.rank} failed: rank ${r} has finished its job without joining this collective`;
          abortWorld(this.init, this.rank, message);
          throw new DistributedError(message, r);
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          const missing = this.group.members.filter(
            (q) => Atomics.load(this.ctrl, this.counterIndex(q)) < target,
          );
          const message = `${what} on rank ${this.rank} timed out after ${this.timeoutMs} ms waiting for rank(s) ${missing.join(", ")}`;
          abortWorld(this.init, this.rank, message);
          throw new DistributedError(message, missing[0]);
        }
        // pending point-to-point operations move on while this rank waits (a peer may wait for them first)
        const busy = this.idle !== null && this.idle();
        Atomics.wait(this.ctrl, idx, seen, Math.min(left, busy ? 1 : WAIT_SLICE_MS));
      }
    }
  }
}
