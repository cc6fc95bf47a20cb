/** Average and power-average pooling, 1-D to 3-D: weighted window sums with cached per-tap weights. */
import {
  arg,
  cat,
  fmtShape,
  k,
  needsGrad,
  op,
  recordOp,
  ShapeError,
  signature,
  type Tensor,
  tensor,
  tensorFromData,
} from "@cinder/tensor";
import { inputArg } from "../../util";
import {
  alloc,
  dense,
  type GridSpec,
  gatherRows,
  im2row,
  ints,
  row2im,
  scatterRows,
  viewOf,
  type Windows,
} from "../windows";
import {
  depthTable,
  foldDepth,
  givenStride,
  gridOf,
  kernelStridePad,
  lift,
  planes,
  poolArgs,
  poolOut,
  single,
  unfoldDepth,
  unvolume,
  volume,
} from "./common";

// ---- average pooling ----

const weightCache = new Map<string, Float64Array>();

/** The per-tap weights [L, K] of a window sum, cached by key. */
export function cachedWeights(key: string, build: () => Float64Array): Float64Array {
  let w = weightCache.get(key);
  if (!w) {
    w = build();
    weightCache.set(key, w);
    if (weightCache.size > 64) weightCache.delete(weightCache.keys().next().value as string);
  }
  return w;
}

interface WindowSum {
  /** A regular grid (strided im2row) or an index table (adaptive windows). */
  grid: GridSpec | null;
  win: { L: number; K: number } | Windows;
  weights: Float64Array;
  lead: number[];
  plane: number[];
  out: number[];
  name: string;
}

function weightTensor(ws: WindowSum, like: Tensor): Tensor {
  const data = like.dtype === "float64" ? ws.weights : Float32Array.from(ws.weights);
  return tensorFromData(data, [ws.win.L, ws.win.K], like.dtype, like.device);
}

/** y[b, l] = sum_k x[b, index[l, k]] * weights[l, k] (recorded: its backward is `windowSumT`). */
export function windowSum(x: Tensor, ws: WindowSum): Tensor {
  const { L, K } = ws.win;
  const B = ws.lead.reduce((p, d) => p * d, 1);
  const b = x.backend;
  const rows = ws.grid ? im2row(x, ws.lead, ws.grid, 0) : gatherRows(x, ws.lead, ws.win as Windows, 0);
  const wt = weightTensor(ws, x);
  const rv = viewOf(rows, [B, L, K]);
  b.binary("mul", rv, viewOf(wt, [B, L, K], [0, K, 1]), rv);
  const y = alloc([...ws.lead, ...ws.out], x.dtype, x);
  b.reduce("sum", rv, [2], viewOf(y, [B, L, 1]));
  rows.dispose();
  wt.dispose();
  if (!needsGrad(x)) return y;
  return recordOp({ name: ws.name, inputs: [x], output: y, backward: (g) => [windowSumT(g, ws)] });
}

/** gx[b, index[l, k]] += g[b, l] * weights[l, k], the adjoint of `windowSum`. */
function windowSumT(g: Tensor, ws: WindowSum): Tensor {
  const { L, K } = ws.win;
  const B = ws.lead.reduce((p, d) => p * d, 1);
  const b = g.backend;
  const src = dense(g);
  const wt = weightTensor(ws, g);
  const rows = alloc([B, L * K], g.dtype, g);
  b.binary(
    "mul",
    viewOf(src, [B, L, K], [L, 1, 0]),
    viewOf(wt, [B, L, K], [0, K, 1]),
    viewOf(rows, [B, L, K]),
  );
  if (src !== g) src.dispose();
  wt.dispose();
  const gx = ws.grid
    ? row2im(rows, ws.lead, ws.plane, ws.grid)
    : scatterRows(rows, ws.lead, ws.plane, ws.win as Windows);
  rows.dispose();
  if (!needsGrad(g)) return gx;
  return recordOp({
    name: `${ws.name.replace("Backward0", "")}BackwardBackward0`,
    inputs: [g],
    output: gx,
    backward: (gg) => [windowSum(gg, ws)],
  });
}

