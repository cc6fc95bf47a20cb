import type { DType, TypedArray } from "./dtype";
import { DeviceError } from "./errors";

/**
 * The backend protocol. A backend owns storage on one device and runs a small, complete set of
 * primitives over strided views; the core (`@cinder/tensor`) builds every public op from them.
 * Optional members are fast paths: the core falls back to compositions of primitives without them.
 *
 * Conventions every kernel follows:
 * - A `View` is a window on a storage: element `[i0, i1, ...]` lives at `offset + sum(ik * strides[k])`
 *   (in elements, not bytes). Strides may be 0 (broadcast) or describe any permutation; kernels must
 *   accept any strided input. Outputs are views too; unless a kernel says otherwise the core hands
 *   freshly allocated contiguous outputs, but in-place ops pass a strided `out` that may alias an input
 *   elementwise (same element read then written).
 * - Elementwise kernels receive inputs already broadcast to `out.shape` (the core expands strides).
 * - Binary arithmetic receives `a` and `b` of one dtype (the promoted compute dtype) and writes `out` of
 *   that dtype, except comparisons and logical ops, which write `bool`. Unary math ops on floats keep
 *   the dtype; the core casts integer inputs to float first where PyTorch would.
 * - Integer arithmetic wraps at 32 bits. Floats follow IEEE semantics (NaN, ±inf, -0), `round` is
 *   half-to-even, `remainder` takes the sign of the divisor, `fmod` the sign of the dividend.
 * - Index tensors are int32 views.
 */
export interface Backend {
  /**
   * Version of this protocol the backend implements: 1, or 2 for a backend that also runs fused elementwise
   * programs (`elementwise`). The core fuses chains of elementwise ops only on version 2 backends; version 1
   * backends get every op one primitive call at a time, as before.
   */
  readonly specificationVersion: 1 | 2;
  /** Device type this backend registers, e.g. "cpu" or "webgpu". */
  readonly device: string;
  /**
   * Storage handles are ordinary JS memory reclaimed by the garbage collector (CPU TypedArrays): the core keeps no
   * reference to handles for finalisation, and calls `free` only for a handle nobody else can read any more (not
   * wrapped user memory, not read by a pending program), which the backend may recycle.
   */
  readonly gcManaged?: boolean;
  /**
   * The dtypes this backend can store; absent means `BASE_DTYPES` (no int8 or int16). The core refuses any other
   * dtype with a clear error before `alloc`. WebGPU has no float64 (WGSL has no 64-bit floats);
   * pass this list to `conformanceCases({ dtypes })`.
   */
  readonly dtypes?: readonly DType[];
  /**
   * Device memory statistics beyond the core's own counts (`memory()`), e.g. buffers alive and bytes held by a
   * pooling allocator; numbers only, names chosen by the backend. WebGPU reports its buffer pool here.
   */
  memory?(): Record<string, number>;

  // ---- storage ----
  /**
   * Allocate storage for `length` elements of `dtype`, zero-filled. With `zero` false the caller writes every
   * element before anything reads one, so a recycled buffer need not be cleared (a backend may ignore it).
   */
  alloc(dtype: DType, length: number, zero?: boolean): unknown;
  /**
   * Release storage. Called at most once per handle, when no tensor references it and no pending fused program
   * reads it any more (on a `gcManaged` backend never for wrapped user memory, see there).
   */
  free(handle: unknown): void;
  /** Copy `data` (same dtype as the storage) into storage starting at element `offset`. */
  write(handle: unknown, dtype: DType, data: TypedArray, offset: number): void;
  /** Read a view's elements in row-major logical order into a new array of the view's dtype. */
  read(view: View): Promise<TypedArray>;
  /** Synchronous read, for backends that can (CPU). */
  readSync?(view: View): TypedArray;
  /** Wrap an existing array as storage without copying (CPU: `fromTypedArray`). */
  wrap?(data: TypedArray): unknown;
  /** Settle all queued work (WebGPU flushes its command encoder). */
  sync?(): Promise<void>;

