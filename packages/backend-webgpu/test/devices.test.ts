/**
 * The device helpers (`webgpu.isAvailable`, `deviceCount`, `getDeviceName`, `bestDevice`) with no adapter (a
 * `navigator.gpu` whose `requestAdapter` finds nothing, as in a browser without a usable GPU) and with the real
 * one (SwiftShader on machines without a GPU, see vitest.config.ts). This file does not import ./setup: the
 * no-adapter cases need a process where WebGPU was never initialised.
 */
import { existsSync } from "node:fs";
import { ArgumentError, DeviceError, registeredDevices, tensor } from "@cinder/tensor";
import { afterAll, describe, expect, it, vi } from "vitest";
import { bestDevice, destroyWebGPU, initWebGPU, SWIFTSHADER_ICD, webgpu, webgpuBackend } from "../src/index";

afterAll(() => destroyWebGPU());

describe("with no adapter", () => {
  it("answers false / 0 / cpu and explains getDeviceName's failure", async () => {
    const requestAdapter = vi.fn(async () => null);
    vi.stubGlobal("navigator", { gpu: { requestAdapter } });
    try {
      expect(await webgpu.isAvailable()).toBe(false);
      expect(await webgpu.deviceCount()).toBe(0);
      await expect(webgpu.getDeviceName()).rejects.toThrow(DeviceError);
      await expect(webgpu.getDeviceName()).rejects.toThrow(/no WebGPU adapter found/);
      expect(await bestDevice()).toBe("cpu");
      expect(requestAdapter).toHaveBeenCalledTimes(5);
      expect(registeredDevices()).not.toContain("webgpu");
      expect(webgpuBackend()).toBeNull();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("arguments", () => {
  it("the zero-argument helpers reject extra arguments, as every declared signature does", () => {
    // @ts-expect-error: no parameters
    expect(() => webgpu.isAvailable(0)).toThrow(ArgumentError);
    // @ts-expect-error: no parameters
    expect(() => webgpu.deviceCount("webgpu")).toThrow(ArgumentError);
    // @ts-expect-error: no parameters
    expect(() => bestDevice({ powerPreference: "high-performance" })).toThrow(/bestDevice\(\)/);
    // @ts-expect-error: one parameter
    expect(() => webgpu.getDeviceName(0, 1)).toThrow(ArgumentError);
    // @ts-expect-error: an int or a device name
    expect(() => webgpu.getDeviceName(true)).toThrow(ArgumentError);
  });

  it("getDeviceName knows one device", async () => {
    await expect(webgpu.getDeviceName(1)).rejects.toThrow(/one device.*got 1/);
    await expect(webgpu.getDeviceName("cpu")).rejects.toThrow(DeviceError);
  });

  it("each helper carries its signature, named after PyTorch's torch.cuda", () => {
    expect(webgpu.isAvailable.signature.torchName).toBe("torch.cuda.is_available");
    expect(webgpu.deviceCount.signature.torchName).toBe("torch.cuda.device_count");
    expect(String(webgpu.getDeviceName.signature)).toBe("getDeviceName(device=None)");
    expect(String(bestDevice.signature)).toBe("bestDevice()");
  });
});

// SwiftShader (Debian's chromium package) gives an adapter on any Linux machine; elsewhere a GPU may or may not.
const swiftshader = process.platform === "linux" && existsSync(SWIFTSHADER_ICD);

describe("with an adapter", () => {
  it("agrees with initWebGPU on whether an adapter exists", async () => {
    const available = await webgpu.isAvailable();
    if (swiftshader) expect(available).toBe(true);
    const init = await initWebGPU({ register: false }).then(
      () => true,
      () => false,
    );
    expect(init).toBe(available);
    destroyWebGPU();
  });

  it.runIf(swiftshader)("finds the adapter before init without registering a device", async () => {
    expect(webgpuBackend()).toBeNull();
    expect(await webgpu.isAvailable()).toBe(true);
    expect(await webgpu.deviceCount()).toBe(1);
    expect(await webgpu.getDeviceName()).toMatch(/swiftshader/i);
    expect(await webgpu.getDeviceName(0)).toBe(await webgpu.getDeviceName("webgpu:0"));
    expect(registeredDevices()).not.toContain("webgpu");
    expect(webgpuBackend()).toBeNull();
  });

  it.runIf(swiftshader)("bestDevice initialises WebGPU and returns a usable device", async () => {
    const device = await bestDevice();
    expect(device).toBe("webgpu");
    expect(registeredDevices()).toContain("webgpu");
    const backend = webgpuBackend()!;
    expect(backend).not.toBeNull();
    expect(await bestDevice()).toBe("webgpu");
    expect(webgpuBackend()).toBe(backend); // idempotent
    expect(await webgpu.getDeviceName()).toBe(backend.runtime.label);
    expect(await webgpu.isAvailable()).toBe(true);
    const x = tensor([1, 2, 3], { device });
    expect(await x.mul(2).toArrayAsync()).toEqual([2, 4, 6]);
  });

  it.runIf(swiftshader)("bestDevice registers a device initialised with register: false", async () => {
    destroyWebGPU();
    await initWebGPU({ register: false });
    expect(registeredDevices()).not.toContain("webgpu");
    expect(await bestDevice()).toBe("webgpu");
    expect(registeredDevices()).toContain("webgpu");
  });
});
