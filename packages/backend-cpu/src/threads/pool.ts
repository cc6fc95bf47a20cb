/**
 * The GEMM thread pool: workers sharing the WebAssembly memory of wasm/gemm.ts, and the synchronous dispatch of
 * a job's chunks over them and the calling thread.
 *
 * `runJob` publishes a job in the control block (see worker-source.ts), wakes the workers, claims and runs chunks
 * itself until none is left, then waits until every claimed chunk is done: the calling thread never waits for a
 * worker that has not started a chunk, so a worker still starting, descheduled or broken costs nothing but its
 * share. Waiting is `Atomics.wait` where the thread may block (Node's main thread, any worker) and a spin on
 * `Atomics.load` where it may not (a browser's main thread), which is short: it lasts at most one chunk.
 *
 * Workers start on the first job that wants them (never at import), in Node as `worker_threads` (found through
 * `process.getBuiltinModule`, Node >= 20.16) `unref()`'d so that they never keep the process alive, in browsers
 * as Web Workers from a Blob URL where the page is cross-origin isolated. A worker's chunk that throws makes
 * the job throw once every chunk is accounted for; the pool is then shut down and products run on one thread
 * until `setNumThreads` is called again.
 */
import { Backoff } from "./backoff";
import { CTL, CTL_WORDS, MAX_THREADS, NODE_WORKER_SOURCE, WEB_WORKER_SOURCE } from "./worker-source";

/** The WebAssembly side of a job: the shared memory, its compiled module and the calling thread's instance. */
export interface ThreadHost {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly run: (job: number, chunk: number, scratch: number) => void;
}

/** Byte offsets of the control block and of the job descriptor in the memory. */
export const CTL_AT = 0;
export const JOB_AT = CTL_AT + 4 * CTL_WORDS;

/**
 * The threads a product above the size threshold may use: numThreads, minus what this platform or a failure
 * forbids, and 1 while splitting is not paying off (see backoff.ts).
 */
export function usableThreads(host: ThreadHost): number {
  if (numThreads <= 1 || disabled !== null) return 1;
  const shared = typeof SharedArrayBuffer === "function" && host.memory.buffer instanceof SharedArrayBuffer;
  if (!shared || workerFactory() === null) return 1;
  return !adaptive || backoff.allow() ? Math.min(numThreads, MAX_THREADS) : 1;
}

const backoff = new Backoff();
let adaptive = true;

// ---------------------------------------------------------------------------------------------------------
// Thread count

const DEFAULT_CAP = 8;

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}
const nodeProcess = (): NodeProcess | null => {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : null;
};

/**
 * The default thread count: $CINDER_NUM_THREADS in Node when it is a positive integer (as OMP_NUM_THREADS is for
 * PyTorch), else the machine's parallelism (os.availableParallelism() in Node, navigator.hardwareConcurrency in
 * browsers) capped at 8; 1 when unknown.
 */
export function defaultNumThreads(): number {
  const node = nodeProcess();
  const env = Number(node?.env?.CINDER_NUM_THREADS ?? Number.NaN);
  if (Number.isInteger(env) && env >= 1) return env;
  let n = 0;
  const os = node?.getBuiltinModule?.("node:os") as
    | { availableParallelism?: () => number; cpus: () => unknown[] }
    | undefined;
  if (os) n = os.availableParallelism?.() ?? os.cpus().length;
  else
    n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(DEFAULT_CAP, Math.floor(n) || 1));
}

let numThreads = defaultNumThreads();
/** Why threads are off after a failure (null: they are not). */
let disabled: string | null = null;

export function getThreads(): number {
  return numThreads;
}

/** Set the thread count (>= 1): the pool is rebuilt on the next job that wants it; re-enables after a failure. */
export function setThreads(n: number): void {
  if (n !== numThreads || disabled !== null) shutdown();
  numThreads = n;
  disabled = null;
  backoff.reset();
}

// ---------------------------------------------------------------------------------------------------------
// Workers

interface WorkerHandle {
  terminate(): unknown;
  /** Node: whether the worker keeps the process alive (never, except while whenThreadsReady() is awaited). */
  ref?(): void;
  unref?(): void;
}
type Spawn = (id: number, init: Record<string, unknown>, onMessage: (m: Message) => void) => WorkerHandle;
type Message =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "exit" | "error"; message: string };

let factory: Spawn | null | undefined;

/** How to start a worker here, or null when this platform cannot share memory with one. */
function workerFactory(): Spawn | null {
  if (factory !== undefined) return factory;
  factory = null;
  const node = nodeProcess();
  if (node) {
    const wt = node.getBuiltinModule?.("node:worker_threads") as
      | { Worker: new (src: string, o: object) => NodeWorker }
      | undefined;
    if (wt) factory = nodeSpawn(wt.Worker);
    return factory;
  }
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; Blob?: unknown; URL?: unknown };
  if (g.crossOriginIsolated === true && typeof g.Worker === "function" && typeof g.Blob === "function") {
    factory = webSpawn();
  }
  return factory;
}

