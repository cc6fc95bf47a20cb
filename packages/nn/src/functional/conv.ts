/**
 * Convolutions (torch.nn.functional.conv1d, conv2d, conv_transpose1d/2d; unfold/fold, im2col/col2im, in fold.ts).
 *
 * A convolution is im2col + matmul, directly in NCHW (conv-kernels.ts): the input laid out as rows [N, L, K]
 * (L output positions, K = C_in * kH * kW taps; Backend.im2col or strided copies, windows.ts), and products of
 * strided views of the rows, the weight and the output gradient as they are, with no permuted copies. Three
 * bilinear kernels over one geometry do all the work:
 *
 *   convolution(x, W)   -> y          (conv2d)
 *   transposed(y, W)    -> x-shaped   (conv_transpose2d; the gradient of conv2d w.r.t. its input: matmul + col2im)
 *   weightGrad(x, y)    -> W-shaped   (the gradient of conv2d w.r.t. its weight: products over the saved rows)
 *
 * Each is recorded as ONE autograd node whose backward calls the other two, so gradients of any order exist
 * while a first-order backward costs exactly one kernel pass per needed gradient.
 */
import {
  arg,
  DTypeError,
  fmtShape,
  k,
  needsGrad,
  op,
  recordOp,
  ShapeError,
  signature,
  type Tensor,
} from "@cinder/tensor";
import { inputArg, pyTuple } from "../util";
import { type ConvGeom, forwardKernel, rowsOf, transposedKernel, weightKernel } from "./conv-kernels";
import { convParams, convTransposeParams, weightArg } from "./conv-params";
import { grid, ints, type Size2 } from "./windows";

export type { Size2 };
/** An int or a list of one int (PyTorch's `_single`). */
export type Size1 = number | readonly [number];

/** @deprecated the options of `conv2d`; kept for the module classes' types. */
export interface Conv2dOptions {
  stride?: Size2;
  /** Zero padding on both sides, or "valid" (none) or "same" (output size = input size; stride 1 only). */
  padding?: Size2 | "same" | "valid";
  dilation?: Size2;
  groups?: number;
}
/** Options of `F.conv1d` (PyTorch's keyword forms of stride, padding, dilation and groups). */
export interface Conv1dOptions {
  stride?: Size1;
  padding?: Size1 | "same" | "valid";
  dilation?: Size1;
  groups?: number;
}
/** Options of `F.convTranspose2d`. */
export interface ConvTranspose2dOptions {
  stride?: Size2;
  padding?: Size2;
  /** Extra size added to one side of the output (to pick among the input sizes a strided conv maps alike). */
  outputPadding?: Size2;
  groups?: number;
  dilation?: Size2;
}
/** Options of `F.convTranspose1d`. */
export interface ConvTranspose1dOptions {
  stride?: Size1;
  padding?: Size1;
  outputPadding?: Size1;
  groups?: number;
  dilation?: Size1;
}
/** Options of `F.unfold` (and `F.fold`'s window parameters). */
export interface UnfoldOptions {
  dilation?: Size2;
  padding?: Size2;
  stride?: Size2;
}

/** The sum of `g` over every dim but channels (the bias gradient). */
function channelSum(g: Tensor): Tensor {
  return g.sum({ dim: g.shape.map((_, i) => i).filter((i) => i !== 1) });
}

// ---- the recorded ops ----

function convolution(geo: ConvGeom, x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const n = x.shape[0];
  const rows = rowsOf(geo, x);
  const y = forwardKernel(geo, rows, n, w, bias);
  if (!needsGrad(x, w, bias)) {
    rows.dispose();
    return y;
  }
  const saved = w.requiresGrad ? rows : null;
  if (!saved) rows.dispose();
  return recordOp({
    name: "ConvolutionBackward0",
    inputs: [x, w, bias],
    output: y,
    saved: [x, w],
    // the bias gradient last: the kernels before it have run g if it was pending, so its sum reads the values
    // rather than running g's program once more inside the reduction
    backward: (g) => [
      x.requiresGrad ? transposed(geo, g, w, null) : null,
      w.requiresGrad ? weightGrad(geo, x, g, saved) : null,
      bias?.requiresGrad ? channelSum(g) : null,
    ],
  });
}

