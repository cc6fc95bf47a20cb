/**
 * Shared test setup: initialise WebGPU once per test file (SwiftShader on machines without a GPU; the
 * environment is prepared in vitest.config.ts). `gpu` is null when no adapter exists, and files skip.
 */
import { initWebGPU, type WebGPUBackend } from "../src/index";

export let gpu: WebGPUBackend | null = null;
export let unavailable = "";
try {
  gpu = await initWebGPU();
} catch (e) {
  unavailable = (e as Error).message;
  console.warn(`[webgpu tests skipped] ${unavailable}`);
}
