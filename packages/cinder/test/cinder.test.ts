/**
 * The `cinder` entry point as a PyTorch user meets it: importing it registers the CPU and installs autograd,
 * `version` is the package's, `await bestDevice()` picks "webgpu" or falls back to "cpu", and a model trains on
 * whichever it picked. (The namespace itself is pinned by tests/test/exports.test.ts.)
 */
import { existsSync, readFileSync } from "node:fs";
import { destroyWebGPU, SWIFTSHADER_ICD } from "@cinder/backend-webgpu";
import * as torch from "cinder";
import { afterAll, describe, expect, it } from "vitest";

afterAll(() => destroyWebGPU());

describe("cinder", () => {
  it("registers the CPU on import", () => {
    expect(torch.registeredDevices()).toContain("cpu");
    expect(torch.tensor([1, 2]).requiresGrad).toBe(false);
  });

  it("version is package.json's, read when built (torch.__version__)", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(torch.version).toBe(manifest.version);
  });

  it("bestDevice() agrees with webgpu.isAvailable(), and a model trains on the device it picks", async () => {
    const available = await torch.webgpu.isAvailable();
    const device = await torch.bestDevice();
    expect(device).toBe(available ? "webgpu" : "cpu");
    // Linux machines with Debian's chromium have SwiftShader (vitest.config.ts points Vulkan at it)
    if (process.platform === "linux" && existsSync(SWIFTSHADER_ICD)) expect(device).toBe("webgpu");
    expect(await torch.webgpu.deviceCount()).toBe(available ? 1 : 0);
    if (available) expect(await torch.webgpu.getDeviceName()).toMatch(/\w/);
    else await expect(torch.webgpu.getDeviceName()).rejects.toThrow(torch.DeviceError);

    torch.manualSeed(0);
    const model = new torch.nn.Linear(3, 1).to(device);
    const opt = new torch.optim.SGD(model.parameters(), { lr: 0.1 });
    const x = torch.randn([16, 3]).to(device);
    const y = x.sum(1, true);
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      opt.zeroGrad();
      const loss = torch.nn.functional.mseLoss(model.forward(x), y);
      loss.backward();
      opt.step();
      losses.push(Number(await loss.itemAsync()));
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
  });

  it("utils.data is torch.utils.data", async () => {
    const { DataLoader, TensorDataset } = torch.utils.data;
    const ds = new TensorDataset(torch.arange(10), torch.arange(10).mul(2));
    const batches = [...new DataLoader(ds, { batchSize: 4 })];
    expect(batches.map(([x]) => x.shape[0])).toEqual([4, 4, 2]);
  });
});
