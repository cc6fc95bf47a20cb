import type { Cohort } from "./accounting";
import type { Backend, Device, View } from "./backend";
import { getBackend } from "./backend";
import type { Complex } from "./complex-value";
import type { DType, TypedArray } from "./dtype";
import {
  allocationFailed,
  allocTypedArray,
  backendDTypes,
  checkAllocation,
  checkDType,
  DTYPES,
  defaultIntDtype,
  isComplex,
  isFloat,
  LEGACY_NAMES,
  type LegacyTypeName,
} from "./dtype";
import { DeviceError, DTypeError, fmtShape, ShapeError } from "./errors";
import { autogradHooks } from "./grad";
import { encodeHalf, isHalf, valuesOf } from "./half";
import { releaseTensor, trackTensor } from "./memory";
import { methodSignature, type TensorMethods } from "./methods";
import { opTracer } from "./op-tracer";
import { castOp } from "./ops/cast";
import { imagPart, realPart } from "./ops/complex";
import { formatTensor } from "./print";
import { broadcastStrides, contiguousStrides, isContiguous, numel, sameShape } from "./shape";
import { setTensorClass } from "./signature";
import { Storage } from "./storage";
import { elementsOf, int64ToInt32, int64Values, nest, realToPairs } from "./tensor-data";

/** A node of the autograd graph (implemented by `@cinder/autograd`). */
export interface GradFn {
  readonly name: string;
  /** (node, input index) pairs this node passes gradients to, like PyTorch's `next_functions`. */
  readonly nextFunctions: readonly (readonly [GradFn | null, number])[];
}

/** Nested JS arrays of elements, as `toArray()` returns and `tensor()` takes. */
export type NestedArray<T> = T | NestedArray<T>[];

export interface Tensor extends TensorMethods {}

/**
 * A tensor's shape (`x.shape`, `x.size()`): an ordinary array of ints (read-only in its type, as shapes are never
 * mutated) that prints as PyTorch's `torch.Size([2, 3])`.
 * Array methods that make new arrays (`map`, `slice`, spread) return plain arrays.
 */
