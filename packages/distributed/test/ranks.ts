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
