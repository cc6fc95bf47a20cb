/**
 * The WebGPU backend: the protocol's storage members and primitives, each forwarding to its kernel family.
 * Storage handles are `GpuStorage` (one 32-bit word per element, see codegen.ts).
 */
import type {
  AdamStepOptions,
  ArgReduceOp,
  Backend,
  BinaryOp,
  DType,
  Expr,
  FusedReduce,
  RandomDist,
  ReduceOp,
  ScanOp,
  SgdStepOptions,
  TypedArray,
  UnaryOp,
  View,
  Window2d,
} from "@cinder/tensor";
import { allocTypedArray } from "@cinder/tensor";
import type { GpuStorage, PoolStats } from "./buffers";
import { contiguousStrides, isContiguous, numel } from "./codegen";
import type { AdapterInfo } from "./device";
import { addScaled, binary, copy, fill, runProgram, unary, where } from "./elementwise";
import { checkDType, fromWords, toWords } from "./host";
import { gather, scatter, sort } from "./indexing";
import { matmul } from "./matmul";
import { adamStep, sgdStep } from "./optim";
import { random } from "./random";
import { argReduce, scan, softmax } from "./reduce";
import { reduce, reduceProgram } from "./reduce-program";
import type { Runtime } from "./runtime";
import { withinBindings } from "./split";
import * as win from "./windows";

/**
 * GPU memory statistics returned by `webgpuMemory()`: the buffer pool's counts and bytes plus pipelines,
 * dispatches and submits so far.
 */
export type WebGPUMemoryInfo = PoolStats & {
  /** Compute pipelines compiled so far. */
  pipelines: number;
  /** Dispatches recorded and command buffers submitted so far. */
  dispatches: number;
  /** Fused elementwise programs run so far (protocol version 2 `elementwise` calls, with a reduction or not). */
  programs: number;
  submits: number;
  /** Reads that found the live bytes past the memory budget and gave finalisers a chance first (budget.ts). */
  reclaims: number;
};

/**
 * The `"webgpu"` device: a protocol version 2 backend running WGSL kernels on one GPU device; fused elementwise
 * programs are rendered to WGSL by render.ts. Create it with `initWebGPU()`, which also registers it.
 */
export class WebGPUBackend implements Backend {
  readonly specificationVersion = 2 as const;
  readonly device = "webgpu";
  /**
   * float64 has no WGSL type; these are stored as 32-bit words (int8/int16 sign-extended, wrapped after every op).
   */
  readonly dtypes: readonly DType[] = ["float32", "int32", "uint8", "bool", "int8", "int16"];

  constructor(
    readonly runtime: Runtime,
    readonly adapter: AdapterInfo,
  ) {}

  // ---- storage ----

  alloc(dtype: DType, length: number): GpuStorage {
    checkDType(dtype, "alloc");
    return this.runtime.alloc(dtype, length);
  }

  free(handle: unknown): void {
    this.runtime.free(handle as GpuStorage);
  }

  write(handle: unknown, dtype: DType, data: TypedArray, offset: number): void {
    checkDType(dtype, "write");
    const s = handle as GpuStorage;
    if (offset < 0 || offset + data.length > s.length) {
      throw new RangeError(
        `write: ${data.length} elements at offset ${offset} exceed a storage of ${s.length}`,
      );
    }
    this.runtime.write(s, toWords(dtype, data), offset, data.length);
  }

  async read(view: View): Promise<TypedArray> {
    checkDType(view.dtype, "read");
    const n = numel(view.shape);
    if (n === 0) return allocTypedArray(view.dtype, 0);
    const s = view.handle as GpuStorage;
    if (isContiguous(view)) return fromWords(view.dtype, await this.runtime.readWords(s, view.offset, n), n);
    // strided: gather into a contiguous temporary first
    const tmp = this.runtime.alloc(view.dtype, n);
    try {
      copy(this.runtime, view, {
        handle: tmp,
        dtype: view.dtype,
        shape: view.shape,
        strides: contiguousStrides(view.shape),
        offset: 0,
      });
      return fromWords(view.dtype, await this.runtime.readWords(tmp, 0, n), n);
    } finally {
      this.runtime.free(tmp);
    }
  }

  sync(): Promise<void> {
    return this.runtime.sync();
  }

  // ---- primitives ----