export class Size extends (Array as unknown as new () => ReadonlyArray<number>) {
  override toString(): string {
    return `torch.Size([${this.join(", ")}])`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
// Arrays made from a Size (map, slice, filter, concat) are plain arrays: their species constructor is Array. Set as
// the prototype's `constructor`, not as a static Symbol.species getter, which disables V8's fast paths for every
// array of the program.
Object.defineProperty(Size.prototype, "constructor", { value: Array, writable: true, configurable: true });

/** The shape of every 0-dim tensor (shapes are never mutated, so one instance serves all). */
const SCALAR_SIZE: Size = Object.setPrototypeOf([], Size.prototype);

/**
 * The shape as a `Size`, shared when it already is one (shapes are never mutated): ops pass an operand's shape
 * for a result of the same shape, so most results make no new shape object.
 */
function toSize(shape: readonly number[]): Size {
  if (shape instanceof Size) return shape;
  if (shape.length === 0) return SCALAR_SIZE;
  // a copy (a shape handed in may be the caller's array) given Size's prototype: several times cheaper than
  // constructing an Array subclass instance (~0.4 us), and its elements stay packed
  const s = shape.slice();
  Object.setPrototypeOf(s, Size.prototype);
  return s as Size;
}

/**
 * The storage of a disposed tensor: every use of it (a kernel reading its handle, its dtype, device or version)
 * throws, so a tensor used after `dispose()` fails clearly at no cost to live tensors.
 */
const disposedError = (): never => {
  throw new Error(
    "this tensor was disposed (by dispose(), `using`, or the end of the tidy() scope that created it) and can't be used any more; keep() it, return it from tidy(), or clone() it before disposing",
  );
};
const DISPOSED: Storage = Object.create(Storage.prototype, {
  backend: { get: disposedError },
  dtype: { get: disposedError },
  length: { get: disposedError },
  handle: { get: disposedError },
  account: { get: disposedError },
  pending: { get: disposedError },
  captured: { get: disposedError, set: disposedError },
  external: { get: disposedError },
  beforeWrite: { value: disposedError },
  version: { get: disposedError, set: disposedError },
  freed: { value: true },
});

/** `size(dim)`: the dim, or undefined for `size()`; anything else is an error naming the forms. */
function sizeArgs(x: Tensor, args: readonly unknown[]): number | undefined {
  if (args.length === 1 && Number.isInteger(args[0])) return args[0] as number;
  const r = methodSignature("size").parse([x, ...args]) as { dim?: number | null };
  return r.dim ?? undefined;
}

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

  /** The shared storage (after `dispose()`, a stand-in that throws on any use). */
  readonly storage: Storage;
  /** The shape (`torch.Size`): an array of ints that prints as `torch.Size([2, 3])`. */
  readonly shape: Size;
  readonly strides: readonly number[];
  readonly offset: number;
  /** What `memory()` counts this tensor in until it is disposed or collected (memory.ts, accounting.ts). */
  private cohort: Cohort | null;

  constructor(storage: Storage, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = toSize(shape);
    this.strides = strides ?? contiguousStrides(shape);
    this.offset = offset;
    this.cohort = trackTensor(this);
  }

  /** The element type, e.g. "float32". */
  get dtype(): DType {
    return this.storage.dtype;
  }
  /** The device the tensor lives on, e.g. "cpu" or "webgpu". */
  get device(): Device {
    return this.storage.backend.device;
  }
  /** The backend that owns the tensor's storage. */
  get backend(): Backend {
    return this.storage.backend;
  }
  /** Number of dimensions (`x.ndim`). */
  get ndim(): number {
    return this.shape.length;
  }
  /** Python's `len(x)`: the size of the first dimension (a 0-dim tensor has none: an error, as in PyTorch). */
  get length(): number {
    if (this.shape.length === 0) throw new TypeError("len() of a 0-d tensor");
    return this.shape[0];
  }
  /**
   * `x.T`: the dimensions reversed (a view; the transpose of a matrix). PyTorch 1.13 deprecates it for
   * ndim != 2 but still reverses all dims; so does Cinder.
   */
  get T(): Tensor {
    return this.permute(this.shape.map((_, i) => this.shape.length - 1 - i));
  }
  /** `x.mT`: the last two dimensions swapped (a batch of matrices transposed); needs ndim >= 2. */
  get mT(): Tensor {
    if (this.shape.length < 2) {
      throw new ShapeError(
        `tensor.mT is only supported on matrices or batches of matrices. Got ${this.shape.length}-D tensor.`,
      );
    }
    return this.transpose(-2, -1);
  }
  /** `x.mH`: the conjugate transpose of the last two dims (`x.mT` for real tensors); needs ndim >= 2. */
  get mH(): Tensor {
    return this.adjoint();
  }
  /** `x.real`: the real parts as a view (complex tensors; a real tensor is its own real part). */
  get real(): Tensor {
    return realPart(this);
  }
  /** `x.imag`: the imaginary parts as a view (complex tensors only, as in PyTorch). */
  get imag(): Tensor {
    return imagPart(this);
  }
  /** Number of dimensions (`x.dim()`). */
  dim(): number {
    return this.shape.length;
  }
  /** Number of elements (`x.numel()`). */
  numel(): number {
    return numel(this.shape);
  }
  /** `size()` is the shape; `size(d)` one dimension (negative counts from the end). */
  size(): Size;
  size(dim: number): number;
  size(...args: [] | [number] | [{ dim: number }]): number | Size {
    const dim = args.length === 0 ? undefined : sizeArgs(this, args);
    if (dim === undefined) return this.shape;
    const d = dim < 0 ? dim + this.ndim : dim;
    if (d < 0 || d >= this.ndim) {
      throw new ShapeError(
        `size(${dim}): dimension out of range (expected to be in range of [${-Math.max(this.ndim, 1)}, ${Math.max(this.ndim, 1) - 1}], but got ${dim}) for a tensor of shape ${fmtShape(this.shape)}`,
      );
    }
    return this.shape[d];
  }
  /** The strides, in elements (`x.stride()`). */
  stride(): readonly number[] {
    return this.strides;
  }
  /** Whether the elements are laid out row-major without gaps (`x.is_contiguous()`). */
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  /**
   * True for tensors not produced by a recorded op (created by the user, or not requiring grad), as
   * `x.is_leaf`.
   */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  /** The last kernel view handed out, reused while the storage keeps its buffer (views are never mutated). */
  private lastView: View | null = null;
  /** The kernel-level view of this tensor. */
  get view_(): View {
    const handle = this.storage.handle;
    const v = this.lastView;
    if (v !== null && v.handle === handle) return v;
    const view: View = {
      handle,
      dtype: this.dtype,
      shape: this.shape,
      strides: this.strides,
      offset: this.offset,
    };
    this.lastView = view;
    return view;
  }
  /** This tensor broadcast to `shape` as a kernel view (no copy; `what` names the op in shape errors). */
  kernelView(shape: readonly number[], what = "expand"): View {
    if (sameShape(this.shape, shape)) return this.view_;
    return {
      handle: this.storage.handle,
      dtype: this.dtype,
      shape,
      strides: broadcastStrides(this.shape, this.strides, shape, what),
      offset: this.offset,
    };
  }
  /**
   * The kernel view to write through in place: runs a pending program first, and moves the storage to a copy of its
   * buffer when pending fused ops read it (see fusion.ts). Every in-place write takes this, never `view_`.
   */
  get writeView_(): View {
    this.storage.beforeWrite();
    return this.view_;
  }
  /** Increment the version counter after an in-place write. */
  bumpVersion(): void {
    this.storage.version++;
  }
  /** The storage's version counter, bumped by every in-place write (PyTorch's `x._version`). */
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
    if (opTracer !== null) opTracer.read(this);
    return b.readSync(this.view_);
  }
  /** The elements in row-major order as a fresh TypedArray, from any device. */
  async dataAsync(): Promise<TypedArray> {
    this.checkAlive();
    return this.backend.read(this.view_);
  }
  /** The single element as a JS number (booleans as true/false; complex as `{ re, im }`). */
  item(): number | boolean | Complex {
    this.checkItem();
    return this.scalarOf(valuesOf(this.dtype, this.data()));
  }
  /** The single element as a JS number (booleans as true/false; complex as `{ re, im }`), from any device. */
  async itemAsync(): Promise<number | boolean | Complex> {
    this.checkItem();
    return this.scalarOf(valuesOf(this.dtype, await this.dataAsync()));
  }
  /** Nested JS arrays (a number for 0-dim tensors; complex elements as `{ re, im }`), like `tensor.tolist()`. */
  toArray(): NestedArray<number | boolean | Complex> {
    return nest(valuesOf(this.dtype, this.data()), this.shape, this.dtype);
  }
  /** Nested JS arrays, like `tensor.tolist()`, from any device. */
  async toArrayAsync(): Promise<NestedArray<number | boolean | Complex>> {
    return nest(valuesOf(this.dtype, await this.dataAsync()), this.shape, this.dtype);
  }
  /** The same as `toArray()`: PyTorch's name. */
  tolist(): NestedArray<number | boolean | Complex> {
    return this.toArray();
  }

