import { AllocationError } from "./errors";
import { castToInt64 } from "./int64";

/**
 * Element types. Integers default to int32 (WebGPU has no 64-bit integers); bool is stored one byte per element.
 * int8 and int16 live on backends that declare them (`Backend.dtypes`): the CPU does, WebGPU does not.
 */
export type DType =
  | "float32"
  | "float64"
  | "int32"
  | "uint8"
  | "bool"
  | "int8"
  | "int16"
  | "int64"
  | "float16"
  | "bfloat16"
  | "complex64"
  | "complex128";

/** The arrays tensors are read into and created from (bool and uint8 use Uint8Array). */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array;

/** What Cinder knows about one dtype: every list of dtypes, cast, range and promotion rule reads this table. */
export interface DTypeInfo {
  /** The TypedArray constructor of its storage on the CPU. */
  readonly ctor:
    | Float32ArrayConstructor
    | Float64ArrayConstructor
    | Int32ArrayConstructor
    | Uint8ArrayConstructor
    | Int8ArrayConstructor
    | Int16ArrayConstructor
    // float16/bfloat16: the 16-bit patterns (half.ts converts)
    | Uint16ArrayConstructor;
  /**
   * Its category in type promotion: bool < integer < float < complex. A complex element is two words of `ctor`
   * (re, im interleaved): storage of n elements holds 2n words.
   */
  readonly kind: "bool" | "int" | "float" | "complex";
  /** Bits per element. */
  readonly bits: number;
  /** The smallest value (integers; bool 0; floats -inf). */
  readonly min: number;
  /** The largest value (integers; bool 1; floats inf). */
  readonly max: number;
  /** `x.type()`'s name (PyTorch's legacy tensor type name). */
  readonly legacy: string;
  /** PyTorch's C type name in its "cannot be converted to type X without overflow" errors. */
  readonly ctype: string;
  /** PyTorch's scalar type name in its "not implemented for 'X'" errors. */
  readonly torch: string;
}

/**
 * The dtype table, in `DTYPES` order. Adding a dtype here (and to `DType`) is what the core needs; backends list
 * the dtypes they store in `Backend.dtypes`.
 */
export const DTYPE_INFO = {
  float32: {
    ctor: Float32Array,
    kind: "float",
    bits: 32,
    min: -Infinity,
    max: Infinity,
    legacy: "torch.FloatTensor",
    ctype: "float",
    torch: "Float",
  },
  float64: {
    ctor: Float64Array,
    kind: "float",
    bits: 64,
    min: -Infinity,
    max: Infinity,
    legacy: "torch.DoubleTensor",
    ctype: "double",
    torch: "Double",
  },
  int32: {
    ctor: Int32Array,
    kind: "int",
    bits: 32,
    min: -(2 ** 31),
    max: 2 ** 31 - 1,
    legacy: "torch.IntTensor",
    ctype: "int",
    torch: "Int",
  },
  uint8: {
    ctor: Uint8Array,
    kind: "int",
    bits: 8,
    min: 0,
    max: 255,
    legacy: "torch.ByteTensor",
    ctype: "uint8_t",
    torch: "Byte",
  },
  bool: {
    ctor: Uint8Array,
    kind: "bool",
    bits: 8,
    min: 0,
    max: 1,
    legacy: "torch.BoolTensor",
    ctype: "bool",
    torch: "Bool",
  },
  int8: {
    ctor: Int8Array,
    kind: "int",
    bits: 8,
    min: -128,
    max: 127,
    legacy: "torch.CharTensor",
    ctype: "int8_t",
    torch: "Char",
  },
  int16: {
    ctor: Int16Array,
    kind: "int",
    bits: 16,
    min: -32768,
    max: 32767,
    legacy: "torch.ShortTensor",
    ctype: "int16_t",
    torch: "Short",
  },
  // exact integers in a Float64Array (int64.ts): min/max are the range stored exactly, not int64's +-2^63
  int64: {
    ctor: Float64Array,
    kind: "int",
    bits: 64,
    min: -Number.MAX_SAFE_INTEGER,
    max: Number.MAX_SAFE_INTEGER,
    legacy: "torch.LongTensor",
    ctype: "int64_t",
    torch: "Long",
  },
  complex64: {
    ctor: Float32Array,
    kind: "complex",
    bits: 64,
    min: -Infinity,
    max: Infinity,
    legacy: "torch.ComplexFloatTensor",
    ctype: "c10::complex<float>",
    torch: "ComplexFloat",
  },
  complex128: {
    ctor: Float64Array,
    kind: "complex",
    bits: 128,
    min: -Infinity,
    max: Infinity,
    legacy: "torch.ComplexDoubleTensor",
    ctype: "c10::complex<double>",
    torch: "ComplexDouble",
  },
  // 16-bit floats: storage holds the bits (half.ts); arithmetic runs in float32 and rounds, as PyTorch's CPU
  float16: {
    ctor: Uint16Array,
    kind: "float",
    bits: 16,
    min: -Infinity,
    max: Infinity,
    legacy: "torch.HalfTensor",
    ctype: "c10::Half",
    torch: "Half",
  },
  bfloat16: {
    ctor: Uint16Array,
    kind: "float",
    bits: 16,
    min: -Infinity,
    max: Infinity,
    legacy: "torch.BFloat16Tensor",
    ctype: "c10::BFloat16",
    torch: "BFloat16",
  },
} as const satisfies Record<DType, DTypeInfo>;

