/**
 * `await bestDevice()`: the one-line device choice, PyTorch's
 * `device = "cuda" if torch.cuda.is_available() else "cpu"` for WebGPU.
 */
import { op, registerBackend, registeredDevices, signature } from "@cinder/tensor";
import { initWebGPU } from "./init";

/**
 * The best device here: `"webgpu"`, after initialising it (as `initWebGPU()` does, registering the device), when a
 * WebGPU adapter exists; `"cpu"` otherwise. A missing GPU, `navigator.gpu`, or `webgpu` package (in Node) is not an
 * error: the answer is then "cpu" (which needs the CPU backend registered, as importing "cinder" does). To pass
 * options (`powerPreference`, `onDeviceLost`, ...) call `initWebGPU(options)` first; `bestDevice()` then returns
 * "webgpu" for that device.
 *
 *   const device = await bestDevice();
 *   const model = new nn.Linear(784, 10).to(device);
 */
export const bestDevice = op(signature("bestDevice", []), async (): Promise<"webgpu" | "cpu"> => {
  try {
    const backend = await initWebGPU();
    // a device initialised earlier with `register: false` is registered now: the answer must be usable
    if (!registeredDevices().includes("webgpu")) registerBackend(backend);
    return "webgpu";
  } catch {
    return "cpu";
  }
});