interface NodeWorker extends WorkerHandle {
  unref(): void;
  postMessage(m: unknown): void;
  on(ev: string, f: (x: unknown) => void): void;
}

function nodeSpawn(Worker: new (src: string, o: object) => NodeWorker): Spawn {
  return (id, init, onMessage) => {
    // execArgv: []: the worker is plain JavaScript, it needs none of the parent's loaders or flags.
    const w = new Worker(NODE_WORKER_SOURCE, { eval: true, execArgv: [], name: `cinder-gemm-${id}` });
    w.on("message", (m) => onMessage(m as Message));
    w.on("error", (e) => onMessage({ type: "error", message: String((e as Error)?.message ?? e) }));
    w.on("exit", (code) => onMessage({ type: "exit", message: `exited with code ${code}` }));
    w.postMessage(init);
    // After the listeners: adding a "message" listener refs the worker again.
    w.unref();
    return w;
  };
}

function webSpawn(): Spawn {
  let url: string | null = null;
  return (_id, init, onMessage) => {
    url ??= URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: "text/javascript" }));
    const w = new Worker(url);
    w.onmessage = (e) => onMessage(e.data as Message);
    w.onerror = (e) => {
      e.preventDefault();
      onMessage({ type: "error", message: e.message || "worker error" });
    };
    w.postMessage(init);
    return w;
  };
}

interface Pool {
  readonly host: ThreadHost;
  readonly workers: WorkerHandle[];
  readonly epoch: number;
  /** Resolves with the number of workers that started, once each has started or failed. */
  readonly ready: Promise<number>;
}

let pool: Pool | null = null;
/** The epoch of the live pool (-1: none); messages from retired workers are ignored. */
let liveEpoch = -1;
/** Test hooks: the next pool's workers cannot be created / fail while starting; workers throw instead of chunks. */
let failNextSpawn = false;
let failNextInit = false;
let faultChunks = 0;
let lastError: string | null = null;

function ctlOf(host: ThreadHost): Int32Array {
  return new Int32Array(host.memory.buffer, CTL_AT, CTL_WORDS);
}

/** The pool of `threads - 1` workers on this host's memory, started now if need be; null if none can start. */
function poolFor(host: ThreadHost, threads: number): Pool | null {
  if (pool !== null && pool.host === host && pool.workers.length === threads - 1) return pool;
  shutdown();
  const spawn = workerFactory();
  if (spawn === null) return null;
  const ctl = ctlOf(host);
  const epoch = Atomics.add(ctl, CTL.EPOCH, 1) + 1;
  liveEpoch = epoch;
  Atomics.store(ctl, CTL.READY, 0);
  Atomics.store(ctl, CTL.INIT_FAILED, 0);
  for (let i = 0; i < MAX_THREADS; i++) Atomics.store(ctl, CTL.CHUNKS + i, 0);
  let settle: (n: number) => void = () => {};
  const ready = new Promise<number>((resolve) => {
    settle = resolve;
  });
  let started = 0;
  let ended = 0;
  const { module, memory } = host;
  const init = { module, memory, epoch, ctlAt: CTL_AT, jobAt: JOB_AT, failInit: failNextInit, spinMs };
  const failSpawn = failNextSpawn;
  failNextInit = false;
  failNextSpawn = false;
  const workers: WorkerHandle[] = [];
  pool = { host, workers, epoch, ready };
  for (let id = 1; id < threads && epoch === liveEpoch; id++) {
    let settled = false;
    const onMessage = (m: Message) => {
      if (m.type === "ready") started++;
      else if (epoch === liveEpoch) {
        // A worker that cannot start or has stopped: finish on one thread rather than on a partial pool.
        lastError = `worker ${id}: ${m.message}`;
        disabled = lastError;
        shutdown();
      }
      if (!settled) {
        settled = true;
        if (++ended === threads - 1) settle(started);
      }
    };
    try {
      if (failSpawn) throw new Error("injected spawn failure");
      workers.push(spawn(id, { ...init, id }, onMessage));
    } catch (e) {
      onMessage({ type: "error", message: String((e as Error)?.message ?? e) });
    }
  }
  return epoch === liveEpoch ? pool : null;
}

/** Retire the pool: its workers see the new epoch, exit their loop, and are terminated. */
function shutdown(): void {
  liveEpoch = -1;
  if (pool === null) return;
  const ctl = ctlOf(pool.host);
  Atomics.add(ctl, CTL.EPOCH, 1);
  Atomics.notify(ctl, CTL.GEN);
  for (const w of pool.workers) {
    try {
      w.terminate();
    } catch {
      // Already gone.
    }
  }
  pool = null;
}

