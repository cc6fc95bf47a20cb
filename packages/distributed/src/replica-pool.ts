/**
 * The worker threads of one `DataParallel`: one per device id after the first (the calling thread is the first
 * replica). Each worker gets each trace once, the module's parameters and buffers through SharedArrayBuffers (written
 * before every forward: the optimizer changes them between steps), a chunk per forward, and the gradient of its
 * chunk's outputs per backward; it answers through shared memory (outputs, parameter gradients, or an error), which
 * the calling thread waits for with `Atomics.wait`, bounded by `timeoutMs`: a worker that fails or hangs gives an
 * error naming its device id, never a hang.
 *
 * Requests go by `postMessage` (the worker's event loop receives them while the calling thread computes its own
 * chunk); answers cannot (the calling thread is blocked in `Atomics.wait`, its event loop does not run), hence the
 * shared memory. The workers run their matrix products on one thread each (`CINDER_NUM_THREADS=1`), so N replicas
 * use N cores; they are unref'd (they never keep the process alive) and ended by `close()`.
 */
import type { DType, Tensor } from "@cinder/tensor";
import { tensor } from "@cinder/tensor";
import { nodeModule } from "./node";
import { type ReplicaTrace, type TensorData, tensorData } from "./replica";
import { bootFor, describeError } from "./spawn";

/** The control words of a worker's mailbox: answers so far, status of the last (0 ok, 1 error), error length. */
const ANSWERS = 0;
const STATUS = 1;
const ERROR_BYTES = 2;
const ERROR_CAPACITY = 16384;
/** The most tensors a forward's chunk may hold (each has a gradient flag). */
export const MAX_INPUTS = 256;

/** What a worker receives at start (`workerData.cinderReplica`). */
export interface ReplicaInit {
  readonly deviceId: number;
  readonly seed: number;
  /** Int32 control words (see ANSWERS, STATUS, ERROR_BYTES) followed by the error text's bytes. */
  readonly mailbox: SharedArrayBuffer;
}

/** A shared tensor: its dtype, shape and storage. */
export interface SharedSlot {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly buf: SharedArrayBuffer;
}

/** The messages a worker handles. */
export type ReplicaRequest =
  | { kind: "state"; state: SharedSlot[]; grads: (SharedSlot | null)[]; hasGrad: SharedArrayBuffer }
  | { kind: "trace"; id: number; trace: ReplicaTrace; outputs: SharedSlot[] }
  | {
      kind: "forward";
      trace: number;
      inputs: TensorData[];
      grad: boolean;
      /** Per input: where its gradient goes (an input that requires grad), or null. */
      inputGrads: (SharedSlot | null)[];
    }
  | { kind: "backward"; grads: (TensorData | null)[] };

