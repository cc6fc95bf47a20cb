/**
 * Functions the tests run on every rank of a "threads" group (`spawnRanks(n, { kind: "call", ... })`): each
 * initialises the group, does its work and returns plain data for the test to check.
 */

import { cpu } from "@cinder/backend-cpu";
import { registerBackend as registerDevice, registeredDevices } from "@cinder/tensor";
import * as dist from "../src/index";

if (!registeredDevices().includes("cpu")) registerDevice(cpu);

/** The backend conformance check on this rank's threads backend; `slotBytes` small makes every size chunk. */
export async function conformance(data: { sizes?: number[] }): Promise<dist.ConformanceReport> {
  await dist.initProcessGroup("threads", { timeout: 60_000 });
  const report = dist.runBackendConformance(dist.group.WORLD!.backend, { sizes: data.sizes });
  dist.destroyProcessGroup();
  return report;
}

/**
 * The conformance check on a transport whose receives are wrong (the first element off by one) and whose subgroups
 * are missing their last member: the report must name both, so the check is known to look at the optional members.
 */
export async function brokenConformance(): Promise<dist.ConformanceReport> {
  await dist.initProcessGroup("threads", { timeout: 60_000 });
  const b = dist.group.WORLD!.backend;
  const broken: dist.CollectiveBackend = {
    specificationVersion: 1,
    name: "broken",
    rank: b.rank,
    worldSize: b.worldSize,
    allReduce: (buf, op) => b.allReduce(buf, op),
    broadcast: (buf, src) => b.broadcast(buf, src),
    allGather: (out, input) => b.allGather(out, input),
    reduceScatter: (out, input, op) => b.reduceScatter(out, input, op),
    gather: (input, out, dst) => b.gather(input, out, dst),
    scatter: (out, input, src) => b.scatter(out, input, src),
    barrier: () => b.barrier(),
    destroy: () => b.destroy(),
    send: (buf, dst, tag) => (b.send as NonNullable<typeof b.send>).call(b, buf, dst, tag),
    recv: (buf, src, tag) => {
      const work = (b.recv as NonNullable<typeof b.recv>).call(b, buf, src, tag);
      return {
        wait: (ms?: number) => {
          work.wait(ms);
          if (buf.length > 0) buf[0] += 1;
        },
        isCompleted: () => work.isCompleted(),
        sourceRank: () => work.sourceRank(),
      };
    },
    newGroup: (ranks) => (b.newGroup as NonNullable<typeof b.newGroup>).call(b, ranks.slice(0, -1)),
  };
  const report = dist.runBackendConformance(broken, { sizes: [7] });
  dist.destroyProcessGroup();
  return report;
}
