/**
 * Seed 000's first snippet: which devices there are, a tensor created on the CPU, shared with a TypedArray
 * (torch.from_numpy), moved to the GPU when there is one, and brought back.
 *
 *   pnpm example devices
 */
import * as torch from "cinder";
import { report } from "./lib/cli";

let gpu: string | null = null;
try {
  const { initWebGPU } = await import("@cinder/backend-webgpu");
  const backend = await initWebGPU();
  gpu = backend.adapter.description || backend.adapter.vendor || "webgpu";
} catch (e) {
  console.log(`WebGPU not available: ${(e as Error).message.split("\n")[0]}`);
}
console.log(`devices: ${torch.registeredDevices().join(", ")}`);
console.log(`WebGPU available: ${gpu !== null}${gpu ? ` (${gpu})` : ""}`);

// 1. create tensors (much like NumPy arrays)
const xArr = new Int32Array([1, 2, 3]);
const xPt = torch.tensor([1, 2, 3]); // on the CPU by default
// 2. share memory with a TypedArray: changing one changes the other
const yPt = torch.fromTypedArray(xArr);
xArr[0] = 100;
console.log(`shared: ${yPt}`);

// 3. the key move: to the GPU and back
let onDevice = "cpu";
if (gpu) {
  const device = "webgpu";
  const xGpu = xPt.to(device);
  console.log(`data is on: ${xGpu.device}`);
  // a GPU tensor cannot be read synchronously: read it asynchronously, or bring it back to the CPU first
  const result = await (await xGpu.toAsync("cpu")).toArrayAsync();
  console.log(result);
  onDevice = xGpu.device;
} else {
  console.log("No GPU: running on the CPU only.");
}
report({
  example: "devices",
  devices: torch.registeredDevices(),
  webgpu: gpu,
  device: onDevice,
  shared: yPt.toArray(),
});
