/**
 * The WASM GEMM's modules and memories (gemm.ts computes with them): gemm.wat instantiated on first use, never at
 * import, on an ordinary memory (products on this thread whose operands are not in the shared memory) and on
 * heap.ts's shared memory (products split over threads, and products of CPU storage, which lives there), each with
 * a workspace for packed panels and the operands copied in.
 */
import { JOB_AT, type ThreadHost } from "../threads/pool";
import { JOB_WORDS } from "../threads/worker-source";
import { allocBlock, freeBlock, sharedMemory } from "./heap";
import {
  GEMM_WASM_BASE64,
  GEMM_WASM_FMA_BASE64,
  GEMM_WASM_FMA_PLAIN_BASE64,
  GEMM_WASM_PLAIN_BASE64,
} from "./kernel.generated";

export interface GemmExports {
  pack(src: number, sp: number, sk: number, np: number, nk: number, w: number, dst: number): void;
  macro(
    pa: number,
    pb: number,
    mc: number,
    nc: number,
    kc: number,
    c: number,
    ldc: number,
    accum: number,
    tile: number,
  ): void;
  run(job: number, chunk: number, scratch: number): void;
}

export interface Host extends ThreadHost {
  readonly exports: GemmExports;
  /** The micro-kernel fuses its multiply-adds (relaxed SIMD). */
  readonly fma: boolean;
}

const PAGE = 65536;
/** The memory's maximum (1 GiB, as gemm.wat declares): larger products run on the JS kernel instead. */
const MAX_PAGES = 16384;
const MAX_BYTES = MAX_PAGES * PAGE;

let enabled = true;
/** Whether the WASM kernel is allowed (`setWasmGemmEnabled`). */
export const wasmGemmEnabled = (): boolean => enabled;
let sharedAllowed = true;
let fmaAllowed = true;
let fmaValid: boolean | undefined;
let sharedHost: Host | null | undefined;
/** Whether `h` is the module on the shared memory (where CPU storage lives). */
export const isShared = (h: Host): boolean => h === sharedHost;
let plainHost: Host | null | undefined;

/**
 * Allow (default) or forbid the WASM kernel. Forbidding it makes every float32 product take the JS path, as on
 * a platform without WebAssembly SIMD; tests use it to cover the fallback.
 */
export function setWasmGemmEnabled(on: boolean): void {
  enabled = on;
}

/**
 * Allow (default) or forbid the shared memory. Forbidding it runs the module on an ordinary memory without
 * threads, as on a platform without SharedArrayBuffer (or a page that is not cross-origin isolated).
 */
export function setSharedMemoryEnabled(on: boolean): void {
  sharedAllowed = on;
}

/**
 * Allow (default) or forbid the fused multiply-add kernel. Where the engine has relaxed SIMD (V8 11.4+: Chrome
 * 114+, Node 22+; Node 20 with --experimental-wasm-relaxed-simd) the micro-kernel computes c + a * b with
 * `f32x4.relaxed_madd`, which rounds once where the plain kernel rounds the product and the sum apart: results
 * then differ from the plain kernel's in the last bits (both are within float32 rounding of the exact sum), but
 * stay bit-identical across thread counts, since every thread runs the same module. Changing it re-instantiates
 * the modules on the next product.
 */
export function setFmaEnabled(on: boolean): void {
  if (on === fmaAllowed) return;
  fmaAllowed = on;
  plainHost = undefined;
  sharedHost = undefined;
}

/** Which micro-kernel float32 products run on: "fma" (relaxed SIMD), "simd", or null (the JS kernel). */
export function wasmGemmKernel(): "fma" | "simd" | null {
  const h = enabled ? plain() : null;
  return h === null ? null : h.fma ? "fma" : "simd";
}

/** Whether this engine validates the relaxed-SIMD module (decided once: the engine's features do not change). */
function fmaAvailable(): boolean {
  if (fmaValid === undefined) {
    try {
      fmaValid = typeof WebAssembly === "object" && WebAssembly.validate(decode(GEMM_WASM_FMA_PLAIN_BASE64));
    } catch {
      fmaValid = false;
    }
  }
  return fmaValid;
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/** The module on a new memory: shared (null if this platform cannot share one) or ordinary. */
function makeHost(shared: boolean): Host | null {
  try {
    if (typeof WebAssembly !== "object") return null;
    // the shared memory is the heap's: CPU storage lives there, so products read it in place
    const memory = shared ? sharedMemory() : new WebAssembly.Memory({ initial: 1 });
    if (memory === null) return null;
    // Synchronous compilation: the module is far below browsers' 4 KiB main-thread limit.
    const fma = fmaAllowed && fmaAvailable();
    const bytes = fma
      ? shared
        ? GEMM_WASM_FMA_BASE64
        : GEMM_WASM_FMA_PLAIN_BASE64
      : shared
        ? GEMM_WASM_BASE64
        : GEMM_WASM_PLAIN_BASE64;
    const module = new WebAssembly.Module(decode(bytes));
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmExports;
    return { module, memory, exports, run: exports.run, fma };
  } catch {
    // No SIMD support (CompileError) or no WebAssembly: stay on the JS kernel.
    return null;
  }
}

/** The module on an ordinary memory, instantiated on first call; null when WebAssembly SIMD is unavailable. */
export function plain(): Host | null {
  if (plainHost === undefined) plainHost = makeHost(false);
  return plainHost;
}

/** The module on a shared memory, instantiated on first call; null where memory cannot be shared. */
export function shared(): Host | null {
  if (!sharedAllowed) return null;
  if (sharedHost === undefined) sharedHost = makeHost(true);
  return sharedHost;
}

/** The module's exports; null when WebAssembly SIMD is unavailable or disabled. */
export function wasmGemm(): GemmExports | null {
  return enabled ? (plain()?.exports ?? null) : null;
}

/** Whether large products may run on the shared memory (and so on threads). */
export function wasmGemmShared(): boolean {
  return enabled && shared() !== null;
}

export const align = (n: number): number => (n + 15) & ~15;
export const up4 = (n: number): number => (n + 3) & ~3;
export const up8 = (n: number): number => (n + 7) & ~7;

/** The workspace's heap block on the shared memory (-1: none yet) and its size. */
let heapWs = -1;
let heapWsBytes = 0;
const WS_AT = align(JOB_AT + 4 * JOB_WORDS);

/**
 * The address of a workspace of `bytes` in h's memory, -1 when it cannot have one: on the ordinary memory the
 * bytes after the job descriptor (the memory grows to hold them, up to MAX_BYTES), on the shared one a heap block,
 * replaced by a larger one when too small.
 */
export function workspace(h: Host, bytes: number): number {
  if (!isShared(h)) {
    const end = WS_AT + bytes;
    if (end > MAX_BYTES) return -1;
    const have = h.memory.buffer.byteLength;
    if (end <= have) return WS_AT;
    try {
      h.memory.grow(Math.ceil((end - have) / PAGE));
      return WS_AT;
    } catch {
      return -1;
    }
  }
  if (bytes <= heapWsBytes) return heapWs;
  if (heapWs >= 0) freeBlock(heapWs);
  heapWs = allocBlock(bytes);
  heapWsBytes = heapWs < 0 ? 0 : bytes;
  return heapWs;
}