function transposed(geo: ConvGeom, gy: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const x = transposedKernel(geo, gy, w, bias);
  if (!needsGrad(gy, w, bias)) return x;
  return recordOp({
    name: "ConvolutionBackward0",
    inputs: [gy, w, bias],
    output: x,
    saved: [gy, w],
    backward: (g) => [
      gy.requiresGrad ? convolution(geo, g, w, null) : null,
      w.requiresGrad ? weightGrad(geo, g, gy, null) : null,
      bias?.requiresGrad ? channelSum(g) : null,
    ],
  });
}

function weightGrad(geo: ConvGeom, x: Tensor, gy: Tensor, rows: Tensor | null): Tensor {
  const gw = weightKernel(geo, x, gy, rows);
  if (!needsGrad(x, gy)) return gw;
  return recordOp({
    name: "ConvolutionBackwardBackward0",
    inputs: [x, gy],
    output: gw,
    backward: (g) => [
      x.requiresGrad ? transposed(geo, gy, g, null) : null,
      gy.requiresGrad ? convolution(geo, x, g, null) : null,
    ],
  });
}

// ---- argument checks ----

type Padding = number | readonly number[] | "same" | "valid" | undefined;

interface Parsed {
  groups: number;
  stride: number[];
  dilation: number[];
}

function spatialNames(spatial: number): string {
  return spatial === 2 ? "H, W" : "L";
}

/** Rank, channel, groups, bias, dtype and device checks shared by all convolutions. */
function checkOperands(
  op: string,
  spatial: number,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  groups: number,
  transposedConv: boolean,
): void {
  if (w.ndim !== spatial + 2) {
    const layout = transposedConv ? "in_channels, out_channels/groups" : "out_channels, in_channels/groups";
    throw new ShapeError(
      `${op}: expected weight to be ${spatial + 2}-dimensional [${layout}, ${spatial === 2 ? "kH, kW" : "kL"}], got ${fmtShape(w.shape)}`,
    );
  }
  if (!Number.isInteger(groups) || groups < 1)
    throw new RangeError(`${op}: groups must be a positive integer, got ${groups}`);
  const cin = transposedConv ? w.shape[0] : w.shape[1] * groups;
  if (w.shape[0] % groups !== 0) {
    const name = transposedConv ? "in_channels" : "out_channels";
    throw new ShapeError(
      `${op}: ${name} (weight.shape[0] = ${w.shape[0]}) must be divisible by groups (${groups})`,
    );
  }
  const batched = x.ndim === spatial + 2;
  const names = spatialNames(spatial);
  if (!batched && x.ndim !== spatial + 1) {
    throw new ShapeError(
      `${op}: expected input with ${spatial + 2} dims [N, C, ${names}] (or ${spatial + 1} dims [C, ${names}] unbatched) and ${cin} channels (weight ${fmtShape(w.shape)}${groups > 1 ? `, groups=${groups}` : ""}), got ${fmtShape(x.shape)}`,
    );
  }
  if (x.shape[batched ? 1 : 0] !== cin) {
    const dims = batched ? `${spatial + 2} dims [N, C, ${names}]` : `${spatial + 1} dims [C, ${names}]`;
    throw new ShapeError(
      `${op}: expected input with ${dims} and ${cin} channels (weight ${fmtShape(w.shape)}${groups > 1 ? `, groups=${groups}` : ""}), got ${fmtShape(x.shape)}`,
    );
  }
  const outChannels = transposedConv ? w.shape[1] * groups : w.shape[0];
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outChannels)) {
    throw new ShapeError(`${op}: expected bias of shape [${outChannels}], got ${fmtShape(bias.shape)}`);
  }
  for (const [name, t] of [
    ["input", x],
    ["weight", w],
    ["bias", bias],
  ] as const) {
    if (t && !t.isFloatingPoint())
      throw new DTypeError(`${op}: expected a floating point ${name}, got ${t.dtype}`);
    if (t && t.dtype !== x.dtype) {
      throw new DTypeError(
        `${op}: expected input and ${name} to have the same dtype, got input ${x.dtype} and ${name} ${t.dtype}`,
      );
    }
    if (t && t.backend !== x.backend) {
      throw new Error(
        `${op}: expected input and ${name} on the same device, got input on ${x.device} and ${name} on ${t.device}`,
      );
    }
  }
}

