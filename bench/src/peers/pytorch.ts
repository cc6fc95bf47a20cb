/**
 * PyTorch on the CPU: `/usr/bin/python3 bench/pytorch_bench.py`, a child process driven over JSON lines (see
 * remote.ts), with 2 threads. OMP_WAIT_POLICY=PASSIVE: with OpenMP's default spin-waiting, its threads and
 * OpenBLAS's fight over the 2 cores and the MLP step is 10-50x slower (0.7-2 ms vs 15-55 ms measured here).
 * OpenBLAS's own workers still spin ~0.1 s after each call (its thread timeout, left at the default), so the
 * harness pauses after each PyTorch sample before the next peer's.
 */
import { existsSync } from "node:fs";
import { RemotePeer } from "./remote";

const PYTHON = "/usr/bin/python3";

export async function createPytorchPeer(script: string): Promise<RemotePeer | string> {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  return RemotePeer.create({
    id: "pytorch",
    label: "pytorch",
    command: PYTHON,
    args: ["-u", script],
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    cooldownMs: 150,
  });
}
