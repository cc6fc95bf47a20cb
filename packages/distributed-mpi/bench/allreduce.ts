/**
 * All-reduce bandwidth of the "mpi" backend: float32 sums of 4 MB and 64 MB, the best and the median of several runs.
 *
 *   mpirun --allow-run-as-root --oversubscribe -np 2 --mca btl self,tcp --mca btl_tcp_if_include lo \
 *     node --conditions=@cinder/source --import tsx bench/allreduce.ts
 *
 * Rank 0 prints one JSON line per size: milliseconds per all-reduce (best and median), and for the best the algorithm
 * bandwidth (bytes / time) and the bus bandwidth (algorithm bandwidth x 2(n-1)/n, what each rank sends and receives:
 * NCCL's convention).
 */
import { MpiBackend } from "../src/index";

const backend = new MpiBackend();
const { rank, worldSize } = backend;
for (const mb of [4, 64]) {
  const buf = new Float32Array((mb << 20) / 4).fill(1);
  const runs = mb === 4 ? 30 : 8;
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    backend.barrier().wait();
    const t0 = performance.now();
    backend.allReduce(buf, "sum").wait();
    if (i >= 2) times.push(performance.now() - t0); // two warm-up runs
  }
  times.sort((a, b) => a - b);
  const [best, median] = [times[0], times[times.length >> 1]];
  const algGBs = (mb * 2 ** 20) / (best / 1000) / 1e9;
  const busGBs = (algGBs * 2 * (worldSize - 1)) / worldSize;
  const round = (x: number, d: number) => +x.toFixed(d);
  if (rank === 0) {
    const line = {
      backend: "mpi",
      worldSize,
      megabytes: mb,
      bestMs: round(best, 2),
      medianMs: round(median, 2),
    };
    console.log(JSON.stringify({ ...line, algGBs: round(algGBs, 3), busGBs: round(busGBs, 3) }));
  }
}
