/** pixelShuffle, pixelUnshuffle and channelShuffle (torch.nn.functional): reshapes and permutes. */
import { arg, fmtShape, k, op, signature, type Tensor } from "@cinder/tensor";
import { inputArg } from "../util";

function checkRank(op: string, x: Tensor): void {
  if (x.ndim < 3) {
    throw new Error(
      `${op}(): expected input to have at least 3 dimensions, but got input with ${x.ndim} dimension(s) (${fmtShape(x.shape)})`,
    );
  }
}

/** `pixel_shuffle(input, upscale_factor)`: [*, C r^2, H, W] -> [*, C, H r, W r]. */
export const pixelShuffle = op(
  signature("nn.functional.pixelShuffle", [inputArg, arg("upscaleFactor", k.int)]),
  ({ input, upscaleFactor: r }): Tensor => {
    checkRank("pixel_shuffle", input);
    const lead = input.shape.slice(0, -3);
    const [c, h, w] = input.shape.slice(-3);
    if (r <= 0) throw new RangeError(`pixel_shuffle(): upscale_factor must be greater than 0, but got ${r}`);
    if (c % (r * r) !== 0) {
      throw new Error(
        `pixel_shuffle(): expected input's channel dimension (${c}) to be divisible by the square of upscale_factor (${r * r})`,
      );
    }
    const oc = c / (r * r);
    const n = lead.length;
    const x = input.reshape([...lead, oc, r, r, h, w]);
    const lp = lead.map((_, i) => i);
    return x.permute([...lp, n, n + 3, n + 1, n + 4, n + 2]).reshape([...lead, oc, h * r, w * r]);
  },
);

/** `pixel_unshuffle(input, downscale_factor)`: [*, C, H r, W r] -> [*, C r^2, H, W]. */
export const pixelUnshuffle = op(
  signature("nn.functional.pixelUnshuffle", [inputArg, arg("downscaleFactor", k.int)]),
  ({ input, downscaleFactor: r }): Tensor => {
    checkRank("pixel_unshuffle", input);
    const lead = input.shape.slice(0, -3);
    const [c, h, w] = input.shape.slice(-3);
    if (r <= 0)
      throw new RangeError(`pixel_unshuffle(): downscale_factor must be greater than 0, but got ${r}`);
    if (h % r !== 0 || w % r !== 0) {
      throw new Error(
        `pixel_unshuffle(): expected height (${h}) and width (${w}) to be divisible by downscale_factor (${r})`,
      );
    }
    const n = lead.length;
    const x = input.reshape([...lead, c, h / r, r, w / r, r]);
    const lp = lead.map((_, i) => i);
    return x.permute([...lp, n, n + 2, n + 4, n + 1, n + 3]).reshape([...lead, c * r * r, h / r, w / r]);
  },
);

/** `channel_shuffle(input, groups)`: [N, g k, *] -> channels regrouped as [N, k g, *] (ShuffleNet). */
export const channelShuffle = op(
  signature("nn.functional.channelShuffle", [inputArg, arg("groups", k.int)]),
  ({ input, groups }): Tensor => channelShuffleImpl(input, groups),
);

/** `native_channel_shuffle(input, groups)`: the same as `channelShuffle`. */
export const nativeChannelShuffle = op(
  signature("nn.functional.nativeChannelShuffle", [inputArg, arg("groups", k.int)]),
  ({ input, groups }): Tensor => channelShuffleImpl(input, groups),
);

function channelShuffleImpl(input: Tensor, groups: number): Tensor {
  if (input.ndim < 3) {
    throw new Error(
      `channel_shuffle(): Number of dimensions of input tensor must be greater than 2 (got ${input.ndim})`,
    );
  }
  if (groups <= 0)
    throw new RangeError(
      `channel_shuffle(): Number of groups to divide channels in must be positive. Value of groups:${groups}`,
    );
  const [n, c] = input.shape;
  if (c % groups !== 0) {
    throw new Error(
      `channel_shuffle(): Number of channels must be divisible by groups. Got ${c} channels and ${groups} groups.`,
    );
  }
  const rest = input.shape.slice(2);
  return input
    .reshape([n, groups, c / groups, ...rest])
    .transpose(1, 2)
    .reshape(input.shape);
}
