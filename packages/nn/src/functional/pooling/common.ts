/** Shared by the pooling ops: input checks, output sizes, the 1-D and 3-D liftings, the options types. */
import { DTypeError, defaultIntDtype, fmtShape, ShapeError, type Tensor } from "@cinder/tensor";
import { pyTuple } from "../../util";
import { type GridSpec, ints, type Size2 } from "../windows";

/** @deprecated the options of `maxPool2d`; kept for the module classes' types. */
export interface MaxPool2dOptions {
  /** Default: kernelSize. */
  stride?: Size2 | null;
  /** Implicit -inf padding on both sides, at most half the kernel size. */
  padding?: Size2;
  dilation?: Size2;
  /** Use ceil instead of floor for the output size (windows may then start in the right padding's place). */
  ceilMode?: boolean;
  /** Also return the argmax positions (flat indices into each H*W plane; int32 inside, `indexResult` for the caller). */
  returnIndices?: boolean;
}

/** @deprecated the options of `avgPool2d`; kept for the module classes' types. */
export interface AvgPool2dOptions {
  /** Default: kernelSize. */
  stride?: Size2 | null;
  /** Implicit zero padding on both sides, at most half the kernel size. */
  padding?: Size2;
  ceilMode?: boolean;
  /** Count padding zeros in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead. */
  divisorOverride?: number | null;
}

/** Output size: an int, or a pair where null keeps the input's size. */
export type AdaptiveSize = number | readonly [number | null, number | null];

/** Leading dims ([N, C] or [C]) and plane [H, W] of a pooling input, with PyTorch's rank check. */
export function planes(op: string, x: Tensor): { lead: number[]; h: number; w: number } {
  if ((x.ndim !== 3 && x.ndim !== 4) || x.shape.slice(x.ndim - 3).some((d) => d === 0)) {
    throw new ShapeError(
      `${op}: expected a non-empty 3-D [C, H, W] or 4-D [N, C, H, W] input (dims other than the batch non-zero), got ${fmtShape(x.shape)}`,
    );
  }
  if (!x.isFloatingPoint()) throw new DTypeError(`${op}: expected a floating point input, got ${x.dtype}`);
  return { lead: x.shape.slice(0, -2), h: x.shape[x.ndim - 2], w: x.shape[x.ndim - 1] };
}

