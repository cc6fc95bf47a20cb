/**
 * Pooling (torch.nn.functional.max_pool2d, avg_pool2d, adaptive_avg_pool2d) over [N, C, H, W] or unbatched
 * [C, H, W] inputs. Every plane's windows are laid out as rows [N*C, L, K] (windows.ts: a strided copy for
 * regular grids, a cached-index gather for adaptive windows), then:
 *
 * - max pooling takes the argmax of each window; the forward keeps the winning input positions, so its backward
 *   (MaxPool2DWithIndicesBackward0) is one scatter-add of the output gradient into those positions;
 * - average pooling (fixed or adaptive) is a weighted sum over each window with a cached per-tap weight
 *   (1/divisor); its backward (AvgPool2DBackward0, AdaptiveAvgPool2DBackward0) puts gradient * weight back
 *   through the same windows (row2im / one scatter-add).
 *
 * Each backward is itself recorded (the forward and backward maps are each other's adjoints), so higher-order
 * gradients exist.
 */
import {
  arg,
  type Calls,
  cat,
  contiguousStrides,
  DTypeError,
  fmtShape,
  type Kind,
  k,
  needsGrad,
  noGrad,
  op,
  rand,
  recordOp,
  ShapeError,
  signature,
  type Tensor,
  tensor,
  tensorFromData,
  type View,
  zeros,
} from "@cinder/tensor";
import { inputArg, pyTuple } from "../util";
import {
  adaptiveRanges,
  adaptiveWindows,
  alloc,
  dense,
  fastWindows,
  type GridSpec,
  gatherRows,
  gridWindows,
  im2row,
  ints,
  rawView,
  row2im,
  rowStrides,
  type Size2,
  scatterRows,
  viewOf,
  type Windows,
  window2d,
} from "./windows";

