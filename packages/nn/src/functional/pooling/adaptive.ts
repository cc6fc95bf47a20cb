/** Adaptive average and max pooling, 1-D to 3-D: windows [floor(i*n/o), ceil((i+1)*n/o)). */
import { arg, type Calls, cat, type Kind, k, op, signature, type Tensor } from "@cinder/tensor";
import { inputArg } from "../../util";
import { adaptiveRanges, adaptiveWindows, gatherRows } from "../windows";
import { cachedWeights, windowSum } from "./avg";
import {
  type AdaptiveSize,
  foldDepth,
  lift,
  planes,
  single,
  unfoldDepth,
  volume,
  type WithIndices,
} from "./common";
import { depthMax, maxOverRows } from "./max";

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

export const ADAPTIVE_MAX_POOL2D = signature(
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

export const ADAPTIVE_MAX_POOL1D = signature(
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

export const ADAPTIVE_MAX_POOL3D = signature(
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
