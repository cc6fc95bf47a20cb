/** Test helpers: hand-built views and a naive strided reader independent of the kernels' loop generator. */
import { allocTypedArray, type DType, type TypedArray, type View } from "@cinder/tensor";

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A contiguous view over a fresh array holding `data`. */
export function view(dtype: DType, data: ArrayLike<number>, shape: readonly number[] = [data.length]): View {
  const a = allocTypedArray(dtype, sizeOf(shape));
  for (let i = 0; i < a.length; i++) a[i] = data[i];
  return { handle: a, dtype, shape: [...shape], strides: stridesOf(shape), offset: 0 };
}

/** A zero-filled contiguous view. */
export function empty(dtype: DType, shape: readonly number[]): View {
  return {
    handle: allocTypedArray(dtype, sizeOf(shape)),
    dtype,
    shape: [...shape],
    strides: stridesOf(shape),
    offset: 0,
  };
}

/** Every multi-index of `shape` in row-major order. */
export function indices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const n = sizeOf(shape);
  for (let f = 0; f < n; f++) {
    const idx = new Array<number>(shape.length);
    let r = f;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = r % shape[d];
      r = Math.floor(r / shape[d]);
    }
    out.push(idx);
  }
  return out;
}

export function at(v: View, idx: readonly number[]): number {
  let p = v.offset;
  for (let d = 0; d < idx.length; d++) p += idx[d] * v.strides[d];
  return (v.handle as TypedArray)[p];
}

export function setAt(v: View, idx: readonly number[], value: number): void {
  let p = v.offset;
  for (let d = 0; d < idx.length; d++) p += idx[d] * v.strides[d];
  (v.handle as TypedArray)[p] = value;
}

/** The view's elements in row-major logical order, read naively. */
export function elements(v: View): number[] {
  return indices(v.shape).map((i) => at(v, i));
}

/**
 * A view of `shape` laid out with dims permuted by `perm` in memory, starting at `offset` inside a larger
 * buffer (padding around it holds `pad`). Values are given in logical row-major order.
 */
export function permutedView(
  dtype: DType,
  logical: ArrayLike<number>,
  shape: readonly number[],
  perm: readonly number[],
  offset = 0,
  pad = -999,
): View {
  const memShape = perm.map((p) => shape[p]);
  const memStrides = stridesOf(memShape);
  const strides = new Array<number>(shape.length);
  perm.forEach((p, k) => {
    strides[p] = memStrides[k];
  });
  const n = sizeOf(shape);
  const a = allocTypedArray(dtype, n + offset + 3);
  a.fill(pad);
  const v: View = { handle: a, dtype, shape: [...shape], strides, offset };
  indices(shape).forEach((idx, f) => {
    setAt(v, idx, logical[f]);
  });
  return v;
}

/** Broadcast `v` to `shape` by giving new or size-1 dims stride 0 (right-aligned, like the core does). */
export function expandTo(v: View, shape: readonly number[]): View {
  const lead = shape.length - v.shape.length;
  const strides = shape.map((s, d) => {
    if (d < lead) return 0;
    const src = v.shape[d - lead];
    if (src === s) return v.strides[d - lead];
    if (src === 1) return 0;
    throw new Error(`cannot expand ${v.shape} to ${shape}`);
  });
  return { ...v, shape: [...shape], strides };
}

/** Float32 rounding for comparisons when the dtype is float32. */
export function roundTo(dtype: DType, x: number): number {
  if (dtype === "float32") return Math.fround(x);
  if (dtype === "int32") return x | 0;
  if (dtype === "uint8" || dtype === "bool") return x & 255;
  return x;
}

/** Deterministic pseudo-random numbers for tests. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Same value, treating NaN as equal to NaN and distinguishing -0 from 0. */
export function same(a: number, b: number): boolean {
  return Object.is(a, b);
}
