/**
 * The seeds' five-step loop written verbatim on webgpu: no `tidy`, no `dispose`, the loss read with
 * `itemAsync()`. Until a garbage collection runs, what each step leaves behind accumulates. `backward()` disposes
 * the gradient tensors the engine made (derivative outputs and their temporaries, broadcast reductions, partial
 * sums, the seed) and the forward's intermediates that only the graph reaches (what each module call made and
 * did not return), so what a step leaves is what the user holds: the batch moved to the device (2 buffers), the
 * model's output and the loss (2 buffers), freed by the FinalizationRegistry once collected. Before: 38 buffers a
 * step, then 21 (the forward's intermediates).
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { webgpuMemory } from "../src/index";
import { mlpTask } from "./mlp-task";
import { gpu } from "./setup";

torch.registerBackend(cpu);

const STEPS = 300;
const WARM = 20;
/** Buffers a step leaves for the GC: 2 for the batch, the output and the loss. */
const PER_STEP = 4;

describe.skipIf(!gpu)("the verbatim training loop on webgpu", () => {
  it("leaves no gradient temporaries nor forward intermediates behind: a step adds only what the user holds", async () => {
    const { batches, model, criterion, optimizer } = mlpTask(8);
    const losses: number[] = [];
    const buffers: number[] = [];
    const bytes: number[] = [];
    for (let step = 1; step <= STEPS; step++) {
      const [x, y] = batches[step % batches.length];
      const data = x.to("webgpu");
      const target = y.to("webgpu");
      // the five steps, verbatim
      optimizer.zeroGrad();
      const output = model(data);
      const loss = criterion(output, target);
      loss.backward();
      optimizer.step();
      losses.push((await loss.itemAsync()) as number);
      const m = webgpuMemory();
      buffers.push(m.buffersLive);
      bytes.push(m.bytesLive);
    }
    // growth between consecutive steps after warm-up (a garbage collection only lowers it)
    const growth = (xs: number[]) => Math.max(...xs.slice(WARM).map((v, i) => v - xs[WARM + i - 1]));
    const perStep = growth(buffers);
    const bytesPerStep = growth(bytes);
    console.log(`[verbatim-loop] at most ${perStep} buffers, ${bytesPerStep} bytes per step after warm-up`);
    expect(perStep).toBeLessThanOrEqual(PER_STEP);
    // the batch (16x32 f32 and 16 labels), the output (16x10) and the loss: ~3 KB a step, whatever the model size
    expect(bytesPerStep).toBeLessThanOrEqual(4 * 1024);

    // the gradients the user holds are intact, and training worked
    for (const p of model.parameters()) {
      expect(p.grad?.isDisposed).toBe(false);
      expect(Number.isFinite(((await p.grad?.sum().itemAsync()) as number) ?? Number.NaN)).toBe(true);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-50))).toBeLessThan(mean(losses.slice(0, 50)));
  });
});
