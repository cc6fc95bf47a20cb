/**
 * Runs under `mpirun -np N` (see ../mpi.test.ts): point to point, subgroups and the flat-tensor collectives of
 * `@cinder/distributed` on the "mpi" backend, the same checks the threads backend passes (its p2p-ranks module), and
 * a receive from a rank that never sends timing out with an error naming it, and messages of the wrong size. Prints
 * one JSON line per rank.
 */
import { cpu } from "@cinder/backend-cpu";
import * as dist from "@cinder/distributed";
import { registerBackend, zeros } from "@cinder/tensor";
import { pointToPoint, subgroups } from "../../../distributed/test/p2p-ranks";
import "../../src/index";

registerBackend(cpu);
await dist.initProcessGroup("mpi", { timeout: 60_000 });
const rank = dist.getRank();
const failures: string[] = [];
pointToPoint(failures, [0, 1, 1000, 300_000]);
subgroups(failures);
// rank 1 never sends tag 9: rank 0's receive times out naming rank 1 and is cancelled (the others wait at the
// barrier meanwhile), so the job still ends normally
let timeoutError = "";
if (rank === 0) {
  const work = dist.irecv(zeros([4]), 1, null, 9) as dist.Work;
  try {
    work.wait(300);
  } catch (e) {
    timeoutError = (e as Error).message;
  }
}
// messages of another size than the receiving tensor: shorter (counted) and longer (MPI truncates) both fail
const sizeErrors: string[] = [];
if (rank === 1) {
  dist.send(zeros([2]), 0, null, 11);
  dist.send(zeros([6]), 0, null, 12);
} else if (rank === 0)
  for (const tag of [11, 12])
    try {
      dist.recv(zeros([4]), 1, null, tag);
    } catch (e) {
      sizeErrors.push((e as Error).message);
    }
dist.barrier();
dist.destroyProcessGroup();
console.log(JSON.stringify({ rank, failures, timeoutError, sizeErrors }));
