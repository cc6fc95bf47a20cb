/**
 * The "mpi" collective backend: `@cinder/distributed`'s transport protocol over Open MPI's non-blocking collectives.
 *
 * Every collective starts at once (`MPI_I*` on the arrays' own memory, no copies) and returns a {@link Work};
 * `wait()` polls MPI until the operation and every earlier one are done, bounded by the timeout. `avg` is MPI's sum
 * divided by the world size here. MPI is initialized by the first backend and finalized when the process exits
 * normally (`MPI_Finalize` waits for every rank, so `destroy()`, which is not collective, does not call it).
 *
 * Subgroups (`newGroup`) are MPI communicators of their own (`MPI_Comm_create`); `send`/`recv` are `MPI_Isend`/
 * `MPI_Irecv`, with the array's type folded into the MPI tag (tag x 4 + type), so a receive never matches a message
 * of another type, and the received element count checked against the array's length.
 */
import {
  BACKEND_SPECIFICATION_VERSION,
  type BackendInitOptions,
  type CollectiveArray,
  type CollectiveBackend,
  DEFAULT_TIMEOUT_MS,
  DistributedError,
  type RecvWork,
  type ReduceOpName,
  type Work,
} from "@cinder/distributed";
import { loadNative, type MpiArray, type MpiOp, type NativeMpi } from "./native";

const TYPES = [Float32Array, Float64Array, Int32Array, Uint8Array];

/** One started collective: its request id (or null once done) and what to do after it completes. */
class MpiWork implements Work {
  id: number | null;
  constructor(
    private readonly owner: MpiBackend,
    id: number,
    readonly what: string,
    readonly finish?: () => void,
    /** A send or receive: it completes on its own, not in issue order with the collectives. */
    readonly p2p = false,
  ) {
    this.id = id;
  }
  wait(timeoutMs?: number): void {
    this.owner.waitFor(this, timeoutMs);
  }
  isCompleted(): boolean {
    return this.id === null || this.owner.poll(this);
  }
}

/** A started receive: its status array says who sent the message and how many elements came. */
class MpiRecvWork extends MpiWork implements RecvWork {
  constructor(
    owner: MpiBackend,
    id: number,
    what: string,
    private readonly status: Int32Array,
    private readonly ranks: number,
    expected: number,
    /** The source asked for (-1: any rank). */
    readonly peer: number,
  ) {
    super(
      owner,
      id,
      what,
      () => {
        if (status[1] !== expected)
          throw new DistributedError(
            `${what}: rank ${status[0]} sent ${status[1]} elements, but the receiving array holds ${expected}`,
            status[0],
          );
      },
      true,
    );
  }
  sourceRank(): number {
    if (!this.isCompleted())
      throw new DistributedError("sourceRank(): the receive has not completed; wait() first");
    const r = this.status[0];
    if (r < 0 || r >= this.ranks) throw new DistributedError(`sourceRank(): MPI reported source ${r}`);
    return r;
  }
}

/** The largest tag: MPI guarantees tags up to 32767, and the type takes two bits. */
const MAX_TAG = 8190;

let exitHookInstalled = false;

/** Finalize MPI when the process exits normally; after a failure the non-zero exit makes `mpirun` end the job. */
function finalizeAtExit(native: NativeMpi): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", (code) => {
    const state = native.state();
    if (code === 0 && state.initialized && state.pending === 0) native.finalize();
  });
}

/** One rank's connection to the MPI job (`MPI_COMM_WORLD`). */
export class MpiBackend implements CollectiveBackend {
  /** The version of `@cinder/distributed`'s backend protocol this backend implements (1). */
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION as 1;
  /** "mpi". */
  readonly name = "mpi";
  /** This process's rank in `MPI_COMM_WORLD`. */
  readonly rank: number;
  /** The number of processes `mpirun` started. */
  readonly worldSize: number;
  /** The bound on every wait, in milliseconds (default: 30 minutes, as PyTorch's process groups). */
  readonly timeoutMs: number;
  private readonly native: NativeMpi;
  /** Started and not yet completed, in the order they were issued. */
  private readonly pending: MpiWork[] = [];
  private destroyed = false;

  /** The communicator id (0: MPI_COMM_WORLD). */
  private readonly comm: number;

  /**
   * Initializes MPI (once per process) and checks `rank`/`worldSize` against it when they are given (not -1).
   * `group` (internal) makes a subgroup's backend on communicator `comm`.
   */
  constructor(
    options: Partial<BackendInitOptions> = {},
    group?: { comm: number; rank: number; size: number },
  ) {
    checkOptions(options);
    this.native = loadNative();
    this.comm = group?.comm ?? 0;
    const { rank, size } = group ?? this.native.init();
    finalizeAtExit(this.native);
    const given = (name: string, value: number | undefined, actual: number) => {
      if (value !== undefined && value !== -1 && value !== actual)
        throw new DistributedError(
          `backend "mpi": ${name} ${value} was asked for, but mpirun started this process as ${name} ${actual} ` +
            `(rank ${rank} of ${size}); leave ${name} out or launch with \`mpirun -np ${size}\``,
        );
    };
    given("rank", options.rank, rank);
    given("worldSize", options.worldSize, size);
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.rank = rank;
    this.worldSize = size;
    this.timeoutMs = timeout;
  }

