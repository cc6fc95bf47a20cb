/** What a framework under test provides to the harness. */
import type { Inputs, Task } from "./tasks";

/** One task made ready to time on one peer. */
export interface Prepared {
  /** Runs `iters` iterations, finished (results computed, not just queued); returns mean ms per iteration. */
  run(iters: number): Promise<number>;
  dispose(): Promise<void> | void;
}

export interface Peer {
  /** Column id, also used in the JSON keys (e.g. "tfjs_wasm"). */
  readonly id: string;
  /** Column heading. */
  readonly label: string;
  /** A remark printed under the table (threads, backend details, what was skipped). */
  readonly notes: string[];
  supports(task: Task): boolean;
  /** Runs the guard's instance and returns what is compared (matmul product, sum, per-step losses). */
  check(task: Task, inputs: Inputs): Promise<Float32Array>;
  prepare(task: Task, inputs: Inputs): Promise<Prepared>;
  close?(): Promise<void> | void;
}

/**
 * Times `iters` calls of `step` (awaited when it returns a promise) followed by one `finish` (which waits for
 * queued work), in ms per call.
 */
export async function timeLoop(
  iters: number,
  step: () => unknown,
  finish: () => unknown = () => undefined,
): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) {
    const r = step();
    if (r instanceof Promise) await r;
  }
  await finish();
  return (performance.now() - t0) / iters;
}
