/**
 * What the sequence examples need from WebGPU (SwiftShader here): a zero tensor on a recycled buffer reads as zeros
 * in an in-place op and in the fused Adam update (both used to read the buffer's stale contents: NaN parameters after
 * the first Adam step of char-rnn and gpt, fixed in the WebGPU runtime's lazy clearing), and gpt's first two steps on WebGPU equal the CPU's.
 */
import { existsSync } from "node:fs";
import * as torch from "cinder";
import { beforeAll, describe, expect, it } from "vitest";
import { useDevice } from "../lib/cli";
import { runExample } from "./run";

const swiftshader = existsSync("/usr/lib/chromium/vk_swiftshader_icd.json");

describe.skipIf(!swiftshader)("zeros on recycled WebGPU buffers", () => {
  beforeAll(async () => {
    await useDevice("webgpu");
  });

  /** Leave small pooled buffers holding non-zero values (a tidy scope frees its scalars and results). */
  async function staleBuffers(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const r = torch.tidy(() => torch.full([32], 7, { device: "webgpu" }).mul(0.5).sum());
      await r.itemAsync();
      r.dispose();
    }
  }

  it("an in-place op on a new zeros tensor reads zeros, not the recycled buffer's stale contents", async () => {
    for (let i = 0; i < 3; i++) {
      await staleBuffers();
      const r = torch.tidy(() => torch.zeros(32, { device: "webgpu" }).mul_(0.999).abs().max());
      expect(await r.itemAsync()).toBe(0);
      r.dispose();
    }
  });

  it("Adam (fused on WebGPU) starts from zero moments: its steps equal the CPU's", async () => {
    const run = async (device: string) => {
      const p = torch.linspace(-1, 1, 32).to(device).requiresGrad_();
      const opt = new torch.optim.Adam([p], { lr: 0.1 });
      for (let i = 0; i < 2; i++) {
        opt.zeroGrad();
        p.pow(2).sum().backward();
        if (device === "webgpu") await staleBuffers();
        opt.step();
      }
      return (await p.toArrayAsync()) as number[];
    };
    const cpu = await run("cpu");
    const gpu = await run("webgpu");
    gpu.forEach((v, i) => {
      expect(v).toBeCloseTo(cpu[i], 5);
    });
  });
});

describe.skipIf(!swiftshader)("gpt on WebGPU (a couple of steps, for correctness)", () => {
  it("the first two steps' losses and the validation loss equal the CPU's", () => {
    const args = [
      ...["--n-embd", "32", "--n-layer", "2", "--seq-len", "32", "--batch-size", "4", "--warmup", "1"],
      ...["--steps", "2", "--eval-batches", "1", "--sample-len", "10", "--progress", "off"],
      ...["--plots", ".cache/test-sequence/gpt-webgpu.svg"],
    ];
    const cpu = runExample("gpt", args).json;
    const gpu = runExample("gpt", [...args, "--device", "webgpu"]).json;
    expect(gpu).toMatchObject({ example: "gpt", device: "webgpu", steps: 2 });
    expect(gpu.adapter).toBeTruthy();
    expect(gpu.trainLoss).toBeCloseTo(cpu.trainLoss, 3);
    expect(gpu.valLoss).toBeCloseTo(cpu.valLoss, 3);
    expect(gpu.sample).toMatch(/^Call me .{10}$/s);
  }, 120_000);
});
