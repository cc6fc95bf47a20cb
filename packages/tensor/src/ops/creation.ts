/** Creation ops: from data, filled, ranges, identity/diagonal, random. */
import type { Device } from "../backend";
import { getBackend } from "../backend";
import type { DType, TypedArray } from "../dtype";
import { allocTypedArray, checkDType, dtypeOfTypedArray, isFloat, typedArrayCtor } from "../dtype";
import { DeviceError, fmtShape, ShapeError } from "../errors";
import { defaultGenerator, type Generator, randomUniform } from "../random";
import { checkShape, numel } from "../shape";
import { Storage } from "../storage";
import { emptyTensor, type NestedArray, Tensor, tensorFromData } from "../tensor";
import { copyOf } from "./kernels";
import { checkArangeFits, checkScalarFits } from "./range-check";

export interface CreationOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

let defaultDevice: Device = "cpu";
/** The device creation ops use when none is given (torch.set_default_device). */
export function setDefaultDevice(device: Device): void {
  getBackend(device);
  defaultDevice = device;
}
export function getDefaultDevice(): Device {
  return defaultDevice;
}

function finish(t: Tensor, opts: CreationOptions | undefined): Tensor {
  if (opts?.requiresGrad) t.requiresGrad_(true);
  return t;
}

type Data = number | boolean | TypedArray | readonly Data[] | Tensor;

/** Shape and flat values of nested arrays, with PyTorch's error for ragged input. */
function flatten(data: Data): { shape: number[]; values: (number | boolean)[]; typed?: TypedArray } {
  if (ArrayBuffer.isView(data)) return { shape: [data.length], values: [], typed: data as TypedArray };
  const shape: number[] = [];
  let probe: Data = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  if (ArrayBuffer.isView(probe)) shape.push((probe as TypedArray).length);
  const values: (number | boolean)[] = [];
  const walk = (d: Data, dim: number) => {
    if (dim === shape.length) {
      if (typeof d !== "number" && typeof d !== "boolean") {
        throw new TypeError(`tensor(): expected a number or boolean at depth ${dim}, got ${describe(d)}`);
      }
      values.push(d);
      return;
    }
    const len = Array.isArray(d) || ArrayBuffer.isView(d) ? (d as ArrayLike<Data>).length : -1;
    if (len !== shape[dim]) {
      throw new ShapeError(
        `tensor(): expected sequence of length ${shape[dim]} at dim ${dim} (got ${len < 0 ? describe(d) : len})`,
      );
    }
    for (let i = 0; i < len; i++) walk((d as ArrayLike<Data>)[i], dim + 1);
  };
  walk(data, 0);
  return { shape, values };
}

function describe(d: unknown): string {
  return Array.isArray(d) ? `a list of length ${d.length}` : d === null ? "null" : typeof d;
}

function inferDType(values: readonly (number | boolean)[]): DType {
  if (values.length === 0) return "float32";
  if (values.every((v) => typeof v === "boolean")) return "bool";
  return values.every((v) => typeof v === "boolean" || Number.isInteger(v)) ? "int32" : "float32";
}

function fillTyped(values: readonly (number | boolean)[], dtype: DType): TypedArray {
  const out = allocTypedArray(dtype, values.length);
  if (dtype === "int32" || dtype === "uint8") {
    const [lo, hi] = dtype === "int32" ? [-2147483648, 2147483647] : [0, 255];
    for (let i = 0; i < values.length; i++) {
      const v = +values[i];
      if (Number.isInteger(v) && (v < lo || v > hi)) {
        throw new RangeError(
          `tensor(): value ${v} at flat index ${i} does not fit ${dtype}${dtype === "int32" ? ' (Cinder\'s integer type; it has no int64): pass { dtype: "float64" }' : ""}`,
        );
      }
      out[i] = Number.isNaN(v) ? 0 : Math.trunc(v);
    }
    return out;
  }
  for (let i = 0; i < values.length; i++) out[i] = dtype === "bool" ? +!!values[i] : +values[i];
  return out;
}

/**
 * A tensor holding a copy of `data`: a number, boolean, (nested) array or TypedArray. Integers give int32,
 * other numbers float32, booleans bool, a TypedArray its own dtype (a Tensor is copied and detached).
 */
