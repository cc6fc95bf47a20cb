/**
 * Reading the tensor records of the PyTorch fixtures (tests/fixtures/seeds.json, fixes.json, written by
 * scripts/fixtures/*.py): their types, the decoding of "nan" / "inf" / "-inf" / "-0" to the IEEE values, and the
 * comparison tolerances by dtype (float32 within 1e-6 relative plus 1e-7 absolute, float64 within 1e-12 plus
 * 1e-15, ints and bools exactly).
 */

export type CinderDType = "float32" | "float64" | "int64" | "int32" | "uint8" | "bool";
export type Encoded = number | boolean | string | null | Encoded[];
export type Decoded = number | boolean | Decoded[];

export interface TensorRecord {
  values: Encoded;
  shape: number[];
  dtype: CinderDType;
  torch_dtype: string;
}

/** int64 values past ±(2^53 - 1), which Cinder's int64 (exact doubles) cannot hold: it throws instead. */
export function beyondInt64(r: TensorRecord): boolean {
  return (
    r.dtype === "int64" &&
    flatten(decode(r.values)).some((v) => typeof v === "number" && Math.abs(v) > Number.MAX_SAFE_INTEGER)
  );
}

export function decode(v: Encoded): Decoded {
  if (Array.isArray(v)) return v.map(decode);
  if (v === "nan") return Number.NaN;
  if (v === "inf") return Number.POSITIVE_INFINITY;
  if (v === "-inf") return Number.NEGATIVE_INFINITY;
  if (v === "-0") return -0;
  if (typeof v === "string" || v === null) throw new Error(`cannot decode ${JSON.stringify(v)}`);
  return v;
}

/** The elements of a nested value, in row-major order. */
export function flatten(v: Decoded): (number | boolean)[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v];
}

export const TOLERANCE: Record<CinderDType, { rtol: number; atol: number }> = {
  float32: { rtol: 1e-6, atol: 1e-7 },
  float64: { rtol: 1e-12, atol: 1e-15 },
  int64: { rtol: 0, atol: 0 },
  int32: { rtol: 0, atol: 0 },
  uint8: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
};

/** `actual` matches `expected` within `atol + rtol * |expected|`: NaN only NaN, infinities (and zero tolerances) exactly. */
export function close(actual: number, expected: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected) || (rtol === 0 && atol === 0)) return actual === expected;
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}
