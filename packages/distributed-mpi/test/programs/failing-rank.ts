/**
 * Runs under `mpirun -np 2` (see ../mpi.test.ts): rank 1 throws before the all-reduce that rank 0 is waiting in.
 * Rank 1's non-zero exit makes mpirun end rank 0 too, so the job fails at once instead of hanging.
 */
import { MpiBackend } from "../../src/index";

const backend = new MpiBackend({ timeoutMs: 120_000 });
if (backend.rank === 1) throw new Error("rank 1 fails on purpose");
backend.allReduce(new Float32Array(4), "sum").wait();
console.log("rank 0 finished the all-reduce");