export function tensor(data: Data, opts: CreationOptions = {}): Tensor {
  const device = opts.device ?? defaultDevice;
  if (data instanceof Tensor) {
    const c = copyOf(data).to({ device, dtype: opts.dtype ?? data.dtype });
    return finish(c, opts);
  }
  const { shape, values, typed } = flatten(data);
  let arr: TypedArray;
  let dtype: DType;
  if (typed) {
    dtype = opts.dtype ? checkDType(opts.dtype) : dtypeOfTypedArray(typed);
    arr =
      typed instanceof typedArrayCtor(dtype)
        ? new (typedArrayCtor(dtype))(typed)
        : fillTyped(Array.from(typed), dtype);
  } else {
    // JS cannot tell 1.0 from 1: a tensor that requires grad must be floating point, so infer float32 then
    dtype = opts.dtype ? checkDType(opts.dtype) : opts.requiresGrad ? "float32" : inferDType(values);
    arr = fillTyped(values, dtype);
  }
  return finish(tensorFromData(arr, shape, dtype, device), opts);
}

/**
 * Wrap a TypedArray as a CPU tensor WITHOUT copying (torch.from_numpy): writes through either are seen by both.
 * `shape` defaults to 1-D; its element count must equal the array's length.
 */
export function fromTypedArray(data: TypedArray, shape?: readonly number[]): Tensor {
  const dtype = dtypeOfTypedArray(data);
  if (!(data instanceof typedArrayCtor(dtype))) {
    throw new TypeError(
      `fromTypedArray: ${data.constructor.name} cannot be shared; use tensor(data) to copy it`,
    );
  }
  const s = shape ? checkShape(shape, "fromTypedArray") : [data.length];
  if (numel(s) !== data.length) {
    throw new ShapeError(
      `fromTypedArray: shape ${fmtShape(s)} has ${numel(s)} elements but the array has ${data.length}`,
    );
  }
  const b = getBackend("cpu");
  if (!b.wrap) throw new DeviceError("fromTypedArray: the cpu backend cannot wrap memory");
  return new Tensor(new Storage(b, dtype, data.length, b.wrap(data)), s);
}

type ShapeAndOpts = (number | readonly number[] | CreationOptions | undefined)[];

/** Parse `(2, 3)`, `([2, 3])`, `(2, 3, { dtype })`, `([2, 3], { dtype })`. */
function parseShape(args: ShapeAndOpts, what: string): { shape: number[]; opts: CreationOptions } {
  let opts: CreationOptions = {};
  const rest = [...args];
  const last = rest[rest.length - 1];
  if (last !== undefined && typeof last === "object" && !Array.isArray(last)) {
    opts = last as CreationOptions;
    rest.pop();
  }
  const shape = rest.length === 1 && Array.isArray(rest[0]) ? [...(rest[0] as number[])] : (rest as number[]);
  return { shape: checkShape(shape, what), opts };
}

function filled(shape: readonly number[], value: number, opts: CreationOptions, dtype: DType): Tensor {
  const t = emptyTensor(shape, checkDType(dtype), opts.device ?? defaultDevice);
  if (value !== 0 && t.numel() > 0) t.backend.fill(t.view_, value);
  return finish(t, opts);
}

export function zeros(...args: ShapeAndOpts): Tensor {
  const { shape, opts } = parseShape(args, "zeros");
  return filled(shape, 0, opts, opts.dtype ?? "float32");
}
export function ones(...args: ShapeAndOpts): Tensor {
  const { shape, opts } = parseShape(args, "ones");
  return filled(shape, 1, opts, opts.dtype ?? "float32");
}
/** Uninitialised in PyTorch; zero-filled here. */
export function empty(...args: ShapeAndOpts): Tensor {
  const { shape, opts } = parseShape(args, "empty");
  return filled(shape, 0, opts, opts.dtype ?? "float32");
}

function dtypeOfValue(v: number | boolean): DType {
  return typeof v === "boolean" ? "bool" : Number.isInteger(v) ? "int32" : "float32";
}

