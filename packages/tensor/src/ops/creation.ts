/**
 * Creation ops: from data, filled, ranges, identity/diagonal, random. Each takes PyTorch's signature
 * (`zeros(*size, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)`, ...):
 * positional arguments in PyTorch's order, keywords in a final options object.
 *
 * PyTorch's parameters Cinder lacks are declared keyword-only and accept only their default, so ported code that
 * spells the default still runs and anything else is a clear error: `out` (None), `pinMemory` (False),
 * `memoryFormat` (None: Cinder's new tensors are contiguous); `layout` takes None or "strided".
 */
import type { Device } from "../backend";
import { getBackend } from "../backend";
import type { DType, TypedArray } from "../dtype";
import {
  allocTypedArray,
  checkAllocation,
  checkDType,
  dtypeOfTypedArray,
  isFloat,
  typedArrayCtor,
} from "../dtype";
import { DeviceError, DTypeError, fmtShape, ShapeError } from "../errors";
import { defaultGenerator, Generator, randomUniform } from "../random";
import { numel } from "../shape";
import { ArgumentError, arg, type Kind, k, op, overloads, Signature, self, signature } from "../signature";
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

// ---- the parameters the factory functions share, declared once ----

/**
 * A dtype name. Any string parses; `resolveDtype` then checks it, so an unknown one ("int64", "float16") gets the
 * message listing Cinder's dtypes and the int64 hint.
 */
const dtypeKind = k.where(k.str, () => true, "dtype") as unknown as Kind<DType>;
const dtypeArg = arg.opt("dtype", dtypeKind);
const deviceArg = arg.opt("device", k.device);
const requiresGradArg = arg("requiresGrad", k.bool, false);
const layoutArg = arg.opt("layout", k.oneOf("strided"));
const outArg = arg.unsupported("out", null, "out= is not supported: use the returned tensor");
const pinMemoryArg = arg.unsupported("pinMemory", false, "Cinder has no pinned memory");
const memoryFormatArg = arg.unsupported("memoryFormat", null, "Cinder's new tensors are always contiguous");
const generatorArg = arg.opt(
  "generator",
  k.instance(Generator as unknown as abstract new () => Generator, "Generator"),
);
const sizeArg = arg.varargs("size");

/** The dtype a call asked for (checked), or `fallback`. */
function resolveDtype(fn: string, dtype: DType | null, fallback: DType): DType {
  if (dtype === null) return fallback;
  try {
    return checkDType(dtype);
  } catch (e) {
    throw new ArgumentError(`${fn}(): argument "dtype": ${(e as Error).message}`);
  }
}

/** PyTorch: "Only Tensors of floating point and complex dtype can require gradients". */
function checkRequiresGrad(fn: string, requiresGrad: boolean, dtype: DType): void {
  if (requiresGrad && !isFloat(dtype)) {
    throw new DTypeError(
      `${fn}(): requiresGrad=true needs a floating point dtype, got ${dtype}: only Tensors of floating point and complex dtype can require gradients (pass { dtype: "float32" })`,
    );
  }
}

/** Sizes must be non-negative (the parser has checked they are integers). */
function checkSize(fn: string, size: readonly number[], param = "size"): number[] {
  const i = size.findIndex((d) => d < 0);
  if (i >= 0) {
    throw new ArgumentError(
      `${fn}(): argument "${param}" must have non-negative dimensions, got ${fmtShape(size)} (dimension ${i} is ${size[i]})`,
    );
  }
  return [...size];
}

function checkCount(fn: string, param: string, n: number): void {
  if (n < 0) {
    throw new ArgumentError(`${fn}(): argument "${param}" must be non-negative, got ${n}`);
  }
}

function finish(t: Tensor, requiresGrad: boolean): Tensor {
  if (requiresGrad) t.requiresGrad_(true);
  return t;
}

// ---- tensor(data) ----

/** What `tensor(data)` takes: a number, boolean, (nested) list, TypedArray or Tensor. */
export type TensorData = number | boolean | TypedArray | readonly TensorData[] | Tensor;
type Data = TensorData;

const isData = (v: unknown): boolean =>
  typeof v === "number" ||
  typeof v === "boolean" ||
  Array.isArray(v) ||
  (ArrayBuffer.isView(v) && !(v instanceof DataView)) ||
  v instanceof Tensor;
