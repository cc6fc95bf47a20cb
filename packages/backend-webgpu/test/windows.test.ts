/** conv2d and max pooling on webgpu (im2col / col2im / maxPool2d fast paths) against the cpu, forward and backward. */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { assertClose } from "@cinder/tensor/testing";
import { describe, expect, it } from "vitest";
import { gpu } from "./setup";

torch.registerBackend(cpu);

async function run(device: string): Promise<number[][]> {
  torch.manualSeed(3);
  const x = torch.randn([2, 3, 9, 8]).to(device).requiresGrad_(true);
  const w = torch.randn([4, 3, 3, 3]).to(device).requiresGrad_(true);
  const g = torch.randn([2, 4, 5, 5]).to(device);
  const h = nn.F.conv2d(x, w, { padding: [1, 2], stride: [1, 1], dilation: [1, 2] }).relu();
  const y = nn.F.maxPool2d(h, 3, { stride: 2, padding: 1, ceilMode: true });
  expect(y.shape).toEqual([2, 4, 5, 5]);
  y.backward(g);
  const read = async (t: torch.Tensor | null) => Array.from(await (t as torch.Tensor).dataAsync());
  return [await read(y), await read(x.grad), await read(w.grad)];
}

describe.skipIf(!gpu)("window fast paths on webgpu", () => {
  it("conv2d + maxPool2d forward and backward match the cpu", async () => {
    expect(typeof gpu?.im2col).toBe("function");
    const [a, b] = [await run("webgpu"), await run("cpu")];
    const what = ["output", "input gradient", "weight gradient"];
    for (let i = 0; i < a.length; i++) assertClose(a[i], b[i], { rtol: 1e-4, atol: 1e-4 }, what[i]);
  });
});