  allReduce(buf: CollectiveArray, op: ReduceOpName): Work {
    const id = this.start(() => this.native.allreduce(null, buf, mpiOp(op), this.comm));
    return this.track(
      id,
      `allReduce(${op}) of ${describe(buf)}`,
      op === "avg" ? () => this.divide(buf) : undefined,
    );
  }

  broadcast(buf: CollectiveArray, src: number): Work {
    return this.track(
      this.start(() => this.native.bcast(buf, src, this.comm)),
      `broadcast from rank ${src} of ${describe(buf)}`,
    );
  }

  allGather(out: CollectiveArray, input: CollectiveArray): Work {
    const n = input.length;
    // input already in its place in out: MPI_IN_PLACE
    const inPlace = sameMemory(input, out, this.rank * n, n);
    return this.track(
      this.start(() => this.native.allgather(inPlace ? null : input, out, this.comm)),
      `allGather of ${describe(input)}`,
    );
  }

  reduceScatter(out: CollectiveArray, input: CollectiveArray, op: ReduceOpName): Work {
    const id = this.start(() => this.native.reduceScatterBlock(input, out, mpiOp(op), this.comm));
    return this.track(
      id,
      `reduceScatter(${op}) of ${describe(input)}`,
      op === "avg" ? () => this.divide(out) : undefined,
    );
  }

  gather(input: CollectiveArray, out: CollectiveArray | null, dst: number): Work {
    return this.track(
      this.start(() => this.native.gather(input, this.rank === dst ? out : null, dst, this.comm)),
      `gather to rank ${dst} of ${describe(input)}`,
    );
  }

  scatter(out: CollectiveArray, input: CollectiveArray | null, src: number): Work {
    return this.track(
      this.start(() => this.native.scatter(this.rank === src ? input : null, out, src, this.comm)),
      `scatter from rank ${src} of ${describe(out)}`,
    );
  }

  barrier(): Work {
    return this.track(
      this.start(() => this.native.barrier(this.comm)),
      "barrier",
    );
  }

  send(buf: CollectiveArray, dst: number, tag: number): Work {
    const t = this.tag(tag, buf);
    return this.track(
      this.start(() => this.native.isend(buf, dst, t, this.comm)),
      `send to rank ${dst} of ${describe(buf)} (tag ${tag})`,
      undefined,
      true,
    );
  }

  recv(buf: CollectiveArray, src: number, tag: number): RecvWork {
    const t = this.tag(tag, buf);
    const status = new Int32Array(2);
    const what = `recv from ${src === -1 ? "any rank" : `rank ${src}`} of ${describe(buf)} (tag ${tag})`;
    const id = this.start(() => this.native.irecv(buf, src, t, status, this.comm));
    const work = new MpiRecvWork(this, id, what, status, this.worldSize, buf.length, src);
    this.pending.push(work);
    return work;
  }

  /** Collective over this communicator: the subgroup of `ranks`' backend, or null outside it. */
  newGroup(ranks: readonly number[], timeoutMs = this.timeoutMs): MpiBackend | null {
    // MPI_Comm_create blocks without a bound: a barrier first, so a rank that never comes is a timeout, not a hang
    this.barrier().wait();
    if (ranks.length === 0) return null; // a group without members (PyTorch allows it): nobody is in it
    const comm = this.start(() => this.native.commCreate(ranks, this.comm));
    if (comm < 0) return null;
    return new MpiBackend({ timeoutMs }, { comm, rank: ranks.indexOf(this.rank), size: ranks.length });
  }

  /** The MPI tag of a user tag for `buf`'s type. */
  private tag(tag: number, buf: CollectiveArray): number {
    if (!Number.isInteger(tag) || tag < 0 || tag > MAX_TAG)
      throw new RangeError(`backend "mpi": tags are integers in [0, ${MAX_TAG}], got ${tag}`);
    return tag * 4 + TYPES.findIndex((t) => buf instanceof t);
  }

  /** Later calls throw. MPI itself stays up (a new process group may use it) and is finalized at exit. */
  destroy(): void {
    this.destroyed = true;
  }

