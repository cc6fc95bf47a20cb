/**
 * torch.nn.functional.interpolate: nearest, nearest-exact, (bi/tri)linear, bicubic and area resampling of
 * [N, C, *spatial] inputs, one spatial dim at a time (every mode is separable). Each dim is a sum of K gathered
 * taps (`indexSelect`) times per-output weights, with PyTorch's source-index rules (`area_pixel_compute_scale`,
 * `area_pixel_compute_source_index`, the A = -0.75 cubic convolution), so gradients follow by composition.
 */
import { arg, k, op, signature, type Tensor, tensor } from "@cinder/tensor";
import { inputArg } from "../util";

/** The modes of `F.interpolate` and `nn.Upsample`, as PyTorch's. */
export type InterpolateMode =
  | "nearest"
  | "nearest-exact"
  | "linear"
  | "bilinear"
  | "bicubic"
  | "trilinear"
  | "area";

/** The taps of a 1-D resampling: K index lists into the input and K weight lists (null: every weight 1). */
interface Taps {
  index: Int32Array[];
  weight: (Float64Array | null)[];
}

function sourceScale(inSize: number, outSize: number, alignCorners: boolean, scale: number | null): number {
  if (alignCorners) return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  return scale !== null && scale > 0 ? 1 / scale : inSize / outSize;
}

function taps(
  mode: InterpolateMode,
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  scale: number | null,
): Taps {
  const clamp = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
  if (mode === "nearest" || mode === "nearest-exact") {
    const s = scale !== null && scale > 0 ? 1 / scale : inSize / outSize;
    const off = mode === "nearest-exact" ? 0.5 : 0;
    const idx = Int32Array.from({ length: outSize }, (_, o) =>
      Math.min(Math.floor((o + off) * s), inSize - 1),
    );
    return { index: [idx], weight: [null] };
  }
  if (mode === "area") {
    // adaptive average pooling: window [floor(o * in / out), ceil((o + 1) * in / out))
    const starts = Array.from({ length: outSize }, (_, o) => Math.floor((o * inSize) / outSize));
    const ends = Array.from({ length: outSize }, (_, o) => Math.ceil(((o + 1) * inSize) / outSize));
    const K = Math.max(...starts.map((s, o) => ends[o] - s));
    const index: Int32Array[] = [];
    const weight: Float64Array[] = [];
    for (let j = 0; j < K; j++) {
      index.push(Int32Array.from(starts, (s, o) => (s + j < ends[o] ? s + j : s)));
      weight.push(Float64Array.from(starts, (s, o) => (s + j < ends[o] ? 1 / (ends[o] - s) : 0)));
    }
    return { index, weight };
  }
  const s = sourceScale(inSize, outSize, alignCorners, scale);
  const cubic = mode === "bicubic";
  const src = (o: number) => {
    if (alignCorners) return s * o;
    const r = s * (o + 0.5) - 0.5;
    return !cubic && r < 0 ? 0 : r;
  };
  if (!cubic) {
    const i0 = new Int32Array(outSize);
    const i1 = new Int32Array(outSize);
    const w0 = new Float64Array(outSize);
    const w1 = new Float64Array(outSize);
    for (let o = 0; o < outSize; o++) {
      const r = src(o);
      const f = Math.floor(r);
      i0[o] = Math.min(f, inSize - 1);
      i1[o] = i0[o] + (i0[o] < inSize - 1 ? 1 : 0);
      w1[o] = r - f;
      w0[o] = 1 - w1[o];
    }
    return { index: [i0, i1], weight: [w0, w1] };
  }
  const A = -0.75;
  const cc1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const cc2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  const index = [0, 1, 2, 3].map(() => new Int32Array(outSize));
  const weight = [0, 1, 2, 3].map(() => new Float64Array(outSize));
  for (let o = 0; o < outSize; o++) {
    const r = src(o);
    const f = Math.floor(r);
    const t = r - f;
    const c = [cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)];
    for (let j = 0; j < 4; j++) {
      index[j][o] = clamp(f - 1 + j);
      weight[j][o] = c[j];
    }
  }
  return { index, weight };
}

/** Resample `x` along `dim` to `outSize`. */
function resample(
  x: Tensor,
  dim: number,
  outSize: number,
  mode: InterpolateMode,
  alignCorners: boolean,
  scale: number | null,
): Tensor {
  const inSize = x.shape[dim];
  if (inSize === outSize && mode !== "bicubic" && (scale === null || scale === 1)) return x;
  const t = taps(mode, inSize, outSize, alignCorners, scale);
  const wshape = x.shape.map((_, i) => (i === dim ? outSize : 1));
  let y: Tensor | null = null;
  t.index.forEach((idx, j) => {
    let part = x.indexSelect(dim, tensor(idx, { device: x.device }));
    const w = t.weight[j];
    if (w) {
      const wt = tensor(x.dtype === "float64" ? w : Float32Array.from(w), {
        dtype: x.dtype,
        device: x.device,
      }).reshape(wshape);
      part = part.mul(wt);
    }
    y = y ? y.add(part) : part;
  });
  return y as unknown as Tensor;
}

const MODES_FOR_RANK: Record<string, readonly number[]> = {
  nearest: [3, 4, 5],
  "nearest-exact": [3, 4, 5],
  area: [3, 4, 5],
  linear: [3],
  bilinear: [4],
  bicubic: [4],
  trilinear: [5],
};

