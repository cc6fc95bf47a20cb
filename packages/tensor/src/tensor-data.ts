import type { Complex } from "./complex-value";
import { allocTypedArray, type DType, isComplex, type TypedArray } from "./dtype";
import { castToInt64, INT64_SAFE_MAX } from "./int64";
import type { NestedArray } from "./tensor";

/** Conversions of a tensor's flat data on its way in (creation, a device move) and out (`tolist()`). */

/** Real values as complex (re, im) words with imaginary parts 0. */
export function realToPairs(data: TypedArray, dtype: DType): TypedArray {
  const out = allocTypedArray(dtype === "complex64" ? "float32" : "float64", 2 * data.length);
  for (let i = 0; i < data.length; i++) out[2 * i] = data[i];
  return out;
}

/**
 * Values for an int64 tensor as it stores them: a Float64Array store keeps fractions (and would keep ±inf), so
 * creation ops' values (linspace's 2.5) are truncated and range-checked as a cast to int64 is; exact data as is.
 */
export function int64Values(data: TypedArray): TypedArray {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== Math.trunc(v) || v > INT64_SAFE_MAX || v < -INT64_SAFE_MAX || Object.is(v, -0)) {
      return Float64Array.from(data, castToInt64);
    }
  }
  return data;
}

export function int64ToInt32(data: TypedArray, device: string): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < -2147483648 || v > 2147483647) {
      throw new RangeError(
        `to(): int64 value ${v} at flat index ${i} does not fit int32, the integer type of ${device} (it has no int64)`,
      );
    }
    out[i] = v;
  }
  return out;
}

/** Elements in `data` of `dtype`: complex data holds two words (re, im) per element. */
export function elementsOf(data: TypedArray, dtype: DType): number {
  return isComplex(dtype) ? data.length / 2 : data.length;
}

export function nest(
  d: TypedArray,
  shape: readonly number[],
  dtype: DType,
): NestedArray<number | boolean | Complex> {
  if (isComplex(dtype)) {
    // interleaved (re, im) words: element i is { re: d[2i], im: d[2i + 1] }
    const pairs = Array.from({ length: d.length / 2 }, (_, i) => ({ re: d[2 * i], im: d[2 * i + 1] }));
    return nestValues(pairs, shape);
  }
  const bool = dtype === "bool";
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

function nestValues<T>(values: readonly T[], shape: readonly number[]): NestedArray<T> {
  if (shape.length === 0) return values[0];
  const rec = (dim: number, off: number): NestedArray<T>[] => {
    let step = 1;
    for (let k = dim + 1; k < shape.length; k++) step *= shape[k];
    return Array.from({ length: shape[dim] }, (_, i) =>
      dim === shape.length - 1 ? values[off + i] : rec(dim + 1, off + i * step),
    );
  };
  return rec(0, 0);
}
