/**
 * What PyTorch users ask `torch.cuda`, asked of WebGPU (exported as the `webgpu` namespace):
 *
 *   import { webgpu } from "@cinder/backend-webgpu";   // or: import * as torch from "cinder"; torch.webgpu
 *   if (await webgpu.isAvailable()) console.log(await webgpu.getDeviceName());
 *
 * Finding an adapter is asynchronous in WebGPU, so each returns a promise. None of them creates the device or
 * registers "webgpu": that is `initWebGPU()` (or `bestDevice()`). Before it, each asks for an adapter afresh
 * (`navigator.gpu`, or Dawn in Node when the optional `webgpu` package is installed); after it, they describe the
 * device in use.
 */
import { arg, DeviceError, k, op, signature } from "@cinder/tensor";
import { type AdapterInfo, adapterInfo, describeAdapter, findGpu, noAdapterMessage } from "./device";
import { webgpuBackend } from "./init";

/** The adapter of this environment, or why there is none (never throws). */
async function probe(): Promise<{ info: AdapterInfo } | { reason: string }> {
  const live = webgpuBackend();
  if (live && !live.runtime.isLost) return { info: live.adapter };
  try {
    const gpu = await findGpu({});
    const adapter = await gpu.requestAdapter();
    return adapter ? { info: adapterInfo(adapter) } : { reason: noAdapterMessage() };
  } catch (e) {
    return { reason: (e as Error).message };
  }
}

/**
 * `torch.cuda.is_available()`: whether a WebGPU adapter exists here. False, never an error, without
 * `navigator.gpu`, without the `webgpu` package in Node, or when no adapter is found.
 */
export const isAvailable = op(
  signature("webgpu.isAvailable", [], [], { torch: "torch.cuda.is_available" }),
  async (): Promise<boolean> => "info" in (await probe()),
);

/** `torch.cuda.device_count()`: the WebGPU devices Cinder can use, 1 when an adapter exists and 0 otherwise. */
export const deviceCount = op(
  signature("webgpu.deviceCount", [], [], { torch: "torch.cuda.device_count" }),
  async (): Promise<number> => ("info" in (await probe()) ? 1 : 0),
);

const DEVICE = arg.opt("device", k.or(k.int, k.device));

/**
 * `torch.cuda.get_device_name(device=None)`: the adapter's name, e.g. "google swiftshader (SwiftShader driver
 * 5.0.0)" (the vendor, architecture and device, then the description). `device` may be left out, or be 0,
 * "webgpu" or "webgpu:0". Rejects with a `DeviceError` saying what to install or enable when there is no adapter.
 */
export const getDeviceName = op(
  signature("webgpu.getDeviceName", [DEVICE], [], { torch: "torch.cuda.get_device_name" }),
  async ({ device }): Promise<string> => {
    if (device !== null && device !== 0 && device !== "webgpu" && device !== "webgpu:0") {
      throw new DeviceError(
        `getDeviceName(): WebGPU has one device (0, "webgpu" or "webgpu:0"), got ${JSON.stringify(device)}`,
      );
    }
    const found = await probe();
    if ("reason" in found) throw new DeviceError(found.reason);
    return describeAdapter(found.info);
  },
);