export function full(shape: readonly number[], value: number | boolean, opts: CreationOptions = {}): Tensor {
  checkScalarFits("full", value, opts.dtype ?? dtypeOfValue(value), opts.dtype === undefined);
  return filled(checkShape(shape, "full"), +value, opts, opts.dtype ?? dtypeOfValue(value));
}

type LikeOptions = CreationOptions;
const likeOpts = (t: Tensor, o: LikeOptions): CreationOptions => ({ dtype: t.dtype, device: t.device, ...o });

export function zerosLike(t: Tensor, opts: LikeOptions = {}): Tensor {
  return zeros(t.shape, likeOpts(t, opts));
}
export function onesLike(t: Tensor, opts: LikeOptions = {}): Tensor {
  return ones(t.shape, likeOpts(t, opts));
}
export function emptyLike(t: Tensor, opts: LikeOptions = {}): Tensor {
  return empty(t.shape, likeOpts(t, opts));
}
export function fullLike(t: Tensor, value: number | boolean, opts: LikeOptions = {}): Tensor {
  return full(t.shape, value, likeOpts(t, opts));
}

/** `arange(end)`, `arange(start, end, step?)`; integer arguments give int32, others float32. */
export function arange(...args: (number | CreationOptions)[]): Tensor {
  const opts = (typeof args[args.length - 1] === "object" ? args.pop() : {}) as CreationOptions;
  const nums = args as number[];
  const [start, end, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
  if (step === 0) throw new RangeError("arange: step must be nonzero");
  if ((end - start) / step < 0 && end !== start) {
    throw new RangeError(
      `arange: upper bound and larger bound inconsistent with step sign (start ${start}, end ${end}, step ${step})`,
    );
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? (nums.every(Number.isInteger) ? "int32" : "float32");
  checkArangeFits(start, step, n, dtype, opts.dtype === undefined);
  const arr = allocTypedArray(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return finish(tensorFromData(arr, [n], dtype, opts.device ?? defaultDevice), opts);
}

/** `steps` evenly spaced values from start to end inclusive, computed like PyTorch (symmetric halves). */
export function linspace(start: number, end: number, steps: number, opts: CreationOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError(`linspace: number of steps must be non-negative, got ${steps}`);
  const dtype = opts.dtype ?? "float32";
  const arr = allocTypedArray(dtype, steps);
  // as PyTorch's kernel: start and end become the dtype first (checked; integers truncate), one value for 1 step
  checkScalarFits("linspace", start, dtype);
  checkScalarFits("linspace", end, dtype);
  const ends = allocTypedArray(dtype, 2);
  ends[0] = start;
  ends[1] = end;
  const [a, b] = isFloat(dtype) ? [start, end] : [ends[0], ends[1]];
  const step = steps > 1 ? (b - a) / (steps - 1) : 0;
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) arr[i] = i < half ? a + step * i : b - step * (steps - 1 - i);
  if (steps === 1) arr[0] = a;
  return finish(tensorFromData(arr, [steps], dtype, opts.device ?? defaultDevice), opts);
}

export function eye(n: number, m?: number | CreationOptions, o: CreationOptions = {}): Tensor {
  const opts = typeof m === "object" ? m : o;
  const cols = typeof m === "number" ? m : n;
  const dtype = opts.dtype ?? "float32";
  const arr = allocTypedArray(dtype, n * cols);
  for (let i = 0; i < Math.min(n, cols); i++) arr[i * cols + i] = 1;
  return finish(tensorFromData(arr, [n, cols], dtype, opts.device ?? defaultDevice), opts);
}

/** 1-D input: a square matrix with it on the `diagonal`-th diagonal; 2-D input: that diagonal as 1-D. */
export function diag(t: Tensor, diagonal = 0): Tensor {
  if (t.ndim === 1) {
    const n = t.shape[0] + Math.abs(diagonal);
    const out = zeros([n, n], { dtype: t.dtype, device: t.device });
    const rows = arange(0, t.shape[0], { device: t.device }).add(Math.max(0, -diagonal));
    const cols = rows.add(diagonal);
    out.set([rows, cols], t);
    return out;
  }
  if (t.ndim === 2) return diagonalOf(t, diagonal);
  throw new ShapeError(`diag(): expected a 1-D or 2-D tensor, got shape ${fmtShape(t.shape)}`);
}

function diagonalOf(t: Tensor, k: number): Tensor {
  const [r, c] = t.shape;
  const len = Math.max(0, k >= 0 ? Math.min(r, c - k) : Math.min(r + k, c));
  const rows = arange(0, len, { device: t.device }).add(Math.max(0, -k));
  return t.at(rows, rows.add(k));
}

// ---- random ----

function randomFill(
  shape: readonly number[],
  dist: "uniform" | "normal",
  opts: CreationOptions & { generator?: Generator },
): Tensor {
  const dtype = opts.dtype ?? "float32";
  if (!isFloat(dtype))
    throw new TypeError(
      `${dist === "uniform" ? "rand" : "randn"}: expected a floating point dtype, got ${dtype}`,
    );
  const t = emptyTensor(shape, dtype, opts.device ?? defaultDevice);
  const { key, counter } = (opts.generator ?? defaultGenerator).next(t.numel());
  if (t.numel() > 0) t.backend.random(dist, key, counter, t.view_);
  return finish(t, opts);
}

type RandArgs = (number | readonly number[] | (CreationOptions & { generator?: Generator }) | undefined)[];

/** Uniform on [0, 1). */
export function rand(...args: RandArgs): Tensor {
  const { shape, opts } = parseShape(args, "rand");
  return randomFill(shape, "uniform", opts);
}
/** Standard normal. */
export function randn(...args: RandArgs): Tensor {
  const { shape, opts } = parseShape(args, "randn");
  return randomFill(shape, "normal", opts);
}

/** Integers uniform on [low, high): `randint(high, shape)` or `randint(low, high, shape)`; int32 by default. */
export function randint(
  a: number,
  b: number | readonly number[],
  c?: readonly number[] | (CreationOptions & { generator?: Generator }),
  d: CreationOptions & { generator?: Generator } = {},
): Tensor {
  const [low, high, shape, opts] =
    typeof b === "number"
      ? [a, b, c as readonly number[], d]
      : [0, a, b, (c ?? {}) as CreationOptions & { generator?: Generator }];
  if (!(high > low)) throw new RangeError(`randint: expected low < high, got low=${low}, high=${high}`);
  // float32, which every device has (WebGPU has no float64); u has 24 random bits, exact in float32, and the
  // clamp catches the one rounding of u * range that could reach `high`
  const u = randomFill(checkShape(shape, "randint"), "uniform", {
    device: opts.device,
    dtype: "float32",
    generator: opts.generator,
  });
  const range = high - low;
  const k = u
    .mul(range)
    .floor()
    .clamp({ max: range - 1 })
    .to("int32");
  const out = k.add(low).to(opts.dtype ?? "int32");
  return finish(out, { ...opts, requiresGrad: false });
}

/** A random permutation of 0..n-1 (int32), from the seeded generator. */
export function randperm(n: number, opts: CreationOptions & { generator?: Generator } = {}): Tensor {
  const { key, counter } = (opts.generator ?? defaultGenerator).next(n);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(randomUniform(key, counter + i) * (i + 1));
    const tmp = p[i];
    p[i] = p[j];
    p[j] = tmp;
  }
  return tensorFromData(p, [n], "int32", opts.device ?? defaultDevice).to(opts.dtype ?? "int32");
}

/** In-place fills used by nn.init: uniform on [low, high), normal(mean, std). */
export function uniform_(t: Tensor, low = 0, high = 1, generator?: Generator): Tensor {
  const r = randomFill(t.shape, "uniform", {
    device: t.device,
    dtype: t.isFloatingPoint() ? t.dtype : "float32",
    generator,
  });
  t.backend.copy(r.mul(high - low).add(low).view_, t.view_);
  t.bumpVersion();
  return t;
}
export function normal_(t: Tensor, mean = 0, std = 1, generator?: Generator): Tensor {
  const r = randomFill(t.shape, "normal", {
    device: t.device,
    dtype: t.isFloatingPoint() ? t.dtype : "float32",
    generator,
  });
  t.backend.copy(r.mul(std).add(mean).view_, t.view_);
  t.bumpVersion();
  return t;
}

export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
export function initialSeed(): number {
  return defaultGenerator.initialSeed();
}

export type { NestedArray };
