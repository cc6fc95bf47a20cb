/**
 * A soak of the seeds' verbatim five-step loop on the cpu (1,000 steps here; `node scripts/soak.mjs` runs 10,000):
 * `memory()` must report what is really held. Mid-run it counts what the user holds (the output and the loss of
 * each step) until the garbage collector has collected it; after a collection and its finalisers it must be back
 * at what the program holds (the model, its gradients and momentum, the batches), within one cohort of
 * bookkeeping (64 tensors, accounting.ts), and its bytes must match the process's ArrayBuffers.
 */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { verbatimSoak } from "./support/verbatim-soak";

beforeAll(() => {
  if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
});

/** Tensors `memory()` may count beyond what is held: one cohort's dead members. */
const COHORT = 64;

describe("the verbatim loop on the cpu (soak)", () => {
  it("1,000 steps: memory() settles to what is held, and its bytes match the ArrayBuffers", async () => {
    const samples = await verbatimSoak({ device: "cpu", steps: 1000, every: 200, features: 256, hidden: 64 });
    const first = samples[0];
    for (const s of samples) {
      console.log(
        `[memory-soak cpu] step ${s.step}: live ${s.live.liveTensors} tensors ${(s.live.bytesInUse / 1e6).toFixed(2)} MB; settled ${s.settled.liveTensors} tensors ${(s.settled.bytesInUse / 1e6).toFixed(2)} MB; ArrayBuffers ${(s.arrayBuffers / 1e6).toFixed(2)} MB (pool ${(s.pooled / 1e6).toFixed(2)} MB); rss ${(s.rss / 1e6).toFixed(1)} MB`,
      );
      // settled: the same as after the first 200 steps (nothing accumulates), within one cohort
      expect(Math.abs(s.settled.liveTensors - first.settled.liveTensors)).toBeLessThanOrEqual(COHORT);
      expect(Math.abs(s.settled.bytesInUse - first.settled.bytesInUse)).toBeLessThanOrEqual(COHORT * 4096);
      // and never more than the ArrayBuffers hold, nor far less (the buffer pool's, and other buffers: < 1 MB)
      expect(s.settled.bytesInUse + s.pooled).toBeLessThanOrEqual(s.arrayBuffers);
      expect(s.arrayBuffers - s.pooled - s.settled.bytesInUse).toBeLessThan(1e6);
      // mid-run: what a step leaves for the collector is the output and the loss (2 tensors, 2.6 KB)
      expect(s.live.liveTensors - s.settled.liveTensors).toBeLessThanOrEqual(2 * 200 + COHORT);
    }
    expect(samples.at(-1)!.loss).toBeLessThan(samples[0].loss);
  });
});
