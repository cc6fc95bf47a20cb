/**
 * Runs under `mpirun -np 2` (see ../mpi.test.ts): `@cinder/distributed` on the "mpi" backend, as a user's program
 * meets it: `initProcessGroup("mpi")` after importing this package, the distributed package's own conformance check
 * on the backend, and the tensor collectives (strided views, bool, `asyncOp`). Prints one JSON line per rank.
 */
import { cpu } from "@cinder/backend-cpu";
import { initWebGPU, webgpu } from "@cinder/backend-webgpu";
import * as dist from "@cinder/distributed";
import { arange, registerBackend, tensor } from "@cinder/tensor";
import "../../src/index";

registerBackend(cpu);
await dist.initProcessGroup("mpi", { timeout: 60_000 });
const rank = dist.getRank();
const worldSize = dist.getWorldSize();
const backend = dist.group.WORLD?.backend;
if (!backend) throw new Error("no default group after initProcessGroup");
const report = dist.runBackendConformance(backend);
const failures = [...report.failures];
let checks = report.checks;

function check(what: string, got: unknown, want: unknown): void {
  checks++;
  if (JSON.stringify(got) !== JSON.stringify(want))
    failures.push(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

check("getBackend", dist.getBackend(), "mpi");
// a transposed (non-contiguous) view, reduced in place
const base = arange(6, { dtype: "float32" })
  .reshape(2, 3)
  .add(rank * 10);
const view = base.t();
dist.allReduce(view, dist.ReduceOp.SUM);
check("allReduce of a transposed view", base.toArray(), [
  [10, 12, 14],
  [16, 18, 20],
]);
// bool: sum is logical or
const flags = tensor([rank === 0, false, true]);
dist.allReduce(flags);
check("allReduce of bool", flags.toArray(), [true, false, true]);
// asyncOp: a Work, results written back by wait()
const b = tensor([rank, rank + 1], { dtype: "int32" });
const work = dist.broadcast(b, 1, { asyncOp: true }) as dist.Work;
work.wait();
check("broadcast asyncOp", b.toArray(), [1, 2]);
const list = [tensor([0, 0]), tensor([0, 0])];
dist.allGather(list, tensor([rank, -rank]));
check(
  "allGather",
  list.map((t) => t.toArray()),
  [
    [0, 0],
    [1, -1],
  ],
);
dist.barrier();

// WebGPU tensors are staged through the CPU: the collective returns a Promise
let webgpuChecked = false;
if (await webgpu.isAvailable()) {
  await initWebGPU();
  const g = tensor([1, 2, 3], { dtype: "float32" })
    .mul(rank + 1)
    .to("webgpu");
  await dist.allReduce(g);
  check("allReduce of a webgpu tensor", [g.device, await g.toArrayAsync()], ["webgpu", [3, 6, 9]]);
  const h = tensor([rank, rank], { dtype: "float32" }).to("webgpu");
  await ((await dist.broadcast(h, 1, { asyncOp: true })) as dist.Work).wait();
  check("broadcast asyncOp of a webgpu tensor", await h.toArrayAsync(), [1, 1]);
  // point to point and the flat all-gather: Promises too (recv's resolves to the sender)
  const m = tensor([7, 8, 9], { dtype: "float32" }).to("webgpu");
  if (rank === 0) await dist.send(m, 1);
  else if (rank === 1) {
    const into = tensor([0, 0, 0], { dtype: "float32" }).to("webgpu");
    check("recv of a webgpu tensor", [await dist.recv(into), await into.toArrayAsync()], [0, [7, 8, 9]]);
  }
  const blocks = Array.from({ length: 2 * worldSize }, (_, i) => Math.floor(i / 2));
  const flat = tensor(
    blocks.map(() => 0),
    { dtype: "float32" },
  ).to("webgpu");
  await dist.allGatherIntoTensor(flat, tensor([rank, rank], { dtype: "float32" }).to("webgpu"));
  check("allGatherIntoTensor of webgpu tensors", await flat.toArrayAsync(), blocks);
  webgpuChecked = true;
}
dist.destroyProcessGroup();
check("isInitialized after destroy", dist.isInitialized(), false);

// a world size or rank that mpirun did not start is refused, naming the launch
try {
  await dist.initProcessGroup("mpi", { worldSize: 3 });
  failures.push("worldSize 3 under mpirun -np 2 was accepted");
} catch (e) {
  check(
    "worldSize mismatch",
    /worldSize 3 was asked for, but mpirun started this process as worldSize 2/.test(String(e)),
    true,
  );
}
// a second group after destroy: MPI stays initialized for it
await dist.initProcessGroup("mpi");
const again = tensor([1], { dtype: "int32" });
dist.allReduce(again);
check("a second process group", again.toArray(), [worldSize]);
dist.destroyProcessGroup();
console.log(JSON.stringify({ rank, worldSize, checks, failures, webgpuChecked }));
