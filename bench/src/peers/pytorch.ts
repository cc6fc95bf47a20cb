/**
 * PyTorch on the CPU: `/usr/bin/python3 bench/pytorch_bench.py`, a child process driven over JSON lines (see
 * remote.ts), in two configurations, each its own column:
 *
 * - `pytorch`: 2 threads, OMP_WAIT_POLICY=PASSIVE. With OpenMP's default spin-waiting, its threads and
 *   OpenBLAS's fight over the 2 cores and the MLP step is 10-50x slower (0.7-2 ms vs 15-55 ms measured here).
 *   OpenBLAS's own workers still spin ~0.1 s after each call (its thread timeout, left at the default), so the
 *   harness pauses after each of its samples before the next peer's.
 * - `pytorch1`: single-threaded (`torch.set_num_threads(1)`, OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1). On
 *   this 2-core machine it is the faster configuration for small training steps; 2 threads win on matmul.
 *
 * The ratio tables add "best PyTorch": the faster of the two on each row.
 */
import { existsSync } from "node:fs";
import { RemotePeer } from "./remote";

const PYTHON = "/usr/bin/python3";

export async function createPytorchPeer(script: string, threads: 1 | 2): Promise<RemotePeer | string> {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const single = threads === 1;
  return RemotePeer.create({
    id: single ? "pytorch1" : "pytorch",
    label: single ? "pytorch-1t" : "pytorch",
    command: PYTHON,
    args: ["-u", script, "--threads", String(threads)],
    env: {
      ...process.env,
      OMP_WAIT_POLICY: "PASSIVE",
      ...(single ? { OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" } : {}),
    },
    cooldownMs: single ? 0 : 150,
  });
}