/** `(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)` of avgPool1d/2d/3d. */
const avgParams = [
  inputArg,
  arg("kernelSize", k.intOrInts),
  arg.opt("stride", k.intOrInts),
  arg("padding", k.intOrInts, 0),
  arg("ceilMode", k.bool, false),
  arg("countIncludePad", k.bool, true),
] as const;
/** `divisor_override=None` of avgPool2d/3d. */
const divisorOverrideArg = arg.opt("divisorOverride", k.int);

/**
 * `avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
 * divisor_override=None)`: 2-D average pooling.
 */
export const avgPool2d = op(
  signature("nn.functional.avgPool2d", [...avgParams, divisorOverrideArg]),
  (a): Tensor => avgPool2dImpl(a.input, a.kernelSize, a),
);

export function avgPool2dImpl(
  input: Tensor,
  kernelSize: number | readonly number[],
  opts: {
    stride: number | readonly number[] | null;
    padding: number | readonly number[];
    ceilMode: boolean;
    countIncludePad: boolean;
    divisorOverride: number | null;
  },
): Tensor {
  const op = "avgPool2d";
  const { lead, h, w } = planes(op, input);
  const a = poolArgs(op, input, h, w, kernelSize, { ...opts, dilation: 1 });
  const includePad = opts.countIncludePad;
  const override = opts.divisorOverride;
  if (override !== null && (override === 0 || !Number.isFinite(override))) {
    throw new RangeError(`${op}: divisorOverride must be a non-zero number, got ${override}`);
  }
  const spec = gridOf(h, w, a);
  const win = { L: a.oh * a.ow, K: a.k[0] * a.k[1] };
  const key = `avg:${h},${w},${a.k},${a.s},${a.p},${a.oh},${a.ow},${includePad},${override}`;
  const weights = cachedWeights(key, () => {
    const wt = new Float64Array(win.L * win.K);
    // PyTorch's divisor: the window clipped to the padded input, or to the input without padding
    const fy = avgFactors(h, a.k[0], a.s[0], a.p[0], a.oh, includePad);
    const fx = avgFactors(w, a.k[1], a.s[1], a.p[1], a.ow, includePad);
    for (let oy = 0; oy < a.oh; oy++) {
      for (let ox = 0; ox < a.ow; ox++) {
        const div = override ?? fy[oy] * fx[ox];
        wt.fill(1 / div, (oy * a.ow + ox) * win.K, (oy * a.ow + ox + 1) * win.K);
      }
    }
    return wt;
  });
  return windowSum(input, {
    grid: spec,
    win,
    weights,
    lead,
    plane: [h, w],
    out: [a.oh, a.ow],
    name: "AvgPool2DBackward0",
  });
}

/** `avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)` */
export const avgPool1d = op(signature("nn.functional.avgPool1d", avgParams), (a): Tensor => {
  const op = "avgPool1d";
  const s = givenStride(a.stride);
  return avgPool2dImpl(lift(op, a.input), [1, single(op, "kernelSize", a.kernelSize)], {
    stride: s === null ? null : [1, single(op, "stride", s)],
    padding: [0, single(op, "padding", a.padding)],
    ceilMode: a.ceilMode,
    countIncludePad: a.countIncludePad,
    divisorOverride: null,
  }).squeeze(-2);
});

// ---- power-average pooling ----

/** `(input, norm_type, kernel_size, stride=None, ceil_mode=False)` of lpPool1d/2d. */
const lpParams = [
  inputArg,
  arg("normType", k.float),
  arg("kernelSize", k.intOrInts),
  arg.opt("stride", k.intOrInts),
  arg("ceilMode", k.bool, false),
] as const;

/** (window average * window size)^(1/p) from an average pool, with sign(s) relu(|s|) guarding the root. */
function lpRoot(avg: Tensor, size: number, normType: number): Tensor {
  return avg
    .sign()
    .mul(avg.abs().relu())
    .mul(size)
    .pow(1 / normType);
}

/**
 * `lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False)`: (sum over each window of x^p)^(1/p),
 * as PyTorch computes it (from an average pool, with sign(s) relu(|s|) guarding the root).
 */
export const lpPool2d = op(
  signature("nn.functional.lpPool2d", lpParams),
  ({ input, normType, kernelSize, stride, ceilMode }): Tensor => {
    const kk = ints(kernelSize, 2, 1, 1, "lpPool2d", "kernelSize");
    const out = avgPool2dImpl(input.pow(normType), kk, {
      stride,
      padding: 0,
      ceilMode,
      countIncludePad: true,
      divisorOverride: null,
    });
    return lpRoot(out, kk[0] * kk[1], normType);
  },
);