  // ---- primitives ----
  /** Strided copy `out <- x` with conversion to `out.dtype` (float to int truncates toward zero; to bool is `!= 0`). */
  copy(x: View, out: View): void;
  /** Set every element of `out` to `value` (converted to `out.dtype`). */
  fill(out: View, value: number): void;
  /**
   * Elementwise `out = op(x)` for one of `UNARY_OPS`; `x` and `out` share a dtype except for the bool-valued
   * ops (`logicalNot`, `isnan`, `isinf`).
   */
  unary(op: UnaryOp, x: View, out: View): void;
  /**
   * Elementwise `out = a op b` for one of `BINARY_OPS`; `a` and `b` share the compute dtype, `out` is that
   * dtype or bool for comparisons and logical ops.
   */
  binary(op: BinaryOp, a: View, b: View, out: View): void;
  /** out = cond ? a : b. cond is bool; a, b and out share a dtype. */
  where(cond: View, a: View, b: View, out: View): void;
  /**
   * Reduce `x` over `axes` (sorted, unique). `out` has `x`'s rank with those axes of size 1.
   * sum and prod of bool/uint8 write int32 (the core allocates `out` with the right dtype); max and min of an
   * empty axis are never requested.
   */
  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void;
  /** Index (int32) of the first max/min along `axis`; `out` has `x`'s rank with `axis` of size 1. NaN wins. */
  argReduce(op: ArgReduceOp, x: View, axis: number, out: View): void;
  /** Inclusive scan along `axis`; `out` has `x`'s shape. */
  scan(op: ScanOp, x: View, axis: number, out: View): void;
  /**
   * Batched matrix product: a [B, M, K] @ b [B, K, N] -> out [B, M, N]. Any strides (transposed operands and
   * broadcast batches, stride 0, arrive without copies). Float dtypes and int32.
   */
  matmul(a: View, b: View, out: View): void;
  /** torch.gather: out[i][j][k] = x[i][index[i][j][k]][k] for axis 1 (and likewise for any axis). */
  gather(x: View, axis: number, index: View, out: View): void;
  /**
   * torch.scatter_ / scatter_add_ in place on `out`: out[i][index[i][j][k]][k] (op)= src[i][j][k] for axis 1.
   * With "set" and duplicate indices the last write wins on CPU; any one wins elsewhere.
   */
  scatter(mode: "set" | "add", out: View, axis: number, index: View, src: View): void;
  /** Stable sort along `axis`; writes sorted values and int32 source positions. NaN sorts as largest. */
  sort(x: View, axis: number, descending: boolean, values: View, indices: View): void;
  /**
   * Fill `out` (contiguous, float) with counter-based random numbers: element i (row-major) is
   * `randomUniform(key, counter + i)` or `randomNormal(key, counter + i)` from `@cinder/tensor`, so every backend
   * produces the same stream.
   */
  random(dist: RandomDist, key: number, counter: number, out: View): void;

  /**
   * Protocol version 2: run one fused elementwise program, `out = expr(inputs...)`. The inputs arrive broadcast to
   * `out.shape` (any strides, stride 0 included); `expr` is a tree of this protocol's own elementwise primitives
   * (see `Expr`), each node meaning exactly what the primitive call would compute, including the rounding of its
   * result to the node's dtype, so a fused program gives the bits the unfused calls give. `out` is freshly
   * allocated and contiguous and never aliases an input.
   *
   * With `reduce`, the program's values are reduced instead of stored, exactly as `reduce(op, values, axes, out)`
   * would reduce a tensor holding them: the inputs are broadcast to `reduce.shape`, and `out` has that rank with the
   * reduced axes of size 1 (and the dtype `reduce` would be given: sum and prod of bool/uint8 values write int32).
   */
  elementwise?(expr: Expr, inputs: readonly View[], out: View, reduce?: FusedReduce): void;

