/** Max pooling, 1-D to 3-D: the argmax of each window, whose backward scatters into the winning positions. */
import {
  arg,
  type Calls,
  cat,
  contiguousStrides,
  fmtShape,
  k,
  needsGrad,
  noGrad,
  op,
  recordOp,
  ShapeError,
  signature,
  type Tensor,
  tensor,
  tensorFromData,
  type View,
  zeros,
} from "@cinder/tensor";
import { inputArg } from "../../util";
import {
  alloc,
  dense,
  fastWindows,
  type GridSpec,
  gridWindows,
  im2row,
  ints,
  rawView,
  rowStrides,
  viewOf,
  type Windows,
  window2d,
} from "../windows";
import {
  depthTable,
  foldDepth,
  givenStride,
  gridOf,
  indexResult,
  kernelStridePad,
  lift,
  type PoolWindowOptions,
  planes,
  poolArgs,
  poolOut,
  single,
  unfoldDepth,
  unvolume,
  volume,
  type WithIndices,
} from "./common";

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

/**
 * `(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)`: PyTorch's
 * max_poolNd dispatches on return_indices to max_poolNd_with_indices, which has the same parameters.
 */
function maxPoolSignature(name: string, torchName: string) {
  return signature(
    name,
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
    { torch: torchName },
  );
}
export const MAX_POOL1D = maxPoolSignature(
  "nn.functional.maxPool1d",
  "torch.nn.functional.max_pool1d_with_indices",
);
export const MAX_POOL2D = maxPoolSignature(
  "nn.functional.maxPool2d",
  "torch.nn.functional.max_pool2d_with_indices",
);
export const MAX_POOL3D = maxPoolSignature(
  "nn.functional.maxPool3d",
  "torch.nn.functional.max_pool3d_with_indices",
);
type MaxPoolCalls = Calls<typeof MAX_POOL2D.positional>;
/** The call forms of maxPool1d/2d/3d: with `returnIndices` true (an option or in its position) `[output, indices]`. */
type MaxPoolFn = {
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

/**
 * `max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)`:
 * 2-D max pooling. With `returnIndices` true returns `[output, indices]`, the indices being flat positions into
 * each input plane (int32; PyTorch's are int64).
 */
export const maxPool2d = op(MAX_POOL2D, (a): Tensor | [Tensor, Tensor] =>
  maxPool2dImpl(a.input, a.kernelSize, a),
) as unknown as MaxPoolFn;

export function maxPool2dImpl(
  input: Tensor,
  kernelSize: number | readonly number[],
  opts: PoolWindowOptions & { returnIndices: boolean },
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
  return opts.returnIndices ? [result, indexResult(pos)] : result;
}

/**
 * The max of each window: `rows` [B, L * K] holds every window's taps (-inf for padding), `win.index` where each tap
 * reads; returns the output [...lead, ...out] (recorded: its backward scatters into the winning positions) and the
 * flat plane positions (int32).
 */
export function maxOverRows(
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
  return returnIndices ? [result, indexResult(rawView(pos, [...lead, ...out]))] : result;
}

/**
 * `max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)`
 * over [N, C, L] (or [C, L]); with `returnIndices` true returns `[output, indices]` (positions along L, int64).
 */
export const maxPool1d = op(MAX_POOL1D, (a): Tensor | [Tensor, Tensor] => {
  const op = "maxPool1d";
  const s = givenStride(a.stride);
  const r = maxPool2dImpl(lift(op, a.input), [1, single(op, "kernelSize", a.kernelSize)], {
    stride: s === null ? null : [1, single(op, "stride", s)],
    padding: [0, single(op, "padding", a.padding)],
    dilation: [1, single(op, "dilation", a.dilation)],
    ceilMode: a.ceilMode,
    returnIndices: a.returnIndices,
  });
  return Array.isArray(r) ? [r[0].squeeze(-2), r[1].squeeze(-2)] : r.squeeze(-2);
}) as unknown as MaxPoolFn;

/**
 * The max over depth windows of per-depth maxima V [N, C, D, Ho, Wo] (with flat plane indices I [same]):
 * `table` [Dout * K] lists each window's depths (-1: padding). Returns the values [N, C, Dout, Ho, Wo] and the flat
 * indices into D * H * W. The first maximum wins, in depth order, as PyTorch's scan.
 */
export function depthMax(V: Tensor, I: Tensor, table: number[], K: number, plane: number): [Tensor, Tensor] {
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

/**
 * `max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)` over
 * [N, C, D, H, W] (or [C, D, H, W]); with `returnIndices` true returns `[output, indices]` (flat positions into
 * each D * H * W volume, int64).
 */
export const maxPool3d = op(MAX_POOL3D, (a): Tensor | [Tensor, Tensor] => {
  const op = "maxPool3d";
  const x = volume(op, a.input);
  const { k: kk, s, p } = kernelStridePad(op, 3, a.kernelSize, a.stride, a.padding);
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
  const table = depthTable(Dout, kk[0], s[0], p[0], d[0], D, -1);
  const [y, idx] = depthMax(unfoldDepth(v2, N, D), unfoldDepth(i2, N, D), table, kk[0], H * W);
  const out = unvolume(a.input, y);
  return a.returnIndices ? [out, unvolume(a.input, idx)] : out;
}) as unknown as MaxPoolFn;