// not a plain object, so `tensor({ data, dtype })` is the options form
const dataKind = {
  ...k.where(k.any, isData, "number, bool, (nested) list, TypedArray or Tensor"),
  takesObjects: false,
} as unknown as Kind<Data>;

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
  const out = allocTypedArray(dtype, values.length, "tensor()");
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

const TENSOR = signature(
  "tensor",
  [arg("data", dataKind)],
  [dtypeArg, deviceArg, requiresGradArg, pinMemoryArg],
);

/**
 * `tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False)`: a tensor holding a copy of
 * `data`: a number, boolean, (nested) array or TypedArray. Integers give int32, other numbers float32, booleans
 * bool, a TypedArray its own dtype (a Tensor is copied and detached). JS cannot tell 1.0 from 1, so
 * `requiresGrad: true` without a dtype makes float32.
 */
export const tensor = op(TENSOR, ({ data, dtype, device, requiresGrad }): Tensor => {
  const dev = device ?? defaultDevice;
  if (data instanceof Tensor) {
    const dt = resolveDtype("tensor", dtype, data.dtype);
    checkRequiresGrad("tensor", requiresGrad, dt);
    return finish(copyOf(data).to({ device: dev, dtype: dt }), requiresGrad);
  }
  const { shape, values, typed } = flatten(data);
  let arr: TypedArray;
  let dt: DType;
  if (typed) {
    dt = resolveDtype("tensor", dtype, dtypeOfTypedArray(typed));
    checkRequiresGrad("tensor", requiresGrad, dt);
    arr =
      typed instanceof typedArrayCtor(dt)
        ? new (typedArrayCtor(dt))(typed)
        : fillTyped(Array.from(typed), dt);
  } else {
    // JS cannot tell 1.0 from 1: a tensor that requires grad must be floating point, so infer float32 then
    dt = resolveDtype("tensor", dtype, requiresGrad ? "float32" : inferDType(values));
    checkRequiresGrad("tensor", requiresGrad, dt);
    arr = fillTyped(values, dt);
  }
  return finish(tensorFromData(arr, shape, dt, dev, "tensor()"), requiresGrad);
});

const typedArrayKind = kindOfTypedArray();
function kindOfTypedArray(): Kind<TypedArray> {
  return {
    ...k.where(k.any, (v) => ArrayBuffer.isView(v) && !(v instanceof DataView), "TypedArray"),
    takesObjects: false,
  } as unknown as Kind<TypedArray>;
}

/**
 * `fromTypedArray(data, shape=None)`, Cinder's `torch.from_numpy(ndarray)`: wraps a TypedArray as a CPU tensor
 * WITHOUT copying; writes through either are seen by both. A TypedArray has no shape, hence `shape` (default 1-D;
 * its element count must equal the array's length). Not registered with PyTorch's signatures: its parameters
 * differ from `from_numpy`'s by that `shape`.
 */
const FROM_TYPED_ARRAY = [arg("data", typedArrayKind), arg.opt("shape", k.ints)] as const;
export const fromTypedArray = op(
  new Signature("fromTypedArray", FROM_TYPED_ARRAY, [] as const),
  ({ data, shape }): Tensor => {
    const dtype = dtypeOfTypedArray(data);
    if (!(data instanceof typedArrayCtor(dtype))) {
      throw new TypeError(
        `fromTypedArray(): ${data.constructor.name} cannot be shared; use tensor(data) to copy it`,
      );
    }
    const s = shape ? checkSize("fromTypedArray", shape, "shape") : [data.length];
    if (numel(s) !== data.length) {
      throw new ShapeError(
        `fromTypedArray(): shape ${fmtShape(s)} has ${numel(s)} elements but the array has ${data.length}`,
      );
    }
    const b = getBackend("cpu");
    if (!b.wrap) throw new DeviceError("fromTypedArray(): the cpu backend cannot wrap memory");
    return new Tensor(new Storage(b, dtype, data.length, b.wrap(data)), s);
  },
);

// ---- filled ----

function filled(
  fn: string,
  shape: readonly number[],
  value: number,
  dtype: DType,
  device: Device | null,
  requiresGrad: boolean,
): Tensor {
  checkRequiresGrad(fn, requiresGrad, dtype);
  const t = emptyTensor(shape, dtype, device ?? defaultDevice, `${fn}()`);
  if (value !== 0 && t.numel() > 0) t.backend.fill(t.view_, value);
  return finish(t, requiresGrad);
}