  /** Waits for `work` and, for a collective, every collective issued before it, in order. */
  waitFor(work: MpiWork, timeoutMs = this.timeoutMs): void {
    const end = this.pending.indexOf(work);
    const deadline = Date.now() + timeoutMs;
    // a send or receive waits for itself only (an exchange would deadlock on an earlier receive otherwise)
    const order = work.p2p ? [work] : this.pending.slice(0, end + 1).filter((w) => !w.p2p);
    for (const w of order) {
      if (w.id !== null && !this.waitNative(w, Math.max(0, deadline - Date.now()))) {
        if (w instanceof MpiRecvWork) this.cancel(w, timeoutMs);
        const why = w.what.startsWith("send to")
          ? "the receiver has not received it"
          : "another rank has not joined it (did a rank fail, or issue different collectives?)";
        throw new DistributedError(
          `${w.what} on rank ${this.rank} of ${this.worldSize} timed out after ${timeoutMs} ms: ${why}. ` +
            "It stays pending; to give up, let the error end this process (a non-zero exit makes mpirun end every rank)",
        );
      }
      this.complete(w);
    }
  }

  /**
   * A receive that timed out is cancelled (MPI can take a receive back, unlike a collective), so the process can
   * still finalize MPI; if the message arrived meanwhile, the receive completes instead.
   */
  private cancel(work: MpiRecvWork, timeoutMs: number): void {
    const id = work.id as number;
    if (!this.native.cancel(id)) {
      this.complete(work);
      return;
    }
    work.id = null;
    this.pending.splice(this.pending.indexOf(work), 1);
    throw new DistributedError(
      `${work.what} on rank ${this.rank} of ${this.worldSize} timed out after ${timeoutMs} ms waiting for the sender; ` +
        "the receive was cancelled",
      work.peer >= 0 ? work.peer : undefined,
    );
  }

  /** One non-blocking check of `work`. */
  poll(work: MpiWork): boolean {
    if (work.id !== null && this.failed(work, () => this.native.test(work.id as number))) this.complete(work);
    return work.id === null;
  }

  private waitNative(work: MpiWork, timeoutMs: number): boolean {
    return this.failed(work, () => this.native.wait(work.id as number, timeoutMs));
  }

  /** Runs a test/wait of `work`; an MPI error (the addon has forgotten the request then) becomes a DistributedError. */
  private failed(work: MpiWork, call: () => boolean): boolean {
    try {
      return call();
    } catch (error) {
      work.id = null;
      this.pending.splice(this.pending.indexOf(work), 1);
      throw new DistributedError(
        `${work.what} on rank ${this.rank} of ${this.worldSize} failed: ${(error as Error).message}`,
      );
    }
  }

  private complete(work: MpiWork): void {
    work.id = null;
    const i = this.pending.indexOf(work);
    if (i >= 0) this.pending.splice(i, 1);
    work.finish?.();
  }

  private start(call: () => number): number {
    if (this.destroyed)
      throw new DistributedError(
        `backend "mpi" (rank ${this.rank}) was destroyed; initialize a new process group`,
      );
    return call();
  }

  private track(id: number, what: string, finish?: () => void, p2p = false): Work {
    const work = new MpiWork(this, id, what, finish, p2p);
    this.pending.push(work);
    return work;
  }

  private divide(buf: CollectiveArray): void {
    for (let i = 0; i < buf.length; i++) buf[i] /= this.worldSize;
  }
}

const OPTIONS: Record<keyof BackendInitOptions, string> = {
  rank: "an integer",
  worldSize: "an integer",
  initMethod: "a string",
  timeoutMs: "a number of milliseconds > 0",
};
const VALID: Record<keyof BackendInitOptions, (v: unknown) => boolean> = {
  rank: Number.isInteger,
  worldSize: Number.isInteger,
  initMethod: (v) => typeof v === "string",
  timeoutMs: (v) => typeof v === "number" && v > 0,
};

/** The constructor's options: known names, values of the right kind. */
function checkOptions(options: unknown): void {
  if (options === null || typeof options !== "object" || Array.isArray(options))
    throw new TypeError(`MpiBackend: expected an options object, got ${String(options)}`);
  for (const [key, value] of Object.entries(options)) {
    if (!(key in VALID))
      throw new TypeError(`MpiBackend: unknown option "${key}" (expected ${Object.keys(VALID).join(", ")})`);
    if (value !== undefined && !VALID[key as keyof BackendInitOptions](value))
      throw new TypeError(
        `MpiBackend: option ${key} must be ${OPTIONS[key as keyof BackendInitOptions]}, got ${String(value)}`,
      );
  }
}

/** `avg` runs as a sum (then a division in JS). */
function mpiOp(op: ReduceOpName): MpiOp {
  return op === "avg" ? "sum" : op;
}

/** "Float32Array[1024]" for messages. */
function describe(a: MpiArray): string {
  return TYPES.some((t) => a instanceof t) ? `${a.constructor.name}[${a.length}]` : String(a);
}

/** Whether `a` is exactly `b[offset, offset + n)` (the same memory). */
function sameMemory(a: MpiArray, b: MpiArray, offset: number, n: number): boolean {
  return (
    a.buffer === b.buffer &&
    a.constructor === b.constructor &&
    a.length === n &&
    a.byteOffset === b.byteOffset + offset * b.BYTES_PER_ELEMENT
  );
}
