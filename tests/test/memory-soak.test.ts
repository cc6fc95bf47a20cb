/**
 * A soak of the seeds' verbatim five-step loop on the cpu (1,000 steps here; `node scripts/soak.mjs` runs 10,000):
 * `memory()` must report what is really held. Mid-run it counts what the user holds (the output and the loss of
 * each step) until the garbage collector has collected it; after a collection and its finalisers it must be back
 * at what the program holds (the model, its gradients and momentum, the batches), within one cohort of
 * bookkeeping (64 tensors, accounting.ts), and its bytes must match the process's ArrayBuffers and the live blocks of
 * the WebAssembly heap (float storage of 4 KiB or more lives there, backend-cpu's wasm/heap.ts).
 */
import { cpu, heapStats } from "@cinder/backend-cpu";
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
    const samples = await verbatimSoak({
      device: "cpu",
      steps: 1000,
      every: 200,
      features: 256,
      hidden: 64,
      heap: heapStats,
    });
    const first = samples[0];
    for (const s of samples) {
      console.log(
        `[memory-soak cpu] step ${s.step}: live ${s.live.liveTensors} tensors ${(s.live.bytesInUse / 1e6).toFixed(2)} MB; settled ${s.settled.liveTensors} tensors ${(s.settled.bytesInUse / 1e6).toFixed(2)} MB; ArrayBuffers ${(s.arrayBuffers / 1e6).toFixed(2)} MB (pool ${(s.pooled / 1e6).toFixed(2)} MB); WASM heap ${(s.heap.liveBytes / 1e6).toFixed(2)} MB live, ${(s.heap.freeBytes / 1e6).toFixed(2)} MB free; rss ${(s.rss / 1e6).toFixed(1)} MB`,
      );
      // settled: the same as after the first 200 steps (nothing accumulates), within one cohort
      expect(Math.abs(s.settled.liveTensors - first.settled.liveTensors)).toBeLessThanOrEqual(COHORT);
      expect(Math.abs(s.settled.bytesInUse - first.settled.bytesInUse)).toBeLessThanOrEqual(COHORT * 4096);
      // and never more than the ArrayBuffers and the heap's storage arrays hold, nor far less (the buffer pool's,
      // other buffers: < 1 MB)
      const held = s.arrayBuffers + s.heap.storageBytes;
      expect(s.settled.bytesInUse + s.pooled).toBeLessThanOrEqual(held);
      expect(held - s.pooled - s.settled.bytesInUse).toBeLessThan(1e6);
      // blocks freed (dispose, tidy, backward, the collector) are reused: the heap does not grow step by step
      expect(s.heap.liveBytes + s.heap.freeBytes).toBeLessThanOrEqual(
        first.heap.liveBytes + first.heap.freeBytes + (1 << 20),
      );
      // mid-run: what a step leaves for the collector is the output and the loss (2 tensors, 2.6 KB)
      expect(s.live.liveTensors - s.settled.liveTensors).toBeLessThanOrEqual(2 * 200 + COHORT);
    }
    expect(samples.at(-1)!.loss).toBeLessThan(samples[0].loss);
  });
});
