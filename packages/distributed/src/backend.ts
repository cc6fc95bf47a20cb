/**
 * The collective backend protocol: what a transport (the in-process "threads" backend, `@cinder/distributed-mpi`,
 * or a third party's) implements so that `initProcessGroup`, the tensor collectives, `DistributedDataParallel` and
 * `DataParallel` run over it.
 *
 * A backend moves and reduces **contiguous CPU typed arrays**; it never sees tensors, dtypes, devices, strides or
 * autograd. The front end (`collectives.ts`) makes every buffer contiguous, stages WebGPU tensors through the CPU,
 * checks shapes and dtypes on the calling rank, maps `bool` onto `Uint8Array` with `max`/`min` for `sum`/`product`,
 * and only asks for `avg` on floating arrays. So a transport has seven collectives to write, over four array types.
 * Three more members are optional (a backend without them still conforms; the front end then says the feature is
 * missing): `send`/`recv` (point to point) and `newGroup` (subgroups).
 *
 * Rules every backend follows (the conformance helper, `runBackendConformance` in `conformance.ts`, checks them):
 * - One instance per rank. Every rank issues the same collectives in the same order, with arrays of the same type
 *   and length (a backend may detect a mismatch and throw; it must not return a wrong answer).
 * - A call may return before the operation is done; the caller neither reads nor writes the arrays it passed until
 *   `wait()` returns. Collectives complete in the order they were issued, and `wait()` on one completes every
 *   earlier one; a `send`/`recv` completes on its own (its `wait()` waits for it alone, as an exchange needs). A
 *   backend that finishes inside the call (the threads backend does) returns an already completed `Work`.
 * - Nothing waits forever: every wait is bounded by the group's `timeoutMs` (or `wait`'s own `timeoutMs`). When it
 *   expires, or when another rank failed, the wait throws a {@link DistributedError} that names the rank(s).
 * - Integer sums and products wrap as C's do (as PyTorch's); floating reductions combine ranks in rank order
 *   (rank 0 first), so every rank ends with bit-identical results.
 */

