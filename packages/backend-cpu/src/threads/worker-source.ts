/**
 * The GEMM worker: its control block layout and its source, plain JavaScript kept as a string so that it runs
 * unbundled in a Node `worker_threads` Worker (`eval: true`) or a browser Web Worker (from a Blob URL) alike.
 *
 * The control block is CTL_WORDS Int32 words at the start of the shared WebAssembly memory; the job descriptor
 * that gemm.wat's `run` reads follows it. A job is published by writing the descriptor, resetting DONE and
 * storing CLAIM, then bumping GEN (Atomics.notify wakes the workers sleeping on it). CLAIM packs the job's
 * generation (12 bits), its chunk count (10 bits) and the next unclaimed chunk (10 bits), so a thread claims a
 * chunk with one compareExchange that also fails when the job it read has been replaced. Chunks below the job's
 * nPack pack B; the others need every pack chunk done first (DONE counts finished chunks, failed ones too).
 */

/** Int32 word indices in the control block. */
export const CTL = {
  /** Job generation: workers sleep on it. */
  GEN: 0,
  /** (gen & 0xfff) << 20 | chunk count << 10 | next chunk. */
  CLAIM: 1,
  /** Chunks finished (or failed) in the current job. */
  DONE: 2,
  /** Id of the first thread whose chunk threw in the current job, 0 if none. */
  ERROR: 3,
  /** Pool generation: a worker whose epoch differs has been retired and exits. */
  EPOCH: 4,
  /** Test hook: 1 makes workers throw instead of running their next chunk, 2 stall for 5 s before it. */
  FAULT: 5,
  /** Workers of the current pool that have instantiated the module. */
  READY: 6,
  /** Workers that failed to start. */
  INIT_FAILED: 7,
  /** Always 0: probing whether this thread may Atomics.wait. */
  ZERO: 8,
  /** Length of the error message at MSG. */
  MSG_LEN: 9,
  /** Chunks each thread ran (main thread at id 0), MAX_THREADS words. */
  CHUNKS: 16,
  /** The error message, one UTF-16 code unit per word. */
  MSG: 128,
} as const;

export const CTL_WORDS = 256;
export const MSG_MAX = CTL_WORDS - CTL.MSG;
/** Threads (the main thread included) that may work on one job. */
export const MAX_THREADS = 64;
/** Largest chunk count CLAIM can hold. */
export const MAX_CHUNKS = 1023;

/** Int32 word indices in the job descriptor (gemm.wat reads words 0-17 and 21-26, see its `run`). */
export const JOB = {
  NPACK: 12,
  SCRATCH: 18,
  SCRATCH_STRIDE: 19,
  /** Bytes of memory the job touches: a worker that sees less refreshes its view of the grown memory. */
  NEED: 20,
  /** A batch of products: items per chunk (0: one product), items, A/B/C item steps, own packed B offset. */
  BATCH: 21,
} as const;
export const JOB_WORDS = 32;

/** The environment-independent body: `start(init, post)` once the worker has its init message. */
const BODY = `"use strict";
function start(init, post) {
  const { module, memory, id, epoch, ctlAt, jobAt, failInit, spinMs } = init;
  const ctl = new Int32Array(memory.buffer, ctlAt, ${CTL_WORDS});
  const job = new Int32Array(memory.buffer, jobAt, ${JOB_WORDS});
  let ex;
  try {
    if (failInit) throw new Error("injected initialisation failure");
    ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (e) {
    Atomics.add(ctl, ${CTL.INIT_FAILED}, 1);
    post({ type: "failed", message: String((e && e.message) || e) });
    return;
  }
  Atomics.add(ctl, ${CTL.READY}, 1);
  post({ type: "ready" });
  const waitDone = (n) => {
    for (;;) {
      const d = Atomics.load(ctl, ${CTL.DONE});
      if (d >= n) return;
      Atomics.wait(ctl, ${CTL.DONE}, d, 50);
    }
  };
  for (;;) {
    const g = Atomics.load(ctl, ${CTL.GEN});
    if (Atomics.load(ctl, ${CTL.EPOCH}) !== epoch) return;
    for (;;) {
      const c = Atomics.load(ctl, ${CTL.CLAIM});
      if (c >>> 20 !== (g & 0xfff)) break;
      const next = c & 0x3ff;
      if (next >= ((c >>> 10) & 0x3ff)) break;
      if (Atomics.compareExchange(ctl, ${CTL.CLAIM}, c, c + 1) !== c) continue;
      // Chunk \`next\` of job g is ours: the descriptor stays as it is until every chunk is done.
      try {
        if (memory.buffer.byteLength < job[${JOB.NEED}]) memory.grow(0);
        if (next >= job[${JOB.NPACK}]) waitDone(job[${JOB.NPACK}]);
        const fault = Atomics.load(ctl, ${CTL.FAULT});
        if (fault === 1) throw new Error("injected fault");
        if (fault === 2) for (const end = Date.now() + 5000; Date.now() < end; );
        ex.run(jobAt, next, job[${JOB.SCRATCH}] + id * job[${JOB.SCRATCH_STRIDE}]);
        Atomics.add(ctl, ${CTL.CHUNKS} + id, 1);
      } catch (e) {
        if (Atomics.compareExchange(ctl, ${CTL.ERROR}, 0, id) === 0) {
          const msg = String((e && e.message) || e).slice(0, ${MSG_MAX});
          for (let i = 0; i < msg.length; i++) ctl[${CTL.MSG} + i] = msg.charCodeAt(i);
          Atomics.store(ctl, ${CTL.MSG_LEN}, msg.length);
        }
      }
      Atomics.add(ctl, ${CTL.DONE}, 1);
      Atomics.notify(ctl, ${CTL.DONE});
    }
    // Spin a while for the next job before sleeping: a training step's products come tens of microseconds
    // apart, and waking from Atomics.wait takes about as long (a futex round trip).
    for (const end = performance.now() + spinMs; Atomics.load(ctl, ${CTL.GEN}) === g && performance.now() < end; );
    Atomics.wait(ctl, ${CTL.GEN}, g);
  }
}
`;

/** The worker's source for Node's worker_threads (`new Worker(src, { eval: true })`). */
export const NODE_WORKER_SOURCE = `${BODY}
const { parentPort } = require("node:worker_threads");
parentPort.once("message", (init) => start(init, (m) => parentPort.postMessage(m)));
`;

/** The worker's source for a browser's Web Worker (from a Blob URL). */
export const WEB_WORKER_SOURCE = `${BODY}
self.onmessage = (e) => {
  self.onmessage = null;
  start(e.data, (m) => self.postMessage(m));
};
`;
