/**
 * The shared memory of one "threads" process group: a `SharedArrayBuffer` every rank (a worker thread) maps, with
 * a control block of `Int32Array` words and one data slot per rank.
 *
 * Control words: [0] the abort flag, [1] the rank that aborted (-1: the launcher), [2] the length of the abort
 * message (its UTF-8 bytes follow the control block); then per rank, `RANK_WORDS` words: its phase counter (how many
 * barrier phases it has reached), the descriptor of its current collective (operation, length, type, root), which
 * every rank compares at the first phase so that ranks calling different collectives fail instead of mixing data,
 * and a flag set when its job has returned (a collective waiting for it then fails at once).
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

const controlBytes = (worldSize: number) => (HEADER_WORDS + RANK_WORDS * worldSize) * 4;
const dataOffset = (worldSize: number) => Math.ceil((controlBytes(worldSize) + MESSAGE_BYTES) / 64) * 64;

/** Allocates the shared memory of a world of `worldSize` ranks. */
export function createWorld(worldSize: number, slotBytes = DEFAULT_SLOT_BYTES): WorldInit {
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new RangeError(`expected worldSize >= 1, got ${worldSize}`);
  slotBytes = Math.max(64, Math.floor(slotBytes / 64) * 64);
  const sab = new SharedArrayBuffer(dataOffset(worldSize) + slotBytes * worldSize);
  return { sab, worldSize, slotBytes };
}

/** Marks the world failed (first caller wins) and wakes every waiter; used by ranks and by the launcher. */
export function abortWorld(init: WorldInit, rank: number, message: string): void {
  const ctrl = new Int32Array(init.sab, 0, HEADER_WORDS + RANK_WORDS * init.worldSize);
  if (Atomics.compareExchange(ctrl, 0, 0, 1) !== 0) return;
  const bytes = new TextEncoder().encode(message).subarray(0, MESSAGE_BYTES);
  new Uint8Array(init.sab, controlBytes(init.worldSize), MESSAGE_BYTES).set(bytes);
  Atomics.store(ctrl, 1, rank);
  Atomics.store(ctrl, 2, bytes.length);
  Atomics.store(ctrl, 3, 1); // the message is readable
  for (let r = 0; r < init.worldSize; r++) Atomics.notify(ctrl, HEADER_WORDS + RANK_WORDS * r);
}

/** Marks rank `rank` as finished (its job returned): a collective still waiting for it fails instead of waiting. */
export function markFinished(init: WorldInit, rank: number): void {
  const ctrl = new Int32Array(init.sab, 0, HEADER_WORDS + RANK_WORDS * init.worldSize);
  const idx = HEADER_WORDS + RANK_WORDS * rank;
  Atomics.store(ctrl, idx + FINISHED_WORD, 1);
  Atomics.notify(ctrl, idx);
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

/** One rank's view of a world: its slots and the phase barrier. */
export class RankView {
  readonly ctrl: Int32Array;
  readonly slotBytes: number;
  private phaseCount = 0;
  private readonly base: number;

  constructor(
    readonly init: WorldInit,
    readonly rank: number,
    readonly timeoutMs: number,
  ) {
    this.ctrl = new Int32Array(init.sab, 0, HEADER_WORDS + RANK_WORDS * init.worldSize);
    this.slotBytes = init.slotBytes;
    this.base = dataOffset(init.worldSize);
    // a rank that joins after others moved on (never in a fresh world) starts from its own counter
    this.phaseCount = Atomics.load(this.ctrl, this.counterIndex(rank));
  }

  private counterIndex(rank: number): number {
    return HEADER_WORDS + RANK_WORDS * rank;
  }

  /** The byte offset of rank `r`'s data slot in the shared buffer. */
  slotOffset(r: number): number {
    return this.base + r * this.slotBytes;
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
    for (let r = 0; r < this.init.worldSize; r++) {
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
    for (let r = 0; r < this.init.worldSize; r++) {
      const idx = this.counterIndex(r);
      for (;;) {
        const seen = Atomics.load(this.ctrl, idx);
        if (seen >= target) break;
        this.checkAbort(what);
        if (Atomics.load(this.ctrl, idx + FINISHED_WORD) === 1 && Atomics.load(this.ctrl, idx) < target) {
          const message = `${what} on rank ${this.rank} failed: rank ${r} has finished its job without joining this collective`;
          abortWorld(this.init, this.rank, message);
          throw new DistributedError(message, r);
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          const missing: number[] = [];
          for (let q = 0; q < this.init.worldSize; q++)
            if (Atomics.load(this.ctrl, this.counterIndex(q)) < target) missing.push(q);
          const message = `${what} on rank ${this.rank} timed out after ${this.timeoutMs} ms waiting for rank(s) ${missing.join(", ")}`;
          abortWorld(this.init, this.rank, message);
          throw new DistributedError(message, missing[0]);
        }
        Atomics.wait(this.ctrl, idx, seen, Math.min(left, WAIT_SLICE_MS));
      }
    }
  }
}