  private checkItem(): void {
    this.checkAlive();
    if (this.numel() !== 1) {
      throw new ShapeError(
        `a Tensor with ${this.numel()} elements cannot be converted to a scalar: item() needs exactly one element, got shape ${fmtShape(this.shape)}`,
      );
    }
  }
  private scalarOf(d: TypedArray): number | boolean | Complex {
    if (isComplex(this.dtype)) return { re: d[0], im: d[1] };
    return this.dtype === "bool" ? d[0] !== 0 : d[0];
  }
  private checkAlive(): void {
    if (this.storage === DISPOSED) disposedError();
    if (this.storage.freed) throw new Error(`this tensor (shape ${fmtShape(this.shape)}) was disposed`);
  }

  // ---- devices and dtypes (to() and type() are declared with their signatures in methods.ts) ----

  /**
   * `to()` for any device: moves to a device and/or converts to a dtype, awaiting the read a WebGPU tensor
   * needs.
   */
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
  /**
   * The tensor on the CPU (`x.cpu()`); synchronous, so only from sync-readable devices (use `toAsync("cpu")`
   * otherwise).
   */
  cpu(): Tensor {
    return this.to("cpu");
  }
  /** Converted to float32 (`x.float()`). */
  float(): Tensor {
    return castOp(this, "float32");
  }
  /** Converted to float64 (`x.double()`). */
  double(): Tensor {
    return castOp(this, "float64");
  }
  /** Converted to int32 (`x.int()`). */
  int(): Tensor {
    return castOp(this, "int32");
  }
  /** Converted to int64 (`x.long()`; on backends that store int64, see `Backend.dtypes`). */
  long(): Tensor {
    return castOp(this, "int64");
  }
  /** Converted to int16 (`x.short()`). */
  short(): Tensor {
    return castOp(this, "int16");
  }
  /** Converted to int8 (`x.char()`). */
  char(): Tensor {
    return castOp(this, "int8");
  }
  /** Converted to float16 (`x.half()`): each value rounded to nearest even (overflow gives ±inf). */
  half(): Tensor {
    return castOp(this, "float16");
  }
  /** Converted to bfloat16 (`x.bfloat16()`): each value rounded to nearest even on float32's upper 16 bits. */
  bfloat16(): Tensor {
    return castOp(this, "bfloat16");
  }
  /** Converted to uint8 (`x.byte()`). */
  byte(): Tensor {
    return castOp(this, "uint8");
  }
  /** Converted to bool (`x.bool()`): nonzero is true. */
  bool(): Tensor {
    return castOp(this, "bool");
  }
  /**
   * `type(dtype=None, non_blocking=False)`: `x.type()` names the dtype like PyTorch ("torch.FloatTensor");
   * `x.type(dtype)` converts (a copy unless equal), the dtype given as `torch.float64`/"float64" or a legacy name.
   */
  type(): string;
  type(dtype: DType | LegacyTypeName, nonBlocking?: boolean): Tensor;
  type(options: { dtype: DType | LegacyTypeName; nonBlocking?: boolean }): Tensor;
  type(...args: unknown[]): string | Tensor {
    const dtype =
      args.length === 1 && typeof args[0] === "string" && !args[0].startsWith("torch.")
        ? checkDType(args[0])
        : (methodSignature("type").parse([this, ...args]) as { dtype: string | null }).dtype;
    if (dtype === null) return LEGACY_NAMES[this.dtype];
    return castOp(this, LEGACY_DTYPES[dtype] ?? checkDType(dtype));
  }
  /** Whether the dtype is a floating-point one: float32, float64, float16, bfloat16 (`x.is_floating_point()`). */
  isFloatingPoint(): boolean {
    return isFloat(this.dtype);
  }

