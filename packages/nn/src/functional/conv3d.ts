/**
 * conv3d and convTranspose3d (torch.nn.functional) composed from the 2-D kernels: a 3-D convolution is the sum over
 * the kernel's depth taps of 2-D convolutions of depth-strided slices (one batched conv2d per tap, the output depths
 * folded into the batch); the transposed one scatter-adds each tap's transposed 2-D convolution back to its output
 * depths. Gradients follow by composition.
 */
import { cat, fmtShape, op, ShapeError, signature, type Tensor, tensor, zeros } from "@cinder/tensor";
import { conv2d, convTranspose2d } from "./conv";
import { convParams, convTransposeParams } from "./conv-params";
import { ints } from "./windows";

/** [C, D, H, W] -> [1, C, D, H, W], with the rank check. */
function batched(op: string, x: Tensor, w: Tensor): Tensor {
  if (w.ndim !== 5) {
    throw new ShapeError(`${op}: expected weight to be 5-dimensional, got ${fmtShape(w.shape)}`);
  }
  if (x.ndim !== 4 && x.ndim !== 5) {
    throw new ShapeError(
      `${op}: expected a 5-D input [N, C, D, H, W] (or 4-D [C, D, H, W] unbatched), got ${fmtShape(x.shape)}`,
    );
  }
  return x.ndim === 5 ? x : x.unsqueeze(0);
}

/** x [N, C, D, H, W] -> [N * n, C, H, W]: the depth slices at `depths` folded into the batch. */
function slices(x: Tensor, depths: number[]): Tensor {
  const [N, C, , H, W] = x.shape;
  const s = x.indexSelect(2, tensor(Int32Array.from(depths), { device: x.device }));
  return s.permute([0, 2, 1, 3, 4]).reshape([N * depths.length, C, H, W]);
}

/**
 * `conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)`: 3-D convolution over
 * [N, C, D, H, W] (or unbatched [C, D, H, W]) with weight [C_out, C/groups, kD, kH, kW]; padding an int, a
 * triple, "valid" or "same".
 */
export const conv3d = op(
  signature("nn.functional.conv3d", convParams),
  ({ input, weight, bias, stride, padding, dilation, groups }): Tensor => {
    const op = "conv3d";
    const x0 = batched(op, input, weight);
    const s = ints(stride, 3, 1, 1, op, "stride");
    const d = ints(dilation, 3, 1, 1, op, "dilation");
    const kD = weight.shape[2];
    const effD = d[0] * (kD - 1) + 1;
    let padLo: number;
    let padHi: number;
    let hw: number | readonly number[] | "same" | "valid";
    if (padding === "same" || padding === "valid") {
      if (padding === "same" && s.some((v) => v !== 1)) {
        throw new Error(`${op}: padding='same' is not supported for strided convolutions`);
      }
      padLo = padding === "same" ? Math.floor((effD - 1) / 2) : 0;
      padHi = padding === "same" ? effD - 1 - padLo : 0;
      hw = padding;
    } else {
      const p = ints(padding, 3, 0, 0, op, "padding");
      padLo = padHi = p[0];
      hw = [p[1], p[2]];
    }
    const [N, , D] = x0.shape;
    const Dp = D + padLo + padHi;
    if (Dp < effD) {
      throw new ShapeError(
        `${op}: kernel depth ${kD} (dilated ${effD}) can't be greater than the padded input depth ${Dp} (input ${fmtShape(input.shape)})`,
      );
    }
    const Dout = Math.floor((Dp - effD) / s[0]) + 1;
    let x = x0;
    if (padLo > 0 || padHi > 0) {
      const [, C, , H, W] = x0.shape;
      const z = (n: number) => zeros([N, C, n, H, W], { dtype: x0.dtype, device: x0.device });
      x = cat(
        [padLo > 0 ? z(padLo) : null, x0, padHi > 0 ? z(padHi) : null].filter((t): t is Tensor => t !== null),
        2,
      );
    }
    let y: Tensor | null = null;
    for (let kd = 0; kd < kD; kd++) {
      const depths = Array.from({ length: Dout }, (_, o) => o * s[0] + kd * d[0]);
      const part = conv2d(
        slices(x, depths),
        weight.select(2, kd),
        null,
        [s[1], s[2]],
        hw,
        [d[1], d[2]],
        groups,
      );
      y = y ? y.add(part) : part;
    }
    const out = y as Tensor; // [N * Dout, C_out, Ho, Wo]
    const [, O, Ho, Wo] = out.shape;
    let r = out.reshape([N, Dout, O, Ho, Wo]).permute([0, 2, 1, 3, 4]);
    if (bias) r = r.add(bias.reshape([1, O, 1, 1, 1]));
    return input.ndim === 5 ? r : r.squeeze(0);
  },
);

