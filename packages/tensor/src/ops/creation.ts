/**
 * Creation ops: from data, filled, ranges, identity/diagonal. Each takes PyTorch's signature
 * (`zeros(*size, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)`, ...):
 * positional arguments in PyTorch's order, keywords in a final options object. The parameters they share, and
 * the default device, are in creation-args.ts; the random ones (rand, randn, randint, randperm, ...) in sampling.ts.
 */
import type { Device } from "../backend";
import { getBackend } from "../backend";
import { type Complex, isComplexValue } from "../complex-value";
import type { DType, TypedArray } from "../dtype";
import {
  allocTypedArray,
  checkAllocation,
  DTYPE_INFO,
  dtypeOfTypedArray,
  isComplex,
  isFloat,
  isInt,
  realDtype,
  typedArrayCtor,
} from "../dtype";
import { DeviceError, fmtShape, ShapeError } from "../errors";
import { isHalf, roundBFloat16, roundFloat16 } from "../half";
import { fromBigInt64Array } from "../int64";
import { numel } from "../shape";
import { ArgumentError, arg, type Kind, k, op, overloads, Signature, self, signature } from "../signature";
import { Storage } from "../storage";
import { emptyTensor, type NestedArray, Tensor, tensorFromData } from "../tensor";
import {
  checkCount,
  checkRequiresGrad,
  checkSize,
  defaultIntOn,
  deviceArg,
  dtypeArg,
  FACTORY_KEYWORDS,
  type FactoryArgs,
  finish,
  getDefaultDevice,
  LIKE_KEYWORDS,
  type LikeArgs,
  memoryFormatArg,
  pinMemoryArg,
  requiresGradArg,
  resolveDtype,
  type SizeArgs,
  sizeArg,
} from "./creation-args";
import { copyOf } from "./kernels";
import { checkArangeFits, checkScalarFits } from "./range-check";

// ---- tensor(data) ----

/** What `tensor(data)` takes: a number, boolean, (nested) list, TypedArray (BigInt64Array too: int64) or Tensor. */
export type TensorData =
  | number
  | boolean
  | Complex
  | TypedArray
  | BigInt64Array
  | readonly TensorData[]
  | Tensor;
type Data = TensorData;

const isData = (v: unknown): boolean =>
  typeof v === "number" ||
  typeof v === "boolean" ||
  Array.isArray(v) ||
  isComplexValue(v) ||
  (ArrayBuffer.isView(v) && !(v instanceof DataView)) ||
  v instanceof Tensor;
// not a plain object, so `tensor({ data, dtype })` is the options form
const dataKind = {
  ...k.where(k.any, isData, "number, bool, (nested) list, TypedArray or Tensor"),
  takesObjects: false,
} as unknown as Kind<Data>;

