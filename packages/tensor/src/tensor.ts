import type { Backend, Device, View } from "./backend";
import { getBackend } from "./backend";
import type { DType, TypedArray } from "./dtype";
import { allocationFailed, allocTypedArray, checkAllocation, checkDType, isFloat } from "./dtype";
import { DeviceError, fmtShape, ShapeError } from "./errors";
import { autogradHooks } from "./grad";
import { releaseTensor, trackTensor } from "./memory";
import type { TensorMethods } from "./methods";
import { castOp } from "./ops/cast";
import { formatTensor } from "./print";
import { contiguousStrides, isContiguous, numel } from "./shape";
import { Storage } from "./storage";

/** A node of the autograd graph (implemented by `@cinder/autograd`). */
export interface GradFn {
  readonly name: string;
  /** (node, input index) pairs this node passes gradients to, like PyTorch's `next_functions`. */
  readonly nextFunctions: readonly (readonly [GradFn | null, number])[];
}

export type NestedArray<T> = T | NestedArray<T>[];

export interface Tensor extends TensorMethods {}

/**
 * An n-dimensional array on a device: a view (shape, strides, offset) over a shared storage. Views share
 * storage: writes through one are seen by all. Ops are methods (`a.add(b)`) and functions (`add(a, b)`).
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see above
export class Tensor {
  /** Set by `requiresGrad_()` or `{ requiresGrad: true }` at creation; ops on it are recorded by autograd. */
  requiresGrad = false;
  /** Accumulated gradient, filled by `backward()`. */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor, or null for leaves. */
  gradFn: GradFn | null = null;
  /** Set by `retainGrad()`: keep the gradient of a non-leaf in `grad`. */
  retainsGrad = false;

  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;

  constructor(storage: Storage, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = shape;
    this.strides = strides ?? contiguousStrides(shape);
    this.offset = offset;
    trackTensor(this);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): Device {
    return this.storage.backend.device;
  }
  get backend(): Backend {
    return this.storage.backend;
  }
  get ndim(): number {
    return this.shape.length;
  }
  dim(): number {
    return this.shape.length;
  }
  numel(): number {
    return numel(this.shape);
  }
  /** `size()` is the shape; `size(d)` one dimension (negative counts from the end). */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    if (dim === undefined) return this.shape;
    const d = dim < 0 ? dim + this.ndim : dim;
    if (d < 0 || d >= this.ndim) {
      throw new ShapeError(
        `size(${dim}): dimension out of range for a tensor of shape ${fmtShape(this.shape)}`,
      );
    }
    return this.shape[d];
  }
  stride(): readonly number[] {
    return this.strides;
  }
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  /** The kernel-level view of this tensor. */
  get view_(): View {
    return {
      handle: this.storage.handle,
      dtype: this.dtype,
      shape: this.shape,
      strides: this.strides,
      offset: this.offset,
    };
  }
  /** Increment the version counter after an in-place write. */
  bumpVersion(): void {
    this.storage.version++;
  }
  get version(): number {
    return this.storage.version;
  }

  // ---- reading out ----

  /** The elements in row-major order as a fresh TypedArray (synchronous; CPU and other sync-readable devices). */
  data(): TypedArray {
    const b = this.backend;
    if (!b.readSync) {
      throw new DeviceError(
        `cannot read a ${this.device} tensor synchronously: use \`await t.dataAsync()\` (or itemAsync/toArrayAsync), or move it with \`await t.toAsync("cpu")\``,
      );
    }
    this.checkAlive();
    return b.readSync(this.view_);
  }
  async dataAsync(): Promise<TypedArray> {
    this.checkAlive();
    return this.backend.read(this.view_);
  }
  /** The single element as a JS number (booleans as true/false). */
  item(): number | boolean {
    this.checkItem();
    return this.scalarOf(this.data());
  }
  async itemAsync(): Promise<number | boolean> {
    this.checkItem();
    return this.scalarOf(await this.dataAsync());
  }
  /** Nested JS arrays (a number for 0-dim tensors), like `tensor.tolist()`. */
  toArray(): NestedArray<number | boolean> {
    return nest(this.data(), this.shape, this.dtype === "bool");
  }
  async toArrayAsync(): Promise<NestedArray<number | boolean>> {
    return nest(await this.dataAsync(), this.shape, this.dtype === "bool");
  }
  /** The same as `toArray()`: PyTorch's name. */
  tolist(): NestedArray<number | boolean> {
    return this.toArray();
  }

  private checkItem(): void {
    if (this.numel() !== 1) {
      throw new ShapeError(
        `a Tensor with ${this.numel()} elements cannot be converted to a scalar: item() needs exactly one element, got shape ${fmtShape(this.shape)}`,
      );
    }
  }
  private scalarOf(d: TypedArray): number | boolean {
    return this.dtype === "bool" ? d[0] !== 0 : d[0];
  }
  private checkAlive(): void {
    if (this.storage.freed) throw new Error(`this tensor (shape ${fmtShape(this.shape)}) was disposed`);
  }

  // ---- devices and dtypes ----

  /**
   * `to(device)`, `to(dtype)` or `to({ device, dtype })`. Returns `this` when nothing changes. Moving off a device
   * that can only be read asynchronously (WebGPU to CPU) needs `await t.toAsync("cpu")`.
   */
  to(target: Device | DType | { device?: Device; dtype?: DType; copy?: boolean }): Tensor {
    const { device, dtype, copy } = parseTo(target);
    let t: Tensor = this;
    if (dtype && dtype !== t.dtype) t = t.type(dtype);
    if (device && getBackend(device) !== t.backend) {
      const src = t.backend;
      if (!src.readSync) {
        throw new DeviceError(
          `cannot move a ${t.device} tensor to ${device} synchronously: use \`await t.toAsync("${device}")\``,
        );
      }
      t = moveData(t, src.readSync(t.view_), device);
    } else if (copy && t === this) t = t.clone();
    return t;
  }
  async toAsync(
    target: Device | DType | { device?: Device; dtype?: DType; copy?: boolean },
  ): Promise<Tensor> {
    const { device, dtype, copy } = parseTo(target);
    let t: Tensor = this;
    if (dtype && dtype !== t.dtype) t = t.type(dtype);
    if (device && getBackend(device) !== t.backend) t = moveData(t, await t.backend.read(t.view_), device);
    else if (copy && t === this) t = t.clone();
    return t;
  }
  cpu(): Tensor {
    return this.to("cpu");
  }
  float(): Tensor {
    return this.type("float32");
  }
  double(): Tensor {
    return this.type("float64");
  }
  int(): Tensor {
    return this.type("int32");
  }
  /** PyTorch's `long()`: Cinder has no int64, so this is int32. */
  long(): Tensor {
    return this.type("int32");
  }
  byte(): Tensor {
    return this.type("uint8");
  }
  bool(): Tensor {
    return this.type("bool");
  }
  /** `type()` names the dtype like PyTorch ("torch.FloatTensor"); `type(dtype)` converts (a copy unless equal). */
  type(): string;
  type(dtype: DType): Tensor;
  type(dtype?: DType): string | Tensor {
    if (dtype === undefined) return LEGACY_NAMES[this.dtype];
    return castOp(this, checkDType(dtype));
  }
  isFloatingPoint(): boolean {
    return isFloat(this.dtype);
  }

  // ---- autograd (implemented by @cinder/autograd) ----

  /** Set `requiresGrad` in place (leaves only, floating point only); returns this. */
  requiresGrad_(on = true): this {
    if (on && !isFloat(this.dtype)) {
      throw new TypeError(`only tensors of floating point dtype can require gradients, got ${this.dtype}`);
    }
    if (!on && !this.isLeaf) {
      throw new Error(
        "you can only change requiresGrad flags of leaf variables (use detach() for non-leaves)",
      );
    }
    this.requiresGrad = on;
    return this;
  }
  /** Compute gradients of this tensor w.r.t. graph leaves; needs `@cinder/autograd` (or "cinder") to be imported. */
  backward(gradient?: Tensor, options?: { retainGraph?: boolean; createGraph?: boolean }): void {
    const h = autogradHooks();
    if (!h) throw new Error('backward() needs the autograd layer: import "@cinder/autograd" (or "cinder")');
    h.backward(this, gradient, options);
  }
  retainGrad(): void {
    if (!this.requiresGrad) throw new Error("can't retainGrad() on a tensor that doesn't require grad");
    this.retainsGrad = true;
    if (!this.isLeaf) autogradHooks()?.retainGrad(this);
  }

  // ---- memory ----

  /** Release this tensor's reference to its storage now (device memory is freed when no view uses it). */
  dispose(): void {
    releaseTensor(this);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  get isDisposed(): boolean {
    return this.storage.freed;
  }

  // ---- printing ----

  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

const LEGACY_NAMES: Record<DType, string> = {
  float32: "torch.FloatTensor",
  float64: "torch.DoubleTensor",
  int32: "torch.IntTensor",
  uint8: "torch.ByteTensor",
  bool: "torch.BoolTensor",
};

function parseTo(target: Device | DType | { device?: Device; dtype?: DType; copy?: boolean }) {
  if (typeof target === "string") {
    if (["float32", "float64", "int32", "uint8", "bool"].includes(target))
      return { dtype: checkDType(target) };
    // a dtype Cinder lacks ("int64", "float16", ...) is an unknown dtype, not an unknown device
    if (/^(u?int|float|bfloat|complex|half|double|long|short)\d*$/.test(target)) {
      return { dtype: checkDType(target) };
    }
    return { device: target };
  }
  return target;
}

function moveData(t: Tensor, data: TypedArray, device: Device): Tensor {
  const b = getBackend(device);
  const handle = allocate(b, t.dtype, data.length, "to()", t.shape);
  b.write(handle, t.dtype, data, 0);
  const out = new Tensor(new Storage(b, t.dtype, data.length, handle), t.shape);
  if (t.requiresGrad) out.requiresGrad = t.requiresGrad; // autograd rewires this through its "to" record
  return out;
}

function nest(d: TypedArray, shape: readonly number[], bool: boolean): NestedArray<number | boolean> {
  const conv = (v: number) => (bool ? v !== 0 : v);
  if (shape.length === 0) return conv(d[0]);
  const rec = (dim: number, off: number): NestedArray<number | boolean>[] => {
    const n = shape[dim];
    const out = new Array(n);
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = conv(d[off + i]);
      return out;
    }
    let step = 1;
    for (let k = dim + 1; k < shape.length; k++) step *= shape[k];
    for (let i = 0; i < n; i++) out[i] = rec(dim + 1, off + i * step);
    return out;
  };
  return rec(0, 0);
}