function parse(
  op: string,
  spatial: number,
  o: { stride?: unknown; dilation?: unknown; groups?: number },
): Parsed {
  return {
    groups: o.groups ?? 1,
    stride: ints(o.stride as Size2 | undefined, spatial, 1, 1, op, "stride"),
    dilation: ints(o.dilation as Size2 | undefined, spatial, 1, 1, op, "dilation"),
  };
}

interface ConvArgs {
  stride: number | readonly number[];
  padding: number | readonly number[] | "same" | "valid";
  dilation: number | readonly number[];
  groups: number;
}
interface ConvTransposeArgs {
  stride: number | readonly number[];
  padding: number | readonly number[];
  outputPadding: number | readonly number[];
  dilation: number | readonly number[];
  groups: number;
}

function convNd(op: string, spatial: 1 | 2, x: Tensor, w: Tensor, bias: Tensor | null, o: ConvArgs): Tensor {
  const p = parse(op, spatial, o);
  checkOperands(op, spatial, x, w, bias, p.groups, false);
  const inp = x.shape.slice(-spatial);
  const k = w.shape.slice(2);
  const eff = k.map((kk, i) => p.dilation[i] * (kk - 1) + 1);
  let left: number[];
  let total: number[];
  const pad = o.padding as Padding;
  if (pad === "same") {
    if (p.stride.some((s) => s !== 1))
      throw new Error(`${op}: padding="same" is not supported for strided convolutions`);
    total = eff.map((e) => e - 1);
    left = total.map((t) => Math.floor(t / 2));
  } else if (pad === "valid") {
    left = total = new Array(spatial).fill(0);
  } else if (typeof pad === "string") {
    throw new Error(`${op}: invalid padding string ${JSON.stringify(pad)}: expected "valid" or "same"`);
  } else {
    left = ints(pad, spatial, 0, 0, op, "padding");
    total = left.map((l) => 2 * l);
  }
  const padded = inp.map((s, i) => s + total[i]);
  if (padded.some((s, i) => s < eff[i])) {
    throw new ShapeError(
      `${op}: kernel size ${pyTuple(k)}${p.dilation.some((d) => d !== 1) ? ` (dilated ${pyTuple(eff)})` : ""} can't be greater than the padded input size ${pyTuple(padded)} (input ${fmtShape(x.shape)}, padding ${typeof pad === "string" ? pad : pyTuple(left)})`,
    );
  }
  const out = padded.map((s, i) => Math.floor((s - eff[i]) / p.stride[i]) + 1);
  const geo: ConvGeom = {
    spatial,
    cin: x.shape[x.ndim - spatial - 1],
    cout: w.shape[0],
    groups: p.groups,
    grid: grid(x.shape[x.ndim - spatial - 1], inp, k, p.stride, left, p.dilation, out),
  };
  const batched = x.ndim === spatial + 2;
  const y = convolution(geo, batched ? x : x.unsqueeze(0), w, bias);
  return batched ? y : y.squeeze(0);
}

