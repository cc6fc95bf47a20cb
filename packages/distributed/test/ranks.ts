/**
 * Functions the tests run on every rank of a "threads" group (`spawnRanks(n, { kind: "call", ... })`): each
 * initialises the group, does its work and returns plain data for the test to check.
 */

import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { registerBackend as registerDevice, registeredDevices } from "@cinder/tensor";
import * as dist from "../src/index";

if (!registeredDevices().includes("cpu")) registerDevice(cpu);

/** all-reduce of a small tensor: returns the result. */
export async function smoke(data: { timeout?: number }): Promise<number[]> {
  await dist.initProcessGroup("threads", { timeout: data.timeout ?? 20_000 });
  const r = dist.getRank();
  const t = torch.tensor([1, 2, 3], { dtype: "float32" }).mul(r + 1);
  dist.allReduce(t);
  const out = Array.from(t.data() as Float32Array);
  dist.destroyProcessGroup();
  return out;
}

/** The backend conformance check on this rank's threads backend; `slotBytes` small makes every size chunk. */
export async function conformance(data: { sizes?: number[] }): Promise<dist.ConformanceReport> {
  await dist.initProcessGroup("threads", { timeout: 60_000 });
  const report = dist.runBackendConformance(dist.group.WORLD!.backend, { sizes: data.sizes });
  dist.destroyProcessGroup();
  return report;
}