  // ---- optional fast paths ----
  /** out = a + alpha * b in one pass, float dtypes, a and b broadcast to out's shape (out may alias a). */
  addScaled?(a: View, b: View, alpha: number, out: View): void;
  /** Softmax or log-softmax along the last axis of a contiguous float view. */
  softmax?(x: View, log: boolean, out: View): void;
  /**
   * im2col as rows: x [N, C, H, W] to out [N, oH * oW, C * kH * kW] with out[n, oy * oW + ox, (c * kH + i) * kW + j]
   * = x[n, c, oy * sH - pH + i * dH, ox * sW - pW + j * dW], zero outside the input. Contiguous float views
   * (float32, and float64 where the backend stores it); the core falls back to strided copies without it.
   */
  im2col?(x: View, p: Window2d, out: View): void;
  /**
   * col2im, the adjoint of `im2col`: writes (overwrites) out [N, C, H, W] with the sum of every row entry of cols
   * [N, oH * oW, C * kH * kW] that reads that position. Contiguous float views.
   */
  col2im?(cols: View, p: Window2d, out: View): void;
  /**
   * 2-D max pooling over x [N, C, H, W]: values [N, C, oH, oW] and int32 indices (flat positions y * W + x into
   * each input plane, PyTorch's convention) of each window's first maximum; NaN wins; taps in the padding are
   * skipped. Contiguous float views.
   */
  maxPool2d?(x: View, p: Window2d, values: View, indices: View): void;
  /**
   * The max pooling backward: writes (overwrites) out [N, C, H, W] with, at each position, the sum of the grad
   * [N, C, oH, oW] entries whose index (as `maxPool2d` writes it) points there. Contiguous float views.
   */
  maxPool2dBackward?(grad: View, indices: View, p: Window2d, out: View): void;
  /**
   * One Adam/AdamW step (PyTorch 1.13's `_single_tensor_adam` / `_single_tensor_adamw`) in one pass, in place on
   * `p`, `expAvg`, `expAvgSq` and, for AMSGrad, `maxExpAvgSq`. All views are contiguous, of one float dtype and
   * one shape; `grad` is only read. Per element, with `g = maximize ? -grad : grad`:
   * decoupled: `p *= 1 - lr * weightDecay`, else `g += weightDecay * p`; `m = beta1 * m + (1 - beta1) * g`;
   * `v = beta2 * v + (1 - beta2) * g * g`; AMSGrad: `vmax = max(vmax, v)`, used for `v` below;
   * `p -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)` (`step` counts from 1; the bias
   * corrections are computed on the host). A backend may decline (return false) and the optimizer composes it.
   */
  adamStep?(
    p: View,
    grad: View,
    expAvg: View,
    expAvgSq: View,
    maxExpAvgSq: View | null,
    o: AdamStepOptions,
  ): boolean;
  /**
   * One SGD step (PyTorch 1.13's `_single_tensor_sgd`) in one pass, in place on `p` and `momentumBuffer`
   * (null when `momentum` is 0). Views contiguous, one float dtype and shape. With `d = maximize ? -grad : grad`,
   * `d += weightDecay * p`; with momentum, `buf = first ? d : momentum * buf + (1 - dampening) * d` and
   * `d = nesterov ? d + momentum * buf : buf`; then `p -= lr * d`. Returns false to decline.
   */
  sgdStep?(p: View, grad: View, momentumBuffer: View | null, o: SgdStepOptions): boolean;
}

/** Scalar options of `Backend.adamStep`. */
export interface AdamStepOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: weight decay scales `p` instead of adding to the gradient. */
  decoupled: boolean;
  maximize: boolean;
  /** The step number after this update (1 at the first step). */
  step: number;
}

/** Scalar options of `Backend.sgdStep`. */
export interface SgdStepOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
  /** The momentum buffer is uninitialised: set it to the (decayed) gradient, as PyTorch clones it. */
  first: boolean;
}

/**
 * A regular 2-D window grid (`im2col`, `col2im`, `maxPool2d`): window (oy, ox) tap (i, j) reads input
 * (oy * stride[0] - padding[0] + i * dilation[0], ox * stride[1] - padding[1] + j * dilation[1]). `output`
 * is [oH, oW] (given, as ceil-mode pooling makes it more than the floor formula).
 */
export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly output: readonly [number, number];
}

/**
 * A strided window on a backend's storage: element `[i0, i1, ...]` is at `offset + sum(ik * strides[k])` of
 * `handle`, in elements.
 */
export interface View {
  readonly handle: unknown;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** The unary elementwise primitives every backend implements (`Backend.unary`). */
export const UNARY_OPS = [
  "neg",
  "abs",
  "sqrt",
  "rsqrt",
  "exp",
  "expm1",
  "log",
  "log1p",
  "log2",
  "sin",
  "cos",
  "tan",
  "tanh",
  "sigmoid",
  "relu",
  "floor",
  "ceil",
  "round",
  "trunc",
  "sign",
  "reciprocal",
  "square",
  "erf",
  "asin",
  "acos",
  "atan",
  "sinh",
  "cosh",
  "asinh",
  "acosh",
  "atanh",
  "exp2",
  "log10",
  "erfinv",
  "bitwiseNot",
  "logicalNot",
  "isnan",
  "isinf",
] as const;
/** One of `UNARY_OPS`. */
export type UnaryOp = (typeof UNARY_OPS)[number];

/**
 * The binary elementwise primitives every backend implements (`Backend.binary`): arithmetic, comparisons
 * (bool results), logical ops and bitwise ops (integer and bool operands only; shift counts taken modulo 32).
 */
export const BINARY_OPS = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
  "remainder",
  "fmod",
  "floorDivide",
  "atan2",
  "hypot",
  "copysign",
  "bitwiseAnd",
  "bitwiseOr",
  "bitwiseXor",
  "bitwiseLeftShift",
  "bitwiseRightShift",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  "logicalAnd",
  "logicalOr",
  "logicalXor",
] as const;
/** One of `BINARY_OPS`. */
export type BinaryOp = (typeof BINARY_OPS)[number];