const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
(async () => {
  const boot = workerData.cinderBoot;
  try {
    if (boot.tsx) (await import(boot.tsx)).register();
    const m = await import(boot.entry);
    await m.serveReplica(workerData.cinderReplica);
  } catch (e) {
    // a worker that cannot start answers with its error (the caller waits on the mailbox, not on events)
    const words = new Int32Array(workerData.cinderReplica.mailbox, 0, 4);
    const text = new TextEncoder().encode(String(e && e.stack || e)).slice(0, ${ERROR_CAPACITY});
    new Uint8Array(workerData.cinderReplica.mailbox, 16).set(text);
    Atomics.store(words, ${ERROR_BYTES}, text.length);
    Atomics.store(words, ${STATUS}, 1);
    Atomics.add(words, ${ANSWERS}, 1);
    Atomics.notify(words, ${ANSWERS});
  }
})();
`;

type ArrayCtor = (new (
  b: ArrayBufferLike,
  o: number,
  n: number,
) => ArrayLike<number> & {
  set(a: ArrayLike<number>): void;
  slice(): ArrayLike<number>;
}) & { BYTES_PER_ELEMENT: number };
const ctors = new Map<DType, ArrayCtor>();

/** The typed array class of a dtype (as the core stores it), found once per dtype. */
function arrayOf(dtype: DType): ArrayCtor {
  let c = ctors.get(dtype);
  if (c === undefined) {
    c = (tensor([], { dtype }).data() as unknown as { constructor: ArrayCtor }).constructor;
    ctors.set(dtype, c);
  }
  return c;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A shared buffer holding a tensor of `dtype` and `shape`. */
export function sharedSlot(dtype: DType, shape: readonly number[]): SharedSlot {
  const bytes = numel(shape) * arrayOf(dtype).BYTES_PER_ELEMENT;
  return { dtype, shape: [...shape], buf: new SharedArrayBuffer(Math.max(8, bytes)) };
}

/** The typed array over a slot (the dtype's own array type). */
export function slotView(slot: SharedSlot): InstanceType<ArrayCtor> {
  return new (arrayOf(slot.dtype))(slot.buf, 0, numel(slot.shape));
}

/** Writes the answer of a request (and an error, if any) into a worker's mailbox and wakes the caller. */
export function answer(mailbox: SharedArrayBuffer, error: unknown): void {
  const words = new Int32Array(mailbox, 0, 4);
  if (error === null) Atomics.store(words, STATUS, 0);
  else {
    const text = new TextEncoder().encode(describeError(error)).slice(0, ERROR_CAPACITY);
    new Uint8Array(mailbox, 16).set(text);
    Atomics.store(words, ERROR_BYTES, text.length);
    Atomics.store(words, STATUS, 1);
  }
  Atomics.add(words, ANSWERS, 1);
  Atomics.notify(words, ANSWERS);
}

interface Replica {
  readonly deviceId: number;
  readonly worker: { postMessage(m: unknown): void; terminate(): Promise<number>; unref(): void };
  readonly mailbox: SharedArrayBuffer;
  readonly words: Int32Array;
  /** Answers expected so far (the start counts as one). */
  expected: number;
  /** The output slots of the traces this worker holds, by trace id. */
  readonly traces: Map<number, SharedSlot[]>;
  /** The trace of the last forward. */
  last: number;
  /** This worker's parameter gradients (null: a state tensor without gradient), and which it wrote. */
  grads: (SharedSlot | null)[];
  hasGrad: Int32Array;
  /** The gradients of the last forward's inputs (null: an input that does not require grad). */
  inputGrads: (SharedSlot | null)[];
}

/** The worker threads of one DataParallel (see the module's comment). */
export class ReplicaPool {
  private readonly replicas: Replica[];
  private state: SharedSlot[] = [];
  #closed = false;

  constructor(
    deviceIds: readonly number[],
    seed: number,
    /** The bound on every wait for a worker, in ms. */
    public timeoutMs: number,
  ) {
    const { Worker } = nodeModule("node:worker_threads");
    const entry = new URL(
      /\.ts$/.test(new URL(import.meta.url).pathname)
        ? "./data-parallel-worker.ts"
        : "./data-parallel-worker.js",
      import.meta.url,
    ).href;
    const { boot, execArgv } = bootFor({ kind: "call", module: entry, export: "serveReplica", data: null });
    this.replicas = deviceIds.map((deviceId) => {
      const mailbox = new SharedArrayBuffer(16 + ERROR_CAPACITY);
      const init: ReplicaInit = { deviceId, seed: seed + deviceId, mailbox };
      const worker = new Worker(BOOTSTRAP, {
        eval: true,
        execArgv,
        // one matrix-product thread per replica: N replicas use N cores
        env: { ...process.env, CINDER_NUM_THREADS: "1" },
        workerData: { cinderBoot: { tsx: boot.tsx, entry }, cinderReplica: init },
      });
      worker.unref();
      const words = new Int32Array(mailbox, 0, 4);
      return {
        deviceId,
        worker,
        mailbox,
        words,
        expected: 1,
        traces: new Map(),
        last: -1,
        grads: [],
        hasGrad: new Int32Array(0),
        inputGrads: [],
      };
    });
  }

  /** The device ids of the workers. */
  get deviceIds(): number[] {
    return this.replicas.map((r) => r.deviceId);
  }

  /**
   * Copies the current values of `state` (parameters, then buffers) into the shared buffers the workers read, and
   * (re)sends the layout when it changed. `needsGrad[i]`: state tensor i is a parameter that requires grad.
   */
  writeState(state: readonly Tensor[], needsGrad: readonly boolean[]): void {
    const same =
      this.state.length === state.length &&
      state.every((t, i) => t.dtype === this.state[i].dtype && sameShape(t.shape, this.state[i].shape)) &&
      this.replicas.every((r) => r.grads.every((g, i) => (g !== null) === needsGrad[i]));
    if (!same) {
      this.state = state.map((t) => sharedSlot(t.dtype, t.shape));
      for (const r of this.replicas) {
        r.grads = state.map((t, i) => (needsGrad[i] ? sharedSlot(t.dtype, t.shape) : null));
        // one flag per state tensor, then room for the inputs' flags
        r.hasGrad = new Int32Array(new SharedArrayBuffer(4 * (state.length + MAX_INPUTS)));
        this.post(r, {
          kind: "state",
          state: this.state,
          grads: r.grads,
          hasGrad: r.hasGrad.buffer as SharedArrayBuffer,
        });
      }
    }
    for (const [i, t] of state.entries()) slotView(this.state[i]).set(t.data() as ArrayLike<number>);
  }

  /** Worker `k` runs trace `id` (sent once) on `inputs`, recording its graph when `grad`; see {@link outputs}. */
  forward(k: number, id: number, trace: ReplicaTrace, inputs: readonly Tensor[], grad: boolean): void {
    const r = this.replicas[k];
    if (!r.traces.has(id)) {
      const outputs = trace.outputMeta.map((m) => sharedSlot(m.dtype, m.shape));
      r.traces.set(id, outputs);
      this.post(r, { kind: "trace", id, trace, outputs });
    }
    r.last = id;
    // (inputs that require grad are rare: their slots are made per forward)
    r.inputGrads = inputs.map((t) => (grad && t.requiresGrad ? sharedSlot(t.dtype, t.shape) : null));
    this.post(r, {
      kind: "forward",
      trace: id,
      inputs: inputs.map(tensorData),
      grad,
      inputGrads: r.inputGrads,
    });
    r.expected++;
  }

  /** The outputs of worker `k`'s last forward (waits for them), copied out of the shared buffers. */
  outputs(k: number): Tensor[] {
    const r = this.replicas[k];
    this.wait(r, "forward");
    return (r.traces.get(r.last) as SharedSlot[]).map((s) => fromSlot(s));
  }

  /** Worker `k` runs the backward of its last forward from its outputs' gradients (null: none reached it). */
  backward(k: number, grads: (TensorData | null)[]): void {
    const r = this.replicas[k];
    this.post(r, { kind: "backward", grads });
    r.expected++;
  }

  /** The parameter gradients of worker `k`'s last backward (waits for them): null where it computed none. */
  gradients(k: number): { params: (Tensor | null)[]; inputs: (Tensor | null)[] } {
    const r = this.replicas[k];
    this.wait(r, "backward");
    const got = (g: SharedSlot | null, i: number) =>
      g !== null && Atomics.load(r.hasGrad, i) === 1 ? fromSlot(g) : null;
    // (the flags of the inputs' gradients follow the state's)
    return { params: r.grads.map(got), inputs: r.inputGrads.map((g, i) => got(g, r.grads.length + i)) };
  }

  /** Waits for every answer still expected, ignoring errors (after a failure of the caller's own chunk). */
  drain(): void {
    for (const r of this.replicas) {
      try {
        this.wait(r, "a request");
      } catch {}
    }
  }

  /** Whether the workers were ended (`close()`, or a worker that did not answer in time). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Ends the workers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.replicas) void r.worker.terminate();
  }

  private post(r: Replica, m: ReplicaRequest): void {
    if (this.#closed) throw new Error("DataParallel: the replicas were closed (close() or dispose)");
    r.worker.postMessage(m);
  }

  /** Waits until worker `r` has given every expected answer; throws its error, or on timeout. */
  private wait(r: Replica, what: string): void {
    if (this.#closed) throw new Error("DataParallel: the replicas were closed (close() or dispose)");
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const got = Atomics.load(r.words, ANSWERS);
      if (got >= r.expected) break;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(r.words, ANSWERS, got, left) === "timed-out")
        if (Atomics.load(r.words, ANSWERS) < r.expected) {
          // later answers would be out of step: this replica is done for
          this.close();
          throw new Error(
            `DataParallel: the replica on device ${r.deviceId} did not answer (${what}) within ${this.timeoutMs} ms; the replicas were closed`,
          );
        }
    }
    if (Atomics.load(r.words, STATUS) === 1) {
      Atomics.store(r.words, STATUS, 0);
      const n = Atomics.load(r.words, ERROR_BYTES);
      const text = new TextDecoder().decode(new Uint8Array(r.mailbox, 16, n).slice());
      throw new Error(`DataParallel: the replica on device ${r.deviceId} failed (${what}): ${text}`);
    }
  }
}

/** A tensor holding a copy of a slot's values. */
function fromSlot(s: SharedSlot): Tensor {
  return tensor(slotView(s) as never, { dtype: s.dtype }).reshape([...s.shape]); // (tensor() copies)
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);