/** @deprecated the options of `maxPool2d`; kept for the module classes' types. */
export interface MaxPool2dOptions {
  /** Default: kernelSize. */
  stride?: Size2 | null;
  /** Implicit -inf padding on both sides, at most half the kernel size. */
  padding?: Size2;
  dilation?: Size2;
  /** Use ceil instead of floor for the output size (windows may then start in the right padding's place). */
  ceilMode?: boolean;
  /** Also return the argmax positions (flat indices into each H*W plane, int32). */
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
function planes(op: string, x: Tensor): { lead: number[]; h: number; w: number } {
  if ((x.ndim !== 3 && x.ndim !== 4) || x.shape.slice(x.ndim - 3).some((d) => d === 0)) {
    throw new ShapeError(
      `${op}: expected a non-empty 3-D [C, H, W] or 4-D [N, C, H, W] input (dims other than the batch non-zero), got ${fmtShape(x.shape)}`,
    );
  }
  if (!x.isFloatingPoint()) throw new DTypeError(`${op}: expected a floating point input, got ${x.dtype}`);
  return { lead: x.shape.slice(0, -2), h: x.shape[x.ndim - 2], w: x.shape[x.ndim - 1] };
}

/** PyTorch's pooling_output_shape. */
function poolOut(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let o = Math.floor((n + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  // the last window must start inside the input or the left padding
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

interface PoolArgs {
  k: number[];
  s: number[];
  p: number[];
  d: number[];
  oh: number;
  ow: number;
}

function poolArgs(
  op: string,
  x: Tensor,
  h: number,
  w: number,
  kernelSize: number | readonly number[],
  o: {
    stride: number | readonly number[] | null;
    padding: number | readonly number[];
    dilation: number | readonly number[];
    ceilMode: boolean;
  },
): PoolArgs {
  const k = ints(kernelSize, 2, 1, 1, op, "kernelSize");
  // stride=None (or PyTorch's empty list) means the kernel size
  const s =
    o.stride === null || (Array.isArray(o.stride) && o.stride.length === 0)
      ? k
      : ints(o.stride, 2, 1, 1, op, "stride");
  const p = ints(o.padding, 2, 0, 0, op, "padding");
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

function gridOf(h: number, w: number, a: PoolArgs): GridSpec {
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

// ---- max pooling ----

/** Where each window's values land: flat positions [B, L] into rows of P (+1 sentinel) elements. */
interface Positions {
  pos: Tensor;
  lead: number[];
  plane: number[];
  out: number[];
  P: number;
  padded: boolean;
  /** Set when `pos` came from `Backend.maxPool2d` (flat plane indices, no sentinel): its backward may use the fast path. */
  grid?: GridSpec;
}

/** gx[b, pos[b, l]] += g[b, l]: the max pooling backward (recorded: its own backward is `gatherAt`). */
function scatterAt(g: Tensor, at: Positions): Tensor {
  const B = at.pos.shape[0];
  const L = at.pos.shape[1];
  const row = at.P + (at.padded ? 1 : 0);
  const shape = [...at.lead, ...at.plane];
  const buf = alloc(at.padded ? [B, row] : shape, g.dtype, g);
  const src = dense(g);
  const [oh, ow] = at.out;
  if (at.grid && g.backend.maxPool2dBackward && fastWindows(g)) {
    const [h, w] = at.plane;
    const pv = (v: View, d: readonly number[]) => ({
      ...v,
      shape: [1, B, ...d],
      strides: contiguousStrides([1, B, ...d]),
    });
    g.backend.maxPool2dBackward(
      pv(src.view_, [oh, ow]),
      pv(at.pos.view_, [oh, ow]),
      window2d(at.grid),
      pv(buf.view_, [h, w]),
    );
  } else {
    g.backend.scatter("add", viewOf(buf, [B, row]), 1, at.pos.view_, viewOf(src, [B, L]));
  }
  if (src !== g) src.dispose();
  let gx = buf;
  if (at.padded) {
    gx = alloc(shape, g.dtype, g);
    g.backend.copy(viewOf(buf, shape, rowStrides(at.lead, at.plane, row)), gx.view_);
    buf.dispose();
  }
  if (!needsGrad(g)) return gx;
  return recordOp({
    name: "MaxPool2DWithIndicesBackwardBackward0",
    inputs: [g],
    output: gx,
    backward: (gg) => [gatherAt(gg, at)],
  });
}

/** y[b, l] = x[b, pos[b, l]] (recorded: its backward is `scatterAt`). */
function gatherAt(x: Tensor, at: Positions): Tensor {
  const B = at.pos.shape[0];
  const row = at.P + (at.padded ? 1 : 0);
  let buf: Tensor = dense(x);
  if (at.padded) {
    const b = alloc([B, row], x.dtype, x);
    x.backend.copy(x.view_, viewOf(b, x.shape, rowStrides(at.lead, at.plane, row)));
    if (buf !== x) buf.dispose();
    buf = b;
  }
  const y = alloc([...at.lead, ...at.out], x.dtype, x);
  x.backend.gather(viewOf(buf, [B, row]), 1, at.pos.view_, viewOf(y, at.pos.shape));
  if (buf !== x) buf.dispose();
  if (!needsGrad(x)) return y;
  return recordOp({ name: "GatherBackward0", inputs: [x], output: y, backward: (g) => [scatterAt(g, at)] });
}

const MAX_POOL2D = signature(
  "nn.functional.maxPool2d",
  [
    inputArg,
    arg("kernelSize", k.intOrInts),
    arg.opt("stride", k.intOrInts),
    arg("padding", k.intOrInts, 0),
    arg("dilation", k.intOrInts, 1),
    arg("ceilMode", k.bool, false),
    arg("returnIndices", k.bool, false),
  ],
  [],
  // PyTorch's max_pool2d dispatches on return_indices to max_pool2d_with_indices, which has the same parameters
  { torch: "torch.nn.functional.max_pool2d_with_indices" },
);
type MaxPoolCalls = Calls<typeof MAX_POOL2D.positional>;
type WithIndices<C> = C extends readonly [...infer H, infer O]
  ? O extends { returnIndices?: boolean }
    ? [...H, O & { returnIndices: true }]
    : never
  : never;

/**
 * `max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)`:
 * 2-D max pooling. With `returnIndices` true returns `[output, indices]`, the indices being flat positions into
 * each input plane (int32; PyTorch's are int64).
 */
export const maxPool2d = op(MAX_POOL2D, (a): Tensor | [Tensor, Tensor] =>
  maxPool2dImpl(a.input, a.kernelSize, a),
) as unknown as {
  (...args: WithIndices<MaxPoolCalls>): [Tensor, Tensor];
  (
    input: Tensor,
    kernelSize: number | readonly number[],
    stride: number | readonly number[] | null | undefined,
    padding: number | readonly number[] | undefined,
    dilation: number | readonly number[] | undefined,
    ceilMode: boolean | undefined,
    returnIndices: true,
  ): [Tensor, Tensor];
  (...args: MaxPoolCalls): Tensor;
  readonly signature: typeof MAX_POOL2D;
};

function maxPool2dImpl(
  input: Tensor,
  kernelSize: number | readonly number[],
  opts: {
    stride: number | readonly number[] | null;
    padding: number | readonly number[];
    dilation: number | readonly number[];
    ceilMode: boolean;
    returnIndices: boolean;
  },
): Tensor | [Tensor, Tensor] {
  const op = "maxPool2d";
  const { lead, h, w } = planes(op, input);
  const a = poolArgs(op, input, h, w, kernelSize, opts);
  const b = input.backend;
  const spec = gridOf(h, w, a);
  if (b.maxPool2d && fastWindows(input)) return maxPoolFast(input, lead, spec, opts.returnIndices);
  // the cached index table maps each window's argmax tap back to an input position
  const win = gridWindows(spec, b);
  const rows = im2row(input, lead, spec, Number.NEGATIVE_INFINITY);
  const [result, pos] = maxOverRows(
    input,
    lead,
    [h, w],
    [a.oh, a.ow],
    win,
    rows,
    "MaxPool2DWithIndicesBackward0",
  );
  return opts.returnIndices ? [result, pos] : result;
}

/**
 * The max of each window: `rows` [B, L * K] holds every window's taps (-inf for padding), `win.index` where each tap
 * reads; returns the output [...lead, ...out] (recorded: its backward scatters into the winning positions) and the
 * flat plane positions (int32).
 */
function maxOverRows(
  input: Tensor,
  lead: number[],
  plane: number[],
  out: number[],
  win: Windows,
  rows: Tensor,
  name: string,
): [Tensor, Tensor] {
  const b = input.backend;
  const { L, K } = win;
  const B = lead.reduce((p, d) => p * d, 1);
  // argmax per window, then the flat tap (l * K + argmax) picks the value and the input position
  const flat = alloc([B, L, 1], "int32", input);
  if (B * L > 0) b.argReduce("argmax", viewOf(rows, [B, L, K]), 2, flat.view_);
  const offsets = tensorFromData(
    Int32Array.from({ length: L }, (_, l) => l * K),
    [L],
    "int32",
    input.device,
  );
  const fv = viewOf(flat, [B, L]);
  b.binary("add", fv, viewOf(offsets, [B, L], [0, 1]), fv);
  offsets.dispose();
  const y = alloc([...lead, ...out], input.dtype, input);
  const pos = alloc([B, L], "int32", input);
  if (B * L > 0) {
    b.gather(viewOf(rows, [B, L * K]), 1, fv, viewOf(y, [B, L]));
    b.gather(viewOf(win.index, [B, L * K], [0, 1]), 1, fv, pos.view_);
  }
  rows.dispose();
  flat.dispose();
  const at: Positions = { pos, lead, plane, out, P: win.P, padded: win.padded };
  const result = needsGrad(input)
    ? recordOp({ name, inputs: [input], output: y, backward: (g) => [scatterAt(g, at)] })
    : y;
  return [result, rawView(pos, [...lead, ...out])];
}

/** Max pooling by `Backend.maxPool2d`: one pass writes the values and the flat plane indices. */
function maxPoolFast(
  input: Tensor,
  lead: number[],
  spec: GridSpec,
  returnIndices: boolean,
): Tensor | [Tensor, Tensor] {
  const b = input.backend;
  const B = lead.reduce((p, d) => p * d, 1);
  const out = [spec.oh, spec.ow];
  const y = alloc([...lead, ...out], input.dtype, input);
  const pos = alloc([B, spec.oh * spec.ow], "int32", input);
  if (y.numel() > 0) {
    const src = dense(input);
    b.maxPool2d?.(
      viewOf(src, [1, B, spec.h, spec.w]),
      window2d(spec),
      viewOf(y, [1, B, ...out]),
      viewOf(pos, [1, B, ...out]),
    );
    if (src !== input) src.dispose();
  }
  const at: Positions = {
    pos,
    lead,
    plane: [spec.h, spec.w],
    out,
    P: spec.h * spec.w,
    padded: false,
    grid: spec,
  };
  const result = needsGrad(input)
    ? recordOp({
        name: "MaxPool2DWithIndicesBackward0",
        inputs: [input],
        output: y,
        backward: (g) => [scatterAt(g, at)],
      })
    : y;
  return returnIndices ? [result, rawView(pos, [...lead, ...out])] : result;
}

// ---- average pooling ----

const weightCache = new Map<string, Float64Array>();

/** The per-tap weights [L, K] of a window sum, cached by key. */
function cachedWeights(key: string, build: () => Float64Array): Float64Array {
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
function windowSum(x: Tensor, ws: WindowSum): Tensor {
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

/**
 * `avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
 * divisor_override=None)`: 2-D average pooling.
 */
export const avgPool2d = op(
  signature("nn.functional.avgPool2d", [
    inputArg,
    arg("kernelSize", k.intOrInts),
    arg.opt("stride", k.intOrInts),
    arg("padding", k.intOrInts, 0),
    arg("ceilMode", k.bool, false),
    arg("countIncludePad", k.bool, true),
    arg.opt("divisorOverride", k.int),
  ]),
  (a): Tensor => avgPool2dImpl(a.input, a.kernelSize, a),
);

function avgPool2dImpl(
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
    for (let oy = 0; oy < a.oh; oy++) {
      for (let ox = 0; ox < a.ow; ox++) {
        // PyTorch's divisor: the window clipped to the padded input, or to the input without padding
        let y0 = oy * a.s[0] - a.p[0];
        let x0 = ox * a.s[1] - a.p[1];
        let y1 = Math.min(y0 + a.k[0], h + a.p[0]);
        let x1 = Math.min(x0 + a.k[1], w + a.p[1]);
        const poolSize = (y1 - y0) * (x1 - x0);
        y0 = Math.max(y0, 0);
        x0 = Math.max(x0, 0);
        y1 = Math.min(y1, h);
        x1 = Math.min(x1, w);
        const div = override ?? (includePad ? poolSize : (y1 - y0) * (x1 - x0));
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

/** An int, or a list whose entries are ints or null (keep the input's size): PyTorch's `_size_2_opt_t`. */
const adaptiveSizeKind: Kind<AdaptiveSize> = {
  ...k.where(
    k.any,
    (v) =>
      (typeof v === "number" && Number.isInteger(v)) ||
      (Array.isArray(v) && v.every((x) => x === null || Number.isInteger(x))),
    "int or (int | None)[]",
  ),
  takesObjects: false,
} as Kind<AdaptiveSize>;

/**
 * `adaptive_avg_pool2d(input, output_size)`: 2-D adaptive average pooling, windows
 * [floor(i*H/oH), ceil((i+1)*H/oH)); an entry null in `outputSize` keeps the input's size.
 */
export const adaptiveAvgPool2d = op(
  signature("nn.functional.adaptiveAvgPool2d", [inputArg, arg("outputSize", adaptiveSizeKind)]),
  ({ input, outputSize }): Tensor => adaptiveAvgPool2dImpl(input, outputSize),
);

/** The output size of an adaptive pool: an int, or a pair whose null entries keep the input's size. */
function adaptiveOut(op: string, h: number, w: number, outputSize: AdaptiveSize): [number, number] {
  const req = typeof outputSize === "number" ? [outputSize, outputSize] : [...outputSize];
  if (req.length !== 2)
    throw new TypeError(`${op}: outputSize must be an int or a pair, got ${JSON.stringify(outputSize)}`);
  const [oh, ow] = req.map((v, i) => (v === null ? [h, w][i] : v));
  if (![oh, ow].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`${op}: outputSize must be positive integers, got ${JSON.stringify(outputSize)}`);
  }
  return [oh, ow];
}

function adaptiveAvgPool2dImpl(input: Tensor, outputSize: AdaptiveSize): Tensor {
  const op = "adaptiveAvgPool2d";
  const { lead, h, w } = planes(op, input);
  const [oh, ow] = adaptiveOut(op, h, w, outputSize);
  const win = adaptiveWindows(h, w, oh, ow, input.backend);
  const weights = cachedWeights(`adaptive:${h},${w},${oh},${ow}`, () => {
    const wt = new Float64Array(win.L * win.K);
    const rs = adaptiveRanges(h, oh);
    const cs = adaptiveRanges(w, ow);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const base = (oy * ow + ox) * win.K;
        const inv = 1 / ((rs[oy][1] - rs[oy][0]) * (cs[ox][1] - cs[ox][0]));
        for (let k = 0; k < win.K; k++) wt[base + k] = win.host[base + k] === win.P ? 0 : inv;
      }
    }
    return wt;
  });
  return windowSum(input, {
    grid: null,
    win,
    weights,
    lead,
    plane: [h, w],
    out: [oh, ow],
    name: "AdaptiveAvgPool2DBackward0",
  });
}

// ---- one spatial dim: the 2-D ops over [N, C, 1, L] ----

/** An int or a list of one int (PyTorch's `_single`) as an int. */
function single(op: string, name: string, v: number | readonly number[]): number {
  const x = typeof v === "number" ? v : v.length === 1 ? v[0] : Number.NaN;
  if (!Number.isInteger(x)) {
    throw new TypeError(`${op}: ${name} must be an int or a list of one int, got ${JSON.stringify(v)}`);
  }
  return x;
}

/** [N, C, L] or [C, L] as [N, C, 1, L] / [C, 1, L], with the rank check. */
function lift(op: string, x: Tensor): Tensor {
  if (x.ndim !== 2 && x.ndim !== 3) {
    throw new ShapeError(`${op}: expected a 2-D [C, L] or 3-D [N, C, L] input, got ${fmtShape(x.shape)}`);
  }
  return x.unsqueeze(-2);
}

const MAX_POOL1D = signature(
  "nn.functional.maxPool1d",
  [
    inputArg,
    arg("kernelSize", k.intOrInts),
    arg.opt("stride", k.intOrInts),
    arg("padding", k.intOrInts, 0),
    arg("dilation", k.intOrInts, 1),
    arg("ceilMode", k.bool, false),
    arg("returnIndices", k.bool, false),
  ],
  [],
  { torch: "torch.nn.functional.max_pool1d_with_indices" },
);
type MaxPool1dCalls = Calls<typeof MAX_POOL1D.positional>;

/**
 * `max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)`
 * over [N, C, L] (or [C, L]); with `returnIndices` true returns `[output, indices]` (positions along L, int32).
 */
export const maxPool1d = op(MAX_POOL1D, (a): Tensor | [Tensor, Tensor] => {
  const op = "maxPool1d";
  const s = a.stride === null || (Array.isArray(a.stride) && a.stride.length === 0) ? null : a.stride;
  const r = maxPool2dImpl(lift(op, a.input), [1, single(op, "kernelSize", a.kernelSize)], {
    stride: s === null ? null : [1, single(op, "stride", s)],
    padding: [0, single(op, "padding", a.padding)],
    dilation: [1, single(op, "dilation", a.dilation)],
    ceilMode: a.ceilMode,
    returnIndices: a.returnIndices,
  });
  return Array.isArray(r) ? [r[0].squeeze(-2), r[1].squeeze(-2)] : r.squeeze(-2);
}) as unknown as {
  (...args: WithIndices<MaxPool1dCalls>): [Tensor, Tensor];
  (
    input: Tensor,
    kernelSize: number | readonly number[],
    stride: number | readonly number[] | null | undefined,
    padding: number | readonly number[] | undefined,
    dilation: number | readonly number[] | undefined,
    ceilMode: boolean | undefined,
    returnIndices: true,
  ): [Tensor, Tensor];
  (...args: MaxPool1dCalls): Tensor;
  readonly signature: typeof MAX_POOL1D;
};

/** `avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)` */
export const avgPool1d = op(
  signature("nn.functional.avgPool1d", [
    inputArg,
    arg("kernelSize", k.intOrInts),
    arg.opt("stride", k.intOrInts),
    arg("padding", k.intOrInts, 0),
    arg("ceilMode", k.bool, false),
    arg("countIncludePad", k.bool, true),
  ]),
  (a): Tensor => {
    const op = "avgPool1d";
    const s = a.stride === null || (Array.isArray(a.stride) && a.stride.length === 0) ? null : a.stride;
    return avgPool2dImpl(lift(op, a.input), [1, single(op, "kernelSize", a.kernelSize)], {
      stride: s === null ? null : [1, single(op, "stride", s)],
      padding: [0, single(op, "padding", a.padding)],
      ceilMode: a.ceilMode,
      countIncludePad: a.countIncludePad,
      divisorOverride: null,
    }).squeeze(-2);
  },
);

/** `adaptive_avg_pool1d(input, output_size)` over [N, C, L] (or [C, L]). */
export const adaptiveAvgPool1d = op(
  signature("nn.functional.adaptiveAvgPool1d", [inputArg, arg("outputSize", k.intOrInts)]),
  ({ input, outputSize }): Tensor =>
    adaptiveAvgPool2dImpl(lift("adaptiveAvgPool1d", input), [
      1,
      single("adaptiveAvgPool1d", "outputSize", outputSize),
    ]).squeeze(-2),
);

// ---- adaptive max pooling ----

const ADAPTIVE_MAX_POOL2D = signature(
  "nn.functional.adaptiveMaxPool2d",
  [inputArg, arg("outputSize", adaptiveSizeKind), arg("returnIndices", k.bool, false)],
  [],
  // PyTorch's adaptive_max_pool2d dispatches on return_indices to adaptive_max_pool2d_with_indices
  { torch: "torch.nn.functional.adaptive_max_pool2d_with_indices" },
);
type AdaptiveMax2dCalls = Calls<typeof ADAPTIVE_MAX_POOL2D.positional>;

/**
 * `adaptive_max_pool2d(input, output_size, return_indices=False)`: the max over windows
 * [floor(i*H/oH), ceil((i+1)*H/oH)); with `returnIndices` true returns `[output, indices]` (flat plane positions,
 * int32).
 */
export const adaptiveMaxPool2d = op(
  ADAPTIVE_MAX_POOL2D,
  ({ input, outputSize, returnIndices }): Tensor | [Tensor, Tensor] => {
    const r = adaptiveMax("adaptiveMaxPool2d", input, outputSize);
    return returnIndices ? r : r[0];
  },
) as unknown as {
  (...args: WithIndices<AdaptiveMax2dCalls>): [Tensor, Tensor];
  (input: Tensor, outputSize: AdaptiveSize, returnIndices: true): [Tensor, Tensor];
  (...args: AdaptiveMax2dCalls): Tensor;
  readonly signature: typeof ADAPTIVE_MAX_POOL2D;
};

function adaptiveMax(op: string, input: Tensor, outputSize: AdaptiveSize): [Tensor, Tensor] {
  const { lead, h, w } = planes(op, input);
  const [oh, ow] = adaptiveOut(op, h, w, outputSize);
  const win = adaptiveWindows(h, w, oh, ow, input.backend);
  const rows = gatherRows(input, lead, win, Number.NEGATIVE_INFINITY);
  return maxOverRows(input, lead, [h, w], [oh, ow], win, rows, "AdaptiveMaxPool2DBackward0");
}

const ADAPTIVE_MAX_POOL1D = signature(
  "nn.functional.adaptiveMaxPool1d",
  [inputArg, arg("outputSize", k.intOrInts), arg("returnIndices", k.bool, false)],
  [],
  { torch: "torch.nn.functional.adaptive_max_pool1d_with_indices" },
);
type AdaptiveMax1dCalls = Calls<typeof ADAPTIVE_MAX_POOL1D.positional>;

/** `adaptive_max_pool1d(input, output_size, return_indices=False)` over [N, C, L] (or [C, L]). */
export const adaptiveMaxPool1d = op(
  ADAPTIVE_MAX_POOL1D,
  ({ input, outputSize, returnIndices }): Tensor | [Tensor, Tensor] => {
    const op = "adaptiveMaxPool1d";
    const [y, idx] = adaptiveMax(op, lift(op, input), [1, single(op, "outputSize", outputSize)]);
    return returnIndices ? [y.squeeze(-2), idx.squeeze(-2)] : y.squeeze(-2);
  },
) as unknown as {
  (...args: WithIndices<AdaptiveMax1dCalls>): [Tensor, Tensor];
  (input: Tensor, outputSize: number | readonly number[], returnIndices: true): [Tensor, Tensor];
  (...args: AdaptiveMax1dCalls): Tensor;
  readonly signature: typeof ADAPTIVE_MAX_POOL1D;
};

// ---- power-average pooling ----

/**
 * `lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False)`: (sum over each window of x^p)^(1/p),
 * as PyTorch computes it (from an average pool, with sign(s) relu(|s|) guarding the root).
 */
export const lpPool2d = op(
  signature("nn.functional.lpPool2d", [
    inputArg,
    arg("normType", k.float),
    arg("kernelSize", k.intOrInts),
    arg.opt("stride", k.intOrInts),
    arg("ceilMode", k.bool, false),
  ]),
  ({ input, normType, kernelSize, stride, ceilMode }): Tensor => {
    const kk = ints(kernelSize, 2, 1, 1, "lpPool2d", "kernelSize");
    const out = avgPool2dImpl(input.pow(normType), kk, {
      stride,
      padding: 0,
      ceilMode,
      countIncludePad: true,
      divisorOverride: null,
    });
    return out
      .sign()
      .mul(out.abs().relu())
      .mul(kk[0] * kk[1])
      .pow(1 / normType);
  },
);

/** `lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False)` over [N, C, L] (or [C, L]). */
export const lpPool1d = op(
  signature("nn.functional.lpPool1d", [
    inputArg,
    arg("normType", k.float),
    arg("kernelSize", k.intOrInts),
    arg.opt("stride", k.intOrInts),
    arg("ceilMode", k.bool, false),
  ]),
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
    return out
      .sign()
      .mul(out.abs().relu())
      .mul(kk)
      .pow(1 / normType);
  },
);

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
    throw new TypeError(`${op}: expected an integer (int32) indices tensor, got ${indices.dtype}`);
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

/**
 * `max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None)`: the partial inverse of
 * `maxPool2d`: each value goes back to the flat plane position `indices` gives (as returned with `returnIndices`),
 * zeros elsewhere.
 */
export const maxUnpool2d = op(signature("nn.functional.maxUnpool2d", unpoolParams), (a): Tensor => {
  const op = "maxUnpool2d";
  if (a.input.ndim !== 3 && a.input.ndim !== 4) {
    throw new ShapeError(
      `${op}: Input to max_unpooling2d should be a 3d or 4d Tensor, but got ${fmtShape(a.input.shape)}`,
    );
  }
  const k = ints(a.kernelSize, 2, 1, 1, op, "kernelSize");
  const s = a.stride === null ? k : ints(a.stride, 2, 1, 1, op, "stride");
  const p = ints(a.padding, 2, 0, 0, op, "padding");
  return unpool(op, a.input, a.indices, unpoolSize(op, a.input, k, s, p, a.outputSize));
});

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

// ---- three spatial dims: the 2-D ops over every depth, then the depth windows ----

/** [C, D, H, W] -> [1, C, D, H, W] with the rank check, and the sizes. */
function volume(op: string, x: Tensor): Tensor {
  if ((x.ndim !== 4 && x.ndim !== 5) || x.shape.slice(x.ndim - 4).some((d) => d === 0)) {
    throw new ShapeError(
      `${op}: expected a non-empty 4-D [C, D, H, W] or 5-D [N, C, D, H, W] input, got ${fmtShape(x.shape)}`,
    );
  }
  return x.ndim === 5 ? x : x.unsqueeze(0);
}

/** [N, C, D, H, W] -> [N * D, C, H, W] (each depth a batch entry) and back. */
function foldDepth(x: Tensor): Tensor {
  const [N, C, D, H, W] = x.shape;
  return x.permute([0, 2, 1, 3, 4]).reshape([N * D, C, H, W]);
}
function unfoldDepth(y: Tensor, N: number, D: number): Tensor {
  const [, C, H, W] = y.shape;
  return y.reshape([N, D, C, H, W]).permute([0, 2, 1, 3, 4]);
}

/**
 * The max over depth windows of per-depth maxima V [N, C, D, Ho, Wo] (with flat plane indices I [same]):
 * `table` [Dout * K] lists each window's depths (-1: padding). Returns the values [N, C, Dout, Ho, Wo] and the flat
 * indices into D * H * W. The first maximum wins, in depth order, as PyTorch's scan.
 */
function depthMax(V: Tensor, I: Tensor, table: number[], K: number, plane: number): [Tensor, Tensor] {
  const [N, C, D, Ho, Wo] = V.shape;
  const Dout = table.length / K;
  const ninf = zeros([N, C, 1, Ho, Wo], { dtype: V.dtype, device: V.device }).add(Number.NEGATIVE_INFINITY);
  const Vx = cat([V, ninf], 2);
  const pick = tensor(
    Int32Array.from(table, (j) => (j < 0 ? D : j)),
    { device: V.device },
  );
  const g = Vx.indexSelect(2, pick).reshape([N, C, Dout, K, Ho, Wo]);
  const am = noGrad(() => g.argmax(3, true));
  const values = g.gather(3, am).squeeze(3);
  const indices = noGrad(() => {
    const depth = tensor(
      Int32Array.from(table, (j) => Math.max(j, 0)),
      { device: V.device },
    );
    const Ix = cat([I, I.narrow(2, 0, 1)], 2)
      .indexSelect(2, pick)
      .reshape([N, C, Dout, K, Ho, Wo]);
    const full = Ix.add(depth.reshape([1, 1, Dout, K, 1, 1]).mul(plane));
    return full.gather(3, am).squeeze(3);
  });
  return [values, indices];
}

const MAX_POOL3D = signature(
  "nn.functional.maxPool3d",
  [
    inputArg,
    arg("kernelSize", k.intOrInts),
    arg.opt("stride", k.intOrInts),
    arg("padding", k.intOrInts, 0),
    arg("dilation", k.intOrInts, 1),
    arg("ceilMode", k.bool, false),
    arg("returnIndices", k.bool, false),
  ],
  [],
  { torch: "torch.nn.functional.max_pool3d_with_indices" },
);
type MaxPool3dCalls = Calls<typeof MAX_POOL3D.positional>;

/**
 * `max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)` over
 * [N, C, D, H, W] (or [C, D, H, W]); with `returnIndices` true returns `[output, indices]` (flat positions into
 * each D * H * W volume, int32).
 */
export const maxPool3d = op(MAX_POOL3D, (a): Tensor | [Tensor, Tensor] => {
  const op = "maxPool3d";
  const x = volume(op, a.input);
  const kk = ints(a.kernelSize, 3, 1, 1, op, "kernelSize");
  const s =
    a.stride === null || (Array.isArray(a.stride) && a.stride.length === 0)
      ? kk
      : ints(a.stride, 3, 1, 1, op, "stride");
  const p = ints(a.padding, 3, 0, 0, op, "padding");
  const d = ints(a.dilation, 3, 1, 1, op, "dilation");
  if (p.some((v, i) => v > kk[i] / 2)) {
    throw new RangeError(
      `${op}: pad should be at most half of effective kernel size, but got pad=${p[0]}, kernel_size=${kk[0]} and dilation=${d[0]}`,
    );
  }
  const [N, , D, H, W] = x.shape;
  const Dout = poolOut(D, kk[0], s[0], p[0], d[0], a.ceilMode);
  if (Dout < 1)
    throw new ShapeError(`${op}: the output depth ${Dout} is too small for input ${fmtShape(a.input.shape)}`);
  const [v2, i2] = maxPool2dImpl(foldDepth(x), [kk[1], kk[2]], {
    stride: [s[1], s[2]],
    padding: [p[1], p[2]],
    dilation: [d[1], d[2]],
    ceilMode: a.ceilMode,
    returnIndices: true,
  }) as [Tensor, Tensor];
  const table: number[] = [];
  for (let o = 0; o < Dout; o++) {
    for (let t = 0; t < kk[0]; t++) {
      const j = o * s[0] - p[0] + t * d[0];
      table.push(j >= 0 && j < D ? j : -1);
    }
  }
  const [y, idx] = depthMax(unfoldDepth(v2, N, D), unfoldDepth(i2, N, D), table, kk[0], H * W);
  const un = a.input.ndim === 4;
  const out = un ? y.squeeze(0) : y;
  return a.returnIndices ? [out, un ? idx.squeeze(0) : idx] : out;
}) as unknown as {
  (...args: WithIndices<MaxPool3dCalls>): [Tensor, Tensor];
  (
    input: Tensor,
    kernelSize: number | readonly number[],
    stride: number | readonly number[] | null | undefined,
    padding: number | readonly number[] | undefined,
    dilation: number | readonly number[] | undefined,
    ceilMode: boolean | undefined,
    returnIndices: true,
  ): [Tensor, Tensor];
  (...args: MaxPool3dCalls): Tensor;
  readonly signature: typeof MAX_POOL3D;
};

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
  signature("nn.functional.avgPool3d", [
    inputArg,
    arg("kernelSize", k.intOrInts),
    arg.opt("stride", k.intOrInts),
    arg("padding", k.intOrInts, 0),
    arg("ceilMode", k.bool, false),
    arg("countIncludePad", k.bool, true),
    arg.opt("divisorOverride", k.int),
  ]),
  (a): Tensor => {
    const op = "avgPool3d";
    const x = volume(op, a.input);
    const kk = ints(a.kernelSize, 3, 1, 1, op, "kernelSize");
    const s =
      a.stride === null || (Array.isArray(a.stride) && a.stride.length === 0)
        ? kk
        : ints(a.stride, 3, 1, 1, op, "stride");
    const p = ints(a.padding, 3, 0, 0, op, "padding");
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
    const table: number[] = [];
    for (let o = 0; o < Dout; o++) {
      for (let t = 0; t < kk[0]; t++) {
        const j = o * s[0] - p[0] + t;
        table.push(j >= 0 && j < D ? j : D);
      }
    }
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
    return a.input.ndim === 4 ? y.squeeze(0) : y;
  },
);

/** An int, or a triple whose null entries keep the input's size. */
const adaptiveSize3Kind: Kind<number | readonly (number | null)[]> = {
  ...k.where(
    k.any,
    (v) =>
      (typeof v === "number" && Number.isInteger(v)) ||
      (Array.isArray(v) && v.every((x) => x === null || Number.isInteger(x))),
    "int or (int | None)[]",
  ),
  takesObjects: false,
} as Kind<number | readonly (number | null)[]>;

function adaptive3(op: string, x: Tensor, outputSize: number | readonly (number | null)[]): number[] {
  const req = typeof outputSize === "number" ? [outputSize, outputSize, outputSize] : [...outputSize];
  if (req.length !== 3) {
    throw new TypeError(`${op}: outputSize must be an int or a triple, got ${JSON.stringify(outputSize)}`);
  }
  const o = req.map((v, i) => (v === null ? x.shape[2 + i] : v));
  if (!o.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`${op}: outputSize must be positive integers, got ${JSON.stringify(outputSize)}`);
  }
  return o;
}

/** `adaptive_avg_pool3d(input, output_size)` over [N, C, D, H, W] (or [C, D, H, W]). */
export const adaptiveAvgPool3d = op(
  signature("nn.functional.adaptiveAvgPool3d", [inputArg, arg("outputSize", adaptiveSize3Kind)]),
  ({ input, outputSize }): Tensor => {
    const op = "adaptiveAvgPool3d";
    const x = volume(op, input);
    const [od, oh, ow] = adaptive3(op, x, outputSize);
    const [N, , D] = x.shape;
    const planes2 = unfoldDepth(adaptiveAvgPool2dImpl(foldDepth(x), [oh, ow]), N, D);
    const parts = adaptiveRanges(D, od).map(([a, b]) =>
      planes2.narrow(2, a, b - a).mean({ dim: 2, keepdim: true }),
    );
    const y = cat(parts, 2);
    return input.ndim === 4 ? y.squeeze(0) : y;
  },
);

const ADAPTIVE_MAX_POOL3D = signature(
  "nn.functional.adaptiveMaxPool3d",
  [inputArg, arg("outputSize", adaptiveSize3Kind), arg("returnIndices", k.bool, false)],
  [],
  { torch: "torch.nn.functional.adaptive_max_pool3d_with_indices" },
);
type AdaptiveMax3dCalls = Calls<typeof ADAPTIVE_MAX_POOL3D.positional>;

/** `adaptive_max_pool3d(input, output_size, return_indices=False)` over [N, C, D, H, W] (or [C, D, H, W]). */
export const adaptiveMaxPool3d = op(
  ADAPTIVE_MAX_POOL3D,
  ({ input, outputSize, returnIndices }): Tensor | [Tensor, Tensor] => {
    const op = "adaptiveMaxPool3d";
    const x = volume(op, input);
    const [od, oh, ow] = adaptive3(op, x, outputSize);
    const [N, , D, H, W] = x.shape;
    const [v2, i2] = adaptiveMax(op, foldDepth(x), [oh, ow]);
    const ranges = adaptiveRanges(D, od);
    const K = Math.max(...ranges.map(([a, b]) => b - a));
    const table: number[] = [];
    for (const [a, b] of ranges) for (let t = 0; t < K; t++) table.push(a + t < b ? a + t : -1);
    const [y, idx] = depthMax(unfoldDepth(v2, N, D), unfoldDepth(i2, N, D), table, K, H * W);
    const un = input.ndim === 4;
    const out = un ? y.squeeze(0) : y;
    return returnIndices ? [out, un ? idx.squeeze(0) : idx] : out;
  },
) as unknown as {
  (...args: WithIndices<AdaptiveMax3dCalls>): [Tensor, Tensor];
  (input: Tensor, outputSize: number | readonly (number | null)[], returnIndices: true): [Tensor, Tensor];
  (...args: AdaptiveMax3dCalls): Tensor;
  readonly signature: typeof ADAPTIVE_MAX_POOL3D;
};

/** `max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None)` */
export const maxUnpool3d = op(signature("nn.functional.maxUnpool3d", unpoolParams), (a): Tensor => {
  const op = "maxUnpool3d";
  if (a.input.ndim !== 4 && a.input.ndim !== 5) {
    throw new ShapeError(
      `${op}: Input to max_unpooling3d should be a 4d or 5d Tensor, but got ${fmtShape(a.input.shape)}`,
    );
  }
  const kk = ints(a.kernelSize, 3, 1, 1, op, "kernelSize");
  const s = a.stride === null ? kk : ints(a.stride, 3, 1, 1, op, "stride");
  const p = ints(a.padding, 3, 0, 0, op, "padding");
  return unpool(op, a.input, a.indices, unpoolSize(op, a.input, kk, s, p, a.outputSize));
});

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
  input: Tensor,
  spatial: 2 | 3,
  kernelSize: number | readonly number[],
  outputSize: number | readonly number[] | null,
  outputRatio: number | readonly number[] | null,
  samplesArg: Tensor | null,
): [Tensor, Tensor] {
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
const FRACTIONAL2D = fractionalSig(
  "nn.functional.fractionalMaxPool2d",
  "torch.nn.functional.fractional_max_pool2d_with_indices",
);
const FRACTIONAL3D = fractionalSig(
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
  const r = fractionalMax(
    "fractionalMaxPool2d",
    a.input,
    2,
    a.kernelSize,
    a.outputSize,
    a.outputRatio,
    a._randomSamples,
  );
  return a.returnIndices ? r : r[0];
}) as unknown as FractionalFn;

/**
 * `fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
 * _random_samples=None)`: the 3-D form over [N, C, T, H, W]; `_randomSamples` [N, C, 3].
 */
export const fractionalMaxPool3d = op(FRACTIONAL3D, (a): Tensor | [Tensor, Tensor] => {
  const r = fractionalMax(
    "fractionalMaxPool3d",
    a.input,
    3,
    a.kernelSize,
    a.outputSize,
    a.outputRatio,
    a._randomSamples,
  );
  return a.returnIndices ? r : r[0];
}) as unknown as FractionalFn;

// ---- the `*_with_indices` forms PyTorch exports: always (output, indices) ----

/** `max_pool1d_with_indices(...)`: `maxPool1d` returning `[output, indices]` whatever `returnIndices` says. */
export const maxPool1dWithIndices = op(
  signature("nn.functional.maxPool1dWithIndices", MAX_POOL1D.positional),
  ({ input, ...o }): [Tensor, Tensor] => maxPool1d(input, { ...o, returnIndices: true }),
);
/** `max_pool2d_with_indices(...)`: `maxPool2d` returning `[output, indices]`. */
export const maxPool2dWithIndices = op(
  signature("nn.functional.maxPool2dWithIndices", MAX_POOL2D.positional),
  ({ input, ...o }): [Tensor, Tensor] => maxPool2d(input, { ...o, returnIndices: true }),
);
/** `max_pool3d_with_indices(...)`: `maxPool3d` returning `[output, indices]`. */
export const maxPool3dWithIndices = op(
  signature("nn.functional.maxPool3dWithIndices", MAX_POOL3D.positional),
  ({ input, ...o }): [Tensor, Tensor] => maxPool3d(input, { ...o, returnIndices: true }),
);
/** `adaptive_max_pool1d_with_indices(...)` */
export const adaptiveMaxPool1dWithIndices = op(
  signature("nn.functional.adaptiveMaxPool1dWithIndices", ADAPTIVE_MAX_POOL1D.positional),
  ({ input, outputSize }): [Tensor, Tensor] => adaptiveMaxPool1d(input, outputSize, true),
);
/** `adaptive_max_pool2d_with_indices(...)` */
export const adaptiveMaxPool2dWithIndices = op(
  signature("nn.functional.adaptiveMaxPool2dWithIndices", ADAPTIVE_MAX_POOL2D.positional),
  ({ input, outputSize }): [Tensor, Tensor] => adaptiveMaxPool2d(input, outputSize, true),
);
/** `adaptive_max_pool3d_with_indices(...)` */
export const adaptiveMaxPool3dWithIndices = op(
  signature("nn.functional.adaptiveMaxPool3dWithIndices", ADAPTIVE_MAX_POOL3D.positional),
  ({ input, outputSize }): [Tensor, Tensor] => adaptiveMaxPool3d(input, outputSize, true),
);
/** `fractional_max_pool2d_with_indices(...)` */
export const fractionalMaxPool2dWithIndices = op(
  signature("nn.functional.fractionalMaxPool2dWithIndices", FRACTIONAL2D.positional),
  ({ input, ...o }): [Tensor, Tensor] => fractionalMaxPool2d(input, { ...o, returnIndices: true }),
);
/** `fractional_max_pool3d_with_indices(...)` */
export const fractionalMaxPool3dWithIndices = op(
  signature("nn.functional.fractionalMaxPool3dWithIndices", FRACTIONAL3D.positional),
  ({ input, ...o }): [Tensor, Tensor] => fractionalMaxPool3d(input, { ...o, returnIndices: true }),
);
