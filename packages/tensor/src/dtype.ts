import { AllocationError } from "./errors";

/** Element types. Integers default to int32 (WebGPU has no 64-bit integers); bool is stored one byte per element. */
export type DType = "float32" | "float64" | "int32" | "uint8" | "bool";

/** Every dtype Cinder has. */
export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "uint8", "bool"];

/** `x.type()`'s names (PyTorch's legacy tensor type names). */
export const LEGACY_NAMES = {
  float32: "torch.FloatTensor",
  float64: "torch.DoubleTensor",
  int32: "torch.IntTensor",
  uint8: "torch.ByteTensor",
  bool: "torch.BoolTensor",
} as const satisfies Record<DType, string>;
/** The legacy type name of a dtype, e.g. "torch.FloatTensor" (`x.type()`). */
export type LegacyTypeName = (typeof LEGACY_NAMES)[DType];

/**
 * PyTorch's dtype names as constants: `torch.float32`, `torch.float` (= float32), `torch.float64`,
 * `torch.double`, `torch.int32`, `torch.int`, `torch.long` (= int32: Cinder has no int64), `torch.uint8` and
 * `torch.bool`. Each is the dtype string, so `x.type(torch.float)`, `x.to(torch.long)` and
 * `{ dtype: torch.float64 }` work and compare equal to `x.dtype`.
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
/** PyTorch's int64; Cinder's integers are int32 (WebGPU has no 64-bit integers). */
export const long = int32;
/** `torch.uint8`. */
export const uint8: "uint8" = "uint8";
/** `torch.bool`, stored one byte per element. */
export const bool: "bool" = "bool";

/** The arrays tensors are read into and created from (bool and uint8 use Uint8Array). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** The TypedArray type of a dtype. */
export type TypedArrayFor<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int32"
      ? Int32Array
      : Uint8Array;

const ctors = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

/** The TypedArray constructor of a dtype. */
export function typedArrayCtor(dtype: DType) {
  return ctors[dtype];
}

/**
 * A zero-filled TypedArray of `length` elements of `dtype`; throws an `AllocationError` naming the size when
 * it cannot be allocated.
 */
export function allocTypedArray(dtype: DType, length: number, what = "allocTypedArray"): TypedArray {
  checkAllocation(length, dtype, what);
  try {
    return new ctors[dtype](length);
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
  const bytes = n * ctors[dtype].BYTES_PER_ELEMENT;
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
  return ctors[dtype].BYTES_PER_ELEMENT;
}

/** Whether the dtype is float32 or float64. */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** Whether the dtype is int32 or uint8 (bool is neither). */
export function isInt(dtype: DType): boolean {
  return dtype === "int32" || dtype === "uint8";
}

/** Returns `dtype` if it names a dtype, else throws a TypeError listing them (with a hint for int64). */
export function checkDType(dtype: unknown): DType {
  if (typeof dtype === "string" && (DTYPES as readonly string[]).includes(dtype)) return dtype as DType;
  const hint = dtype === "int64" || dtype === "long" ? " (Cinder has no int64: integers are int32)" : "";
  throw new TypeError(`unknown dtype ${JSON.stringify(dtype)}: expected one of ${DTYPES.join(", ")}${hint}`);
}

/** The dtype of a TypedArray handed to `tensor()` / `fromTypedArray()`. */
export function dtypeOfTypedArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return "uint8";
  if (a instanceof Int8Array || a instanceof Int16Array || a instanceof Uint16Array) return "int32";
  throw new TypeError(
    `unsupported TypedArray ${a.constructor.name}: expected Float32Array, Float64Array, Int32Array or Uint8Array` +
      " (BigInt64Array data must be converted to Int32Array; Cinder has no int64)",
  );
}

// ---- type promotion (PyTorch's rules, with int32 standing in for int64) ----

const rank: Record<DType, number> = { bool: 0, uint8: 1, int32: 2, float32: 3, float64: 4 };

/** Promote two dtypes of dimensioned tensors (torch.promote_types). */
export function promoteTypes(a: DType, b: DType): DType {
  return rank[a] >= rank[b] ? a : b;
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
  let same = !(ops[0].kind === "number" && first === "float64");
  for (let i = 1; same && i < n; i++) {
    const o = ops[i];
    same = o.dtype === first && !(o.kind === "number" && first === "float64");
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
      const d = isFloat(o.dtype) ? "float32" : o.dtype;
      number = number === undefined ? d : promoteTypes(number, d);
    }
  }
  return combine(tensor, combine(scalarTensor, number)) ?? "float32";
}

function combine(higher: DType | undefined, lower: DType | undefined): DType | undefined {
  if (higher === undefined) return lower;
  if (lower === undefined || isFloat(higher)) return higher;
  if (higher === "bool" || isFloat(lower)) return promoteTypes(higher, lower);
  return higher;
}

/** dtype of a JS value for promotion: booleans are bool, integers int32, other numbers float32. */
export function dtypeOfNumber(v: number | boolean): DType {
  if (typeof v === "boolean") return "bool";
  return Number.isInteger(v) ? "int32" : "float32";
}