/** Every dtype Cinder has. */
export const DTYPES: readonly DType[] = Object.keys(DTYPE_INFO) as DType[];

/**
 * The dtypes a backend that does not list its own (`Backend.dtypes` absent) is taken to store: the ones every
 * backend had before int8 and int16 were added, so an older backend refuses the newer dtypes with a clear error.
 */
export const BASE_DTYPES: readonly DType[] = ["float32", "float64", "int32", "uint8", "bool"];

/** `x.type()`'s names (PyTorch's legacy tensor type names). */
export const LEGACY_NAMES = Object.fromEntries(DTYPES.map((d) => [d, DTYPE_INFO[d].legacy])) as {
  [D in DType]: (typeof DTYPE_INFO)[D]["legacy"];
};
/** The legacy type name of a dtype, e.g. "torch.FloatTensor" (`x.type()`). */
export type LegacyTypeName = (typeof DTYPE_INFO)[DType]["legacy"];

/**
 * PyTorch's dtype names as constants: `torch.float32`, `torch.float` (= float32), `torch.float64`,
 * `torch.double`, `torch.int32`, `torch.int`, `torch.int64`, `torch.long` (= int64), `torch.int16`,
 * `torch.short`, `torch.int8`, `torch.uint8` and `torch.bool`. Each is the dtype string, so
 * `x.type(torch.float)`, `x.to(torch.long)` and `{ dtype: torch.float64 }` work and compare equal to `x.dtype`.
 */
export const float32: "float32" = "float32";
/** `torch.float`: float32. */
export const float = float32;
/** `torch.float64`. */
export const float64: "float64" = "float64";
/** `torch.double`: float64. */
export const double = float64;
/** `torch.int32`. */
export const int32: "int32" = "int32";
/** `torch.int`: int32. */
export const int = int32;
/** `torch.int64`: exact integers up to 2^53 - 1 in magnitude, on backends that store it (the CPU). */
export const int64: "int64" = "int64";
/** `torch.long`: int64. */
export const long = int64;
/** `torch.int16`. */
export const int16: "int16" = "int16";
/** `torch.short`: int16. */
export const short = int16;
/** `torch.int8`. */
export const int8: "int8" = "int8";
/** `torch.uint8`. */
export const uint8: "uint8" = "uint8";
/** `torch.bool`, stored one byte per element. */
export const bool: "bool" = "bool";
/** `torch.float16`: IEEE half precision, stored as its 16 bits (a Uint16Array on the CPU). */
export const float16: "float16" = "float16";
/** `torch.half`: float16. */
export const half = float16;
/** `torch.bfloat16`: the upper 16 bits of a float32 (float32's range, 8 bits of mantissa). */
export const bfloat16: "bfloat16" = "bfloat16";
/** `torch.complex64`: (re, im) float32 pairs. */
export const complex64: "complex64" = "complex64";
/** `torch.cfloat`: complex64. */
export const cfloat = complex64;
/** `torch.complex128`: (re, im) float64 pairs. */
export const complex128: "complex128" = "complex128";
/** `torch.cdouble`: complex128. */
export const cdouble = complex128;

/** The TypedArray type of a dtype. */
export type TypedArrayFor<D extends DType> = InstanceType<(typeof DTYPE_INFO)[D]["ctor"]>;

/** The TypedArray constructor of a dtype. */
export function typedArrayCtor(dtype: DType): DTypeInfo["ctor"] {
  return DTYPE_INFO[dtype].ctor;
}

/**
 * A zero-filled TypedArray of `length` elements of `dtype`; throws an `AllocationError` naming the size when
 * it cannot be allocated.
 */
export function allocTypedArray(dtype: DType, length: number, what = "allocTypedArray"): TypedArray {
  checkAllocation(length, dtype, what);
  try {
    return new DTYPE_INFO[dtype].ctor(length);
  } catch (e) {
    throw allocationFailed(length, dtype, what, undefined, e);
  }
}

/**
 * The most elements one storage holds: V8's TypedArray limit (2^32 on 64-bit hosts). Checked by the core before
 * any backend allocates, so a huge shape gives an error naming it, never a JS "Invalid typed array length".
 */
