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
import { op, signature, type Tensor } from "@cinder/tensor";
import {
  ADAPTIVE_MAX_POOL1D,
  ADAPTIVE_MAX_POOL2D,
  ADAPTIVE_MAX_POOL3D,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
} from "./pooling/adaptive";
import { MAX_POOL1D, MAX_POOL2D, MAX_POOL3D, maxPool1d, maxPool2d, maxPool3d } from "./pooling/max";
import { FRACTIONAL2D, FRACTIONAL3D, fractionalMaxPool2d, fractionalMaxPool3d } from "./pooling/unpool";

export {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
} from "./pooling/adaptive";
export { avgPool1d, avgPool2d, avgPool3d, lpPool1d, lpPool2d } from "./pooling/avg";
export type { AdaptiveSize, AvgPool2dOptions, MaxPool2dOptions } from "./pooling/common";
export { maxPool1d, maxPool2d, maxPool3d } from "./pooling/max";
export {
  fractionalMaxPool2d,
  fractionalMaxPool3d,
  maxUnpool1d,
  maxUnpool2d,
  maxUnpool3d,
} from "./pooling/unpool";

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
