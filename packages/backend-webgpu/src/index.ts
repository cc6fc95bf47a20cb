/**
 * @cinder/backend-webgpu: Cinder's WebGPU backend, for browsers (`navigator.gpu`) and Node (Dawn, through the
 * `webgpu` package, an optional peer dependency: `npm install webgpu`). Nothing happens at import;
 * `await initWebGPU()` finds an adapter, creates the device and registers the "webgpu" device with the core:
 *
 *   import { initWebGPU } from "@cinder/backend-webgpu";
 *   const gpu = await initWebGPU();          // gpu.adapter.description, e.g. "SwiftShader driver 5.0.0"
 *   const x = torch.randn([256, 256], { device: "webgpu" });
 *   console.log(await x.matmul(x).sum().itemAsync());
 *
 * Or, falling back to the CPU where there is no GPU: `const device = await bestDevice()` ("webgpu" or "cpu"), and
 * `torch.cuda`'s questions as `webgpu.isAvailable()`, `webgpu.deviceCount()`, `webgpu.getDeviceName()`.
 *
 * Reads are asynchronous (`dataAsync`, `itemAsync`, `toArrayAsync`, `toAsync("cpu")`). float64 is not supported
 * (WGSL has no 64-bit floats). uint8, bool, int8 and int16 use one 32-bit word per element on the GPU.
 */
export * as webgpu from "./available";
export { WebGPUBackend, type WebGPUMemoryInfo } from "./backend";
export { bestDevice } from "./best-device";
export { type AdapterInfo, describeAdapter, SWIFTSHADER_ICD } from "./device";
export { destroyWebGPU, initWebGPU, type WebGPUOptions, webgpuBackend, webgpuMemory } from "./init";