/** `(input, size=None, scale_factor=None, mode='nearest', align_corners=None)` of interpolate and upsample. */
const resizeParams = [
  inputArg,
  arg.opt("size", k.intOrInts),
  arg.opt("scaleFactor", k.or(k.float, k.floats)),
  arg(
    "mode",
    k.oneOf("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"),
    "nearest",
  ),
  arg.opt("alignCorners", k.bool),
] as const;

/**
 * `interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
 * recompute_scale_factor=None, antialias=False)`: resize the spatial dims of [N, C, L], [N, C, H, W] or
 * [N, C, D, H, W]. Give `size` (an int or one per spatial dim) or `scaleFactor` (a float or one per dim; the output
 * size is floor(in * scale) and, unless `recomputeScaleFactor`, the scale itself places the samples, as PyTorch).
 */
export const interpolate = op(
  signature("nn.functional.interpolate", [
    ...resizeParams,
    arg.opt("recomputeScaleFactor", k.bool),
    arg.unsupported("antialias", false, "anti-aliased downsampling is not implemented"),
  ]),
  (a): Tensor => {
    const { input, size, scaleFactor, mode } = a;
    const interpolating =
      mode === "linear" || mode === "bilinear" || mode === "bicubic" || mode === "trilinear";
    if (!interpolating && a.alignCorners !== null) {
      throw new Error(
        "interpolate(): align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear",
      );
    }
    const alignCorners = a.alignCorners ?? false;
    const n = input.ndim - 2;
    if (n < 1 || n > 3 || !MODES_FOR_RANK[mode].includes(input.ndim)) {
      throw new Error(
        n >= 1 && n <= 3
          ? `interpolate(): Got ${input.ndim}D input, but ${mode} mode needs ${MODES_FOR_RANK[mode].map((r) => `${r}D`).join(" or ")} input`
          : `interpolate(): Input Error: Only 3D, 4D and 5D input Tensors supported (got ${input.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got ${mode})`,
      );
    }
    const spatial = input.shape.slice(2);
    let outSize: number[];
    let scales: (number | null)[] = spatial.map(() => null);
    if (size !== null && scaleFactor !== null) {
      throw new Error("interpolate(): only one of size or scale_factor should be defined");
    }
    if (size !== null) {
      if (a.recomputeScaleFactor) {
        throw new Error("interpolate(): recompute_scale_factor is not meaningful with an explicit size.");
      }
      const s = typeof size === "number" ? spatial.map(() => size) : [...size];
      if (s.length !== n) {
        throw new Error(
          `interpolate(): Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of [${spatial.join(", ")}] and output size of [${s.join(", ")}]. Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.`,
        );
      }
      outSize = s;
    } else if (scaleFactor !== null) {
      const f = typeof scaleFactor === "number" ? spatial.map(() => scaleFactor) : [...scaleFactor];
      if (f.length !== n) {
        throw new Error(
          `interpolate(): Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of [${spatial.join(", ")}] and scale_factor of shape [${f.join(", ")}]. Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.`,
        );
      }
      outSize = spatial.map((d, i) => Math.floor(d * f[i]));
      // area always works from the output size; so does recompute_scale_factor=True
      if (!(mode === "area" || a.recomputeScaleFactor)) scales = f;
    } else {
      throw new Error("interpolate(): either size or scale_factor should be defined");
    }
    if (outSize.some((d) => d <= 0)) {
      throw new Error(
        `interpolate(): Input and output sizes should be greater than 0, but got input (${spatial.join(", ")}) and output (${outSize.join(", ")})`,
      );
    }
    let y = input;
    for (let i = 0; i < n; i++) y = resample(y, 2 + i, outSize[i], mode, alignCorners, scales[i]);
    return y === input ? input.clone() : y;
  },
);

const warnedUpsample = new Set<string>();
function deprecated(name: string): void {
  if (warnedUpsample.has(name)) return;
  warnedUpsample.add(name);
  console.warn(`nn.functional.${name} is deprecated. Use nn.functional.interpolate instead.`);
}

/** `upsample(input, size=None, scale_factor=None, mode='nearest', align_corners=None)`: deprecated `interpolate`. */
export const upsample = op(
  signature("nn.functional.upsample", resizeParams),
  ({ input, size, scaleFactor, mode, alignCorners }): Tensor => {
    deprecated("upsample");
    return interpolate(input, size, scaleFactor, mode, alignCorners);
  },
);

/** `upsample_nearest(input, size=None, scale_factor=None)`: deprecated `interpolate(..., mode='nearest')`. */
export const upsampleNearest = op(
  signature("nn.functional.upsampleNearest", [
    inputArg,
    arg.opt("size", k.intOrInts),
    arg.opt("scaleFactor", k.or(k.float, k.floats)),
  ]),
  ({ input, size, scaleFactor }): Tensor => {
    deprecated("upsample_nearest");
    return interpolate(input, size, scaleFactor, "nearest");
  },
);

/** `upsample_bilinear(input, size=None, scale_factor=None)`: deprecated `interpolate(..., mode='bilinear', align_corners=True)`. */
export const upsampleBilinear = op(
  signature("nn.functional.upsampleBilinear", [
    inputArg,
    arg.opt("size", k.intOrInts),
    arg.opt("scaleFactor", k.or(k.float, k.floats)),
  ]),
  ({ input, size, scaleFactor }): Tensor => {
    deprecated("upsample_bilinear");
    return interpolate(input, size, scaleFactor, "bilinear", true);
  },
);
