/** Max unpooling (1-D to 3-D) and fractional max pooling (2-D, 3-D). */
import {
  arg,
  type Calls,
  fmtShape,
  k,
  noGrad,
  op,
  rand,
  ShapeError,
  signature,
  type Tensor,
  tensor,
  zeros,
} from "@cinder/tensor";
import { inputArg } from "../../util";
import { ints } from "../windows";
import { indexResult, single, type WithIndices } from "./common";

// ---- max unpooling ----

/** PyTorch's `_unpool_output_size`: the default (in - 1) * stride + kernel - 2 * padding, or a checked `outputSize`. */
function unpoolSize(
  op: string,
  input: Tensor,
  k: number[],
  s: number[],
  p: number[],
  outputSize: readonly number[] | null,
): number[] {
  const n = k.length;
  const spatial = input.shape.slice(-n);
  const dflt = spatial.map((d, i) => (d - 1) * s[i] + k[i] - 2 * p[i]);
  if (outputSize === null) return dflt;
  const o = outputSize.length === n + 2 ? outputSize.slice(2) : [...outputSize];
  if (o.length !== n) {
    throw new Error(
      `${op}: output_size should be a sequence containing ${n} or ${n + 2} elements, but it has a length of '${outputSize.length}'`,
    );
  }
  o.forEach((d, i) => {
    const lo = dflt[i] - s[i];
    const hi = dflt[i] + s[i];
    if (!(lo < d && d < hi)) {
      throw new Error(
        `${op}: invalid output_size "[${o.join(", ")}]" (dim ${i} must be between ${lo} and ${hi})`,
      );
    }
  });
  return o;
}

/** Scatter each value of [...lead, ...in] to its flat plane position in zeros of [...lead, ...out]. */
function unpool(op: string, input: Tensor, indices: Tensor, out: number[]): Tensor {
  if (indices.isFloatingPoint())
    throw new TypeError(`${op}: expected an integer (int64) indices tensor, got ${indices.dtype}`);
  if (indices.ndim !== input.ndim || indices.shape.some((d, i) => d !== input.shape[i])) {
    throw new Error(
      `${op}: Expected shape of indices to be same as that of the input tensor (${fmtShape(input.shape)}) but got indices tensor with shape: ${fmtShape(indices.shape)}`,
    );
  }
  const n = out.length;
  const lead = input.shape.slice(0, input.ndim - n);
  const B = lead.reduce((a, b) => a * b, 1);
  const P = out.reduce((a, b) => a * b, 1);
  const flat = input.reshape([B, -1]);
  const idx = indices.reshape([B, -1]).to("int32");
  if (idx.backend.readSync && idx.numel() > 0) {
    const lo = idx.min().item() as number;
    const hi = idx.max().item() as number;
    if (lo < 0 || hi >= P) {
      throw new RangeError(
        `${op}: Found an invalid max index: ${lo < 0 ? lo : hi} (output volumes are of size ${out.join("x")})`,
      );
    }
  }
  return zeros([B, P], { dtype: input.dtype, device: input.device })
    .scatter(1, idx, flat)
    .reshape([...lead, ...out]);
}

const unpoolParams = [
  inputArg,
  arg("indices", k.tensor),
  arg("kernelSize", k.intOrInts),
  arg.opt("stride", k.intOrInts),
  arg("padding", k.intOrInts, 0),
  arg.opt("outputSize", k.ints),
] as const;

/** maxUnpool2d/3d: the rank check, then n ints each of kernel size, stride (default: the kernel size) and padding. */
function unpoolNd(
  n: 2 | 3,
  a: {
    input: Tensor;
    indices: Tensor;
    kernelSize: number | readonly number[];
    stride: number | readonly number[] | null;
    padding: number | readonly number[];
    outputSize: readonly number[] | null;
  },
): Tensor {
  const op = `maxUnpool${n}d`;
  if (a.input.ndim !== n + 1 && a.input.ndim !== n + 2) {
    throw new ShapeError(
      `${op}: Input to max_unpooling${n}d should be a ${n + 1}d or ${n + 2}d Tensor, but got ${fmtShape(a.input.shape)}`,
    );
  }
  const k = ints(a.kernelSize, n, 1, 1, op, "kernelSize");
  const s = a.stride === null ? k : ints(a.stride, n, 1, 1, op, "stride");
  const p = ints(a.padding, n, 0, 0, op, "padding");
  return unpool(op, a.input, a.indices, unpoolSize(op, a.input, k, s, p, a.outputSize));
}

