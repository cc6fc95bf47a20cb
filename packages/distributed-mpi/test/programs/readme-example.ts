import { cpu } from "@cinder/backend-cpu";
import * as dist from "@cinder/distributed";
import "@cinder/distributed-mpi"; // registers the "mpi" backend
import { registerBackend, tensor } from "@cinder/tensor";

registerBackend(cpu);
await dist.initProcessGroup("mpi"); // rank and world size come from mpirun
const rank = dist.getRank();

const t = tensor([1, 2, 3], { dtype: "float32" }).mul(rank + 1);
dist.allReduce(t, dist.ReduceOp.SUM); // in place, on every rank
if (rank === 0) console.log(`${dist.getWorldSize()} ranks:`, t.toString());

const work = dist.broadcast(t, 0, { asyncOp: true }) as dist.Work; // async_op=True
work.wait();
dist.destroyProcessGroup();
