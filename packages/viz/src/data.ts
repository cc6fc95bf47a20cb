/**
 * Reading plot inputs: JS arrays, TypedArrays and Cinder Tensors (or anything tensor-like: a `shape` and a
 * `data()` method). CPU tensors are read synchronously; tensors on devices that cannot be read synchronously
 * (WebGPU) start an asynchronous read at once and the figure waits for it in `await fig.ready()`,
 * `await fig.save()` and `await fig.toSVGAsync()`.
 */

import type { Tensor } from "@cinder/tensor";

/** What a plot accepts as data: the structural part of a Cinder `Tensor` that viz needs. */
export interface TensorLike {
  readonly shape: readonly number[];
  /** The values, read synchronously (CPU tensors). */
  data(): ArrayLike<number>;
  /** The values, read asynchronously (tensors on any device). */
  dataAsync?(): Promise<ArrayLike<number>>;
}

/** 1-D data: an array, a TypedArray, a nested [N, 1] array, or a 1-D / [N, 1] / [1, N] tensor. */
export type Series = ArrayLike<number> | readonly (readonly number[])[] | TensorLike | Tensor;

export function isTensorLike(v: unknown): v is TensorLike {
  return (
    typeof v === "object" &&
    v !== null &&
    Array.isArray((v as TensorLike).shape) &&
    typeof (v as TensorLike).data === "function"
  );
}

export function isSeries(v: unknown): v is Series {
  if (isTensorLike(v)) return true;
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return true;
  return false;
}

/**
 * A value that is known now or will be after an asynchronous device read. `get()` throws while pending;
 * `wait()` resolves once the value is there (or rethrows the read's error).
 */
export class Lazy<T> {
  private value: T | undefined;
  private error: unknown;
  private done: boolean;
  readonly pending: Promise<void> | undefined;

  constructor(value: T | Promise<T>) {
    if (value instanceof Promise) {
      this.done = false;
      this.pending = value.then(
        (v) => {
          this.value = v;
          this.done = true;
        },
        (e) => {
          this.error = e;
          this.done = true;
        },
      );
    } else {
      this.value = value;
      this.done = true;
    }
  }

  get ready(): boolean {
    return this.done && this.error === undefined;
  }

  get(): T {
    if (!this.done) {
      throw new Error(
        "viz: this figure holds tensors still being read from their device (e.g. webgpu); " +
          "use `await fig.toSVGAsync()` or `await fig.ready()` before `fig.toSVG()`",
      );
    }
    if (this.error !== undefined) throw this.error;
    return this.value as T;
  }

  async wait(): Promise<T> {
    if (this.pending) await this.pending;
    return this.get();
  }

  map<U>(f: (v: T) => U): Lazy<U> {
    if (this.done) {
      if (this.error !== undefined) throw this.error;
      return new Lazy(f(this.value as T));
    }
    return new Lazy((this.pending as Promise<void>).then(() => f(this.get())));
  }
}

function toFloat64(a: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
  return out;
}