function convTransposeNd(
  op: string,
  spatial: 1 | 2,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  o: ConvTransposeArgs,
): Tensor {
  const p = parse(op, spatial, o);
  checkOperands(op, spatial, x, w, bias, p.groups, true);
  const pad = ints(o.padding, spatial, 0, 0, op, "padding");
  const outPad = ints(o.outputPadding, spatial, 0, 0, op, "outputPadding");
  if (outPad.some((q, i) => q >= p.stride[i] && q >= p.dilation[i])) {
    throw new RangeError(
      `${op}: output padding must be smaller than either stride or dilation, got outputPadding ${pyTuple(outPad)}, stride ${pyTuple(p.stride)} and dilation ${pyTuple(p.dilation)}`,
    );
  }
  const inp = x.shape.slice(-spatial);
  const k = w.shape.slice(2);
  const out = inp.map(
    (s, i) => (s - 1) * p.stride[i] - 2 * pad[i] + p.dilation[i] * (k[i] - 1) + outPad[i] + 1,
  );
  if (out.some((s) => s < 1)) {
    throw new ShapeError(
      `${op}: the output size ${pyTuple(out)} is too small (input ${fmtShape(x.shape)}, weight ${fmtShape(w.shape)})`,
    );
  }
  // the convolution this transposes maps [cout_T, out] to [cin_T, inp]
  const cin = w.shape[1] * p.groups;
  const geo: ConvGeom = {
    spatial,
    cin,
    cout: w.shape[0],
    groups: p.groups,
    grid: grid(cin, out, k, p.stride, pad, p.dilation, inp),
  };
  const batched = x.ndim === spatial + 2;
  const y = transposed(geo, batched ? x : x.unsqueeze(0), w, bias);
  return batched ? y : y.squeeze(0);
}

// ---- public functions ----

export { fold, unfold } from "./fold";

/**
 * `conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)`: 2-D convolution over
 * [N, C, H, W] (or unbatched [C, H, W]) with weight [C_out, C/groups, kH, kW]; padding an int, a pair, "valid" or
 * "same".
 */
export const conv2d = op(
  signature("nn.functional.conv2d", convParams),
  ({ input, weight, bias, ...o }): Tensor => convNd("conv2d", 2, input, weight, bias, o),
);

/** `conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)` over [N, C, L] (or [C, L]). */
export const conv1d = op(
  signature("nn.functional.conv1d", convParams),
  ({ input, weight, bias, ...o }): Tensor => convNd("conv1d", 1, input, weight, bias, o),
);

/**
 * `conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1)`:
 * transposed 2-D convolution with weight [C_in, C_out/groups, kH, kW].
 */
export const convTranspose2d = op(
  signature("nn.functional.convTranspose2d", convTransposeParams),
  ({ input, weight, bias, ...o }): Tensor => convTransposeNd("convTranspose2d", 2, input, weight, bias, o),
);

/** `conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1)` */
export const convTranspose1d = op(
  signature("nn.functional.convTranspose1d", convTransposeParams),
  ({ input, weight, bias, ...o }): Tensor => convTransposeNd("convTranspose1d", 1, input, weight, bias, o),
);

/**
 * `conv_tbc(input, weight, bias, pad=0)`: 1-D convolution over time of [T, B, C_in] with weight [k, C_in, C_out]
 * and bias [C_out], zero-padded by `pad` on both sides: [T', B, C_out] (F.conv_tbc is torch.conv_tbc).
 */
export const convTbc = op(
  signature("nn.functional.convTbc", [inputArg, weightArg, arg("bias", k.tensor), arg("pad", k.int, 0)], [], {
    torch: "torch.conv_tbc",
  }),
  ({ input, weight, bias, pad }): Tensor => {
    if (input.ndim !== 3)
      throw new ShapeError(
        `conv_tbc(): Input must have 3 dims: time, batch, in_channel (got ${fmtShape(input.shape)})`,
      );
    if (weight.ndim !== 3) {
      throw new ShapeError(
        `conv_tbc(): Weight tensor must have 3 dims: kernel_width, in_channels, out_channels (got ${fmtShape(weight.shape)})`,
      );
    }
    if (bias.ndim !== 1) throw new ShapeError(`conv_tbc(): Bias must be 1-D, got ${fmtShape(bias.shape)}`);
    if (input.shape[2] !== weight.shape[1]) {
      throw new ShapeError(
        `conv_tbc(): Input dim 2 (input channels) is not == dim 1 in the weight tensor (${input.shape[2]} vs ${weight.shape[1]})`,
      );
    }
    if (weight.shape[2] !== bias.shape[0]) {
      throw new ShapeError(
        `conv_tbc(): Bias size must equal dim 2 in the weight tensor (output channels) (${bias.shape[0]} vs ${weight.shape[2]})`,
      );
    }
    return conv1d(input.permute([1, 2, 0]), weight.permute([2, 1, 0]), bias, 1, pad).permute([2, 0, 1]);
  },
);
