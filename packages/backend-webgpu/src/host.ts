/** Host-side conversions between the core's TypedArrays and the 32-bit words every dtype is stored as. */
import { allocTypedArray, type DType, DTypeError, type TypedArray } from "@cinder/tensor";

export function checkDType(dtype: DType, what: string): void {
  if (dtype === "float64") {
    throw new DTypeError(
      `${what}: float64 is not supported on webgpu (WGSL has no 64-bit floats); use float32 ` +
        '(`t.float()`, or `{ dtype: "float32" }` at creation)',
    );
  }
}

/**
 * The data as 32-bit words: float32 and int32 as they are, int8 and int16 sign-extended to one i32 each, uint8 and
 * bool widened to one u32 each.
 */
export function toWords(dtype: DType, data: TypedArray): Float32Array | Int32Array | Uint32Array {
  if (dtype === "float32") return data instanceof Float32Array ? data : Float32Array.from(data);
  if (dtype === "int32") return data instanceof Int32Array ? data : Int32Array.from(data);
  // an Int8Array/Int16Array holds its values already wrapped: copying them sign-extends
  if (dtype === "int8" || dtype === "int16") return Int32Array.from(data);
  const out = new Uint32Array(data.length);
  if (dtype === "bool") for (let i = 0; i < data.length; i++) out[i] = data[i] !== 0 ? 1 : 0;
  else for (let i = 0; i < data.length; i++) out[i] = data[i] & 255;
  return out;
}

/** Words read back as a fresh TypedArray of `dtype`. */
export function fromWords(dtype: DType, words: ArrayBuffer, n: number): TypedArray {
  if (dtype === "float32") return new Float32Array(words, 0, n);
  if (dtype === "int32") return new Int32Array(words, 0, n);
  const out = allocTypedArray(dtype, n);
  // int8/int16 words are sign-extended i32s; the narrower array keeps their low bits, which are the value
  out.set(dtype === "int8" || dtype === "int16" ? new Int32Array(words, 0, n) : new Uint32Array(words, 0, n));
  return out;
}

/** A JS number converted to `dtype` with the cast semantics of `copy`, as a storage word. */
export function scalarWord(dtype: DType, value: number): number {
  if (dtype === "float32") return new Uint32Array(new Float32Array([value]).buffer)[0];
  if (dtype === "bool") return value !== 0 ? 1 : 0;
  if (!Number.isFinite(value))
    return dtype === "int32" && !Number.isNaN(value) ? (value > 0 ? 0x7fffffff : 0x80000000) : 0;
  const t = Math.trunc(value);
  if (dtype === "int32") return Math.min(Math.max(t, -2147483648), 2147483647) >>> 0;
  if (dtype === "uint8") return ((t % 256) + 256) % 256;
  // int8/int16 through int32 as the CPU's casts (x86 PyTorch's): out of its range is 0
  const w = t >= -2147483648 && t < 2147483648 ? t | 0 : 0;
  return (dtype === "int8" ? (w << 24) >> 24 : (w << 16) >> 16) >>> 0;
}