/**
 * A backend allocation of `n` elements, checked first: a size no storage can hold, or one the host refuses, is an
 * `AllocationError` naming `what` (the op), the shape, the element count and the bytes.
 */
function allocate(b: Backend, dtype: DType, n: number, what: string, shape: readonly number[]): unknown {
  checkAllocation(n, dtype, what, shape);
  try {
    return b.alloc(dtype, n);
  } catch (e) {
    throw allocationFailed(n, dtype, what, shape, e);
  }
}

/** Allocate an uninitialised (zero-filled) contiguous tensor; `what` names the op in allocation errors. */
export function emptyTensor(
  shape: readonly number[],
  dtype: DType,
  device: Device | Backend,
  what = "",
): Tensor {
  const b = typeof device === "string" ? getBackend(device) : device;
  const n = numel(shape);
  return new Tensor(new Storage(b, dtype, n, allocate(b, dtype, n, what, shape)), shape);
}

/** A contiguous tensor holding a copy of `data` (length must equal the shape's element count). */
export function tensorFromData(
  data: TypedArray,
  shape: readonly number[],
  dtype: DType,
  device: Device,
  what = "",
): Tensor {
  const b = getBackend(device);
  const handle = allocate(b, dtype, data.length, what, shape);
  b.write(handle, dtype, data, 0);
  return new Tensor(new Storage(b, dtype, data.length, handle), shape);
}

export { allocTypedArray };