/** `lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False)` over [N, C, L] (or [C, L]). */
export const lpPool1d = op(
  signature("nn.functional.lpPool1d", lpParams),
  ({ input, normType, kernelSize, stride, ceilMode }): Tensor => {
    const op = "lpPool1d";
    const kk = single(op, "kernelSize", kernelSize);
    const out = avgPool2dImpl(lift(op, input.pow(normType)), [1, kk], {
      stride: stride === null ? null : [1, single(op, "stride", stride)],
      padding: 0,
      ceilMode,
      countIncludePad: true,
      divisorOverride: null,
    }).squeeze(-2);
    return lpRoot(out, kk, normType);
  },
);

/** PyTorch's avg_pool divisor along one dim: the window clipped to the padded input, or to the input. */
function avgFactors(n: number, k: number, s: number, p: number, out: number, includePad: boolean): number[] {
  return Array.from({ length: out }, (_, o) => {
    let a = o * s - p;
    let b = Math.min(a + k, n + p);
    const padded = b - a;
    a = Math.max(a, 0);
    b = Math.min(b, n);
    return includePad ? padded : b - a;
  });
}

/**
 * `avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
 * divisor_override=None)` over [N, C, D, H, W] (or [C, D, H, W]).
 */
export const avgPool3d = op(
  signature("nn.functional.avgPool3d", [...avgParams, divisorOverrideArg]),
  (a): Tensor => {
    const op = "avgPool3d";
    const x = volume(op, a.input);
    const { k: kk, s, p } = kernelStridePad(op, 3, a.kernelSize, a.stride, a.padding);
    if (p.some((v, i) => v > kk[i] / 2)) {
      throw new RangeError(
        `${op}: pad should be smaller than or equal to half of kernel size, got padding (${p.join(", ")}) and kernelSize (${kk.join(", ")})`,
      );
    }
    if (a.divisorOverride !== null && a.divisorOverride === 0) {
      throw new RangeError(`${op}: divisor must be not zero`);
    }
    const [N, , D] = x.shape;
    const out = [0, 1, 2].map((i) => poolOut(x.shape[2 + i], kk[i], s[i], p[i], 1, a.ceilMode));
    if (out.some((v) => v < 1)) {
      throw new ShapeError(
        `${op}: the calculated output size (${out.join(", ")}) is too small for input ${fmtShape(a.input.shape)}`,
      );
    }
    // window sums over H, W for every depth, then over the depth taps (zero padding in depth)
    const sums2 = unfoldDepth(
      avgPool2dImpl(foldDepth(x), [kk[1], kk[2]], {
        stride: [s[1], s[2]],
        padding: [p[1], p[2]],
        ceilMode: a.ceilMode,
        countIncludePad: true,
        divisorOverride: 1,
      }),
      N,
      D,
    );
    const Dout = out[0];
    const zero = sums2.narrow(2, 0, 1).mul(0);
    const padded = cat([sums2, zero], 2);
    const table = depthTable(Dout, kk[0], s[0], p[0], 1, D, D);
    const [n0, c0, , ho, wo] = sums2.shape;
    const sum = padded
      .indexSelect(2, tensor(Int32Array.from(table), { device: x.device }))
      .reshape([n0, c0, Dout, kk[0], ho, wo])
      .sum({ dim: 3 });
    let y: Tensor;
    if (a.divisorOverride !== null) y = sum.div(a.divisorOverride);
    else {
      const [fd, fh, fw] = [0, 1, 2].map((i) =>
        avgFactors(x.shape[2 + i], kk[i], s[i], p[i], out[i], a.countIncludePad),
      );
      const div = new Float64Array(Dout * ho * wo);
      for (let i = 0; i < Dout; i++)
        for (let j = 0; j < ho; j++)
          for (let l = 0; l < wo; l++) div[(i * ho + j) * wo + l] = fd[i] * fh[j] * fw[l];
      y = sum.div(tensor(div, { dtype: "float64", device: x.device }).to(x.dtype).reshape([Dout, ho, wo]));
    }
    return unvolume(a.input, y);
  },
);
