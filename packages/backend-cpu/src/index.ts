/**
 * Cinder's CPU backend: storage is a plain TypedArray (Float32Array, Float64Array, Int32Array, Uint8Array for
 * uint8 and bool) and every primitive of the `Backend` protocol runs as a strided JS kernel. Importing this
 * module only constructs `cpu`; register it with `registerBackend(cpu)` (the `cinder` package does).
 *
 * Deviations from PyTorch, all at undefined or erroring corners:
 * - integer division by zero (floorDivide, remainder, fmod, div on int32/uint8) gives 0 instead of raising;
 * - float to int32 casts saturate (NaN -> 0), as ARM PyTorch and WGSL do; x86 PyTorch gives INT32_MIN.
 */
import {
  type AdamStepOptions,
  type ArgReduceOp,
  allocTypedArray,
  type Backend,
  type BinaryOp,
  bufferPoolStats,
  DTYPES,
  type DType,
  type Expr,
  type FusedReduce,
  type RandomDist,
  type ReduceOp,
  recycleBuffer,
  type ScanOp,
  type SgdStepOptions,
  type TypedArray,
  takeBuffer,
  type UnaryOp,
  type View,
  type Window2d,
} from "@cinder/tensor";
import { contiguousStrides, isContiguous, numel } from "./codegen";
import * as cx from "./complex";
import { addScaled, binary, copy, fill, unary, where } from "./elementwise";
import { binaryWasm, copyWasm, elementwise, sumWasm, unaryWasm, whereWasm } from "./fused";
import * as hf from "./half";
import { gather, scatter, sort } from "./indexing";
import { matmul } from "./matmul";
import { adamStep, sgdStep } from "./optim";
import { random } from "./random";
import { argReduce, reduce, scan, softmax } from "./reduce";
import { copyOut, heapAlloc, heapCopy, heapFree } from "./wasm/heap";
import * as win from "./windows";

export { type GemmProvider, gemmProvider, gemmProviderStats, setGemmProvider } from "./gemm-provider";
export { halfStats } from "./half";
export { getNumThreads, setNumThreads } from "./threads/index";
export { type HeapStats, heapStats, setWasmHeapEnabled } from "./wasm/heap";

/**
 * The `"cpu"` device: a protocol version 2 backend whose storage is a plain TypedArray (garbage collected),
 * with generated strided JS loops and a WebAssembly SIMD matmul. `registerBackend(cpu)` makes it
 * available; `cinder` does that for you.
 */
export class CpuBackend implements Backend {
  readonly specificationVersion = 2 as const;
  readonly device = "cpu";
  readonly gcManaged = true;
  /** Every dtype, int8 and int16 included (Int8Array/Int16Array storage); complex as (re, im) pairs (complex.ts). */
  readonly dtypes: readonly DType[] = DTYPES;

  /** From the buffer pool (`takeBuffer`): a recycled array when one fits, zero-filled unless `zero` is false. */
  alloc(dtype: DType, length: number, zero = true): TypedArray {
    if (dtype === "complex64" || dtype === "complex128") return cx.allocComplex(dtype, length, zero);
    // float storage of 4 KiB or more lives in WebAssembly memory when it can (wasm/heap.ts)
    if (dtype === "float32") return heapAlloc(Float32Array, length, zero) ?? takeBuffer(dtype, length, zero);
    if (dtype === "float64") return heapAlloc(Float64Array, length, zero) ?? takeBuffer(dtype, length, zero);
    return takeBuffer(dtype, length, zero);
  }

  /** The core calls this only for arrays nobody else can read: back to the buffer pool (else the GC frees it). */
  free(handle: unknown): void {
    if (!heapFree(handle)) recycleBuffer(handle);
  }

  /** The buffer pool's counters and what it holds (`bufferPoolStats()`). */
  memory(): Record<string, number> {
    const { enabled, ...counts } = bufferPoolStats();
    return { poolEnabled: +enabled, ...counts };
  }

  write(handle: unknown, dtype: DType, data: TypedArray, offset: number): void {
    // complex data comes interleaved, 2 words per element
    (handle as TypedArray).set(data, dtype === "complex64" || dtype === "complex128" ? 2 * offset : offset);
  }

