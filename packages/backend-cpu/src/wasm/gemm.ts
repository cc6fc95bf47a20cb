/**
 * Float32 matmul on the WebAssembly SIMD kernels of gemm.wat. One module instance, created on first use (never
 * at import), owns a linear memory that grows to the largest product seen so far. A product copies its operands
 * in (a plain memcpy for row-major and column-major operands, a strided JS copy otherwise), runs the GotoBLAS
 * loop nest, blocks of B (KC x NC) and of A (MC x KC) packed into panels, the 4x8 micro-kernel swept over them
 * by `macro`, and copies C out.
 *
 * Memory layout, in bytes: [scratch tile 128][packed A block][packed B block][A][B][C].
 */
import type { TypedArray, View } from "@cinder/tensor";
import { GEMM_WASM_BASE64 } from "./kernel.generated";

interface GemmExports {
  memory: WebAssembly.Memory;
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
}

/** Reduction block: one B micro-panel (KC x 8 floats, 8 KiB) stays in L1. */
const KC = 256;
/** Rows of A per packed block (MC x KC floats, 128 KiB, in L2). */
const MC = 128;
/** Columns of B per packed block (KC x NC floats, 1 MiB). */
const NC = 1024;
const PAGE = 65536;
/** Products needing more linear memory than this run on the JS kernel instead. */
const MAX_BYTES = 1 << 30;

let enabled = true;
let instance: GemmExports | null | undefined;

/**
 * Allow (default) or forbid the WASM kernel. Forbidding it makes every float32 product take the JS path, as on
 * a platform without WebAssembly SIMD; tests use it to cover the fallback.
 */
export function setWasmGemmEnabled(on: boolean): void {
  enabled = on;
}

function decode(b64: string): Uint8Array {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/** The module's exports, instantiating it on first call; null when WebAssembly SIMD is unavailable or disabled. */
export function wasmGemm(): GemmExports | null {
  if (!enabled) return null;
  if (instance === undefined) {
    instance = null;
    try {
      if (typeof WebAssembly === "object") {
        // Synchronous compilation: the module is far below browsers' 4 KiB main-thread limit.
        const mod = new WebAssembly.Module(decode(GEMM_WASM_BASE64) as Uint8Array<ArrayBuffer>);
        instance = new WebAssembly.Instance(mod).exports as unknown as GemmExports;
      }
    } catch {
      // No SIMD support (CompileError) or no WebAssembly: stay on the JS kernel.
    }
  }
  return instance;
}

const align = (n: number): number => (n + 15) & ~15;

/** Grow the memory to at least `bytes`; false past MAX_BYTES or when the engine refuses. */
function reserve(ex: GemmExports, bytes: number): boolean {
  if (bytes > MAX_BYTES) return false;
  const have = ex.memory.buffer.byteLength;
  if (bytes <= have) return true;
  try {
    ex.memory.grow(Math.ceil((bytes - have) / PAGE));
    return true;
  } catch {
    return false;
  }
}

/**
 * Bring batch `t` of the [rows, cols] operand `v` into memory at `dst` (bytes); returns its element strides
 * there. Row-major and column-major matrices are copied as they are; anything else is gathered row-major.
 */
function load(
  f32: Float32Array,
  v: View,
  t: number,
  rows: number,
  cols: number,
  dst: number,
): [rowStride: number, colStride: number] {
  const src = v.handle as TypedArray;
  const off = v.offset + t * v.strides[0];
  // Strides of size-1 dimensions are arbitrary: normalise them to the row-major ones.
  const s0 = rows === 1 ? cols : v.strides[1];
  const s1 = cols === 1 ? 1 : v.strides[2];
  const d = dst >> 2;
  if (src instanceof Float32Array) {
    if (s1 === 1 && s0 === cols) {
      f32.set(src.subarray(off, off + rows * cols), d);
      return [cols, 1];
    }
    if (s0 === 1 && s1 === rows) {
      f32.set(src.subarray(off, off + rows * cols), d);
      return [1, rows];
    }
  }
  copy2d(src, off, v.strides[1], v.strides[2], f32, d, cols, 1, rows, cols);
  return [cols, 1];
}

/**
 * Copy the [rows, cols] result at `src` (bytes; element [i, j] at src + 4 * (i * rs + j * cs)) into batch `t` of
 * `out`: one memcpy when the layouts agree.
 */
function store(
  f32: Float32Array,
  src: number,
  rs: number,
  cs: number,
  out: View,
  t: number,
  rows: number,
  cols: number,
): void {
  const C = out.handle as Float32Array;
  const base = out.offset + t * out.strides[0];
  const s = src >> 2;
  const s1 = rows === 1 ? rs : out.strides[1];
  const s2 = cols === 1 ? cs : out.strides[2];
  if (s1 === rs && s2 === cs && C instanceof Float32Array) C.set(f32.subarray(s, s + rows * cols), base);
  else copy2d(f32, s, rs, cs, C, base, s1, s2, rows, cols);
}

/** dst[dOff + i * d0 + j * d1] = src[sOff + i * s0 + j * s1]: kept apart so its loop has its own type feedback. */
function copy2d(
  src: ArrayLike<number>,
  sOff: number,
  s0: number,
  s1: number,
  dst: TypedArray,
  dOff: number,
  d0: number,
  d1: number,
  rows: number,
  cols: number,
): void {
  for (let i = 0; i < rows; i++) {
    const p = sOff + i * s0;
    const q = dOff + i * d0;
    for (let j = 0; j < cols; j++) dst[q + j * d1] = src[p + j * s1];
  }
}

/** An operand in memory, element [p, k] at ptr + 4 * (p * sp + k * sk): p runs over rows of A or columns of B. */
interface Operand {
  ptr: number;
  sp: number;
  sk: number;
}

/** Rows of the padded work: the micro-kernel computes 4x8 tiles whole. */
const padded = (m: number, n: number): number => (((m + 3) >> 2) << 2) * (((n + 7) >> 3) << 3);

/**
 * C[M, N] = A[M, K] @ B[K, N] into the row-major C at `c` (bytes), A and B already in memory. The scratch tile
 * is at 0, the packed blocks at pa and pb.
 */
function gemm(
  ex: GemmExports,
  M: number,
  N: number,
  K: number,
  A: Operand,
  B: Operand,
  c: number,
  pa: number,
  pb: number,
): void {
  const kc = Math.ceil(K / Math.ceil(K / KC));
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += kc) {
      const kb = Math.min(kc, K - pc);
      ex.pack(B.ptr + 4 * (jc * B.sp + pc * B.sk), B.sp, B.sk, nc, kb, 8, pb);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        ex.pack(A.ptr + 4 * (ic * A.sp + pc * A.sk), A.sp, A.sk, mc, kb, 4, pa);
        ex.macro(pa, pb, mc, nc, kb, c + 4 * (ic * N + jc), 4 * N, pc > 0 ? 1 : 0, 0);
      }
    }
  }
}

