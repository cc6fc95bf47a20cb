/**
 * All-reduce bandwidth of the threads backend: `node --conditions=@cinder/source --import tsx
 * packages/distributed/bench/allreduce.ts [nproc=2]`. Each rank all-reduces float32 buffers of 4 MB and 64 MB
 * (sum, in place) several times; prints one JSON line per size with the median time and the bandwidth in GB/s
 * (bytes of one rank's buffer per second, as nccl-tests' "algbw").
 */
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import * as dist from "../src/index";

/** One rank's measurements: the median seconds per all-reduce, per size. */
export async function measure(sizesMb: number[]): Promise<{ mb: number; seconds: number }[]> {
  if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
  await dist.initProcessGroup("threads");
  const backend = dist.group.WORLD!.backend;
  const out: { mb: number; seconds: number }[] = [];
  for (const mb of sizesMb) {
    const buf = new Float32Array((mb * 1024 * 1024) / 4).fill(1);
    const reps = mb >= 64 ? 5 : 20;
    const times: number[] = [];
    backend.allReduce(buf, "sum").wait(); // warm-up
    for (let i = 0; i < reps; i++) {
      backend.barrier().wait();
      const t0 = performance.now();
      backend.allReduce(buf, "sum").wait();
      times.push((performance.now() - t0) / 1000);
    }
    times.sort((a, b) => a - b);
    out.push({ mb, seconds: times[times.length >> 1] });
  }
  dist.destroyProcessGroup();
  return out;
}

if (threadId === 0 && process.argv[1] === fileURLToPath(import.meta.url)) {
  const nproc = Number(process.argv[2] ?? 2);
  const results = (await dist.spawnRanks(nproc, {
    kind: "call",
    module: import.meta.url,
    export: "measure",
    data: [4, 64],
  })) as { mb: number; seconds: number }[][];
  for (const [i, { mb }] of results[0].entries()) {
    const seconds = Math.max(...results.map((r) => r[i].seconds));
    const gbps = (mb * 1024 * 1024) / seconds / 1e9;
    console.log(
      JSON.stringify({
        bench: "allreduce",
        backend: "threads",
        nproc,
        mb,
        ms: +(seconds * 1e3).toFixed(2),
        gbps: +gbps.toFixed(2),
      }),
    );
  }
}