/** PyTorch's pooling_output_shape. */
export function poolOut(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let o = Math.floor((n + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  // the last window must start inside the input or the left padding
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

export interface PoolArgs {
  k: number[];
  s: number[];
  p: number[];
  d: number[];
  oh: number;
  ow: number;
}

/** stride=None (or PyTorch's empty list) means the kernel size: null for either. */
export function givenStride(stride: number | readonly number[] | null): number | readonly number[] | null {
  return stride === null || (Array.isArray(stride) && stride.length === 0) ? null : stride;
}

/** The kernel size, stride (default: the kernel size) and padding of an n-D pool, n ints each. */
export function kernelStridePad(
  op: string,
  n: number,
  kernelSize: number | readonly number[],
  stride: number | readonly number[] | null,
  padding: number | readonly number[],
): { k: number[]; s: number[]; p: number[] } {
  const k = ints(kernelSize, n, 1, 1, op, "kernelSize");
  const given = givenStride(stride);
  const s = given === null ? k : ints(given, n, 1, 1, op, "stride");
  const p = ints(padding, n, 0, 0, op, "padding");
  return { k, s, p };
}

/** The window options of 2-D max (and, with dilation 1, average) pooling. */
export interface PoolWindowOptions {
  stride: number | readonly number[] | null;
  padding: number | readonly number[];
  dilation: number | readonly number[];
  ceilMode: boolean;
}

export function poolArgs(
  op: string,
  x: Tensor,
  h: number,
  w: number,
  kernelSize: number | readonly number[],
  o: PoolWindowOptions,
): PoolArgs {
  const { k, s, p } = kernelStridePad(op, 2, kernelSize, o.stride, o.padding);
  const d = ints(o.dilation, 2, 1, 1, op, "dilation");
  if (p.some((pi, i) => pi > k[i] / 2)) {
    throw new RangeError(
      `${op}: padding should be at most half of the kernel size, got padding ${pyTuple(p)} and kernelSize ${pyTuple(k)}`,
    );
  }
  const ceil = o.ceilMode;
  const oh = poolOut(h, k[0], s[0], p[0], d[0], ceil);
  const ow = poolOut(w, k[1], s[1], p[1], d[1], ceil);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(
      `${op}: the calculated output size (${oh}, ${ow}) is too small for input ${fmtShape(x.shape)} with kernelSize ${pyTuple(k)}, stride ${pyTuple(s)}, padding ${pyTuple(p)} and dilation ${pyTuple(d)}`,
    );
  }
  return { k, s, p, d, oh, ow };
}

export function gridOf(h: number, w: number, a: PoolArgs): GridSpec {
  const { k, s, p, d, oh, ow } = a;
  return {
    c: 1,
    h,
    w,
    kh: k[0],
    kw: k[1],
    sh: s[0],
    sw: s[1],
    ph: p[0],
    pw: p[1],
    dh: d[0],
    dw: d[1],
    oh,
    ow,
  };
}

export type WithIndices<C> = C extends readonly [...infer H, infer O]
  ? O extends { returnIndices?: boolean }
    ? [...H, O & { returnIndices: true }]
    : never
  : never;

/** An int or a list of one int (PyTorch's `_single`) as an int. */
export function single(op: string, name: string, v: number | readonly number[]): number {
  const x = typeof v === "number" ? v : v.length === 1 ? v[0] : Number.NaN;
  if (!Number.isInteger(x)) {
    throw new TypeError(`${op}: ${name} must be an int or a list of one int, got ${JSON.stringify(v)}`);
  }
  return x;
}

/** [N, C, L] or [C, L] as [N, C, 1, L] / [C, 1, L], with the rank check. */
export function lift(op: string, x: Tensor): Tensor {
  if (x.ndim !== 2 && x.ndim !== 3) {
    throw new ShapeError(`${op}: expected a 2-D [C, L] or 3-D [N, C, L] input, got ${fmtShape(x.shape)}`);
  }
  return x.unsqueeze(-2);
}

// ---- three spatial dims: the 2-D ops over every depth, then the depth windows ----

/** [C, D, H, W] -> [1, C, D, H, W] with the rank check, and the sizes. */
export function volume(op: string, x: Tensor): Tensor {
  if ((x.ndim !== 4 && x.ndim !== 5) || x.shape.slice(x.ndim - 4).some((d) => d === 0)) {
    throw new ShapeError(
      `${op}: expected a non-empty 4-D [C, D, H, W] or 5-D [N, C, D, H, W] input, got ${fmtShape(x.shape)}`,
    );
  }
  return x.ndim === 5 ? x : x.unsqueeze(0);
}

/** [N, C, D, H, W] -> [N * D, C, H, W] (each depth a batch entry) and back. */
export function foldDepth(x: Tensor): Tensor {
  const [N, C, D, H, W] = x.shape;
  return x.permute([0, 2, 1, 3, 4]).reshape([N * D, C, H, W]);
}
export function unfoldDepth(y: Tensor, N: number, D: number): Tensor {
  const [, C, H, W] = y.shape;
  return y.reshape([N, D, C, H, W]).permute([0, 2, 1, 3, 4]);
}

/**
 * The depths read by each of `out` depth windows of `k` taps (stride s, padding p, dilation d) over D depths,
 * `pad` where a tap falls outside [0, D).
 */
export function depthTable(
  out: number,
  k: number,
  s: number,
  p: number,
  d: number,
  D: number,
  pad: number,
): number[] {
  const table: number[] = [];
  for (let o = 0; o < out; o++) {
    for (let t = 0; t < k; t++) {
      const j = o * s - p + t * d;
      table.push(j >= 0 && j < D ? j : pad);
    }
  }
  return table;
}

/** A result of `volume(op, input)` in the input's rank: [C, D, H, W] input drops the batch dim again. */
export function unvolume(input: Tensor, y: Tensor): Tensor {
  return input.ndim === 4 ? y.squeeze(0) : y;
}

/**
 * The returned indices in the backend's default integer (PyTorch's int64 on the CPU); the kernels and the backward
 * keep their int32 positions (a cast only when the caller asks for the indices).
 */
export function indexResult(pos: Tensor): Tensor {
  const dt = defaultIntDtype(pos.backend);
  return pos.dtype === dt ? pos : pos.to(dt);
}