/**
 * `max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None)`: the partial inverse of
 * `maxPool2d`: each value goes back to the flat plane position `indices` gives (as returned with `returnIndices`),
 * zeros elsewhere.
 */
export const maxUnpool2d = op(
  signature("nn.functional.maxUnpool2d", unpoolParams),
  (a): Tensor => unpoolNd(2, a),
);

/** `max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None)` over [N, C, L] (or [C, L]). */
export const maxUnpool1d = op(signature("nn.functional.maxUnpool1d", unpoolParams), (a): Tensor => {
  const op = "maxUnpool1d";
  if (a.input.ndim !== 2 && a.input.ndim !== 3) {
    throw new ShapeError(
      `${op}: expected a 2-D [C, L] or 3-D [N, C, L] input, got ${fmtShape(a.input.shape)}`,
    );
  }
  const k = [single(op, "kernelSize", a.kernelSize)];
  const s = a.stride === null ? k : [single(op, "stride", a.stride)];
  const p = [single(op, "padding", a.padding)];
  return unpool(op, a.input, a.indices, unpoolSize(op, a.input, k, s, p, a.outputSize));
});

/** `max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None)` */
export const maxUnpool3d = op(
  signature("nn.functional.maxUnpool3d", unpoolParams),
  (a): Tensor => unpoolNd(3, a),
);

// ---- fractional max pooling ----

/** ATen's `generate_intervals`: window starts from one sample u in [0, 1), computed in the input's precision. */
function fractionalStarts(u: number, n: number, out: number, k: number, f32: boolean): number[] {
  const r = f32 ? Math.fround : (v: number) => v;
  const seq = new Array<number>(out).fill(0);
  if (out > 1) {
    const alpha = r(r(n - k) / r(out - 1));
    for (let i = 0; i < out - 1; i++) seq[i] = Math.trunc(r(r(i + u) * alpha)) - Math.trunc(r(u * alpha));
  }
  if (out > 0) seq[out - 1] = n - k;
  return seq;
}

/**
 * The max over pseudo-random windows (Graham's fractional max pooling), ATen's rules: per plane, one sample per
 * spatial dim (given as `samples` [N, C, dims], or drawn from the seeded generator).
 */
function fractionalMax(
  op: string,
  spatial: 2 | 3,
  a: {
    input: Tensor;
    kernelSize: number | readonly number[];
    outputSize: number | readonly number[] | null;
    outputRatio: number | readonly number[] | null;
    _randomSamples: Tensor | null;
  },
): [Tensor, Tensor] {
  const { input, kernelSize, outputSize, outputRatio, _randomSamples: samplesArg } = a;
  const batched = input.ndim === spatial + 2;
  if (!batched && input.ndim !== spatial + 1) {
    throw new ShapeError(
      `${op}: expected a ${spatial + 1}-D or ${spatial + 2}-D input, got ${fmtShape(input.shape)}`,
    );
  }
  const x = batched ? input : input.unsqueeze(0);
  const [N, C] = x.shape;
  const dims = x.shape.slice(2);
  const kk = ints(kernelSize, spatial, 1, 1, op, "kernelSize");
  let out: number[];
  if (outputSize !== null) out = ints(outputSize, spatial, 1, 1, op, "outputSize");
  else if (outputRatio !== null) {
    const ratio = typeof outputRatio === "number" ? dims.map(() => outputRatio) : [...outputRatio];
    if (ratio.length !== spatial)
      throw new TypeError(`${op}: output_ratio must be a float or ${spatial} floats`);
    out = dims.map((d, i) => Math.trunc(d * ratio[i]));
  } else {
    throw new Error(
      `${op}: fractional_max_pool${spatial}d requires specifying either an output_size or an output_ratio`,
    );
  }
  out.forEach((o, i) => {
    if (o + kk[i] - 1 > dims[i]) {
      throw new RangeError(
        `${op}: fractional_max_pool${spatial}d_out(): pool size ${kk[i]} too large relative to input size ${dims[i]} for output size ${o} (dim ${i})`,
      );
    }
  });
  const samples =
    samplesArg ??
    noGrad(() =>
      rand([N, C, spatial], { dtype: x.dtype === "float64" ? "float64" : "float32", device: x.device }),
    );
  if (
    samples.ndim !== 3 ||
    samples.shape[0] !== N ||
    samples.shape[1] !== C ||
    samples.shape[2] !== spatial
  ) {
    throw new ShapeError(
      `${op}: expected _random_samples of shape [${N}, ${C}, ${spatial}], got ${fmtShape(samples.shape)}`,
    );
  }
  const u = Array.from(samples.to("float64").data() as Float64Array);
  const f32 = x.dtype !== "float64";
  const P = dims.reduce((a, b) => a * b, 1);
  const L = out.reduce((a, b) => a * b, 1);
  const K = kk.reduce((a, b) => a * b, 1);
  const B = N * C;
  const table = new Int32Array(B * L * K);
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let b = 0; b < B; b++) {
    // ATen's sample order: (W, H) for 2-D, but (T, H, W) for 3-D
    const starts = dims.map((d, i) =>
      fractionalStarts(u[b * spatial + (spatial === 2 ? 1 - i : i)], d, out[i], kk[i], f32),
    );
    for (let l = 0; l < L; l++) {
      let rem = l;
      const o = out.map((_, i) => {
        const step = out.slice(i + 1).reduce((a2, b2) => a2 * b2, 1);
        const v = Math.floor(rem / step);
        rem -= v * step;
        return v;
      });
      for (let t = 0; t < K; t++) {
        let tr = t;
        let pos = 0;
        for (let i = 0; i < spatial; i++) {
          const step = kk.slice(i + 1).reduce((a2, b2) => a2 * b2, 1);
          const ki = Math.floor(tr / step);
          tr -= ki * step;
          pos += (starts[i][o[i]] + ki) * strides[i];
        }
        table[(b * L + l) * K + t] = pos;
      }
    }
  }
  const idxT = tensor(table, { device: x.device }).reshape([B, L * K]);
  const rows = x.reshape([B, P]).gather(1, idxT).reshape([B, L, K]);
  const am = noGrad(() => rows.argmax(2, true));
  const values = rows.gather(2, am).reshape([N, C, ...out]);
  const indices = noGrad(() =>
    idxT
      .reshape([B, L, K])
      .gather(2, am)
      .reshape([N, C, ...out]),
  );
  return batched ? [values, indices] : [values.squeeze(0), indices.squeeze(0)];
}

