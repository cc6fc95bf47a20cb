/**
 * Helpers shared by the conformance cases (`@cinder/tensor/testing`). Framework-agnostic: a failed check throws
 * an Error naming what was compared. Results are always read back asynchronously (`dataAsync`), so the cases
 * run on devices that cannot read synchronously (WebGPU).
 */
import { getBackend } from "../backend";
import { type DType, defaultIntDtype, wrapInt } from "../dtype";
import { fmtShape } from "../errors";
import { roundBFloat16, roundFloat16, valuesOf } from "../half";
import { randomUniform, seedKey } from "../random";
import type { Tensor } from "../tensor";

/** Whether the device under test stores a dtype (WebGPU has no float64). */
export type Supports = (dtype: DType) => boolean;

/** float64 where the device has it, else float32: for data exact in both. */
export function widest(has: Supports): DType {
  return has("float64") ? "float64" : "float32";
}

/** The default integer dtype of `device`'s backend: int64 where it stores int64 (as PyTorch's), else int32. */
export function defaultInt(device: string): DType {
  return defaultIntDtype(getBackend(device));
}

/** One conformance check: `run(device)` rejects when the backend registered for `device` gets it wrong. */
export interface ConformanceCase {
  name: string;
  /** Runs the check on a registered device; rejects with what differs. */
  run(device: string): Promise<void>;
}

/** Relative and absolute tolerance of a comparison: `|actual - expected| <= atol + rtol * |expected|`. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

/** Per-dtype tolerances for results computed by one op; float32 is loose enough for a GPU's float32 math. */
export const TOL: Record<DType, Tolerance> = {
  float32: { rtol: 2e-5, atol: 1e-6 },
  float64: { rtol: 1e-10, atol: 1e-12 },
  int32: { rtol: 0, atol: 0 },
  uint8: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
  int8: { rtol: 0, atol: 0 },
  int16: { rtol: 0, atol: 0 },
  // one rounding of a 16-bit float: 2^-11 (float16), 2^-8 (bfloat16) relative
  float16: { rtol: 1e-3, atol: 1e-5 },
  bfloat16: { rtol: 8e-3, atol: 1e-5 },
  int64: { rtol: 0, atol: 0 },
  complex64: { rtol: 2e-5, atol: 1e-6 },
  complex128: { rtol: 1e-10, atol: 1e-12 },
};

export const EXACT: Tolerance = { rtol: 0, atol: 0 };

/** Throws unless `actual` matches `expected` elementwise (NaN matches NaN; infinities must match exactly). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  what: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} elements, got ${actual.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e))
      continue;
    throw new Error(`${what}: element ${i} is ${a}, expected ${e} (rtol ${tol.rtol}, atol ${tol.atol})`);
  }
}

export function assertShape(t: Tensor, shape: readonly number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${what}: expected shape ${fmtShape(shape)}, got ${fmtShape(t.shape)}`);
  }
}

export function assertDType(t: Tensor, dtype: DType, what: string): void {
  if (t.dtype !== dtype) throw new Error(`${what}: expected dtype ${dtype}, got ${t.dtype}`);
}

export function assert(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

/** Shape, dtype and values (read asynchronously) of `t` in one check. */
export async function expectTensor(
  t: Tensor,
  shape: readonly number[],
  dtype: DType,
  values: ArrayLike<number>,
  what: string,
  tol: Tolerance = TOL[dtype],
): Promise<void> {
  assertShape(t, shape, what);
  assertDType(t, dtype, what);
  assertClose(await logical(t), values, tol, what);
}

/** Deterministic pseudo-random test data (not the library RNG, so data does not depend on the code under test). */
export function data(n: number, seed: number, lo: number, hi: number, ints = false): number[] {
  const key = seedKey(seed);
  return Array.from({ length: n }, (_, i) => {
    const v = lo + randomUniform(key, i) * (hi - lo);
    return ints ? Math.floor(v) : v;
  });
}

export const SPECIAL = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2.5,
  -2.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

/** The value a slot of `dtype` holds for the JS number `v` (float32 rounding, integer wrap-around). */
export function roundTo(v: number, dtype: DType): number {
  if (dtype === "float32") return Math.fround(v);
  if (dtype === "float16") return roundFloat16(v);
  if (dtype === "bfloat16") return roundBFloat16(v);
  if (dtype === "float64") return v;
  return wrapInt(v, dtype);
}

export function toDtypeArray(values: readonly number[], dtype: DType): number[] {
  return values.map((v) => roundTo(v, dtype));
}

/** The elements of `t` in row-major order, read asynchronously. */
export async function logical(t: Tensor): Promise<number[]> {
  // (16-bit floats are read as their bits: their values are what cases compare)
  return Array.from(valuesOf(t.dtype, await t.dataAsync()));
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Reference reduction of row-major `xs` of `shape` over `dims` (sorted); the result is row-major over the kept dims. */
export function refReduceDims(
  xs: readonly number[],
  shape: readonly number[],
  dims: readonly number[],
  f: (run: number[]) => number,
): number[] {
  const kept = shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const outN = kept.reduce((p, d) => p * d, 1);
  const runs: number[][] = Array.from({ length: outN }, () => []);
  const ks = stridesOf(kept);
  const xsStrides = stridesOf(shape);
  for (let i = 0; i < xs.length; i++) {
    let j = 0;
    for (let k = 0; k < shape.length; k++) {
      const c = Math.floor(i / xsStrides[k]) % shape[k];
      if (!dims.includes(k)) j += c * ks[k];
    }
    runs[j].push(xs[i]);
  }
  return runs.map(f);
}
