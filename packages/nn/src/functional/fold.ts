/**
 * unfold/fold (torch.nn.functional.unfold, fold): im2col and col2im over [N, C, H, W], each recorded with the other
 * as its backward.
 */
import {
  arg,
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
import { dilationArg, paddingArg, strideArg } from "./conv-params";
import { type GridSpec, grid, im2row, ints, rawView, row2im } from "./windows";

/** Geometry of unfold/fold over [C, H, W] with the sliding blocks in columns ([C * kH * kW, L] order). */
interface BlockArgs {
  dilation: number | readonly number[];
  padding: number | readonly number[];
  stride: number | readonly number[];
}

function blockGrid(
  op: string,
  c: number,
  hw: number[],
  kernelSize: number | readonly number[],
  o: BlockArgs,
): GridSpec {
  const k = ints(kernelSize, 2, 1, 1, op, "kernelSize");
  const d = ints(o.dilation, 2, 1, 1, op, "dilation");
  const p = ints(o.padding, 2, 0, 0, op, "padding");
  const s = ints(o.stride, 2, 1, 1, op, "stride");
  const out = hw.map((v, i) => Math.floor((v + 2 * p[i] - d[i] * (k[i] - 1) - 1) / s[i]) + 1);
  if (out.some((v) => v < 1)) {
    throw new ShapeError(
      `${op}: the calculated number of sliding blocks ${out.join(" * ")} is too small for input size ${pyTuple(hw)} with kernelSize ${pyTuple(k)}, dilation ${pyTuple(d)}, padding ${pyTuple(p)} and stride ${pyTuple(s)}`,
    );
  }
  return { ...grid(c, hw, k, s, p, d, out), kFirst: true };
}

function unfoldOp(spec: GridSpec, x: Tensor): Tensor {
  const n = x.shape[0];
  const rows = im2row(x, [n], spec, 0);
  const y = rawView(rows, [n, spec.c * spec.kh * spec.kw, spec.oh * spec.ow]);
  rows.dispose();
  if (!needsGrad(x)) return y;
  return recordOp({ name: "Im2ColBackward0", inputs: [x], output: y, backward: (g) => [foldOp(spec, g)] });
}

function foldOp(spec: GridSpec, x: Tensor): Tensor {
  const n = x.shape[0];
  const y = row2im(x, [n], [spec.c, spec.h, spec.w], spec);
  if (!needsGrad(x)) return y;
  return recordOp({ name: "Col2ImBackward0", inputs: [x], output: y, backward: (g) => [unfoldOp(spec, g)] });
}

/**
 * `unfold(input, kernel_size, dilation=1, padding=0, stride=1)`: extract sliding blocks:
 * [N, C, H, W] -> [N, C * kH * kW, L] (im2col).
 */
export const unfold = op(
  signature("nn.functional.unfold", [
    inputArg,
    arg("kernelSize", k.intOrInts),
    dilationArg,
    paddingArg,
    strideArg,
  ]),
  ({ input, kernelSize, ...o }): Tensor => unfoldImpl(input, kernelSize, o),
);

function unfoldImpl(input: Tensor, kernelSize: number | readonly number[], opts: BlockArgs): Tensor {
  if (input.ndim !== 3 && input.ndim !== 4) {
    throw new ShapeError(
      `unfold: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got ${fmtShape(input.shape)}`,
    );
  }
  const x = input.ndim === 4 ? input : input.unsqueeze(0);
  const spec = blockGrid("unfold", x.shape[1], x.shape.slice(2), kernelSize, opts);
  const y = unfoldOp(spec, x);
  return input.ndim === 4 ? y : y.squeeze(0);
}

/**
 * `fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1)`: sum sliding blocks back into an image:
 * [N, C * kH * kW, L] -> [N, C, H, W] (col2im).
 */
export const fold = op(
  signature("nn.functional.fold", [
    inputArg,
    arg("outputSize", k.intOrInts),
    arg("kernelSize", k.intOrInts),
    dilationArg,
    paddingArg,
    strideArg,
  ]),
  ({ input, outputSize, kernelSize, ...o }): Tensor => foldImpl(input, outputSize, kernelSize, o),
);

function foldImpl(
  input: Tensor,
  outputSize: number | readonly number[],
  kernelSize: number | readonly number[],
  opts: BlockArgs,
): Tensor {
  if (input.ndim !== 2 && input.ndim !== 3) {
    throw new ShapeError(
      `fold: expected a 2-D [C * kH * kW, L] or 3-D [N, C * kH * kW, L] input, got ${fmtShape(input.shape)}`,
    );
  }
  const x = input.ndim === 3 ? input : input.unsqueeze(0);
  const k = ints(kernelSize, 2, 1, 1, "fold", "kernelSize");
  const kk = k[0] * k[1];
  if (x.shape[1] % kk !== 0) {
    throw new ShapeError(
      `fold: expected size of input's dimension 1 to be divisible by the product of kernelSize ${pyTuple(k)} = ${kk}, got input ${fmtShape(input.shape)}`,
    );
  }
  const spec = blockGrid(
    "fold",
    x.shape[1] / kk,
    ints(outputSize, 2, 1, 1, "fold", "outputSize"),
    kernelSize,
    opts,
  );
  if (x.shape[2] !== spec.oh * spec.ow) {
    throw new ShapeError(
      `fold: expected input's dimension 2 to match the calculated number of sliding blocks ${spec.oh} * ${spec.ow} = ${spec.oh * spec.ow}, got input ${fmtShape(input.shape)}`,
    );
  }
  const y = foldOp(spec, x);
  return input.ndim === 3 ? y : y.squeeze(0);
}