  copy(x: View, out: View): void {
    copy(this.runtime, x, out);
  }
  fill(out: View, value: number): void {
    fill(this.runtime, out, value);
  }
  unary(op: UnaryOp, x: View, out: View): void {
    unary(this.runtime, op, x, out);
  }
  addScaled(a: View, b: View, alpha: number, out: View): void {
    addScaled(this.runtime, a, b, alpha, out);
  }
  binary(op: BinaryOp, a: View, b: View, out: View): void {
    binary(this.runtime, op, a, b, out);
  }
  where(cond: View, a: View, b: View, out: View): void {
    where(this.runtime, cond, a, b, out);
  }
  elementwise(expr: Expr, inputs: readonly View[], out: View, reduce?: FusedReduce): void {
    const rt = this.runtime;
    rt.counters.programs++;
    const shape = reduce === undefined ? out.shape : reduce.shape;
    // the output takes one of the dispatch's storage bindings; a reduction's output is never an input's buffer
    const max = rt.device.limits.maxStorageBuffersPerShaderStage - 1;
    const w = withinBindings(rt, expr, inputs, shape, reduce === undefined ? out.handle : null, max);
    if (reduce === undefined) runProgram(rt, w.expr, w.inputs, out);
    else {
      // the schedule of the reduction of the values stored contiguously: the unfused ops' order of additions
      const layout = contiguousStrides(reduce.shape);
      reduceProgram(rt, reduce.op, w.expr, w.inputs, reduce.shape, reduce.axes, out, layout);
    }
    for (const t of w.temps) rt.free(t);
  }
  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
    reduce(this.runtime, op, x, axes, out);
  }
  argReduce(op: ArgReduceOp, x: View, axis: number, out: View): void {
    argReduce(this.runtime, op, x, axis, out);
  }
  scan(op: ScanOp, x: View, axis: number, out: View): void {
    scan(this.runtime, op, x, axis, out);
  }
  matmul(a: View, b: View, out: View): void {
    matmul(this.runtime, a, b, out);
  }
  gather(x: View, axis: number, index: View, out: View): void {
    gather(this.runtime, x, axis, index, out);
  }
  scatter(mode: "set" | "add", out: View, axis: number, index: View, src: View): void {
    scatter(this.runtime, mode, out, axis, index, src);
  }
  sort(x: View, axis: number, descending: boolean, values: View, indices: View): void {
    sort(this.runtime, x, axis, descending, values, indices);
  }
  random(dist: RandomDist, key: number, counter: number, out: View): void {
    random(this.runtime, dist, key, counter, out);
  }
  softmax(x: View, log: boolean, out: View): void {
    softmax(this.runtime, x, log, out);
  }
  im2col(x: View, p: Window2d, out: View): void {
    win.im2col(this.runtime, x, p, out);
  }
  col2im(cols: View, p: Window2d, out: View): void {
    win.col2im(this.runtime, cols, p, out);
  }
  maxPool2d(x: View, p: Window2d, values: View, indices: View): void {
    win.maxPool2d(this.runtime, x, p, values, indices);
  }
  maxPool2dBackward(grad: View, indices: View, p: Window2d, out: View): void {
    win.maxPool2dBackward(this.runtime, grad, indices, p, out);
  }
  adamStep(
    p: View,
    grad: View,
    expAvg: View,
    expAvgSq: View,
    maxExpAvgSq: View | null,
    o: AdamStepOptions,
  ): boolean {
    return adamStep(this.runtime, p, grad, expAvg, expAvgSq, maxExpAvgSq, o);
  }
  sgdStep(p: View, grad: View, momentumBuffer: View | null, o: SgdStepOptions): boolean {
    return sgdStep(this.runtime, p, grad, momentumBuffer, o);
  }

  // ---- memory ----

  /** Pool and device statistics (see `webgpuMemory()`). */
  memory(): WebGPUMemoryInfo {
    const rt = this.runtime;
    return {
      ...rt.pool.stats(),
      pipelines: rt.pipelineCount,
      dispatches: rt.counters.dispatches,
      programs: rt.counters.programs,
      submits: rt.counters.submits,
      reclaims: rt.budget.reclaims,
    };
  }

  /** Destroy pooled (free) buffers, returning their memory to the driver. */
  emptyCache(): void {
    this.runtime.flush();
    this.runtime.pool.trim();
  }
}