/**
 * A fused elementwise program (protocol version 2): a tree whose leaves are inputs (by index into the `inputs` of
 * `elementwise`) and constants, and whose nodes are the protocol's elementwise primitives. Every node has the dtype
 * of its result; a node computes what the primitive would with operands of its children's dtypes and rounds to its
 * own dtype (a store of that dtype), so a tree computes exactly what the chain of primitive calls would.
 * - `unary`/`binary`: `unary(fn, ...)` / `binary(fn, ...)`; binary operands share a dtype, and the node's dtype is
 *   that one, or bool for comparisons and logical ops (as the primitives' `out`).
 * - `where`: `cond` is bool, `a`, `b` and the node share a dtype.
 * - `cast`: `copy`'s conversion of `x` to the node's dtype.
 * - `const`: a number already representable in its dtype.
 */
export type Expr =
  | { readonly op: "input"; readonly index: number; readonly dtype: DType }
  | { readonly op: "const"; readonly value: number; readonly dtype: DType }
  | { readonly op: "unary"; readonly fn: UnaryOp; readonly x: Expr; readonly dtype: DType }
  | {
      readonly op: "binary";
      readonly fn: BinaryOp;
      readonly a: Expr;
      readonly b: Expr;
      readonly dtype: DType;
    }
  | { readonly op: "where"; readonly cond: Expr; readonly a: Expr; readonly b: Expr; readonly dtype: DType }
  | { readonly op: "cast"; readonly x: Expr; readonly dtype: DType };

/** The reduction at the end of a fused program (`Backend.elementwise`). */
export interface FusedReduce {
  readonly op: ReduceOp;
  /** Reduced axes, sorted and unique. */
  readonly axes: readonly number[];
  /** The shape of the program's values (the inputs' shape). */
  readonly shape: readonly number[];
}

/** Reductions of `Backend.reduce` and fused programs. */
export type ReduceOp = "sum" | "prod" | "max" | "min";
/** Index reductions of `Backend.argReduce`. */
export type ArgReduceOp = "argmax" | "argmin";
/** Inclusive scans of `Backend.scan`. */
export type ScanOp = "cumsum" | "cumprod";
/** Distributions of `Backend.random`: uniform in [0, 1) or standard normal. */
export type RandomDist = "uniform" | "normal";

// ---- the device registry ----

const registry = new Map<string, Backend>();

/** Make a backend available as a device. Registering a device twice replaces the earlier backend. */
export function registerBackend(backend: Backend): void {
  const v = backend.specificationVersion;
  if (v !== 1 && v !== 2) {
    throw new DeviceError(`backend "${backend.device}" implements protocol version ${v}, expected 1 or 2`);
  }
  if (v === 2 && typeof backend.elementwise !== "function") {
    throw new DeviceError(
      `backend "${backend.device}" declares protocol version 2 but has no elementwise(expr, inputs, out) method`,
    );
  }
  registry.set(backend.device, backend);
}

/** Remove the backend registered for `device` (tensors already on it keep their storage). */
export function unregisterBackend(device: string): void {
  registry.delete(device);
}

/** A device string: "cpu", "webgpu", optionally with an index ("webgpu:0"), which is accepted and ignored. */
export type Device = string;

/** The device type of a device string: "webgpu:0" is "webgpu". */
export function deviceType(device: Device): string {
  const i = device.indexOf(":");
  return i < 0 ? device : device.slice(0, i);
}

/**
 * The backend registered for a device; throws a `DeviceError` naming the registered devices (and what to
 * call) when there is none.
 */
export function getBackend(device: Device): Backend {
  const b = registry.get(deviceType(device));
  if (b) return b;
  const known = [...registry.keys()];
  const hint =
    deviceType(device) === "cpu"
      ? ' Import "cinder", or call registerBackend(cpu) with cpu from "@cinder/backend-cpu".'
      : deviceType(device) === "webgpu"
        ? ' Call `await initWebGPU()` from "@cinder/backend-webgpu" first.'
        : "";
  throw new DeviceError(
    `unknown device "${device}": registered devices are ${known.length ? known.join(", ") : "none"}.${hint}`,
  );
}

/** The device types with a registered backend, e.g. ["cpu", "webgpu"]. */
export function registeredDevices(): string[] {
  return [...registry.keys()];
}