/**
 * out = a @ b for float32 [B, M, K] @ [B, K, N] views, on the WASM kernel. Returns false (having written nothing)
 * when the kernel is unavailable, K = 0 or the product does not fit in its memory.
 */
export function matmulWasm(a: View, b: View, out: View): boolean {
  let [B, M, N] = out.shape;
  const K = a.shape[2];
  const ex = K > 0 ? wasmGemm() : null;
  if (ex === null) return false;
  // A shared B and batches of A and C that continue each other's rows: one product with B * M rows.
  const fold =
    B > 1 &&
    b.strides[0] === 0 &&
    a.strides[0] === M * a.strides[1] &&
    out.strides[0] === M * out.strides[1] &&
    out.strides[2] === 1 &&
    out.strides[1] === N;
  let av = a;
  let ov = out;
  if (fold) {
    av = { ...a, shape: [1, B * M, K] };
    ov = { ...out, shape: [1, B * M, N] };
    M *= B;
    B = 1;
  }
  // C^T = B^T A^T when that pads less (N small): the operands swap roles and C comes out transposed.
  const swap = padded(N, M) < padded(M, N);
  const kc = Math.min(K, KC);
  const pa = 128;
  const pb = pa + align(4 * MC * kc);
  const aAt = pb + align(4 * kc * (Math.min(swap ? M : N, NC) + 8));
  const bAt = aAt + align(4 * M * K);
  const cAt = bAt + align(4 * K * N);
  if (!reserve(ex, cAt + 4 * M * N)) return false;
  const f32 = new Float32Array(ex.memory.buffer);
  let A: Operand = { ptr: aAt, sp: 0, sk: 0 };
  let Bo: Operand = { ptr: bAt, sp: 0, sk: 0 };
  for (let t = 0; t < B; t++) {
    if (t === 0 || av.strides[0] !== 0) {
      const [rs, cs] = load(f32, av, t, M, K, aAt);
      A = { ptr: aAt, sp: rs, sk: cs };
    }
    if (t === 0 || b.strides[0] !== 0) {
      const [rs, cs] = load(f32, b, t, K, N, bAt);
      Bo = { ptr: bAt, sp: cs, sk: rs };
    }
    if (swap) {
      gemm(ex, N, M, K, Bo, A, cAt, pa, pb);
      store(f32, cAt, 1, M, ov, t, M, N);
    } else {
      gemm(ex, M, N, K, A, Bo, cAt, pa, pb);
      store(f32, cAt, N, 1, ov, t, M, N);
    }
  }
  return true;
}