// ---------------------------------------------------------------------------------------------------------
// Dispatch

let gen = 0;
/**
 * How long a thread spins for what it waits for before it sleeps in Atomics.wait (ms): a worker for the next job,
 * the calling thread for the workers' last chunks.
 */
const SPIN_MS = 0.1;
let spinMs = SPIN_MS;
let mayWait: boolean | undefined;
/** Give up on a job whose chunks make no progress for this long (a worker that died mid-chunk). */
const STALL_MS = 30_000;
let stallMs = STALL_MS;

export const stats = { dispatches: 0 };

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canWait(ctl: Int32Array): boolean {
  if (mayWait === undefined) {
    try {
      Atomics.wait(ctl, CTL.ZERO, 1, 0);
      mayWait = true;
    } catch {
      mayWait = false;
    }
  }
  return mayWait;
}

/**
 * Run chunks 0..total-1 of the job whose descriptor is at JOB_AT (chunks below nPack first: the others wait for
 * them) on `threads` threads, this one included. Synchronous; throws if a chunk threw.
 */
export function runJob(
  host: ThreadHost,
  total: number,
  nPack: number,
  threads: number,
  scratch: number,
): void {
  finishJob(startJob(host, total, nPack, threads, scratch));
}

/** A job that has been published to the workers (or, on one thread, already run). */
export interface StartedJob {
  readonly host: ThreadHost;
  readonly total: number;
  readonly nPack: number;
  readonly scratch: number;
  /** False when the job ran on this thread inside startJob. */
  readonly split: boolean;
}

/**
 * Publish a job to the workers and return at once, so that this thread can do other work (copy the next
 * operands in, the previous results out: memory the job does not touch) while they start on it; finishJob then
 * claims what is left and waits. Without workers the job runs here and now. At most one job is started at a time.
 */
export function startJob(
  host: ThreadHost,
  total: number,
  nPack: number,
  threads: number,
  scratch: number,
): StartedJob {
  const p = threads > 1 && total > 1 ? poolFor(host, threads) : null;
  if (p === null) {
    for (let c = 0; c < total; c++) host.run(JOB_AT, c, scratch);
    return { host, total, nPack, scratch, split: false };
  }
  stats.dispatches++;
  const ctl = ctlOf(host);
  gen = (gen + 1) & 0x7fffffff;
  Atomics.store(ctl, CTL.DONE, 0);
  Atomics.store(ctl, CTL.ERROR, 0);
  Atomics.store(ctl, CTL.FAULT, faultChunks);
  Atomics.store(ctl, CTL.CLAIM, ((gen & 0xfff) << 20) | (total << 10));
  Atomics.store(ctl, CTL.GEN, gen);
  Atomics.notify(ctl, CTL.GEN);
  return { host, total, nPack, scratch, split: true };
}

/**
 * Claim and run the started job's unclaimed chunks on this thread, then wait for the rest; throws if one threw.
 * Returns the job's estimated time on one thread (ms, from this thread's chunks; NaN when it ran none) and,
 * with `record` (default), reports the gain to the back-off; a caller that overlaps other work with its jobs
 * reports the gain of the whole instead (recordGain).
 */
export function finishJob(job: StartedJob, record = true): number {
  if (!job.split) return Number.NaN;
  const { host, total, nPack, scratch } = job;
  const ctl = ctlOf(host);
  const wait = canWait(ctl);
  let failure: unknown = null;
  // This thread's chunks and their time, pack and compute apart: the one-thread estimate for the back-off,
  // against the time this thread spends here (not what it did between startJob and finishJob).
  const t0 = performance.now();
  let packs = 0;
  let packMs = 0;
  let computes = 0;
  let computeMs = 0;
  for (;;) {
    const c = Atomics.load(ctl, CTL.CLAIM);
    const next = c & 0x3ff;
    if (next >= total) break;
    if (Atomics.compareExchange(ctl, CTL.CLAIM, c, c + 1) !== c) continue;
    try {
      if (next >= nPack) waitFor(ctl, nPack, wait);
      const t = performance.now();
      host.run(JOB_AT, next, scratch);
      if (next < nPack) {
        packs++;
        packMs += performance.now() - t;
      } else {
        computes++;
        computeMs += performance.now() - t;
      }
      Atomics.add(ctl, CTL.CHUNKS, 1);
    } catch (e) {
      failure ??= e;
    }
    Atomics.add(ctl, CTL.DONE, 1);
    Atomics.notify(ctl, CTL.DONE);
  }
  waitFor(ctl, total, wait);
  if (failure !== null) throw failure;
  const id = Atomics.load(ctl, CTL.ERROR);
  if (id !== 0) {
    const len = Math.min(Atomics.load(ctl, CTL.MSG_LEN), CTL_WORDS - CTL.MSG);
    const msg = String.fromCharCode(...ctl.subarray(CTL.MSG, CTL.MSG + len));
    fail(`matmul worker thread ${id} failed: ${msg}`);
  }
  if (computes === 0) return Number.NaN;
  const alone = (computeMs / computes) * (total - nPack) + (packs > 0 ? (packMs / packs) * nPack : 0);
  if (record) backoff.record(alone / (performance.now() - t0));
  return alone;
}