export const MAX_NUMEL = 2 ** 32;

function fmtBytes(b: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
  let i = 0;
  let v = b;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${b} bytes` : `${b} bytes, ${+v.toPrecision(3)} ${units[i]}`;
}

function describeAllocation(n: number, dtype: DType, what: string, shape?: readonly number[]): string {
  const bytes = n * itemSize(dtype);
  const of = shape ? `a tensor of shape [${shape.join(", ")}]` : "a storage";
  return `${what ? `${what}: ` : ""}cannot allocate ${of}: ${n} elements of ${dtype} = ${fmtBytes(bytes)}`;
}

/** Throw an `AllocationError` naming the call, shape, element count and bytes when `n` elements cannot be allocated. */
export function checkAllocation(n: number, dtype: DType, what: string, shape?: readonly number[]): void {
  if (Number.isSafeInteger(n) && n >= 0 && n <= MAX_NUMEL) return;
  if (!(n >= 0)) throw new AllocationError(`${what ? `${what}: ` : ""}cannot allocate ${n} elements`);
  throw new AllocationError(
    `${describeAllocation(n, dtype, what, shape)}; one storage holds at most ${MAX_NUMEL} elements`,
  );
}

/** The error for an allocation the host refused (out of memory), replacing the engine's RangeError. */
export function allocationFailed(
  n: number,
  dtype: DType,
  what: string,
  shape: readonly number[] | undefined,
  cause: unknown,
): Error {
  if (!(cause instanceof RangeError)) return cause as Error;
  return new AllocationError(
    `${describeAllocation(n, dtype, what, shape)}: out of memory (${(cause as Error).message})`,
    { cause },
  );
}

/** Bytes per element (`x.element_size()`). */
export function itemSize(dtype: DType): number {
  return DTYPE_INFO[dtype].bits / 8;
}

/** Whether the dtype is a floating-point one (float32, float64, float16, bfloat16). */
export function isFloat(dtype: DType): boolean {
  return DTYPE_INFO[dtype].kind === "float";
}

/** Whether the dtype is a complex one (complex64, complex128; `x.is_complex()`). */
export function isComplex(dtype: DType): boolean {
  return DTYPE_INFO[dtype].kind === "complex";
}

/** The real dtype of a complex dtype's parts (complex64 -> float32), or the dtype itself. */
export function realDtype(dtype: DType): DType {
  return dtype === "complex64" ? "float32" : dtype === "complex128" ? "float64" : dtype;
}

/** The complex dtype with parts of float dtype `dtype` (float64 -> complex128; other dtypes -> complex64). */
export function complexDtype(dtype: DType): DType {
  return dtype === "float64" || dtype === "complex128" ? "complex128" : "complex64";
}

/** Whether the dtype is an integer one (int64, int32, int16, int8, uint8; bool is neither). */
export function isInt(dtype: DType): boolean {
  return DTYPE_INFO[dtype].kind === "int";
}

/**
 * `v` as a slot of integer `dtype` holds it after a TypedArray store: truncated toward zero and wrapped modulo
 * 2^bits (NaN and ±inf give 0); bool is `v != 0`.
 */
export function wrapInt(v: number, dtype: DType): number {
  const { bits, min, kind } = DTYPE_INFO[dtype];
  if (kind === "bool") return v !== 0 ? 1 : 0;
  if (dtype === "int64") return castToInt64(v); // exact or an error: no wrap-around past 2^53 - 1
  if (bits === 32) return v | 0;
  const sh = 32 - bits;
  return min < 0 ? (v << sh) >> sh : (v << sh) >>> sh;
}

/** The dtypes backend `b` stores: its own list, or `BASE_DTYPES` when it does not give one. */
export function backendDTypes(b: { readonly dtypes?: readonly DType[] }): readonly DType[] {
  return b.dtypes ?? BASE_DTYPES;
}

/**
 * The default integer dtype on backend `b`: PyTorch's int64 where `b` stores it (the CPU), else int32 (WebGPU,
 * backends that do not list int64). It is the dtype of `tensor([1, 2])`, `arange(5)`, index results (argmax, sort's
 * indices, nonzero, ...) and sums of integers.
 */
export function defaultIntDtype(b: { readonly dtypes?: readonly DType[] }): DType {
  return backendDTypes(b).includes("int64") ? "int64" : "int32";
}

/** `dtype` as backend `b` holds a default integer: int64 becomes int32 where `b` has no int64. */
export function intOn(dtype: DType, b: { readonly dtypes?: readonly DType[] }): DType {
  return dtype === "int64" ? defaultIntDtype(b) : dtype;
}

/** Returns `dtype` if it names a dtype, else throws a TypeError listing them (with a hint for int64). */
export function checkDType(dtype: unknown): DType {
  if (typeof dtype === "string" && (DTYPES as readonly string[]).includes(dtype)) return dtype as DType;
  const hint =
    dtype === "long" ? ' (torch.long is "int64")' : dtype === "half" ? ' (torch.half is "float16")' : "";
  throw new TypeError(`unknown dtype ${JSON.stringify(dtype)}: expected one of ${DTYPES.join(", ")}${hint}`);
}

/** The dtype of a TypedArray handed to `tensor()` / `fromTypedArray()`. */
export function dtypeOfTypedArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return "uint8";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Uint16Array) return "int32";
  if (a instanceof BigInt64Array) return "int64";
  throw new TypeError(
    `unsupported TypedArray ${a.constructor.name}: expected Float32Array, Float64Array, Int32Array, Int16Array, Int8Array or Uint8Array` +
      " or BigInt64Array",
  );
}

// ---- type promotion (PyTorch's rules, with int32 standing in for int64) ----

const KIND_RANK = { bool: 0, int: 1, float: 2, complex: 3 } as const;

/**
 * Promote two dtypes of dimensioned tensors (torch.promote_types): the higher category wins (bool < integer <
 * float); within one, the wider type, except that uint8 with a signed integer of 8 bits gives int16.
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  const ia = DTYPE_INFO[a];
  const ib = DTYPE_INFO[b];
  if (ia.kind !== ib.kind) {
    const [hi, lo] = KIND_RANK[ia.kind] > KIND_RANK[ib.kind] ? [a, b] : [b, a];
    // complex64 with float64 keeps float64's precision: complex128
    return hi === "complex64" && lo === "float64" ? "complex128" : hi;
  }
  if (ia.kind === "int" && ia.min < 0 !== ib.min < 0 && ia.bits === ib.bits) return "int16"; // uint8 + int8
  if (ia.kind === "float" && ia.bits === ib.bits) return "float32"; // float16 + bfloat16: neither holds the other
  return ia.bits >= ib.bits ? a : b;
}

/** One operand of an elementwise op: a dimensioned tensor, a 0-dim tensor, or a JS number/boolean. */
export interface PromotionOperand {
  dtype: DType;
  kind: "tensor" | "scalar-tensor" | "number";
}

/**
 * torch.result_type: dimensioned tensors dominate 0-dim tensors, which dominate JS numbers, unless the lower
 * class is of a higher category (bool < integer < float). A float JS number counts as the default float dtype.
 * Operands that all have one dtype give that dtype (every rule below keeps it), with no further work.
 */
export function resultType(ops: readonly PromotionOperand[]): DType {
  const n = ops.length;
  if (n === 0) return "float32";
  const first = ops[0].dtype;
  // a float64 (complex128) JS number counts as float32 (complex64): no shortcut
  const wide = first === "float64" || first === "complex128" || first === "float16" || first === "bfloat16";
  let same = !(ops[0].kind === "number" && wide);
  for (let i = 1; same && i < n; i++) {
    const o = ops[i];
    same = o.dtype === first && !(o.kind === "number" && wide);
  }
  if (same) return first;
  let tensor: DType | undefined;
  let scalarTensor: DType | undefined;
  let number: DType | undefined;
  for (let i = 0; i < n; i++) {
    const o = ops[i];
    if (o.kind === "tensor") tensor = tensor === undefined ? o.dtype : promoteTypes(tensor, o.dtype);
    else if (o.kind === "scalar-tensor")
      scalarTensor = scalarTensor === undefined ? o.dtype : promoteTypes(scalarTensor, o.dtype);
    else {
      const d = isFloat(o.dtype) ? "float32" : isComplex(o.dtype) ? "complex64" : o.dtype;
      number = number === undefined ? d : promoteTypes(number, d);
    }
  }
  return combine(tensor, combine(scalarTensor, number)) ?? "float32";
}

function combine(higher: DType | undefined, lower: DType | undefined): DType | undefined {
  if (higher === undefined) return lower;
  if (lower === undefined || isComplex(higher)) return higher;
  // a complex operand of a lower class keeps a float's precision (float64 tensor + complex64 0-dim: complex128)
  if (isComplex(lower)) return isFloat(higher) ? complexDtype(higher) : lower;
  if (isFloat(higher)) return higher;
  if (higher === "bool" || isFloat(lower)) return promoteTypes(higher, lower);
  return higher;
}

/**
 * dtype of a JS value for promotion: booleans are bool, integers int64 (PyTorch's Python int; `intOn` makes it
 * int32 on a backend without int64), other numbers float32.
 */
export function dtypeOfNumber(v: number | boolean): DType {
  if (typeof v === "boolean") return "bool";
  return Number.isInteger(v) ? "int64" : "float32";
}