/** The contiguous CPU arrays a backend moves: Cinder's float32, float64, int32, and uint8 (also bool's storage). */
export type CollectiveArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** The reductions of `allReduce` and `reduceScatter` (PyTorch's `ReduceOp` members in lower case). */
export type ReduceOpName = "sum" | "product" | "min" | "max" | "avg";

/** Every {@link ReduceOpName}, in PyTorch's `ReduceOp` order. */
export const REDUCE_OP_NAMES: readonly ReduceOpName[] = ["sum", "product", "min", "max", "avg"];

/** The protocol version a backend declares as `specificationVersion`. */
export const BACKEND_SPECIFICATION_VERSION = 1;

/** A started receive: a {@link Work} that also answers who sent the message. */
export interface RecvWork extends Work {
  /** The sender's rank in the group (once `wait()` returned; throws before). PyTorch's `Work._source_rank()`. */
  sourceRank(): number;
}

/** A started collective: PyTorch's `Work` (what `asyncOp: true` returns). */
export interface Work {
  /**
   * Blocks until the operation (and every earlier one of this backend) is done. Throws a {@link DistributedError}
   * when it fails, when a peer rank failed, or after `timeoutMs` (default: the group's timeout).
   */
  wait(timeoutMs?: number): void;
  /** Whether the operation is done (never blocks). */
  isCompleted(): boolean;
}

/**
 * One rank's connection to a group of `worldSize` ranks. Arrays are contiguous, and of the same type and length on
 * every rank unless said otherwise; `n` below is the per-rank element count.
 */
export interface CollectiveBackend {
  /** Always {@link BACKEND_SPECIFICATION_VERSION} (1). */
  readonly specificationVersion: 1;
  /** The name it was registered under ("threads", "mpi", ...). */
  readonly name: string;
  /** This rank, `0 <= rank < worldSize`. */
  readonly rank: number;
  /** The number of ranks. */
  readonly worldSize: number;
  /** In place: `buf` becomes the element-wise reduction of every rank's `buf`. */
  allReduce(buf: CollectiveArray, op: ReduceOpName): Work;
  /** In place: every rank's `buf` becomes rank `src`'s `buf`. */
  broadcast(buf: CollectiveArray, src: number): Work;
  /** `out` (length `worldSize * n`) becomes every rank's `input` (length `n`), rank-major. */
  allGather(out: CollectiveArray, input: CollectiveArray): Work;
  /** `out` (length `n`) becomes the reduction over ranks of their `input[rank * n, (rank + 1) * n)`. */
  reduceScatter(out: CollectiveArray, input: CollectiveArray, op: ReduceOpName): Work;
  /** On rank `dst`, `out` (length `worldSize * n`, `null` elsewhere) becomes every rank's `input`, rank-major. */
  gather(input: CollectiveArray, out: CollectiveArray | null, dst: number): Work;
  /** `out` (length `n`) becomes `input[rank * n, (rank + 1) * n)` of rank `src`'s `input` (`null` elsewhere). */
  scatter(out: CollectiveArray, input: CollectiveArray | null, src: number): Work;
  /** Completes once every rank has called it. */
  barrier(): Work;
  /**
   * Optional, point to point: sends `buf` to rank `dst` (another rank) with `tag` (an integer >= 0). Not collective.
   * The work may complete before the receiver received (the data was copied); messages of one pair with the same
   * tag arrive in the order they were sent.
   */
  send?(buf: CollectiveArray, dst: number, tag: number): Work;
  /**
   * Optional, point to point: `buf` becomes the oldest message to this rank with `tag` from rank `src`, or from any
   * rank when `src` is -1 (`sourceRank()` says which). A message of another length or type than `buf` is an error.
   */
  recv?(buf: CollectiveArray, src: number, tag: number): RecvWork;
  /**
   * Optional, collective over every rank of this backend (the default group's): the backend of the subgroup of
   * `ranks` (ascending, unique ranks of this backend), whose rank `i` is `ranks[i]`; `null` on a rank outside it.
   * Its waits are bounded by `timeoutMs` (default: this backend's timeout).
   */
  newGroup?(ranks: readonly number[], timeoutMs?: number): CollectiveBackend | null;
  /** Releases the backend's resources; later calls throw. Not collective: each rank calls it once. */
  destroy(): void;
}

/** What `initProcessGroup` passes a backend factory (already resolved from its options and the environment). */
export interface BackendInitOptions {
  /** This rank, or -1 when neither the options nor the environment (`RANK`) say (a backend may know it itself, as MPI). */
  rank: number;
  /** The number of ranks, or -1 when neither the options nor the environment (`WORLD_SIZE`) say. */
  worldSize: number;
  /** PyTorch's `init_method` (default `"env://"`): how ranks find each other; a backend may ignore it. */
  initMethod: string;
  /** The bound on every wait, in milliseconds. */
  timeoutMs: number;
}

/** Makes one rank's backend; called once per `initProcessGroup`. */
export type BackendFactory = (options: BackendInitOptions) => CollectiveBackend | Promise<CollectiveBackend>;

/**
 * A collective failed: a timeout, a peer rank that failed or left, or ranks that disagree on the operation. The
 * message names the rank(s); `rank` is the failing peer when one is known.
 */
export class DistributedError extends Error {
  /** The peer rank whose failure caused this one, if known. */
  readonly rank: number | undefined;
  /** Makes the error; `rank` is the peer that failed, when known. */
  constructor(message: string, rank?: number) {
    super(message);
    this.name = "DistributedError";
    this.rank = rank;
  }
}

/** A {@link Work} that is already done (for backends that finish inside the call). */
export const COMPLETED_WORK: Work = Object.freeze({
  wait(): void {},
  isCompleted(): boolean {
    return true;
  },
});

const factories = new Map<string, BackendFactory>();

/**
 * Makes `name` usable as `initProcessGroup({ backend: name })` (PyTorch's `Backend.register_backend`). Registering a
 * name again replaces the factory. Names are lower case, as PyTorch's.
 */
export function registerBackend(name: string, factory: BackendFactory): void {
  if (typeof name !== "string" || !/^[a-z][a-z0-9_-]*$/.test(name))
    throw new TypeError(
      `registerBackend: expected a lower-case name such as "mpi", got ${JSON.stringify(name)}`,
    );
  if (typeof factory !== "function")
    throw new TypeError(`registerBackend("${name}"): expected a factory function, got ${typeof factory}`);
  factories.set(name, factory);
}

/** The factory registered as `name`, or `undefined`. */
export function getBackendFactory(name: string): BackendFactory | undefined {
  return factories.get(name);
}

/** The names of the registered backends, sorted. */
export function registeredBackends(): string[] {
  return [...factories.keys()].sort();
}

/**
 * Checks what a factory returned against the protocol (the version and every member), so a wrong third-party
 * backend fails at `initProcessGroup` rather than in the middle of training.
 */
export function checkBackend(backend: CollectiveBackend, name: string): CollectiveBackend {
  const b = backend as Partial<CollectiveBackend> | null;
  if (b === null || typeof b !== "object")
    throw new TypeError(
      `backend "${name}": the factory returned ${b === null ? "null" : typeof b}, not a backend`,
    );
  if (b.specificationVersion !== BACKEND_SPECIFICATION_VERSION)
    throw new TypeError(
      `backend "${name}": expected specificationVersion ${BACKEND_SPECIFICATION_VERSION}, got ${String(b.specificationVersion)}`,
    );
  const methods = [
    "allReduce",
    "broadcast",
    "allGather",
    "reduceScatter",
    "gather",
    "scatter",
    "barrier",
    "destroy",
  ];
  const missing = methods.filter((m) => typeof (b as Record<string, unknown>)[m] !== "function");
  if (missing.length > 0) throw new TypeError(`backend "${name}": missing method(s) ${missing.join(", ")}`);
  const wrong = ["send", "recv", "newGroup"].filter((m) => {
    const v = (b as Record<string, unknown>)[m];
    return v !== undefined && typeof v !== "function";
  });
  if (wrong.length > 0)
    throw new TypeError(
      `backend "${name}": optional member(s) ${wrong.join(", ")} must be methods when present`,
    );
  const { rank, worldSize } = b;
  if (
    !Number.isInteger(worldSize) ||
    (worldSize as number) < 1 ||
    !Number.isInteger(rank) ||
    (rank as number) < 0 ||
    (rank as number) >= (worldSize as number)
  )
    throw new TypeError(
      `backend "${name}": expected 0 <= rank < worldSize, got rank ${rank} of worldSize ${worldSize}`,
    );
  return backend;
}