/** Report a split product's gain, (estimated time on one thread) / (time taken), to the back-off. */
export function recordGain(gain: number): void {
  backoff.record(gain);
}

/** Wait until DONE >= n: spinning SPIN_MS first (the last chunk is short), then in Atomics.wait. */
function waitFor(ctl: Int32Array, n: number, wait: boolean): void {
  let last = Atomics.load(ctl, CTL.DONE);
  if (last >= n) return;
  let since = performance.now();
  for (const end = since + spinMs; performance.now() < end; ) if (Atomics.load(ctl, CTL.DONE) >= n) return;
  for (let spins = 0; ; spins++) {
    const d = Atomics.load(ctl, CTL.DONE);
    if (d >= n) return;
    if (wait) Atomics.wait(ctl, CTL.DONE, d, 100);
    if (d !== last) {
      last = d;
      since = performance.now();
    } else if ((wait || (spins & 0xffff) === 0) && performance.now() - since > stallMs) {
      fail(`matmul worker threads made no progress for ${stallMs / 1000} s`);
    }
  }
}

function fail(message: string): never {
  lastError = message;
  faultChunks = 0;
  disabled = message;
  shutdown();
  throw new Error(`${message}; matmul runs on one thread until setNumThreads() is called`);
}

// ---------------------------------------------------------------------------------------------------------
// Introspection and test hooks (internal: not exported from the package)

export interface ThreadInfo {
  /** Threads configured (getNumThreads()). */
  numThreads: number;
  /** Workers in the current pool (0: none started). */
  workers: number;
  /** Products split over threads so far. */
  dispatches: number;
  /** Products above the threshold run on one thread because splitting was not paying off (backoff.ts). */
  skipped: number;
  /** Chunks run by workers (not the calling thread) in the current pool's memory. */
  workerChunks: number;
  /** The last worker failure, if any. */
  error: string | null;
  /** Why threads are off after a failure, if they are. */
  disabled: string | null;
}

export function threadInfo(): ThreadInfo {
  let workerChunks = 0;
  if (pool !== null) {
    const ctl = ctlOf(pool.host);
    for (let i = 1; i < MAX_THREADS; i++) workerChunks += Atomics.load(ctl, CTL.CHUNKS + i);
  }
  return {
    numThreads,
    workers: pool?.workers.length ?? 0,
    dispatches: stats.dispatches,
    skipped: backoff.skipped,
    workerChunks,
    error: lastError,
    disabled,
  };
}

/**
 * Resolves with the number of the current pool's workers that started (0 without a pool). Node workers keep
 * the process alive while this is awaited (they never do otherwise).
 */
export function whenThreadsReady(): Promise<number> {
  if (pool === null) return Promise.resolve(0);
  const { workers } = pool;
  for (const w of workers) w.ref?.();
  return pool.ready.finally(() => {
    for (const w of workers) w.unref?.();
  });
}

/**
 * Test hooks: make workers throw instead of running chunks ("chunk") or stall 5 s before each ("stall", with
 * the calling thread giving up after `stallMs`), or the next pool's workers fail to be created ("spawn") or to
 * start ("init"); "none" clears them.
 */
export function injectWorkerFault(
  kind: "chunk" | "stall" | "spawn" | "init" | "none",
  stall = STALL_MS,
): void {
  failNextSpawn = kind === "spawn";
  failNextInit = kind === "init";
  faultChunks = kind === "chunk" ? 1 : kind === "stall" ? 2 : 0;
  stallMs = stall;
}

/** Test hook: how long threads spin before they sleep (ms; default SPIN_MS); restarts the pool. */
export function setThreadSpin(ms: number = SPIN_MS): void {
  spinMs = ms;
  shutdown();
}

/** Test hook: turn the back-off off (every product above the threshold splits) or on (the default). */
export function setAdaptiveThreads(on: boolean): void {
  adaptive = on;
  backoff.reset();
}

/** Test hook: the back-off state. */
export function threadBackoff(): Backoff {
  return backoff;
}

/** Test hook: forget the last error (threadInfo().error). */
export function clearThreadError(): void {
  lastError = null;
}