/**
 * `conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1)`:
 * transposed 3-D convolution with weight [C_in, C_out/groups, kD, kH, kW].
 */
export const convTranspose3d = op(
  signature("nn.functional.convTranspose3d", convTransposeParams),
  ({ input, weight, bias, stride, padding, outputPadding, groups, dilation }): Tensor => {
    const op = "convTranspose3d";
    const x = batched(op, input, weight);
    const s = ints(stride, 3, 1, 1, op, "stride");
    const p = ints(padding, 3, 0, 0, op, "padding");
    const q = ints(outputPadding, 3, 0, 0, op, "outputPadding");
    const d = ints(dilation, 3, 1, 1, op, "dilation");
    if (q.some((v, i) => v >= s[i] && v >= d[i])) {
      throw new RangeError(
        `${op}: output padding must be smaller than either stride or dilation, got outputPadding (${q.join(", ")}), stride (${s.join(", ")}) and dilation (${d.join(", ")})`,
      );
    }
    const [N, C, D, H, W] = x.shape;
    const kD = weight.shape[2];
    const Dout = (D - 1) * s[0] - 2 * p[0] + d[0] * (kD - 1) + q[0] + 1;
    if (Dout < 1)
      throw new ShapeError(`${op}: the output depth ${Dout} is too small (input ${fmtShape(input.shape)})`);
    const flat = x.permute([0, 2, 1, 3, 4]).reshape([N * D, C, H, W]);
    let acc: Tensor | null = null;
    for (let kd = 0; kd < kD; kd++) {
      const part = convTranspose2d(
        flat,
        weight.select(2, kd),
        null,
        [s[1], s[2]],
        [p[1], p[2]],
        [q[1], q[2]],
        groups,
        [d[1], d[2]],
      );
      const [, O, Ho, Wo] = part.shape;
      const v = part.reshape([N, D, O, Ho, Wo]);
      // input depth i lands at output depth i * s + kd * dilation - padding (dropped outside [0, Dout))
      const keep: number[] = [];
      const at: number[] = [];
      for (let i = 0; i < D; i++) {
        const o = i * s[0] + kd * d[0] - p[0];
        if (o >= 0 && o < Dout) {
          keep.push(i);
          at.push(o);
        }
      }
      if (keep.length === 0) continue;
      const src = v.indexSelect(1, tensor(Int32Array.from(keep), { device: x.device }));
      const idx = tensor(Int32Array.from(at), { device: x.device })
        .reshape([1, at.length, 1, 1, 1])
        .expand(src.shape);
      const base: Tensor = acc ?? zeros([N, Dout, O, Ho, Wo], { dtype: x.dtype, device: x.device });
      acc = base.scatterAdd(1, idx, src);
    }
    if (!acc)
      throw new ShapeError(`${op}: no kernel tap reaches the output (input ${fmtShape(input.shape)})`);
    const O = weight.shape[1] * groups;
    let r = acc.permute([0, 2, 1, 3, 4]);
    if (bias) r = r.add(bias.reshape([1, O, 1, 1, 1]));
    return input.ndim === 5 ? r : r.squeeze(0);
  },
);