  // ---- autograd (implemented by @cinder/autograd) ----

  /** Set `requiresGrad` in place (leaves only, floating point only); returns this. */
  requiresGrad_(on = true): this {
    if (on && isComplex(this.dtype)) throw complexGradError("requiresGrad_");
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
  /** Keep `.grad` for this non-leaf tensor in later backward passes (`x.retain_grad()`). */
  retainGrad(): void {
    if (!this.requiresGrad) throw new Error("can't retainGrad() on a tensor that doesn't require grad");
    this.retainsGrad = true;
    if (!this.isLeaf) autogradHooks()?.retainGrad(this);
  }

  // ---- memory ----

  /** Release this tensor's reference to its storage now (device memory is freed when no view uses it). */
  dispose(): void {
    if (this.storage === DISPOSED) return;
    releaseTensor(this, this.cohort);
    this.cohort = null; // a disposed tensor kept somewhere keeps no cohort counted
    if (this.storage.freed) this.storage.discard();
    // any later use of this tensor throws (see DISPOSED); shape and strides stay readable
    (this as { storage: Storage }).storage = DISPOSED;
    this.lastView = null;
  }
  /** `using x = ...` disposes the tensor at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** Whether `dispose()` was called or the storage was freed. */
  get isDisposed(): boolean {
    return this.storage === DISPOSED || this.storage.freed;
  }

  // ---- printing ----

  /**
   * PyTorch's printing: `tensor([[1., 2.], [3., 4.]])`, with dtype, device and grad_fn when they differ from
   * the defaults.
   */
  toString(): string {
    if (this.storage === DISPOSED) return `tensor(<disposed>, shape=${fmtShape(this.shape)})`;
    return formatTensor(this);
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
setTensorClass(Tensor);

const LEGACY_DTYPES: Record<string, DType> = Object.fromEntries(
  Object.entries(LEGACY_NAMES).map(([d, n]) => [n, d as DType]),
);

function parseTo(target: Device | DType | { device?: Device; dtype?: DType; copy?: boolean }) {
  if (typeof target === "string") {
    if ((DTYPES as readonly string[]).includes(target)) return { dtype: checkDType(target) };
    // a dtype Cinder lacks ("int64", "float16", ...) is an unknown dtype, not an unknown device
    if (/^(u?int|float|bfloat|complex|half|double|long|short)\d*$/.test(target)) {
      return { dtype: checkDType(target) };
    }
    return { device: target };
  }
  return target;
}

/**
 * `t`'s elements `data` as a tensor on `device`. int64 going to a backend without int64 (WebGPU) becomes that
 * backend's default integer, int32, after a range check: labels made on the CPU (int64, as PyTorch's) move to the
 * GPU as they do in PyTorch, and a value past int32 is an error rather than a wrapped one.
 */
export function moveData(t: Tensor, data: TypedArray, device: Device): Tensor {
  const b = getBackend(device);
  let dtype = t.dtype;
  if (dtype === "int64" && defaultIntDtype(b) !== "int64") {
    data = int64ToInt32(data, b.device);
    dtype = "int32";
  }
  const n = elementsOf(data, dtype);
  const handle = allocate(b, dtype, n, "to()", t.shape);
  b.write(handle, dtype, data, 0);
  const out = new Tensor(new Storage(b, dtype, n, handle), t.shape);
  if (t.requiresGrad) out.requiresGrad = t.requiresGrad; // autograd rewires this through its "to" record
  return out;
}

/** The error for autograd through a complex tensor (PyTorch's conjugate Wirtinger derivatives are not in Cinder). */
export function complexGradError(what: string): Error {
  return new TypeError(
    `${what}: autograd of complex tensors is not implemented in Cinder yet (PyTorch's conjugate Wirtinger derivatives); compute on real tensors (x.real, x.imag, viewAsReal) to differentiate`,
  );
}

/**
 * A backend allocation of `n` elements, checked first: a size no storage can hold, or one the host refuses, is an
 * `AllocationError` naming `what` (the op), the shape, the element count and the bytes.
 */
function allocate(
  b: Backend,
  dtype: DType,
  n: number,
  what: string,
  shape: readonly number[],
  zero = true,
): unknown {
  checkAllocation(n, dtype, what, shape);
  const stored = backendDTypes(b);
  if (!stored.includes(dtype)) {
    throw new DTypeError(
      `${what ? `${what}: ` : ""}${dtype} is not supported on ${b.device}; it stores ${stored.join(", ")}` +
        (b.device === "cpu" ? "" : ` (move the tensor to the cpu, or convert it to one of those)`),
    );
  }
  try {
    return b.alloc(dtype, n, zero);
  } catch (e) {
    throw allocationFailed(n, dtype, what, shape, e);
  }
}

/**
 * Allocate a zero-filled contiguous tensor; `what` names the op in allocation errors. With `zero` false the caller
 * writes every element before anything reads one, so a recycled buffer is handed out as it is (`Backend.alloc`).
 */
export function emptyTensor(
  shape: readonly number[],
  dtype: DType,
  device: Device | Backend,
  what = "",
  zero = true,
): Tensor {
  const b = typeof device === "string" ? getBackend(device) : device;
  const n = numel(shape);
  return new Tensor(new Storage(b, dtype, n, allocate(b, dtype, n, what, shape, zero)), shape);
}

/** A contiguous tensor holding a copy of `data` (length must equal the shape's element count). */
export function tensorFromData(
  data: TypedArray,
  shape: readonly number[],
  dtype: DType,
  device: Device,
  what = "",
): Tensor {
  // values for a 16-bit float (creation ops fill numbers) become its bits; a Uint16Array already holds them
  if (isHalf(dtype) && !(data instanceof Uint16Array)) data = encodeHalf(dtype, data);
  // real values for a complex dtype (creation ops fill numbers): each becomes (v, 0)
  if (isComplex(dtype) && data.length === numel(shape) && data.length > 0) data = realToPairs(data, dtype);
  if (dtype === "int64") data = int64Values(data);
  const b = getBackend(device);
  const n = elementsOf(data, dtype);
  const handle = allocate(b, dtype, n, what, shape, false); // the write fills every element
  b.write(handle, dtype, data, 0);
  return new Tensor(new Storage(b, dtype, n, handle), shape);
}

export { allocTypedArray };