const ZEROS = signature(
  "zeros",
  [sizeArg],
  [outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
/** `zeros(*size, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const zeros = op(
  ZEROS,
  ({ size, dtype, device, requiresGrad }): Tensor =>
    filled(
      "zeros",
      checkSize("zeros", size),
      0,
      resolveDtype("zeros", dtype, "float32"),
      device,
      requiresGrad,
    ),
);

const ONES = signature(
  "ones",
  [sizeArg],
  [outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
/** `ones(*size, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const ones = op(
  ONES,
  ({ size, dtype, device, requiresGrad }): Tensor =>
    filled("ones", checkSize("ones", size), 1, resolveDtype("ones", dtype, "float32"), device, requiresGrad),
);

const EMPTY = signature(
  "empty",
  [sizeArg],
  [memoryFormatArg, outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
/**
 * `empty(*size, *, memory_format=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: uninitialised in PyTorch; zero-filled here.
 */
export const empty = op(
  EMPTY,
  ({ size, dtype, device, requiresGrad }): Tensor =>
    filled(
      "empty",
      checkSize("empty", size),
      0,
      resolveDtype("empty", dtype, "float32"),
      device,
      requiresGrad,
    ),
);

function dtypeOfValue(v: number | boolean): DType {
  return typeof v === "boolean" ? "bool" : Number.isInteger(v) ? "int32" : "float32";
}

const FULL = signature(
  "full",
  [arg("size", k.ints), arg("fillValue", k.scalar)],
  [outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
/**
 * `full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)`:
 * the dtype is the fill value's (bool, int32, float32) unless given; `requiresGrad: true` makes an integer value
 * float32 (JS cannot tell 1.0 from 1).
 */
export const full = op(FULL, ({ size, fillValue, dtype, device, requiresGrad }): Tensor => {
  const dt = resolveDtype("full", dtype, requiresGrad ? "float32" : dtypeOfValue(fillValue));
  checkScalarFits("full", fillValue, dt, dtype === null);
  return filled("full", checkSize("full", size), +fillValue, dt, device, requiresGrad);
});

// ---- *_like ----

const zerosLikeSig = signature(
  "zerosLike",
  [self],
  [memoryFormatArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
  { forms: ["function"] },
);
/** `zeros_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const zerosLike = op(
  zerosLikeSig,
  ({ input, dtype, device, requiresGrad }): Tensor =>
    filled(
      "zerosLike",
      input.shape,
      0,
      resolveDtype("zerosLike", dtype, input.dtype),
      device ?? input.device,
      requiresGrad,
    ),
);

const onesLikeSig = signature(
  "onesLike",
  [self],
  [memoryFormatArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
  { forms: ["function"] },
);
/** `ones_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const onesLike = op(
  onesLikeSig,
  ({ input, dtype, device, requiresGrad }): Tensor =>
    filled(
      "onesLike",
      input.shape,
      1,
      resolveDtype("onesLike", dtype, input.dtype),
      device ?? input.device,
      requiresGrad,
    ),
);

const emptyLikeSig = signature(
  "emptyLike",
  [self],
  [memoryFormatArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
  { forms: ["function"] },
);
/** `empty_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const emptyLike = op(
  emptyLikeSig,
  ({ input, dtype, device, requiresGrad }): Tensor =>
    filled(
      "emptyLike",
      input.shape,
      0,
      resolveDtype("emptyLike", dtype, input.dtype),
      device ?? input.device,
      requiresGrad,
    ),
);

const fullLikeSig = signature(
  "fullLike",
  [self, arg("fillValue", k.scalar)],
  [memoryFormatArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
  { forms: ["function"] },
);
/**
 * `full_like(input, fill_value, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: the input's dtype unless given (a float value in an integer tensor truncates, as PyTorch).
 */
export const fullLike = op(fullLikeSig, ({ input, fillValue, dtype, device, requiresGrad }): Tensor => {
  const dt = resolveDtype("fullLike", dtype, input.dtype);
  checkScalarFits("fullLike", fillValue, dt);
  return filled("fullLike", input.shape, +fillValue, dt, device ?? input.device, requiresGrad);
});

const randLikeSig = signature(
  "randLike",
  [self],
  [memoryFormatArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
  { forms: ["function"] },
);
/** `rand_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const randLike = op(
  randLikeSig,
  ({ input, dtype, device, requiresGrad }): Tensor =>
    randomFill(
      "randLike",
      input.shape,
      "uniform",
      resolveDtype("randLike", dtype, input.dtype),
      device ?? input.device,
      null,
      requiresGrad,
    ),
);

const randnLikeSig = signature(
  "randnLike",
  [self],
  [memoryFormatArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
  { forms: ["function"] },
);
/** `randn_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const randnLike = op(
  randnLikeSig,
  ({ input, dtype, device, requiresGrad }): Tensor =>
    randomFill(
      "randnLike",
      input.shape,
      "normal",
      resolveDtype("randnLike", dtype, input.dtype),
      device ?? input.device,
      null,
      requiresGrad,
    ),
);

// ---- ranges ----

const ARANGE_END = signature(
  "arange",
  [arg("end", k.float)],
  [outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
const ARANGE = signature(
  "arange",
  [arg("start", k.float), arg("end", k.float), arg("step", k.float, 1)],
  [outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);

interface RangeOptions {
  dtype: DType | null;
  device: Device | null;
  requiresGrad: boolean;
}

function arangeImpl(
  start: number,
  end: number,
  step: number,
  { dtype: asked, device, requiresGrad }: RangeOptions,
): Tensor {
  if (![start, end, step].every(Number.isFinite)) {
    throw new ArgumentError(
      `arange(): unsupported range: ${start} -> ${end} with step ${step} (expected finite numbers)`,
    );
  }
  if (step === 0) throw new ArgumentError('arange(): argument "step" must be nonzero, got 0');
  if ((end - start) / step < 0 && end !== start) {
    throw new RangeError(
      `arange(): upper bound and larger bound inconsistent with step sign (start ${start}, end ${end}, step ${step})`,
    );
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const inferred = [start, end, step].every(Number.isInteger) && !requiresGrad ? "int32" : "float32";
  const dtype = resolveDtype("arange", asked, inferred);
  checkRequiresGrad("arange", requiresGrad, dtype);
  checkAllocation(n, dtype, "arange()", [n]);
  checkArangeFits(start, step, n, dtype, asked === null);
  const arr = allocTypedArray(dtype, n, "arange()");
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return finish(tensorFromData(arr, [n], dtype, device ?? defaultDevice, "arange()"), requiresGrad);
}

/**
 * `arange(end, *, ...)` and `arange(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,
 * pin_memory=False, requires_grad=False)`: integer arguments give int32 (PyTorch's int64), others float32.
 */
export const arange = overloads(
  op(ARANGE_END, (a): Tensor => arangeImpl(0, a.end, 1, a)),
  op(ARANGE, (a): Tensor => arangeImpl(a.start, a.end, a.step, a)),
);

const LINSPACE = signature(
  "linspace",
  [arg("start", k.float), arg("end", k.float), arg("steps", k.int)],
  [outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
/**
 * `linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: `steps` evenly spaced values from start to end inclusive, computed like PyTorch
 * (symmetric halves).
 */
export const linspace = op(LINSPACE, ({ start, end, steps, dtype: asked, device, requiresGrad }): Tensor => {
  checkCount("linspace", "steps", steps);
  const dtype = resolveDtype("linspace", asked, "float32");
  checkRequiresGrad("linspace", requiresGrad, dtype);
  checkAllocation(steps, dtype, "linspace()", [steps]);
  const arr = allocTypedArray(dtype, steps, "linspace()");
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
  return finish(tensorFromData(arr, [steps], dtype, device ?? defaultDevice, "linspace()"), requiresGrad);
});

// ---- identity and diagonals ----

const EYE = signature(
  "eye",
  [arg("n", k.int), arg.opt("m", k.int)],
  [outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
/** `eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const eye = op(EYE, ({ n, m, dtype: asked, device, requiresGrad }): Tensor => {
  checkCount("eye", "n", n);
  const cols = m ?? n;
  checkCount("eye", "m", cols);
  const dtype = resolveDtype("eye", asked, "float32");
  checkRequiresGrad("eye", requiresGrad, dtype);
  checkAllocation(n * cols, dtype, "eye()", [n, cols]);
  const arr = allocTypedArray(dtype, n * cols, "eye()");
  for (let i = 0; i < Math.min(n, cols); i++) arr[i * cols + i] = 1;
  return finish(tensorFromData(arr, [n, cols], dtype, device ?? defaultDevice, "eye()"), requiresGrad);
});

const DIAG = signature("diag", [self, arg("diagonal", k.int, 0)]);
/**
 * `diag(input, diagonal=0)` (torch.diag's `out=` is left out: the method has none): 1-D input gives a square matrix with it on the `diagonal`-th diagonal;
 * 2-D input gives that diagonal as 1-D.
 */
export const diag = op(DIAG, ({ input: t, diagonal }): Tensor => {
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
});

function diagonalOf(t: Tensor, k: number): Tensor {
  const [r, c] = t.shape;
  const len = Math.max(0, k >= 0 ? Math.min(r, c - k) : Math.min(r + k, c));
  const rows = arange(0, len, { device: t.device }).add(Math.max(0, -k));
  return t.at(rows, rows.add(k));
}

// ---- random ----

function randomFill(
  fn: string,
  shape: readonly number[],
  dist: "uniform" | "normal",
  dtype: DType,
  device: Device | null,
  generator: Generator | null,
  requiresGrad: boolean,
): Tensor {
  if (!isFloat(dtype)) {
    throw new DTypeError(
      `${fn}(): expected a floating point dtype, got ${dtype} (${dist === "uniform" ? '"check_uniform_bounds"' : '"normal_kernel"'} is not implemented for integers)`,
    );
  }
  const t = emptyTensor(shape, dtype, device ?? defaultDevice, `${fn}()`);
  const { key, counter } = (generator ?? defaultGenerator).next(t.numel());
  if (t.numel() > 0) t.backend.random(dist, key, counter, t.view_);
  return finish(t, requiresGrad);
}

const RAND = signature(
  "rand",
  [sizeArg],
  [generatorArg, outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
/**
 * `rand(*size, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: uniform on [0, 1).
 */
export const rand = op(
  RAND,
  ({ size, generator, dtype, device, requiresGrad }): Tensor =>
    randomFill(
      "rand",
      checkSize("rand", size),
      "uniform",
      resolveDtype("rand", dtype, "float32"),
      device,
      generator,
      requiresGrad,
    ),
);

const RANDN = signature(
  "randn",
  [sizeArg],
  [generatorArg, outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
/**
 * `randn(*size, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: standard normal.
 */
export const randn = op(
  RANDN,
  ({ size, generator, dtype, device, requiresGrad }): Tensor =>
    randomFill(
      "randn",
      checkSize("randn", size),
      "normal",
      resolveDtype("randn", dtype, "float32"),
      device,
      generator,
      requiresGrad,
    ),
);

const RANDINT_HIGH = signature(
  "randint",
  [arg("high", k.int), arg("size", k.ints)],
  [generatorArg, outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
const RANDINT = signature(
  "randint",
  [arg("low", k.int), arg("high", k.int), arg("size", k.ints)],
  [generatorArg, outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);

interface RandintArgs {
  size: readonly number[];
  generator: Generator | null;
  dtype: DType | null;
  device: Device | null;
  requiresGrad: boolean;
}

function randintImpl(low: number, high: number, a: RandintArgs): Tensor {
  if (!(high > low)) {
    throw new ArgumentError(
      `randint(): expected low < high, got low=${low}, high=${high} (random_ expects 'from' to be less than 'to')`,
    );
  }
  const shape = checkSize("randint", a.size);
  const dtype = resolveDtype("randint", a.dtype, "int32");
  checkScalarFits("randint", low, dtype, a.dtype === null);
  checkScalarFits("randint", high - 1, dtype, a.dtype === null);
  checkRequiresGrad("randint", a.requiresGrad, dtype);
  checkAllocation(numel(shape), dtype, "randint()", shape);
  // float32, which every device has (WebGPU has no float64); u has 24 random bits, exact in float32, and the
  // clamp catches the one rounding of u * range that could reach `high`
  const u = randomFill("randint", shape, "uniform", "float32", a.device, a.generator, false);
  const range = high - low;
  // v: integers in [0, range), exact in float32 (u * range has at most 24 significant bits above the point)
  const v = u
    .mul(range)
    .floor()
    .clamp({ max: range - 1 });
  return finish(offsetBy(v, low, range, dtype), a.requiresGrad);
}

/**
 * `low + v` in `dtype` without an int32 overflow on the way: float dtypes add in their own precision; int32 casts
 * v directly while it fits, and for ranges beyond 2^31 (low < 0 < high) takes 2^31 off the large draws (exact:
 * Sterbenz) and adds it back as two halves, every intermediate inside int32 because the result is.
 */
function offsetBy(v: Tensor, low: number, range: number, dtype: DType): Tensor {
  if (isFloat(dtype)) return v.to(dtype).add(low);
  if (range <= 2 ** 31) return v.to("int32").add(low).to(dtype);
  const big = v.ge(2 ** 31);
  const half = big.to("int32").mul(2 ** 30);
  return v
    .sub(big.to("float32").mul(2 ** 31))
    .to("int32")
    .add(low)
    .add(half)
    .add(half)
    .to(dtype);
}

/**
 * `randint(high, size, *, ...)` and `randint(low, high, size, *, generator=None, out=None, dtype=None,
 * layout=None, device=None, pin_memory=False, requires_grad=False)`: integers uniform on [low, high); int32 by
 * default (PyTorch's int64).
 */
export const randint = overloads(
  op(RANDINT_HIGH, (a): Tensor => randintImpl(0, a.high, a)),
  op(RANDINT, (a): Tensor => randintImpl(a.low, a.high, a)),
);

const RANDPERM = signature(
  "randperm",
  [arg("n", k.int)],
  [generatorArg, outArg, dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg],
);
/**
 * `randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: a random permutation of 0..n-1 (int32 by default), from the seeded generator.
 */
export const randperm = op(RANDPERM, ({ n, generator, dtype: asked, device, requiresGrad }): Tensor => {
  checkCount("randperm", "n", n);
  const dtype = resolveDtype("randperm", asked, "int32");
  checkRequiresGrad("randperm", requiresGrad, dtype);
  checkAllocation(n, "int32", "randperm()", [n]);
  if (n > 2 ** 31) {
    throw new ArgumentError(
      `randperm(): argument "n" must be at most 2^31 (the values are int32, Cinder's integer type), got ${n}`,
    );
  }
  const { key, counter } = (generator ?? defaultGenerator).next(n);
  const p = allocTypedArray("int32", n, "randperm()");
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(randomUniform(key, counter + i) * (i + 1));
    const tmp = p[i];
    p[i] = p[j];
    p[j] = tmp;
  }
  const t = tensorFromData(p, [n], "int32", device ?? defaultDevice, "randperm()");
  return finish(dtype === "int32" ? t : t.to(dtype), requiresGrad);
});

/** `Tensor.uniform_(from_=0, to=1, *, generator=None)`: fills in place, uniform on [from_, to). */
export const uniform_ = op(
  signature("uniform_", [self, arg("from_", k.float, 0), arg("to", k.float, 1)], [generatorArg], {
    forms: ["method"],
  }),
  ({ input: t, from_, to, generator }): Tensor => {
    if (!(from_ <= to)) {
      throw new ArgumentError(
        `uniform_(): expected from_ <= to, got from_=${from_}, to=${to} (uniform_ expects to return a [from, to) range)`,
      );
    }
    const r = randomFill(
      "uniform_",
      t.shape,
      "uniform",
      t.isFloatingPoint() ? t.dtype : "float32",
      t.device,
      generator,
      false,
    );
    t.backend.copy(r.mul(to - from_).add(from_).view_, t.view_);
    t.bumpVersion();
    return t;
  },
);

/** `Tensor.normal_(mean=0, std=1, *, generator=None)`: fills in place from N(mean, std^2). */
export const normal_ = op(
  signature("normal_", [self, arg("mean", k.float, 0), arg("std", k.float, 1)], [generatorArg], {
    forms: ["method"],
  }),
  ({ input: t, mean, std, generator }): Tensor => {
    if (!(std >= 0)) throw new ArgumentError(`normal_(): argument "std" must be >= 0, got ${std}`);
    const r = randomFill(
      "normal_",
      t.shape,
      "normal",
      t.isFloatingPoint() ? t.dtype : "float32",
      t.device,
      generator,
      false,
    );
    t.backend.copy(r.mul(std).add(mean).view_, t.view_);
    t.bumpVersion();
    return t;
  },
);

// ---- the global generator ----

/** `manual_seed(seed)`: seed the global generator (restarting its stream); returns it. */
export const manualSeed = op(
  signature("manualSeed", [arg("seed", k.int)]),
  ({ seed }): Generator => defaultGenerator.manualSeed(seed),
);
/** `initial_seed()`: the global generator's seed. */
export const initialSeed = op(signature("initialSeed", []), (): number => defaultGenerator.initialSeed());
/** `seed()`: seed the global generator non-deterministically; returns the seed. */
export const seed = op(signature("seed", []), (): number => defaultGenerator.seed());

export type { NestedArray };
