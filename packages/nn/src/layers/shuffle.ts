/** PixelShuffle, PixelUnshuffle and ChannelShuffle. */
import { arg, type CallsOf, k, signature, type Tensor } from "@cinder/tensor";
import { channelShuffle, pixelShuffle, pixelUnshuffle } from "../functional/shape";
import { Module } from "../module";

const PIXEL_SHUFFLE = signature("nn.PixelShuffle", [arg("upscaleFactor", k.int)]);
/** `PixelShuffle(upscale_factor)`: [N, C r^2, H, W] -> [N, C, H r, W r]. */
export class PixelShuffle extends Module {
  static override readonly name: string = "PixelShuffle";
  static readonly signature = PIXEL_SHUFFLE;
  readonly upscaleFactor: number;
  constructor(...args: CallsOf<typeof PIXEL_SHUFFLE>) {
    super();
    this.upscaleFactor = PIXEL_SHUFFLE.parse(args).upscaleFactor;
  }
  override forward(x: Tensor): Tensor {
    return pixelShuffle(x, this.upscaleFactor);
  }
  override extraRepr(): string {
    return `upscale_factor=${this.upscaleFactor}`;
  }
}

const PIXEL_UNSHUFFLE = signature("nn.PixelUnshuffle", [arg("downscaleFactor", k.int)]);
/** `PixelUnshuffle(downscale_factor)`: [N, C, H r, W r] -> [N, C r^2, H, W]. */
export class PixelUnshuffle extends Module {
  static override readonly name: string = "PixelUnshuffle";
  static readonly signature = PIXEL_UNSHUFFLE;
  readonly downscaleFactor: number;
  constructor(...args: CallsOf<typeof PIXEL_UNSHUFFLE>) {
    super();
    this.downscaleFactor = PIXEL_UNSHUFFLE.parse(args).downscaleFactor;
  }
  override forward(x: Tensor): Tensor {
    return pixelUnshuffle(x, this.downscaleFactor);
  }
  override extraRepr(): string {
    return `downscale_factor=${this.downscaleFactor}`;
  }
}

const CHANNEL_SHUFFLE = signature("nn.ChannelShuffle", [arg("groups", k.int)]);
/** `ChannelShuffle(groups)`: interleave the channels of `groups` groups. */
export class ChannelShuffle extends Module {
  static override readonly name: string = "ChannelShuffle";
  static readonly signature = CHANNEL_SHUFFLE;
  readonly groups: number;
  constructor(...args: CallsOf<typeof CHANNEL_SHUFFLE>) {
    super();
    this.groups = CHANNEL_SHUFFLE.parse(args).groups;
  }
  override forward(x: Tensor): Tensor {
    return channelShuffle(x, this.groups);
  }
  override extraRepr(): string {
    return `groups=${this.groups}`;
  }
}
