/**
 * Tensor all-reduce through `@cinder/distributed`'s front end on the "mpi" backend: float32 sums of 4 MB and 64 MB
 * (what a training step pays, staging included), with contiguous tensors staged as views of their storage (the
 * default) and through copies (the fallback, as before), interleaved so both see the same machine load.
 *
 *   mpirun --allow-run-as-root --oversubscribe -np 2 --mca btl self,tcp --mca btl_tcp_if_include lo \
 *     node --conditions=@cinder/source --import tsx bench/tensor-allreduce.ts
 */
import { cpu } from "@cinder/backend-cpu";
import * as dist from "@cinder/distributed";
import * as torch from "@cinder/tensor";
// the same module instance as @cinder/distributed's (sources): its switch between the two stagings
import { staging } from "../../distributed/src/staging";
import "../src/index";

torch.registerBackend(cpu);
await dist.initProcessGroup("mpi");
const rank = dist.getRank();
const round = (x: number) => +x.toFixed(2);
for (const mb of [4, 64]) {
  const t = torch.ones([(mb << 20) / 4]);
  const runs = mb === 4 ? 40 : 10;
  const times: Record<string, number[]> = { views: [], copies: [] };
  for (let i = 0; i < runs + 2; i++)
    for (const mode of ["views", "copies"]) {
      staging.useDirect = mode === "views";
      dist.barrier();
      const t0 = performance.now();
      dist.allReduce(t);
      if (i >= 2) times[mode].push(performance.now() - t0); // two warm-up runs
    }
  if (rank === 0)
    for (const [mode, ts] of Object.entries(times)) {
      ts.sort((a, b) => a - b);
      const line = { backend: "mpi", staging: mode, megabytes: mb, bestMs: round(ts[0]) };
      console.log(JSON.stringify({ ...line, medianMs: round(ts[ts.length >> 1]) }));
    }
}
dist.destroyProcessGroup();
