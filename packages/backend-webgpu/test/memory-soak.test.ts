/**
 * A soak of the seeds' verbatim five-step loop on webgpu (200 steps here; `node scripts/soak.mjs` runs 2,000): no
 * `tidy`, no `dispose`. Backward disposes the gradients and the forward's intermediates, so a step leaves only what
 * the user held (the batch moved to the device, the output, the loss: 4 buffers, ~3 KB), freed by the finaliser
 * once collected. With a memory budget, the reads give the finalisers that chance whenever the live bytes pass it
 * (budget.ts), so the live GPU memory stays under a fixed bound however long the loop runs.
 */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { verbatimSoak } from "../../../tests/test/support/verbatim-soak";
import { webgpuMemory } from "../src/index";
import { gpu } from "./setup";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

const STEPS = 200;
/** Bytes the loop may leave to the collector past what it holds before a read reclaims them. */
const BUDGET_SLACK = 32 * 1024;

describe.skipIf(!gpu)("the verbatim loop on webgpu (soak)", () => {
  it("200 steps stay within a fixed GPU memory bound, and memory() settles to what is held", async () => {
    const budget = gpu!.runtime.budget;
    const saved = budget.budgetBytes;
    // the model, its gradients and momentum: what the loop holds (measured on a first short run)
    const gpuCounts = () => {
      const m = webgpuMemory();
      return { buffersLive: m.buffersLive, bytesLive: m.bytesLive, reclaims: m.reclaims };
    };
    const opts = { device: "webgpu", every: 100, batch: 16, features: 32, hidden: 64, gpu: gpuCounts };
    const bytesHeld = (await verbatimSoak({ ...opts, steps: 5, every: 5 }))[0].gpu!.bytesLive;
    budget.budgetBytes = bytesHeld + BUDGET_SLACK;
    const reclaims = webgpuMemory().reclaims;
    try {
      const samples = await verbatimSoak({ ...opts, steps: STEPS });
      const maxBytes = Math.max(...samples.map((s) => s.gpu!.bytesLive));
      const maxBuffers = Math.max(...samples.map((s) => s.gpu!.buffersLive));
      console.log(
        `[memory-soak webgpu] ${STEPS} steps: at most ${maxBuffers} buffers, ${maxBytes} bytes live (budget ${budget.budgetBytes}); ${webgpuMemory().reclaims - reclaims} reclaims`,
      );
      // a read reclaims once the budget is passed: at most one step (~3 KB) beyond it
      expect(maxBytes).toBeLessThanOrEqual(budget.budgetBytes + 8 * 1024);
      expect(webgpuMemory().reclaims).toBeGreaterThan(reclaims);
      const first = samples[0];
      for (const s of samples) {
        expect(Math.abs(s.settled.liveTensors - first.settled.liveTensors)).toBeLessThanOrEqual(64);
        expect(Math.abs(s.settled.bytesInUse - first.settled.bytesInUse)).toBeLessThanOrEqual(64 * 4096);
      }
      expect(samples.at(-1)!.loss).toBeLessThan(samples[0].loss);
    } finally {
      budget.budgetBytes = saved;
    }
  });

  it("an allocation past the memory limit throws an error naming tidy, using and dispose", () => {
    const budget = gpu!.runtime.budget;
    const held = torch.zeros([1024], { device: "webgpu" });
    budget.limitBytes = webgpuMemory().bytesLive + 4096;
    try {
      expect(() => torch.zeros([4096], { device: "webgpu" })).toThrow(
        /out of memory: allocating 16384 bytes would pass the memory limit of \d+ bytes \(\d+ bytes held in \d+ live buffers\); .*torch\.tidy.*using.*dispose\(\)/,
      );
      torch.zeros([256], { device: "webgpu" }).dispose(); // within the limit
    } finally {
      budget.limitBytes = Number.POSITIVE_INFINITY;
      held.dispose();
    }
  });
});
