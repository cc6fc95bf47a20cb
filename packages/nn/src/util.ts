/** Small helpers shared by layers and functional ops: Python-style formatting for `extraRepr`, option checks. */
import { arg, type Device, type DType, k, type Tensor } from "@cinder/tensor";

/** Where and how a layer creates its parameters (PyTorch's factory kwargs). */
export interface FactoryOptions {
  device?: Device;
  dtype?: DType;
}

/** A number as Python's `repr(float)` prints it: `1.0`, `0.1`, `1e-05`. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const a = Math.abs(x);
  if (x !== 0 && (a < 1e-4 || a >= 1e16)) {
    // Python: mantissa digits as short as possible, exponent with a sign and at least two digits
    const [m, e] = x.toExponential().split("e");
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (Number.isInteger(x)) return Object.is(x, -0) ? "-0.0" : `${x}.0`;
  return String(x);
}

/** A Python bool: `True` / `False`. */
export function pyBool(b: boolean): string {
  return b ? "True" : "False";
}

/** A Python tuple of ints: `(10,)`, `(2, 5)`. */
export function pyTuple(xs: readonly number[]): string {
  return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`;
}

/** Python's `repr(None | number)` for optional floats. */
export function pyOptFloat(x: number | null | undefined): string {
  return x === null || x === undefined ? "None" : pyFloat(x);
}

/** How a loss reduces its per-element values: "mean" (default), "sum" or "none". */
export type Reduction = "mean" | "sum" | "none";

export function checkReduction(r: string, what: string, extra: readonly string[] = []): void {
  const ok = ["mean", "sum", "none", ...extra];
  if (!ok.includes(r))
    throw new Error(`${what}: ${r} is not a valid value for reduction (expected one of ${ok.join(", ")})`);
}

export function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === "mean") return loss.mean();
  if (reduction === "sum") return loss.sum();
  return loss;
}

export function checkProbability(p: number, what: string): void {
  if (!(p >= 0 && p <= 1))
    throw new RangeError(`${what} probability has to be between 0 and 1, but got ${p}`);
}

/** `[2, 3]` for error messages. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** The first parameter of most functional ops: `input` (a plain parameter, not a tensor op's `self`). */
export const inputArg = arg("input", k.tensor);
/** A loss's `target`. */
export const targetArg = arg("target", k.tensor);
/** `inplace=False` (functional ops and layers). */
export const inplaceArg = arg("inplace", k.bool, false);

/** PyTorch's deprecated loss arguments `size_average=None, reduce=None`, declared in their positions. */
export const sizeAverageArg = arg.opt("sizeAverage", k.bool);
export const reduceArg = arg.opt("reduce", k.bool);
export const reductionArg = arg("reduction", k.oneOf("mean", "sum", "none"), "mean");

const legacyWarned = new Set<string>();
/**
 * The reduction a loss uses: `reduction`, unless the deprecated `sizeAverage`/`reduce` are given, which then
 * decide as in PyTorch (`_Reduction.legacy_get_string`: reduce false -> "none", else sizeAverage false -> "sum",
 * else "mean"), with PyTorch's deprecation warning, once per function.
 */
export function legacyReduction<R extends string>(
  sizeAverage: boolean | null,
  reduce: boolean | null,
  reduction: R,
  what: string,
): R | Reduction {
  if (sizeAverage === null && reduce === null) return reduction;
  const r: Reduction = reduce === false ? "none" : sizeAverage === false ? "sum" : "mean";
  if (!legacyWarned.has(what)) {
    legacyWarned.add(what);
    console.warn(
      `${what}: size_average and reduce args will be deprecated, please use reduction='${r}' instead.`,
    );
  }
  return r;
}
