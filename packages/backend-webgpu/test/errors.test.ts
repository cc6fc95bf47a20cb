import { DeviceError, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import type { GpuStorage } from "../src/buffers";
import { Params } from "../src/codegen";
import { destroyWebGPU, initWebGPU, webgpuBackend } from "../src/index";
import { gpu } from "./setup";

describe.skipIf(!gpu)("webgpu errors and lifecycle", () => {
  it("reports the adapter", () => {
    expect(gpu!.adapter.description.length + gpu!.adapter.vendor.length).toBeGreaterThan(0);
    expect(gpu!.runtime.label).toMatch(/\w/);
    expect(webgpuBackend()).toBe(gpu);
  });

  it("rejects float64 with a message that names float32", () => {
    expect(() => tensor([1, 2], { dtype: "float64", device: "webgpu" })).toThrow(
      /float64 is not supported on webgpu.*float32/,
    );
  });

  it("names the async call when a webgpu tensor is read synchronously", () => {
    const t = tensor([1, 2], { device: "webgpu" });
    expect(() => t.data()).toThrow(/dataAsync/);
    expect(() => t.sum().item()).toThrow(DeviceError);
  });

  it("explains what to install when there is no adapter", async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    // a fresh module state is not needed: `gpu` is passed explicitly and registration is skipped
    const { acquireDevice } = await import("../src/device");
    await expect(acquireDevice({ gpu: noAdapter })).rejects.toThrow(
      /no WebGPU adapter found.*VK_ICD_FILENAMES/s,
    );
  });

  it("surfaces shader compilation errors on the next sync", async () => {
    const rt = gpu!.runtime;
    const params = new Params([{ name: "n", type: "u32" }]);
    rt.kernel("broken-kernel", () => ({
      params,
      bindings: [{ name: "out", type: "f32", access: "write" }],
      body: "@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; out[0] = x; }",
    }));
    await expect(rt.sync()).rejects.toThrow(/broken-kernel failed to compile/);
    await rt.sync(); // reported once
  });

  it("surfaces uncaptured validation errors", async () => {
    const t = tensor([1, 2, 3], { device: "webgpu" });
    (t.storage.handle as GpuStorage).buffer.destroy(); // use of a destroyed buffer is a validation error
    t.add(1);
    await expect(gpu!.sync()).rejects.toThrow(/WebGPU error/);
  });

  it("reports device loss to the callback and on the next op, and can start again", async () => {
    const old = gpu!;
    const t = tensor([1, 2, 3], { device: "webgpu" });
    destroyWebGPU();
    await new Promise((r) => setTimeout(r, 20));
    expect(() => old.runtime.check()).toThrow(/device was lost \(destroyed/);
    expect(() => t.add(1)).toThrow(/device was lost/);
    let lost: { reason: string } | null = null;
    const b = await initWebGPU({ onDeviceLost: (info) => (lost = info) });
    expect(b).not.toBe(old);
    expect(await tensor([1, 2], { device: "webgpu" }).add(1).toArrayAsync()).toEqual([2, 3]);
    destroyWebGPU();
    await new Promise((r) => setTimeout(r, 20));
    expect(lost).toEqual(expect.objectContaining({ reason: "destroyed" }));
  });
});
