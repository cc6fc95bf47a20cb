/**
 * A loaded model on WebGPU (SwiftShader here: a CPU Vulkan driver): PyTorch's ResNet-style export and a traced
 * model give the CPU's outputs after `.to("webgpu")`; skipped where no adapter exists.
 */
import { readFileSync } from "node:fs";
import { cpu } from "@cinder/backend-cpu";
import { initWebGPU } from "@cinder/backend-webgpu";
import * as nn from "@cinder/nn";
import { manualSeed, noGrad, randn, registerBackend, registeredDevices, type Tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as onnx from "../src";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);
let unavailable = "";
try {
  await initWebGPU();
} catch (e) {
  unavailable = (e as Error).message;
  console.warn(`[webgpu test skipped] ${unavailable}`);
}

async function expectSame(gpu: Tensor, cpuOut: Tensor): Promise<void> {
  expect(gpu.device).toBe("webgpu");
  const [g, c] = [await gpu.dataAsync(), await cpuOut.dataAsync()];
  expect(g.length).toBe(c.length);
  for (let i = 0; i < c.length; i++) expect(Math.abs(g[i] - c[i])).toBeLessThan(1e-4 + 1e-4 * Math.abs(c[i]));
}

describe.skipIf(unavailable !== "")("onnx.load and jit.trace models on WebGPU", () => {
  it("PyTorch's ResNet-style export and a traced CNN give the CPU's outputs", async () => {
    const bytes = new Uint8Array(readFileSync(new URL("fixtures/resnet.onnx", import.meta.url)));
    const onCpu = await onnx.load(bytes);
    const onGpu = (await onnx.load(bytes)).to("webgpu");
    const x = randn([2, 3, 8, 8]);
    await expectSame(
      noGrad(() => onGpu(x.to("webgpu")) as Tensor),
      noGrad(() => onCpu(x) as Tensor),
    );

    manualSeed(3);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 4, 3),
      new nn.GELU(),
      new nn.Flatten(),
      new nn.Linear(64, 5),
    );
    const traced = onnx.jit.trace(model, randn([1, 1, 6, 6]));
    const y = randn([3, 1, 6, 6]);
    const want = noGrad(() => traced(y) as Tensor);
    traced.to("webgpu");
    await expectSame(
      noGrad(() => traced(y.to("webgpu")) as Tensor),
      want,
    );
  });
});
