/** Upsample, UpsamplingNearest2d and UpsamplingBilinear2d (F.interpolate as modules). */
import { arg, type CallsOf, k, type SignatureInfo, signature, type Tensor } from "@cinder/tensor";
import { type InterpolateMode, interpolate } from "../functional/interpolate";
import { Module } from "../module";
import { pyFloat, pyTuple } from "../util";

const sizeArg = arg.opt("size", k.intOrInts);
const scaleFactorArg = arg.opt("scaleFactor", k.or(k.float, k.floats));
const UPSAMPLE = signature("nn.Upsample", [
  sizeArg,
  scaleFactorArg,
  arg(
    "mode",
    k.oneOf("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"),
    "nearest",
  ),
  arg.opt("alignCorners", k.bool),
  arg.opt("recomputeScaleFactor", k.bool),
]);
const UPSAMPLING_NEAREST2D = signature("nn.UpsamplingNearest2d", [sizeArg, scaleFactorArg]);
const UPSAMPLING_BILINEAR2D = signature("nn.UpsamplingBilinear2d", [sizeArg, scaleFactorArg]);

const pySize = (v: number | readonly number[]): string => (typeof v === "number" ? String(v) : pyTuple(v));
const pyScale = (v: number | readonly number[]): string =>
  typeof v === "number"
    ? pyFloat(v)
    : v.length === 1
      ? `(${pyFloat(v[0])},)`
      : `(${v.map(pyFloat).join(", ")})`;

/**
 * `Upsample(size=None, scale_factor=None, mode='nearest', align_corners=None, recompute_scale_factor=None)`:
 * resize [N, C, L], [N, C, H, W] or [N, C, D, H, W] to `size` or by `scaleFactor`.
 */
export class Upsample extends Module {
  static override readonly name: string = "Upsample";
  static readonly signature: SignatureInfo = UPSAMPLE;
  readonly size: number | readonly number[] | null;
  readonly scaleFactor: number | readonly number[] | null;
  readonly mode: InterpolateMode;
  readonly alignCorners: boolean | null;
  readonly recomputeScaleFactor: boolean | null;
  constructor(...args: CallsOf<typeof UPSAMPLE>) {
    super();
    const a = UPSAMPLE.parse(args);
    this.size = a.size;
    // PyTorch keeps a zero scale factor as None
    this.scaleFactor = a.scaleFactor === 0 ? null : a.scaleFactor;
    this.mode = a.mode;
    this.alignCorners = a.alignCorners;
    this.recomputeScaleFactor = a.recomputeScaleFactor;
  }
  override forward(x: Tensor): Tensor {
    return interpolate(x, {
      size: this.size,
      scaleFactor: this.scaleFactor,
      mode: this.mode,
      alignCorners: this.alignCorners,
      recomputeScaleFactor: this.recomputeScaleFactor,
    });
  }
  override extraRepr(): string {
    const what =
      this.scaleFactor !== null
        ? `scale_factor=${pyScale(this.scaleFactor)}`
        : `size=${pySize(this.size ?? [])}`;
    return `${what}, mode=${this.mode}`;
  }
}

/** `UpsamplingNearest2d(size=None, scale_factor=None)`: `Upsample(size, scaleFactor, "nearest")`. */
export class UpsamplingNearest2d extends Upsample {
  static override readonly name: string = "UpsamplingNearest2d";
  static override readonly signature: SignatureInfo = UPSAMPLING_NEAREST2D;
  constructor(...args: CallsOf<typeof UPSAMPLING_NEAREST2D>) {
    const { size, scaleFactor } = UPSAMPLING_NEAREST2D.parse(args);
    super(size, scaleFactor, "nearest");
  }
}

/** `UpsamplingBilinear2d(size=None, scale_factor=None)`: `Upsample(size, scaleFactor, "bilinear", true)`. */
export class UpsamplingBilinear2d extends Upsample {
  static override readonly name: string = "UpsamplingBilinear2d";
  static override readonly signature: SignatureInfo = UPSAMPLING_BILINEAR2D;
  constructor(...args: CallsOf<typeof UPSAMPLING_BILINEAR2D>) {
    const { size, scaleFactor } = UPSAMPLING_BILINEAR2D.parse(args);
    super(size, scaleFactor, "bilinear", true);
  }
}