/** The elements of a tensor-like in row-major order: synchronously where the device allows it. */
export function readTensor(t: TensorLike): Float64Array | Promise<Float64Array> {
  try {
    return toFloat64(t.data());
  } catch (e) {
    if (typeof t.dataAsync !== "function") throw e;
    return t.dataAsync().then(toFloat64);
  }
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function checkVectorShape(shape: readonly number[], what: string): void {
  const ok =
    shape.length === 1 ||
    (shape.length === 2 && (shape[1] === 1 || shape[0] === 1)) ||
    (shape.length === 0 && what.includes("scalar"));
  if (!ok) {
    throw new Error(
      `viz: ${what} expects 1-D data (a vector, [N, 1] or [1, N]); got a tensor of shape ${fmtShape(shape)}`,
    );
  }
}

/** Read 1-D data as float64, possibly lazily (see `Lazy`). */
export function readSeries(v: Series, what: string): Lazy<Float64Array> {
  if (isTensorLike(v)) {
    checkVectorShape(v.shape, what);
    return new Lazy(readTensor(v));
  }
  if (Array.isArray(v)) {
    if (v.length > 0 && Array.isArray(v[0])) {
      const rows = v as readonly (readonly number[])[];
      if (rows.some((r) => r.length !== 1) && rows.length !== 1) {
        throw new Error(
          `viz: ${what} expects 1-D data; got a nested array whose rows have ${rows[0].length} elements`,
        );
      }
      return new Lazy(toFloat64(rows.length === 1 ? rows[0] : rows.map((r) => r[0])));
    }
    return new Lazy(toFloat64(v as readonly number[]));
  }
  if (ArrayBuffer.isView(v) || (typeof v === "object" && v !== null && "length" in v)) {
    return new Lazy(toFloat64(v as ArrayLike<number>));
  }
  throw new TypeError(`viz: ${what} expects an array, a TypedArray or a tensor; got ${typeof v}`);
}

/** A number from a JS number or a one-element tensor (synchronously readable). */
export function readScalar(v: number | TensorLike, what: string): number {
  if (typeof v === "number") return v;
  if (isTensorLike(v)) {
    const d = v.data();
    if (d.length !== 1)
      throw new Error(
        `viz: ${what} expects a number or a one-element tensor; got shape ${fmtShape(v.shape)}`,
      );
    return Number(d[0]);
  }
  throw new TypeError(`viz: ${what} expects a number; got ${typeof v}`);
}

/** A 2-D grid of numbers (row-major) with its size and channel count (1 = grey, 3 = RGB, 4 = RGBA). */
export interface Image2D {
  readonly data: Float64Array;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3 | 4;
}

/**
 * Image input for `imshow`: a nested array `number[H][W]` (or `[H][W][3|4]`), or a tensor of shape [H, W],
 * [1, H, W], [3, H, W] (channels first, like torchvision) or [H, W, 3|4] (channels last).
 */
export type ImageInput =
  | readonly (readonly number[])[]
  | readonly (readonly (readonly number[])[])[]
  | TensorLike
  | Tensor;

function imageFromFlat(data: Float64Array, shape: readonly number[]): Image2D {
  if (shape.length === 2) return { data, height: shape[0], width: shape[1], channels: 1 };
  if (shape.length === 3) {
    const [a, b, c] = shape;
    if (a === 1) return { data, height: b, width: c, channels: 1 };
    if ((c === 3 || c === 4) && a !== 3) return { data, height: a, width: b, channels: c };
    if (a === 3 || a === 4) {
      // channels first -> channels last
      const out = new Float64Array(data.length);
      const hw = b * c;
      for (let ch = 0; ch < a; ch++) for (let i = 0; i < hw; i++) out[i * a + ch] = data[ch * hw + i];
      return { data: out, height: b, width: c, channels: a };
    }
  }
  throw new Error(
    `viz: an image must have shape [H, W], [1, H, W], [3, H, W] or [H, W, 3|4]; got ${fmtShape(shape)}`,
  );
}

export function readImage(v: ImageInput): Lazy<Image2D> {
  if (isTensorLike(v)) {
    const shape = [...v.shape];
    const data = new Lazy(readTensor(v));
    return data.map((d) => imageFromFlat(d, shape));
  }
  const rows = v as readonly unknown[];
  const h = rows.length;
  const first = rows[0] as readonly unknown[];
  const w = first?.length ?? 0;
  const px = first && Array.isArray(first[0]) ? (first[0] as unknown[]).length : 0;
  const shape = px ? [h, w, px] : [h, w];
  const flat = (rows as unknown[]).flat(2) as number[];
  if (flat.length !== h * w * Math.max(1, px))
    throw new Error("viz: image rows must all have the same length");
  return new Lazy(imageFromFlat(toFloat64(flat), shape));
}
