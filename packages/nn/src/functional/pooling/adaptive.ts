/** Adaptive average and max pooling, 1-D to 3-D: windows [floor(i*n/o), ceil((i+1)*n/o)). */
import {
  type AnyParam,
  arg,
  type Calls,
  cat,
  type Kind,
  k,
  op,
  signature,
  type Tensor,
} from "@cinder/tensor";
import { inputArg } from "../../util";
import { adaptiveRanges, adaptiveWindows, gatherRows } from "../windows";
import { cachedWeights, windowSum } from "./avg";
import {
  type AdaptiveSize,
  foldDepth,
  indexResult,
  lift,
  planes,
  single,
  unfoldDepth,
  unvolume,
  volume,
  type WithIndices,
} from "./common";
import { depthMax, maxOverRows } from "./max";

type OptSizes = number | readonly (number | null)[];
/** An int, or a list whose entries are ints or null (keep the input's size): PyTorch's `_size_2_opt_t`, `_size_3_opt_t`. */
const adaptiveSize3Kind: Kind<OptSizes> = {
  ...k.where(
    k.any,
    (v) =>
      (typeof v === "number" && Number.isInteger(v)) ||
      (Array.isArray(v) && v.every((x) => x === null || Number.isInteger(x))),
    "int or (int | None)[]",
  ),
  takesObjects: false,
} as Kind<OptSizes>;
const adaptiveSizeKind = adaptiveSize3Kind as Kind<AdaptiveSize>;

/**
 * `adaptive_avg_pool2d(input, output_size)`: 2-D adaptive average pooling, windows
 * [floor(i*H/oH), ceil((i+1)*H/oH)); an entry null in `outputSize` keeps the input's size.
 */
export const adaptiveAvgPool2d = op(
  signature("nn.functional.adaptiveAvgPool2d", [inputArg, arg("outputSize", adaptiveSizeKind)]),
  ({ input, outputSize }): Tensor => adaptiveAvgPool2dImpl(input, outputSize),
);

/** The output size of an adaptive pool over `dims`: an int, or a pair (triple) whose null entries keep a dim. */
function adaptiveOut(op: string, dims: number[], outputSize: OptSizes): number[] {
  const req = typeof outputSize === "number" ? dims.map(() => outputSize) : [...outputSize];
  if (req.length !== dims.length) {
    throw new TypeError(
      `${op}: outputSize must be an int or ${dims.length === 2 ? "a pair" : "a triple"}, got ${JSON.stringify(outputSize)}`,
    );
  }
  const o = req.map((v, i) => (v === null ? dims[i] : v));
  if (!o.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`${op}: outputSize must be positive integers, got ${JSON.stringify(outputSize)}`);
  }
  return o;
}

function adaptiveAvgPool2dImpl(input: Tensor, outputSize: AdaptiveSize): Tensor {
  const op = "adaptiveAvgPool2d";
  const { lead, h, w } = planes(op, input);
  const [oh, ow] = adaptiveOut(op, [h, w], outputSize);
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

/**
 * `(input, output_size, return_indices=False)`: PyTorch's adaptive_max_poolNd dispatches on return_indices to
 * adaptive_max_poolNd_with_indices.
 */
function adaptiveMaxSignature<S>(name: string, size: Kind<S>, torchName: string) {
  return signature(name, [inputArg, arg("outputSize", size), arg("returnIndices", k.bool, false)], [], {
    torch: torchName,
  });
}
/** The call forms of adaptiveMaxPool1d/2d/3d: with `returnIndices` true `[output, indices]`. */
type AdaptiveMaxFn<S extends { readonly positional: readonly AnyParam[] }, O> = {
  (...args: WithIndices<Calls<S["positional"]>>): [Tensor, Tensor];
  (input: Tensor, outputSize: O, returnIndices: true): [Tensor, Tensor];
  (...args: Calls<S["positional"]>): Tensor;
  readonly signature: S;
};

export const ADAPTIVE_MAX_POOL2D = adaptiveMaxSignature(
  "nn.functional.adaptiveMaxPool2d",
  adaptiveSizeKind,
  "torch.nn.functional.adaptive_max_pool2d_with_indices",
);

/**
 * `adaptive_max_pool2d(input, output_size, return_indices=False)`: the max over windows
 * [floor(i*H/oH), ceil((i+1)*H/oH)); with `returnIndices` true returns `[output, indices]` (flat plane positions,
 * int64 as PyTorch's).
 */
export const adaptiveMaxPool2d = op(
  ADAPTIVE_MAX_POOL2D,
  ({ input, outputSize, returnIndices }): Tensor | [Tensor, Tensor] => {
    const r = adaptiveMax("adaptiveMaxPool2d", input, outputSize);
    return returnIndices ? [r[0], indexResult(r[1])] : r[0];
  },
) as unknown as AdaptiveMaxFn<typeof ADAPTIVE_MAX_POOL2D, AdaptiveSize>;

function adaptiveMax(op: string, input: Tensor, outputSize: AdaptiveSize): [Tensor, Tensor] {
  const { lead, h, w } = planes(op, input);
  const [oh, ow] = adaptiveOut(op, [h, w], outputSize);
  const win = adaptiveWindows(h, w, oh, ow, input.backend);
  const rows = gatherRows(input, lead, win, Number.NEGATIVE_INFINITY);
  return maxOverRows(input, lead, [h, w], [oh, ow], win, rows, "AdaptiveMaxPool2DBackward0");
}

export const ADAPTIVE_MAX_POOL1D = adaptiveMaxSignature(
  "nn.functional.adaptiveMaxPool1d",
  k.intOrInts,
  "torch.nn.functional.adaptive_max_pool1d_with_indices",
);

/** `adaptive_max_pool1d(input, output_size, return_indices=False)` over [N, C, L] (or [C, L]). */
export const adaptiveMaxPool1d = op(
  ADAPTIVE_MAX_POOL1D,
  ({ input, outputSize, returnIndices }): Tensor | [Tensor, Tensor] => {
    const op = "adaptiveMaxPool1d";
    const [y, idx] = adaptiveMax(op, lift(op, input), [1, single(op, "outputSize", outputSize)]);
    return returnIndices ? [y.squeeze(-2), indexResult(idx.squeeze(-2))] : y.squeeze(-2);
  },
) as unknown as AdaptiveMaxFn<typeof ADAPTIVE_MAX_POOL1D, number | readonly number[]>;

function adaptive3(op: string, x: Tensor, outputSize: OptSizes): number[] {
  return adaptiveOut(op, x.shape.slice(2), outputSize);
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
    return unvolume(input, cat(parts, 2));
  },
);

export const ADAPTIVE_MAX_POOL3D = adaptiveMaxSignature(
  "nn.functional.adaptiveMaxPool3d",
  adaptiveSize3Kind,
  "torch.nn.functional.adaptive_max_pool3d_with_indices",
);

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
    const out = unvolume(input, y);
    return returnIndices ? [out, indexResult(unvolume(input, idx))] : out;
  },
) as unknown as AdaptiveMaxFn<typeof ADAPTIVE_MAX_POOL3D, number | readonly (number | null)[]>;