/** Shape and flat values of nested arrays, with PyTorch's error for ragged input. */
function flatten(data: Data): { shape: number[]; values: Elem[]; typed?: TypedArray } {
  if (ArrayBuffer.isView(data)) return { shape: [data.length], values: [], typed: data as TypedArray };
  const shape: number[] = [];
  let probe: Data = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  if (ArrayBuffer.isView(probe)) shape.push((probe as TypedArray).length);
  const values: Elem[] = [];
  const walk = (d: Data, dim: number) => {
    if (dim === shape.length) {
      if (typeof d !== "number" && typeof d !== "boolean" && !isComplexValue(d)) {
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

/** An element of `tensor()`'s data: a number, a boolean, or a `{ re, im }` complex number. */
type Elem = number | boolean | Complex;

/** `intDtype`: the default integer of the target device (int64 where it stores int64, as PyTorch's; else int32). */
function inferDType(values: readonly Elem[], intDtype: DType): DType {
  if (values.length === 0) return "float32";
  if (values.some(isComplexValue)) return "complex64"; // PyTorch's default complex dtype
  if (values.every((v) => typeof v === "boolean")) return "bool";
  return values.every((v) => typeof v === "boolean" || Number.isInteger(v)) ? intDtype : "float32";
}

const INT_HINT: Partial<Record<DType, string>> = {
  int32: ': pass { dtype: "int64" } or { dtype: "float64" }',
  int64: " (Cinder stores int64 exactly, within ±(2^53 - 1))",
};

/**
 * PyTorch's linspace kernel on a 16-bit float: start, end, the step and each value in the dtype's arithmetic
 * (c10::Half/BFloat16 operators round every operation, the index included), so the same bits.
 */
function linspaceHalf(
  start: number,
  end: number,
  steps: number,
  dtype: "float16" | "bfloat16",
): Float64Array {
  const r = dtype === "float16" ? roundFloat16 : roundBFloat16;
  const [a, b] = [r(start), r(end)];
  const step = steps > 1 ? r(r(b - a) / r(steps - 1)) : 0;
  const half = Math.floor(steps / 2);
  const out = new Float64Array(steps);
  for (let i = 0; i < steps; i++)
    out[i] = i < half ? r(a + r(step * r(i))) : r(b - r(step * r(steps - 1 - i)));
  return out;
}

/** The array a creation op fills with numbers for `dtype`: a 16-bit float's values go as float64 (encoded on write). */
function hostArray(dtype: DType, n: number, what: string): TypedArray {
  return allocTypedArray(isHalf(dtype) ? "float64" : dtype, n, what);
}

function fillTyped(values: readonly Elem[], dtype: DType): TypedArray {
  if (isComplex(dtype)) return complexWords(values, dtype);
  if (values.some(isComplexValue)) {
    throw new TypeError(`tensor(): can't convert complex to ${dtype} (the data has { re, im } elements)`);
  }
  // numbers for a 16-bit float: tensorFromData rounds them (through float32, as PyTorch) to the dtype's bits
  if (isHalf(dtype)) return Float64Array.from(values, Number);
  const out = allocTypedArray(dtype, values.length, "tensor()");
  if (isInt(dtype)) {
    const { min: lo, max: hi } = DTYPE_INFO[dtype];
    for (let i = 0; i < values.length; i++) {
      const v = +values[i];
      // int64's doubles would keep ±inf: it (like any integer beyond the range) is an error
      if ((Number.isInteger(v) || (dtype === "int64" && !Number.isNaN(v))) && (v < lo || v > hi)) {
        throw new RangeError(
          `tensor(): value ${v} at flat index ${i} does not fit ${dtype}${INT_HINT[dtype] ?? ""}`,
        );
      }
      out[i] = Number.isNaN(v) ? 0 : Math.trunc(v);
    }
    return out;
  }
  for (let i = 0; i < values.length; i++) out[i] = dtype === "bool" ? +!!values[i] : +values[i];
  return out;
}

/** Complex elements as interleaved (re, im) words; a real number is (v, 0). */
function complexWords(values: readonly Elem[], dtype: DType): TypedArray {
  const out = allocTypedArray(realDtype(dtype), 2 * values.length, "tensor()");
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isComplexValue(v)) {
      out[2 * i] = v.re;
      out[2 * i + 1] = v.im;
    } else out[2 * i] = +v;
  }
  return out;
}

const TENSOR = signature(
  "tensor",
  [arg("data", dataKind)],
  [dtypeArg, deviceArg, requiresGradArg, pinMemoryArg],
);

/**
 * `tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False)`: a tensor holding a copy of
 * `data`: a number, boolean, (nested) array or TypedArray. Integers give int64 (int32 on a backend without int64),
 * other numbers float32, booleans
 * bool, a TypedArray its own dtype (a Tensor is copied and detached). JS cannot tell 1.0 from 1, so
 * `requiresGrad: true` without a dtype makes float32.
 */
export const tensor = op(TENSOR, ({ data, dtype, device, requiresGrad }): Tensor => {
  const dev = device ?? getDefaultDevice();
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
    // BigInt64Array values become numbers, each range-checked (int64 storage holds exact doubles)
    const big = typed instanceof BigInt64Array;
    const src = big ? fromBigInt64Array(typed, "tensor()") : typed;
    // the same type goes to the backend as is: its write copies it into the new storage (a Float64Array is int64's
    // storage type too, but its values must be truncated and checked first)
    // (a Uint16Array's numbers, not bits, for float16/bfloat16: the array type is the storage's, its meaning not)
    const asIs = big ? dt === "int64" : typed instanceof typedArrayCtor(dt) && dt !== "int64" && !isHalf(dt);
    arr = asIs ? src : fillTyped(Array.from(src), dt);
  } else {
    // JS cannot tell 1.0 from 1: a tensor that requires grad must be floating point, so infer float32 then
    dt = resolveDtype("tensor", dtype, requiresGrad ? "float32" : inferDType(values, defaultIntOn(dev)));
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
/**
 * `fromTypedArray(data, shape?)`, Cinder's `torch.from_numpy`: a TypedArray as a CPU tensor without copying.
 */
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
    const storage = new Storage(b, dtype, data.length, b.wrap(data));
    storage.external = true; // the user's array: fused programs must not defer reading it
    return new Tensor(storage, s);
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
  const t = emptyTensor(shape, dtype, device ?? getDefaultDevice(), `${fn}()`);
  if (value !== 0 && t.numel() > 0) t.backend.fill(t.view_, value);
  return finish(t, requiresGrad);
}

/** The op `fn(*size, *, ...)`: `size` filled with `value`, float32 unless a dtype is given. */
const bySize =
  (fn: string, value: number) =>
  ({ size, dtype, device, requiresGrad }: SizeArgs): Tensor =>
    filled(fn, checkSize(fn, size), value, resolveDtype(fn, dtype, "float32"), device, requiresGrad);

/** The op `fn(input, *, ...)`: the input's shape filled with `value`, on its dtype and device unless given. */
const likeInput =
  (fn: string, value: number) =>
  ({ input, dtype, device, requiresGrad }: LikeArgs): Tensor =>
    filled(
      fn,
      input.shape,
      value,
      resolveDtype(fn, dtype, input.dtype),
      device ?? input.device,
      requiresGrad,
    );

/** `zeros(*size, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const zeros = op(signature("zeros", [sizeArg], FACTORY_KEYWORDS), bySize("zeros", 0));

/** `ones(*size, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const ones = op(signature("ones", [sizeArg], FACTORY_KEYWORDS), bySize("ones", 1));

/**
 * `empty(*size, *, memory_format=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: uninitialised in PyTorch; zero-filled here.
 */
export const empty = op(
  signature("empty", [sizeArg], [memoryFormatArg, ...FACTORY_KEYWORDS]),
  bySize("empty", 0),
);

function dtypeOfValue(v: number | boolean, device: Device | null): DType {
  return typeof v === "boolean" ? "bool" : Number.isInteger(v) ? defaultIntOn(device) : "float32";
}

const FULL = signature("full", [arg("size", k.ints), arg("fillValue", k.scalar)], FACTORY_KEYWORDS);
/**
 * `full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)`:
 * the dtype is the fill value's (bool, int64 or int32 where the device has no int64, float32) unless given; `requiresGrad: true` makes an integer value
 * float32 (JS cannot tell 1.0 from 1).
 */
export const full = op(FULL, ({ size, fillValue, dtype, device, requiresGrad }): Tensor => {
  const dt = resolveDtype("full", dtype, requiresGrad ? "float32" : dtypeOfValue(fillValue, device));
  checkScalarFits("full", fillValue, dt, dtype === null);
  return filled("full", checkSize("full", size), +fillValue, dt, device, requiresGrad);
});

// ---- *_like ----

/** `zeros_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const zerosLike = op(
  signature("zerosLike", [self], LIKE_KEYWORDS, { forms: ["function"] }),
  likeInput("zerosLike", 0),
);

/** `ones_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const onesLike = op(
  signature("onesLike", [self], LIKE_KEYWORDS, { forms: ["function"] }),
  likeInput("onesLike", 1),
);

/** `empty_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const emptyLike = op(
  signature("emptyLike", [self], LIKE_KEYWORDS, { forms: ["function"] }),
  likeInput("emptyLike", 0),
);

const fullLikeSig = signature("fullLike", [self, arg("fillValue", k.scalar)], LIKE_KEYWORDS, {
  forms: ["function"],
});
/**
 * `full_like(input, fill_value, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: the input's dtype unless given (a float value in an integer tensor truncates, as PyTorch).
 */
export const fullLike = op(fullLikeSig, ({ input, fillValue, dtype, device, requiresGrad }): Tensor => {
  const dt = resolveDtype("fullLike", dtype, input.dtype);
  checkScalarFits("fullLike", fillValue, dt);
  return filled("fullLike", input.shape, +fillValue, dt, device ?? input.device, requiresGrad);
});

// ---- ranges ----

const ARANGE_END = signature("arange", [arg("end", k.float)], FACTORY_KEYWORDS);
const ARANGE = signature(
  "arange",
  [arg("start", k.float), arg("end", k.float), arg("step", k.float, 1)],
  FACTORY_KEYWORDS,
);

function arangeImpl(
  start: number,
  end: number,
  step: number,
  { dtype: asked, device, requiresGrad }: FactoryArgs,
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
  const inferred =
    [start, end, step].every(Number.isInteger) && !requiresGrad ? defaultIntOn(device) : "float32";
  const dtype = resolveDtype("arange", asked, inferred);
  checkRequiresGrad("arange", requiresGrad, dtype);
  checkAllocation(n, dtype, "arange()", [n]);
  checkArangeFits(start, step, n, dtype, asked === null);
  const arr = hostArray(dtype, n, "arange()");
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return finish(tensorFromData(arr, [n], dtype, device ?? getDefaultDevice(), "arange()"), requiresGrad);
}

/**
 * `arange(end, *, ...)` and `arange(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,
 * pin_memory=False, requires_grad=False)`: integer arguments give int64 (int32 on a backend without int64), others
 * float32.
 */
export const arange = overloads(
  op(ARANGE_END, (a): Tensor => arangeImpl(0, a.end, 1, a)),
  op(ARANGE, (a): Tensor => arangeImpl(a.start, a.end, a.step, a)),
);

const LINSPACE = signature(
  "linspace",
  [arg("start", k.float), arg("end", k.float), arg("steps", k.int)],
  FACTORY_KEYWORDS,
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
  const arr = hostArray(dtype, steps, "linspace()");
  // as PyTorch's kernel: start and end become the dtype first (checked; integers truncate), one value for 1 step
  checkScalarFits("linspace", start, dtype);
  checkScalarFits("linspace", end, dtype);
  const ends = hostArray(dtype, 2, "linspace()");
  ends[0] = start;
  ends[1] = end;
  // (int64's host array is a Float64Array, which keeps fractions: truncate as the typed integer arrays do)
  const [a, b] = isFloat(dtype) ? [start, end] : [Math.trunc(ends[0]), Math.trunc(ends[1])];
  const step = steps > 1 ? (b - a) / (steps - 1) : 0;
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) arr[i] = i < half ? a + step * i : b - step * (steps - 1 - i);
  if (steps === 1) arr[0] = a;
  if (isHalf(dtype)) arr.set(linspaceHalf(start, end, steps, dtype));
  return finish(
    tensorFromData(arr, [steps], dtype, device ?? getDefaultDevice(), "linspace()"),
    requiresGrad,
  );
});

// ---- identity and diagonals ----

const EYE = signature("eye", [arg("n", k.int), arg.opt("m", k.int)], FACTORY_KEYWORDS);
/** `eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const eye = op(EYE, ({ n, m, dtype: asked, device, requiresGrad }): Tensor => {
  checkCount("eye", "n", n);
  const cols = m ?? n;
  checkCount("eye", "m", cols);
  const dtype = resolveDtype("eye", asked, "float32");
  checkRequiresGrad("eye", requiresGrad, dtype);
  checkAllocation(n * cols, dtype, "eye()", [n, cols]);
  const arr = hostArray(dtype, n * cols, "eye()");
  for (let i = 0; i < Math.min(n, cols); i++) arr[i * cols + i] = 1;
  return finish(tensorFromData(arr, [n, cols], dtype, device ?? getDefaultDevice(), "eye()"), requiresGrad);
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

export type { NestedArray };