  readSync(view: View): TypedArray {
    if (cx.isComplexView(view)) return cx.readComplex(view);
    const n = numel(view.shape);
    // the usual read, a dense view: one copy of its elements (bits copied, as `copy` does; `slice` but in the heap)
    if (isContiguous(view)) return copyOut(view.handle as TypedArray, view.offset, n);
    const out = allocTypedArray(view.dtype, n);
    copy(view, {
      handle: out,
      dtype: view.dtype,
      shape: view.shape,
      strides: contiguousStrides(view.shape),
      offset: 0,
    });
    return out;
  }

  read(view: View): Promise<TypedArray> {
    try {
      return Promise.resolve(this.readSync(view));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The array itself is the storage: no copy. */
  wrap(data: TypedArray): TypedArray {
    return data;
  }

  async sync(): Promise<void> {}

  copy(x: View, out: View): void {
    if (cx.isComplexView(x) || cx.isComplexView(out)) {
      cx.copyComplex(x, out);
      return;
    }
    // contiguous copies of one dtype are a memcpy already (elementwise.ts; in the heap, memory.copy)
    if (x.dtype === out.dtype && isContiguous(x) && isContiguous(out)) {
      if (!heapCopy(x, out, numel(x.shape))) copy(x, out);
    } else if (!copyWasm(x, out)) copy(x, out);
  }

  elementwise(expr: Expr, inputs: readonly View[], out: View, reduce?: FusedReduce): void {
    elementwise(expr, inputs, out, reduce);
  }

  fill(out: View, value: number): void {
    if (cx.isComplexView(out)) {
      cx.fillComplex(out, value);
      return;
    }
    fill(out, value);
  }

  unary(op: UnaryOp, x: View, out: View): void {
    if (cx.isComplexView(x)) {
      cx.unaryComplex(op, x, out);
      return;
    }
    if (hf.anyHalf(x, out)) {
      hf.unary(op, x, out);
      return;
    }
    if (!unaryWasm(op, x, out)) unary(op, x, out);
  }

  addScaled(a: View, b: View, alpha: number, out: View): void {
    if (hf.anyHalf(a, b, out)) {
      hf.viaFloat32([a, b, out], (v) => addScaled(v[0], v[1], alpha, v[2]));
      return;
    }
    addScaled(a, b, alpha, out);
  }
  binary(op: BinaryOp, a: View, b: View, out: View): void {
    if (cx.isComplexView(a)) {
      cx.binaryComplex(op, a, b, out);
      return;
    }
    if (hf.anyHalf(a, b, out)) {
      hf.binary(op, a, b, out);
      return;
    }
    if (!binaryWasm(op, a, b, out)) binary(op, a, b, out);
  }

  where(cond: View, a: View, b: View, out: View): void {
    if (cx.isComplexView(out)) {
      cx.whereComplex(cond, a, b, out);
      return;
    }
    if (hf.anyHalf(a, b, out)) {
      hf.where(cond, a, b, out);
      return;
    }
    if (!whereWasm(cond, a, b, out)) where(cond, a, b, out);
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
    if (cx.isComplexView(x)) {
      cx.reduceComplex(op, x, axes, out);
      return;
    }
    if (hf.anyHalf(x, out)) {
      hf.reduce(op, x, axes, out);
      return;
    }
    if (op !== "sum" || !sumWasm(x, axes, out)) reduce(op, x, axes, out);
  }

  argReduce(op: ArgReduceOp, x: View, axis: number, out: View): void {
    if (cx.isComplexView(x)) throw cx.notSupported(op, x.dtype);
    if (hf.anyHalf(x)) {
      hf.viaFloat32([x, out], (v) => argReduce(op, v[0], axis, v[1]));
      return;
    }
    argReduce(op, x, axis, out);
  }

  scan(op: ScanOp, x: View, axis: number, out: View): void {
    if (cx.isComplexView(x)) {
      cx.scanComplex(op, x, axis, out);
      return;
    }
    if (hf.anyHalf(x, out)) {
      hf.viaFloat32([x, out], (v) => scan(op, v[0], axis, v[1]));
      return;
    }
    scan(op, x, axis, out);
  }

  matmul(a: View, b: View, out: View): void {
    if (cx.isComplexView(out)) {
      cx.matmulComplex(a, b, out);
      return;
    }
    if (hf.anyHalf(a, b, out)) {
      hf.viaFloat32([a, b, out], (v) => matmul(v[0], v[1], v[2]));
      return;
    }
    matmul(a, b, out);
  }

  gather(x: View, axis: number, index: View, out: View): void {
    if (cx.isComplexView(x)) {
      cx.gatherComplex(x, axis, index, out);
      return;
    }
    if (hf.anyHalf(x, out)) {
      hf.viaFloat32([x, index, out], (v) => gather(v[0], axis, v[1], v[2]));
      return;
    }
    gather(x, axis, index, out);
  }

  scatter(mode: "set" | "add", out: View, axis: number, index: View, src: View): void {
    if (cx.isComplexView(out)) {
      cx.scatterComplex(mode, out, axis, index, src);
      return;
    }
    if (hf.anyHalf(out, src)) {
      hf.viaFloat32([index, src, out], (v) => scatter(mode, v[2], axis, v[0], v[1]));
      return;
    }

    scatter(mode, out, axis, index, src);
  }

  sort(x: View, axis: number, descending: boolean, values: View, indices: View): void {
    if (cx.isComplexView(x)) throw cx.notSupported("sort", x.dtype);
    if (hf.anyHalf(x, values)) {
      hf.viaFloat32([x, values, indices], (v) => sort(v[0], axis, descending, v[1], v[2]), 1);
      return;
    }
    sort(x, axis, descending, values, indices);
  }

  random(dist: RandomDist, key: number, counter: number, out: View): void {
    if (cx.isComplexView(out)) throw cx.notSupported(`random ${dist}`, out.dtype);
    if (hf.anyHalf(out)) {
      hf.viaFloat32([out], (v) => random(dist, key, counter, v[0]));
      return;
    }
    random(dist, key, counter, out);
  }

  softmax(x: View, log: boolean, out: View): void {
    if (hf.anyHalf(x, out)) {
      hf.viaFloat32([x, out], (v) => softmax(v[0], log, v[1]));
      return;
    }
    softmax(x, log, out);
  }

  adamStep(
    p: View,
    grad: View,
    expAvg: View,
    expAvgSq: View,
    maxExpAvgSq: View | null,
    o: AdamStepOptions,
  ): boolean {
    // (16-bit parameters or state: false, the optimizer's composition of tensor ops, each rounded as PyTorch's)
    if (hf.anyHalf(p, grad, expAvg, expAvgSq, maxExpAvgSq)) return false;
    return adamStep(p, grad, expAvg, expAvgSq, maxExpAvgSq, o);
  }

  sgdStep(p: View, grad: View, momentumBuffer: View | null, o: SgdStepOptions): boolean {
    if (hf.anyHalf(p, grad, momentumBuffer)) return false;
    return sgdStep(p, grad, momentumBuffer, o);
  }

  im2col(x: View, p: Window2d, out: View): void {
    if (hf.anyHalf(x, out)) {
      hf.viaFloat32([x, out], (v) => win.im2col(v[0], p, v[1]));
      return;
    }
    win.im2col(x, p, out);
  }

  col2im(cols: View, p: Window2d, out: View): void {
    if (hf.anyHalf(cols, out)) {
      hf.viaFloat32([cols, out], (v) => win.col2im(v[0], p, v[1]));
      return;
    }
    win.col2im(cols, p, out);
  }

  maxPool2d(x: View, p: Window2d, values: View, indices: View): void {
    if (hf.anyHalf(x, values)) {
      hf.viaFloat32([x, values, indices], (v) => win.maxPool2d(v[0], p, v[1], v[2]), 1);
      return;
    }
    win.maxPool2d(x, p, values, indices);
  }

  maxPool2dBackward(grad: View, indices: View, p: Window2d, out: View): void {
    if (hf.anyHalf(grad, out)) {
      hf.viaFloat32([grad, indices, out], (v) => win.maxPool2dBackward(v[0], v[1], p, v[2]));
      return;
    }
    win.maxPool2dBackward(grad, indices, p, out);
  }
}

/** The CPU backend instance. */
export const cpu = new CpuBackend();
