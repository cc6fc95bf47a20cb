/**
 * 2,000 training steps on webgpu, written exactly as the examples teach (each step in `torch.tidy`, the loss
 * read with `itemAsync()` and disposed, the batch moved with `.to("webgpu")` and disposed after the step), and
 * no garbage collector: live buffers, bytes and tensors must stay flat by disposal alone. The FinalizationRegistry
 * safety net must not be needed, so this file never calls `gc()`.
 *
 * The cpu batches are built once and cycled through: the core's counts (`memory()`) include cpu tensors, which
 * are garbage-collected memory, and a DataLoader's fresh cpu batches would be counted until the GC finalises
 * them (bounded, but timing-dependent). Everything created per step here is on webgpu or disposed.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { webgpuMemory } from "../src/index";
import { mlpTask } from "./mlp-task";
import { gpu } from "./setup";

torch.registerBackend(cpu); // the model and the data are built on the cpu, then moved

const STEPS = 2000;
const EVERY = 100;
const POOL = 32; // distinct synthetic batches on the cpu, cycled through

interface Sample {
  step: number;
  buffersLive: number;
  bytesLive: number;
  liveTensors: number;
  liveStorages: number;
  bytesInUse: number;
  bytesPooled: number;
  loss: number;
}

describe.skipIf(!gpu)("training memory on webgpu", () => {
  it("2,000 SGD(momentum) steps of an MLP keep memory flat without the garbage collector", async () => {
    const { batches, model, criterion, optimizer } = mlpTask(POOL);

    const samples: Sample[] = [];
    const losses: number[] = [];
    const start = performance.now();
    model.train();
    for (let step = 1; step <= STEPS; step++) {
      const [x, y] = batches[step % POOL];
      const data = x.to("webgpu");
      const target = y.to("webgpu");
      const loss = torch.tidy(() => {
        optimizer.zeroGrad();
        const output = model(data);
        const loss = criterion(output, target);
        loss.backward();
        optimizer.step();
        return loss;
      });
      const value = (await loss.itemAsync()) as number;
      losses.push(value);
      loss.dispose();
      data.dispose();
      target.dispose();
      if (step % EVERY === 0) {
        const g = webgpuMemory();
        const c = torch.memory();
        samples.push({
          step,
          buffersLive: g.buffersLive,
          bytesLive: g.bytesLive,
          liveTensors: c.liveTensors,
          liveStorages: c.liveStorages,
          bytesInUse: c.bytesInUse,
          bytesPooled: g.bytesPooled,
          loss: value,
        });
      }
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(
      [
        `[training-memory] ${STEPS} steps in ${seconds.toFixed(1)} s`,
        "step buffersLive bytesLive liveTensors liveStorages bytesInUse bytesPooled loss",
        ...samples.map((s) =>
          [...Object.values(s).slice(0, -1), s.loss.toFixed(4)].map((v) => String(v).padStart(6)).join(" "),
        ),
      ].join("\n"),
    );

    // the loss fell: the mean of the last 100 steps is well below the mean of the first 100
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-100))).toBeLessThan(mean(losses.slice(0, 100)) * 0.5);

    // flat after warm-up: over steps 200-2000 nothing exceeds its value at step 200
    const warm = samples.filter((s) => s.step >= 200);
    expect(warm.length).toBe(STEPS / EVERY - 1);
    const keys = [
      "buffersLive",
      "bytesLive",
      "liveTensors",
      "liveStorages",
      "bytesInUse",
      "bytesPooled",
    ] as const;
    const max = Object.fromEntries(keys.map((k) => [k, Math.max(...warm.map((s) => s[k]))]));
    expect(max).toEqual(Object.fromEntries(keys.map((k) => [k, warm[0][k]])));
    // nothing on the device is left for the GC to free: the webgpu counts are identical at every sample
    for (const k of ["buffersLive", "bytesLive"] as const)
      expect(new Set(warm.map((s) => s[k])).size).toBe(1);

    // what is live is the model and the optimizer: 4 parameters, 4 gradients, 4 momentum buffers on webgpu
    expect(warm[0].buffersLive).toBe(12);
  });
});