function fractionalSig(name: string, torchName: string) {
  return signature(
    name,
    [
      inputArg,
      arg("kernelSize", k.intOrInts),
      arg.opt("outputSize", k.intOrInts),
      arg.opt("outputRatio", k.or(k.float, k.floats)),
      arg("returnIndices", k.bool, false),
      arg.opt("_randomSamples", k.tensor),
    ],
    [],
    { torch: torchName },
  );
}
export const FRACTIONAL2D = fractionalSig(
  "nn.functional.fractionalMaxPool2d",
  "torch.nn.functional.fractional_max_pool2d_with_indices",
);
export const FRACTIONAL3D = fractionalSig(
  "nn.functional.fractionalMaxPool3d",
  "torch.nn.functional.fractional_max_pool3d_with_indices",
);
type FractionalCalls = Calls<typeof FRACTIONAL2D.positional>;
type FractionalFn = {
  (...args: WithIndices<FractionalCalls>): [Tensor, Tensor];
  (
    input: Tensor,
    kernelSize: number | readonly number[],
    outputSize: number | readonly number[] | null | undefined,
    outputRatio: number | readonly number[] | null | undefined,
    returnIndices: true,
    randomSamples?: Tensor | null,
  ): [Tensor, Tensor];
  (...args: FractionalCalls): Tensor;
  readonly signature: typeof FRACTIONAL2D;
};

/**
 * `fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
 * _random_samples=None)`: max pooling over pseudo-random windows; `_randomSamples` [N, C, 2] in [0, 1) fixes them
 * (otherwise drawn from the seeded generator, not PyTorch's stream).
 */
export const fractionalMaxPool2d = op(FRACTIONAL2D, (a): Tensor | [Tensor, Tensor] => {
  const r = fractionalMax("fractionalMaxPool2d", 2, a);
  return a.returnIndices ? [r[0], indexResult(r[1])] : r[0];
}) as unknown as FractionalFn;

/**
 * `fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
 * _random_samples=None)`: the 3-D form over [N, C, T, H, W]; `_randomSamples` [N, C, 3].
 */
export const fractionalMaxPool3d = op(FRACTIONAL3D, (a): Tensor | [Tensor, Tensor] => {
  const r = fractionalMax("fractionalMaxPool3d", 3, a);
  return a.returnIndices ? [r[0], indexResult(r[1])] : r[0];
}) as unknown as FractionalFn;
