/**
 * Tensor all-reduce on the "threads" backend (2 ranks): float32 sums of 4 MB and 64 MB through the front end, with
 * contiguous tensors staged as views of their storage (the default) and through copies (the fallback), interleaved
 * so both see the same machine load. Rank 0's lines are printed.
 *
 *   node --conditions=@cinder/source --import tsx bench/tensor-allreduce.ts
 */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import * as dist from "../src/index";
import { staging } from "../src/staging";

/** One rank's job: best and median milliseconds per all-reduce, per size and staging. */
export async function bench(): Promise<unknown[]> {
  if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
  await dist.initProcessGroup("threads");
  const out: unknown[] = [];
  for (const mb of [4, 64]) {
    const t = torch.ones([(mb << 20) / 4]);
    const runs = mb === 4 ? 200 : 20;
    const times: Record<string, number[]> = { views: [], copies: [] };
    for (let i = 0; i < runs + 5; i++)
      for (const mode of ["views", "copies"]) {
        staging.useDirect = mode === "views";
        dist.barrier();
        const t0 = performance.now();
        dist.allReduce(t);
        if (i >= 5) times[mode].push(performance.now() - t0); // five warm-up runs
      }
    for (const [mode, ts] of Object.entries(times)) {
      ts.sort((a, b) => a - b);
      const round = (x: number) => +x.toFixed(2);
      out.push({
        backend: "threads",
        staging: mode,
        megabytes: mb,
        bestMs: round(ts[0]),
        medianMs: round(ts[ts.length >> 1]),
      });
    }
  }
  dist.destroyProcessGroup();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const job = { kind: "call" as const, module: import.meta.url, export: "bench", data: {} };
  const [lines] = (await dist.spawnRanks(2, job)) as unknown[][];
  for (const line of lines) console.log(JSON.stringify(line));
}
