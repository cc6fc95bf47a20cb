/**
 * affineGrid and gridSample (torch.nn.functional, spatial transformer networks), composed from tensor ops with
 * ATen's coordinate rules (`grid_sampler_compute_source_index`: unnormalize, then border clipping or reflection),
 * so gradients reach both the input and the grid.
 */
import {
  arange,
  arg,
  cat,
  fmtShape,
  k,
  noGrad,
  ones,
  op,
  signature,
  type Tensor,
  where,
} from "@cinder/tensor";
import { inputArg } from "../util";

let warnedAlign = false;
function alignDefault(v: boolean | null, what: string): boolean {
  if (v !== null) return v;
  if (!warnedAlign) {
    warnedAlign = true;
    console.warn(
      `${what}: Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for details.`,
    );
  }
  return false;
}

/** The normalised coordinates of `n` pixel centres (or corners with alignCorners) in [-1, 1]. */
function linspaceCoords(n: number, alignCorners: boolean, like: Tensor): Tensor {
  const i = arange(n, { dtype: like.dtype === "float64" ? "float64" : "float32", device: like.device });
  if (n <= 1) return i.mul(0); // ATen: a single step sits at 0 either way
  return alignCorners ? i.mul(2 / (n - 1)).sub(1) : i.mul(2).add(1).div(n).sub(1);
}

/**
 * `affine_grid(theta, size, align_corners=None)`: the sampling grid [N, H, W, 2] (or [N, D, H, W, 3]) of the affine
 * maps theta [N, 2, 3] (or [N, 3, 4]) for an output of `size` [N, C, H, W] (or [N, C, D, H, W]).
 */
export const affineGrid = op(
  signature("nn.functional.affineGrid", [
    arg("theta", k.tensor),
    arg("size", k.ints),
    arg.opt("alignCorners", k.bool),
  ]),
  ({ theta, size, alignCorners: ac }): Tensor => {
    const alignCorners = alignDefault(ac, "affineGrid");
    if (!theta.isFloatingPoint()) {
      throw new TypeError(
        `affine_grid(): Expected theta to have floating point type, but got ${theta.dtype}`,
      );
    }
    const spatial = size.length - 2;
    if (spatial !== 2 && spatial !== 3) {
      throw new Error(
        `affine_grid(): affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size [${size.join(", ")}].`,
      );
    }
    const want = spatial === 2 ? [size[0], 2, 3] : [size[0], 3, 4];
    if (theta.ndim !== 3 || theta.shape.some((d, i) => d !== want[i])) {
      throw new Error(
        `affine_grid(): Expected a batch of ${spatial}D affine matrices of shape Nx${want[1]}x${want[2]} for size [${size.join(", ")}]. Got ${fmtShape(theta.shape)}.`,
      );
    }
    const dims = size.slice(2); // [H, W] or [D, H, W]
    const coords = dims.map((n) => linspaceCoords(n, alignCorners, theta));
    // base grid [..., spatial + 1]: (x, y[, z], 1), x varying along the last dim
    const shape = [...dims, 1];
    const parts: Tensor[] = [];
    for (let c = 0; c < spatial; c++) {
      const axis = spatial - 1 - c; // x is the last dim, y the one before, ...
      const view = dims.map((d, i) => (i === axis ? d : 1));
      parts.push(coords[axis].reshape([...view, 1]).expand(shape));
    }
    parts.push(ones(shape, { dtype: theta.dtype, device: theta.device }));
    const base = cat(parts, -1).reshape([1, -1, spatial + 1]);
    const total = dims.reduce((a, b) => a * b, 1);
    return base
      .expand([size[0], total, spatial + 1])
      .matmul(theta.transpose(1, 2))
      .reshape([size[0], ...dims, spatial]);
  },
);

/** `unnormalize` then border clipping or reflection, as ATen's `grid_sampler_compute_source_index`. */
function unnormalize(coord: Tensor, size: number, alignCorners: boolean): Tensor {
  return alignCorners ? coord.add(1).mul((size - 1) / 2) : coord.add(1).mul(size).sub(1).div(2);
}
function reflect(coord: Tensor, twiceLow: number, twiceHigh: number): Tensor {
  if (twiceLow === twiceHigh) return coord.mul(0);
  const min = twiceLow / 2;
  const span = (twiceHigh - twiceLow) / 2;
  const a = coord.sub(min).abs();
  const flips = noGrad(() => a.div(span).floor());
  const extra = a.sub(flips.mul(span));
  const even = noGrad(() => flips.remainder(2).eq(0));
  return where(even, extra.add(min), extra.neg().add(span + min));
}
function applyPadding(coord: Tensor, size: number, padding: string, alignCorners: boolean): Tensor {
  if (padding === "border") return coord.clamp(0, size - 1);
  if (padding === "reflection") {
    const r = alignCorners ? reflect(coord, 0, 2 * (size - 1)) : reflect(coord, -1, 2 * size - 1);
    return r.clamp(0, size - 1);
  }
  return coord;
}

/**
 * `grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None)`: sample [N, C, H, W] at the
 * normalised (x, y) locations of grid [N, Ho, Wo, 2] -> [N, C, Ho, Wo], by bilinear, nearest (round half to
 * even) or bicubic interpolation; locations outside read zeros, the border, or the reflection.
 */
