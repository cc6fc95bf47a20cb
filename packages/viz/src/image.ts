/**
 * Image grids like torchvision.utils: `makeGrid(images, { nrow, padding, normalize })` tiles a batch into one
 * [3, H, W] tensor; `saveImage(images, "grid.png")` writes it as a real PNG (our own encoder, deflate by
 * fflate); `imageToPNG` gives the bytes (browsers too).
 */

import { fromTypedArray, type Tensor } from "@cinder/tensor";
import { readTensor, type TensorLike } from "./data";
import { writeFileAtomic } from "./io";
import { encodePNG } from "./png";

/** Options of `makeGrid()` and `saveImage()`, as torchvision's `make_grid`. */
export interface GridOptions {
  /** Images per row (default 8). */
  nrow?: number;
  /** Pixels between and around images (default 2). */
  padding?: number;
  /** Shift and scale to [0, 1] by the min and max of the batch (or `valueRange`). */
  normalize?: boolean;
  /** [min, max] used by `normalize` instead of the data's. */
  valueRange?: readonly [number, number];
  /** With `normalize`, normalise each image by its own min and max. */
  scaleEach?: boolean;
  /** Value of the padding pixels (default 0). */
  padValue?: number;
}

/** A batch of images in memory: B images of C channels, H x W, row-major [B, C, H, W]. */
interface Batch {
  data: Float64Array;
  b: number;
  c: number;
  h: number;
  w: number;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Shapes: [B, C, H, W] with C = 1 or 3, [B, H, W] (a batch of greyscale images: note torchvision would read a
 * 3-D tensor as one [C, H, W] image), or [H, W] (one image).
 */
function batchOf(data: Float64Array, shape: readonly number[]): Batch {
  if (shape.length === 4 && (shape[1] === 1 || shape[1] === 3)) {
    return { data, b: shape[0], c: shape[1], h: shape[2], w: shape[3] };
  }
  if (shape.length === 3) return { data, b: shape[0], c: 1, h: shape[1], w: shape[2] };
  if (shape.length === 2) return { data, b: 1, c: 1, h: shape[0], w: shape[1] };
  throw new Error(
    `viz: image batches must have shape [B, 1|3, H, W], [B, H, W] or [H, W]; got ${fmt(shape)}`,
  );
}

function normalizeRange(d: Float64Array, from: number, to: number, lo?: number, hi?: number): void {
  let a = lo ?? Number.POSITIVE_INFINITY;
  let b = hi ?? Number.NEGATIVE_INFINITY;
  if (lo === undefined || hi === undefined) {
    for (let i = from; i < to; i++) {
      if (lo === undefined && d[i] < a) a = d[i];
      if (hi === undefined && d[i] > b) b = d[i];
    }
  }
  const span = Math.max(b - a, 1e-5);
  for (let i = from; i < to; i++) d[i] = Math.min(1, Math.max(0, (d[i] - a) / span));
}

/** The grid as [3, H, W] float data (torchvision's layout: greyscale is repeated over three channels). */
function gridData(batch: Batch, opts: GridOptions): { data: Float32Array; h: number; w: number } {
  const { b, c, h, w } = batch;
  const data = Float64Array.from(batch.data);
  if (opts.normalize) {
    const [lo, hi] = opts.valueRange ?? [undefined, undefined];
    const per = c * h * w;
    if (opts.scaleEach) for (let k = 0; k < b; k++) normalizeRange(data, k * per, (k + 1) * per, lo, hi);
    else normalizeRange(data, 0, data.length, lo, hi);
  }
  const pad = opts.padding ?? 2;
  const nx = Math.min(opts.nrow ?? 8, b);
  const ny = Math.ceil(b / nx);
  const cellH = h + pad;
  const cellW = w + pad;
  const H = ny * cellH + pad;
  const W = nx * cellW + pad;
  const out = new Float32Array(3 * H * W).fill(opts.padValue ?? 0);
  for (let k = 0; k < b; k++) {
    const y0 = Math.floor(k / nx) * cellH + pad;
    const x0 = (k % nx) * cellW + pad;
    for (let ch = 0; ch < 3; ch++) {
      const src = (k * c + (c === 1 ? 0 : ch)) * h * w;
      const dst = ch * H * W;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) out[dst + (y0 + y) * W + x0 + x] = data[src + y * w + x];
      }
    }
  }
  return { data: out, h: H, w: W };
}

function checkBatch(b: Batch): Batch {
  if (b.b < 1 || b.h < 1 || b.w < 1) throw new Error("viz: cannot make a grid of an empty batch");
  return b;
}

/**
 * Tile a batch of images into one image, like torchvision.utils.make_grid: returns a float32 CPU tensor
 * [3, H, W]. Reads the input synchronously (CPU tensors; for WebGPU use `saveImage`, which reads
 * asynchronously, or read the tensor first).
 */
export function makeGrid(images: TensorLike | Tensor, opts: GridOptions = {}): Tensor {
  const batch = checkBatch(batchOf(Float64Array.from(images.data(), Number), images.shape));
  const g = gridData(batch, opts);
  return fromTypedArray(g.data, [3, g.h, g.w]);
}

/** 8-bit pixels of a [3, H, W] float grid in [0, 1]: greyscale when the three channels agree, else RGB. */
function toPixels(g: { data: Float32Array; h: number; w: number }): { px: Uint8Array; channels: 1 | 3 } {
  const n = g.h * g.w;
  const byte = (v: number) => Math.min(255, Math.max(0, Math.floor(v * 255 + 0.5)));
  let grey = true;
  for (let i = 0; i < n && grey; i++) grey = g.data[i] === g.data[n + i] && g.data[i] === g.data[2 * n + i];
  if (grey) return { px: Uint8Array.from(g.data.subarray(0, n), byte), channels: 1 };
  const px = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) px[i * 3 + c] = byte(g.data[c * n + i]);
  return { px, channels: 3 };
}

/**
 * PNG bytes of a batch (tiled with `makeGrid`'s options; a batch of one is written without padding unless
 * `padding` is given). Shapes as `makeGrid`: one RGB image is [1, 3, H, W]. Values are in [0, 1] (use
 * `normalize` otherwise), as torchvision's save_image expects.
 */
export function imageToPNG(
  data: ArrayLike<number>,
  shape: readonly number[],
  opts: GridOptions = {},
): Uint8Array {
  const flat = Float64Array.from(data, Number);
  const batch = batchOf(flat, shape);
  const single = batch.b === 1;
  const g = gridData(checkBatch(batch), single ? { ...opts, padding: opts.padding ?? 0 } : opts);
  const { px, channels } = toPixels(g);
  return encodePNG(px, g.w, g.h, channels);
}

/**
 * Write images as a PNG file, like torchvision.utils.save_image: a batch [B, C, H, W] / [B, H, W] is tiled
 * with `makeGrid` options; one image ([1, C, H, W], [1, H, W] or [H, W]) is written as is. Reads tensors on any
 * device (asynchronously). Atomic write; Node only.
 */
export async function saveImage(
  images: TensorLike | Tensor,
  path: string,
  opts: GridOptions = {},
): Promise<void> {
  const data = await readTensor(images);
  await writeFileAtomic(path, imageToPNG(data, images.shape, opts));
}
