/**
 * The lifecycle of the one WebGPU device: `initWebGPU()` creates it and registers device "webgpu" with the core,
 * `destroyWebGPU()` ends it.
 */
import { registerBackend, unregisterBackend } from "@cinder/tensor";
import { WebGPUBackend, type WebGPUMemoryInfo } from "./backend";
import { type AcquireOptions, acquireDevice, describeAdapter } from "./device";
import { Runtime } from "./runtime";

/**
 * Options of `initWebGPU()`: how to find the GPU, error and device-loss callbacks, pool and batching limits.
 */
export interface WebGPUOptions extends AcquireOptions {
  /**
   * Called when the device is lost (driver reset, GPU removed; reason "destroyed" after `destroyWebGPU()`); the
   * next op on "webgpu" throws as well.
   */
  onDeviceLost?: (info: { reason: string; message: string }) => void;
  /** Called for every uncaptured WebGPU error; the next op or read throws the first one as well. */
  onError?: (error: Error) => void;
  /** Free buffers kept for reuse, in bytes (default 512 MiB); beyond it freed buffers are destroyed. */
  poolLimitBytes?: number;
  /**
   * Live GPU bytes past which a read (`dataAsync`, `itemAsync`, `sync()`) first gives the garbage collector's
   * finalisers a chance to free tensors nobody references (default 256 MiB; see `webgpuMemory().reclaims`).
   */
  memoryBudgetBytes?: number;
  /** Live GPU bytes no allocation may pass: it throws an error naming `tidy` / `using` / `dispose` (default none). */
  memoryLimitBytes?: number;
  /** Dispatches recorded before a submit (default 256); reads and `sync()` submit earlier. */
  maxDispatchesPerSubmit?: number;
  /** Register the backend as device "webgpu" (default true). */
  register?: boolean;
}

let current: WebGPUBackend | null = null;
let pending: Promise<WebGPUBackend> | null = null;

/**
 * Initialise WebGPU and register device "webgpu". Idempotent: later calls return the same backend until the
 * device is lost or `destroyWebGPU()` is called. Rejects with a message naming what to install or enable when
 * no adapter exists.
 */
export function initWebGPU(options: WebGPUOptions = {}): Promise<WebGPUBackend> {
  if (current && !current.runtime.isLost) return Promise.resolve(current);
  pending ??= (async () => {
    try {
      const { gpu, device, info } = await acquireDevice(options);
      const rt = new Runtime(gpu, device, describeAdapter(info), {
        maxBatch: options.maxDispatchesPerSubmit,
        poolLimitBytes: options.poolLimitBytes,
        memoryBudgetBytes: options.memoryBudgetBytes,
        memoryLimitBytes: options.memoryLimitBytes,
        onError: options.onError,
        onDeviceLost: options.onDeviceLost,
      });
      const backend = new WebGPUBackend(rt, info);
      if (options.register !== false) registerBackend(backend);
      current = backend;
      return backend;
    } finally {
      pending = null;
    }
  })();
  return pending;
}

/** The initialised backend, or null before `initWebGPU()`. */
export function webgpuBackend(): WebGPUBackend | null {
  return current;
}

/** Memory statistics of the WebGPU pool (all zero before `initWebGPU()`). */
export function webgpuMemory(): WebGPUMemoryInfo {
  if (current) return current.memory();
  return {
    buffersLive: 0,
    bytesLive: 0,
    buffersPooled: 0,
    bytesPooled: 0,
    buffersPending: 0,
    stagingPooled: 0,
    stagingBytesPooled: 0,
    created: 0,
    pipelines: 0,
    dispatches: 0,
    programs: 0,
    submits: 0,
    reclaims: 0,
  };
}

/**
 * Destroy the device and unregister "webgpu". Tensors on it become unusable. In Node this also lets the process
 * exit promptly (Dawn keeps the event loop alive while a device exists).
 */
export function destroyWebGPU(): void {
  if (!current) return;
  unregisterBackend("webgpu");
  current.runtime.destroy();
  current = null;
}