export const gridSample = op(
  signature("nn.functional.gridSample", [
    inputArg,
    arg("grid", k.tensor),
    arg("mode", k.oneOf("bilinear", "nearest", "bicubic"), "bilinear"),
    arg("paddingMode", k.oneOf("zeros", "border", "reflection"), "zeros"),
    arg.opt("alignCorners", k.bool),
  ]),
  ({ input, grid, mode, paddingMode, alignCorners: ac }): Tensor => {
    const alignCorners = alignDefault(ac, "gridSample");
    if (input.ndim !== 4) {
      throw new Error(
        `grid_sample(): expected a 4-D input [N, C, H, W] (5-D volumetric sampling is not implemented), got ${fmtShape(input.shape)}`,
      );
    }
    const [N, C, H, W] = input.shape;
    if (grid.ndim !== 4 || grid.shape[0] !== N || grid.shape[3] !== 2) {
      throw new Error(
        `grid_sample(): expected grid of shape [N, H_out, W_out, 2] with N = ${N}, got ${fmtShape(grid.shape)}`,
      );
    }
    if (grid.dtype !== input.dtype) {
      throw new TypeError(
        `grid_sample(): expected input and grid to have the same dtype, but input has ${input.dtype} and grid has ${grid.dtype}`,
      );
    }
    const [, Ho, Wo] = grid.shape;
    const L = Ho * Wo;
    const flat = input.reshape([N, C, H * W]);
    const gx = grid.select(3, 0).reshape([N, L]);
    const gy = grid.select(3, 1).reshape([N, L]);
    /**
     * The input at integer positions (x, y) [N, L] -> [N, C, L], zero outside; `bounded` applies the padding rule
     * to the tap positions first (bicubic, as ATen's `get_value_bounded`).
     */
    const read = (x: Tensor, y: Tensor, bounded: boolean): Tensor => {
      const { inside, idx } = noGrad(() => {
        const xs = bounded ? applyPadding(x, W, paddingMode, alignCorners) : x;
        const ys = bounded ? applyPadding(y, H, paddingMode, alignCorners) : y;
        const ok = xs
          .ge(0)
          .logicalAnd(xs.le(W - 1))
          .logicalAnd(ys.ge(0))
          .logicalAnd(ys.le(H - 1));
        return {
          inside: ok,
          idx: ys
            .clamp(0, H - 1)
            .mul(W)
            .add(xs.clamp(0, W - 1))
            .to("int32"),
        };
      });
      const v = flat.gather(2, idx.unsqueeze(1).expand([N, C, L]));
      return where(inside.unsqueeze(1), v, 0);
    };
    let out: Tensor;
    if (mode === "bicubic") {
      const ix = unnormalize(gx, W, alignCorners);
      const iy = unnormalize(gy, H, alignCorners);
      const x0 = noGrad(() => ix.floor());
      const y0 = noGrad(() => iy.floor());
      const tx = ix.sub(x0);
      const ty = iy.sub(y0);
      const A = -0.75;
      const cc1 = (t: Tensor) =>
        t
          .mul(A + 2)
          .sub(A + 3)
          .mul(t)
          .mul(t)
          .add(1);
      const cc2 = (t: Tensor) =>
        t
          .mul(A)
          .sub(5 * A)
          .mul(t)
          .add(8 * A)
          .mul(t)
          .sub(4 * A);
      const coef = (t: Tensor) => [cc2(t.add(1)), cc1(t), cc1(t.neg().add(1)), cc2(t.neg().add(2))];
      const cx = coef(tx);
      const cy = coef(ty);
      let acc: Tensor | null = null;
      for (let j = 0; j < 4; j++) {
        let row: Tensor | null = null;
        for (let i = 0; i < 4; i++) {
          const v = read(x0.add(i - 1), y0.add(j - 1), true).mul(cx[i].unsqueeze(1));
          row = row ? row.add(v) : v;
        }
        const r = (row as Tensor).mul(cy[j].unsqueeze(1));
        acc = acc ? acc.add(r) : r;
      }
      out = acc as Tensor;
    } else {
      const ix = applyPadding(unnormalize(gx, W, alignCorners), W, paddingMode, alignCorners);
      const iy = applyPadding(unnormalize(gy, H, alignCorners), H, paddingMode, alignCorners);
      if (mode === "nearest") {
        out = read(
          noGrad(() => ix.round()),
          noGrad(() => iy.round()),
          false,
        );
      } else {
        const x0 = noGrad(() => ix.floor());
        const y0 = noGrad(() => iy.floor());
        const x1 = x0.add(1);
        const y1 = y0.add(1);
        const wx1 = ix.sub(x0);
        const wx0 = x1.sub(ix);
        const wy1 = iy.sub(y0);
        const wy0 = y1.sub(iy);
        const w = (a: Tensor, b: Tensor) => a.mul(b).unsqueeze(1);
        out = read(x0, y0, false)
          .mul(w(wx0, wy0))
          .add(read(x1, y0, false).mul(w(wx1, wy0)))
          .add(read(x0, y1, false).mul(w(wx0, wy1)))
          .add(read(x1, y1, false).mul(w(wx1, wy1)));
      }
    }
    return out.reshape([N, C, Ho, Wo]);
  },
);
