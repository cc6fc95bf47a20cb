/**
 * Linear-algebra-lite ops of issue 14: `kron`, `tensordot`, `cross` / `linalg.cross` and `cdist`. `kron` and `cross`
 * are broadcast products, `tensordot` one matrix product after permute + reshape; their gradients come from those
 * ops. `cdist` records its own backward (PyTorch's `_cdist_backward`): the composite's gradient is NaN where two
 * points coincide (the derivative of the norm at 0), PyTorch's is 0 there.
 */
import { isFloat } from "../dtype";
import { DTypeError, fmtShape, ShapeError } from "../errors";
import { needsGrad, noGrad, recordOp } from "../grad";
import { broadcastShapes, normDim } from "../shape";
import { ArgumentError, arg, k, op, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { onesLike, tensor, zeros } from "./creation";
import { where } from "./elementwise";
import { writeOut } from "./elementwise-signatures";
import { indexSelect } from "./indexing";
import { matmul, mm } from "./linalg";
import { cat } from "./view";

const outOpt = arg.opt("out", k.tensor);
const maybeOut = (what: string, y: Tensor, out: Tensor | null, inputs: readonly unknown[]): Tensor =>
  out ? writeOut(what, y, out, inputs) : y;
const prod = (xs: readonly number[]): number => xs.reduce((p, s) => p * s, 1);

function sameDtype(what: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(
      `${what}(): expected both tensors to have the same dtype, got ${a.dtype} and ${b.dtype}`,
    );
  }
}

// ---- kron ----

function kronImpl(a: Tensor, b: Tensor): Tensor {
  const n = Math.max(a.ndim, b.ndim);
  const as = [...new Array(n - a.ndim).fill(1), ...a.shape];
  const bs = [...new Array(n - b.ndim).fill(1), ...b.shape];
  // a as [a0, 1, a1, 1, ...] times b as [1, b0, 1, b1, ...] is [a0, b0, a1, b1, ...]
  const ar = a.reshape(as.flatMap((s) => [s, 1]));
  const br = b.reshape(bs.flatMap((s) => [1, s]));
  return ar.mul(br).reshape(as.map((s, i) => s * bs[i]));
}
const kronArgs = [self, arg("other", k.tensor)] as const;
/** `kron(input, other, *, out=None)`: the Kronecker product (blocks `input[i] * other`, ranks padded with leading 1s) */
export const kron = op(
  signature("kron", kronArgs, [outOpt], { forms: ["function"] }),
  ({ input, other, out }): Tensor => maybeOut("kron", kronImpl(input, other), out, [input, other]),
);
/** `x.kron(other)` */
export const kronMethod = op(
  signature("kron", kronArgs, [], { forms: ["method"] }),
  ({ input, other }): Tensor => kronImpl(input, other),
);

// ---- tensordot ----

type Dims = number | readonly (readonly number[] | number)[] | Tensor;

/** PyTorch's `dims`: an int n (the last n dims of a with the first n of b), two lists, or a tensor of either. */
function dimLists(dims: Dims): [number[], number[]] {
  if (typeof dims === "object" && !Array.isArray(dims)) {
    const t = dims as Tensor;
    if (t.numel() <= 1) return dimLists(Number(t.item()));
    const rows = t.toArray() as number[][];
    return dimLists(rows);
  }
  if (typeof dims === "number") {
    if (dims < 0) throw new ShapeError(`tensordot(): expects dims >= 0, but got dims=${dims}`);
    return [Array.from({ length: dims }, (_, i) => i - dims), Array.from({ length: dims }, (_, i) => i)];
  }
  const list = dims as readonly (readonly number[] | number)[];
  if (list.length !== 2) {
    throw new ArgumentError(
      `tensordot(): dims must be an int or two lists of dims, got ${list.length} entries`,
    );
  }
  const [da, db] = list.map((d) => (typeof d === "number" ? [d] : [...d]));
  if (da.length !== db.length)
    throw new ShapeError("tensordot(): both dimension lists should have same length");
  return [da, db];
}

function tensordotImpl(a: Tensor, b: Tensor, dims: Dims): Tensor {
  sameDtype("tensordot", a, b);
  const [la, lb] = dimLists(dims);
  const da = la.map((d) => normDim(d, a.ndim, "tensordot"));
  const db = lb.map((d) => normDim(d, b.ndim, "tensordot"));
  for (const list of [da, db]) {
    const dup = list.find((d, i) => list.indexOf(d) !== i);
    if (dup !== undefined)
      throw new ShapeError(`tensordot(): dim ${dup} appears multiple times in the list of dims`);
  }
  // as PyTorch: a contracted dim of size 1 on one side is summed away on the other side first
  let x = a;
  let y = b;
  for (let i = 0; i < da.length; i++) {
    const s1 = a.shape[da[i]];
    const s2 = b.shape[db[i]];
    if (s2 === 1 && s1 !== 1) x = x.sum(da[i], true);
    else if (s1 === 1 && s2 !== 1) y = y.sum(db[i], true);
    else if (s1 !== s2) {
      throw new ShapeError(
        `tensordot(): contracted dimensions need to match, but first has size ${s1} in dim ${la[i]} and second has size ${s2} in dim ${lb[i]}`,
      );
    }
  }
  const freeA = x.shape.map((_, i) => i).filter((i) => !da.includes(i));
  const freeB = y.shape.map((_, i) => i).filter((i) => !db.includes(i));
  const sizesA = freeA.map((i) => x.shape[i]);
  const sizesB = freeB.map((i) => y.shape[i]);
  const K = prod(da.map((i) => x.shape[i]));
  const am = x.permute([...freeA, ...da]).reshape(prod(sizesA), K);
  const bm = y.permute([...db, ...freeB]).reshape(K, prod(sizesB));
  return mm(am, bm).reshape([...sizesA, ...sizesB]);
}
const dimsKind = k.test<Dims>(
  "int, (int[], int[]) or Tensor",
  (v) =>
    (typeof v === "number" && Number.isInteger(v)) ||
    (Array.isArray(v) &&
      v.every(
        (d) =>
          (typeof d === "number" && Number.isInteger(d)) || (Array.isArray(d) && d.every(Number.isInteger)),
      )) ||
    (typeof v === "object" && v !== null && typeof (v as Tensor).numel === "function"),
);
/**
 * `tensordot(a, b, dims=2, out=None)`: the sum of products over the last `dims` dims of `a` and the first of `b`,
 * or over the dims listed in `dims = [dimsOfA, dimsOfB]`; the result has a's free dims then b's
 */
export const tensordot = op(
  signature("tensordot", [arg("a", k.tensor), arg("b", k.tensor), arg("dims", dimsKind, 2), outOpt]),
  ({ a, b, dims, out }): Tensor => maybeOut("tensordot", tensordotImpl(a, b, dims), out, [a, b]),
);

// ---- cross ----

function crossImpl(a: Tensor, b: Tensor, dim: number, what: string): Tensor {
  if (a.ndim !== b.ndim) {
    throw new ShapeError(
      `${what}(): inputs must have the same number of dimensions, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  sameDtype(what, a, b);
  const d = normDim(dim, a.ndim, what);
  if (a.shape[d] !== 3 || b.shape[d] !== 3) {
    throw new ShapeError(
      `${what}(): inputs dimension ${dim} must have length 3. Got ${a.shape[d]} and ${b.shape[d]}`,
    );
  }
  broadcastShapes(a.shape, b.shape, what);
  // (a x b)_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}, as PyTorch's kernel computes it
  const next = tensor([1, 2, 0], { device: a.device });
  const after = tensor([2, 0, 1], { device: a.device });
  const pick = (t: Tensor, i: Tensor) => indexSelect(t, d, i);
  return pick(a, next)
    .mul(pick(b, after))
    .sub(pick(a, after).mul(pick(b, next)));
}
const crossArgs = [self, arg("other", k.tensor), arg.opt("dim", k.int)] as const;
/** `dim=None`: the first dim of size 3 (PyTorch 1.13 warns that this default is deprecated). */
function defaultCrossDim(a: Tensor, dim: number | null): number {
  if (dim !== null) return dim;
  const d = a.shape.indexOf(3);
  if (d < 0) throw new ShapeError(`cross(): no dimension of size 3 in input of shape ${fmtShape(a.shape)}`);
  return d;
}
/** `cross(input, other, dim=None, *, out=None)`: the cross product of 3-vectors along `dim` (the first dim of size 3 when None) */
export const cross = op(
  signature("cross", crossArgs, [outOpt], { forms: ["function"] }),
  ({ input, other, dim, out }): Tensor =>
    maybeOut("cross", crossImpl(input, other, defaultCrossDim(input, dim), "cross"), out, [input, other]),
);
/** `x.cross(other, dim=None)` */
export const crossMethod = op(
  signature("cross", crossArgs, [], { forms: ["method"] }),
  ({ input, other, dim }): Tensor => crossImpl(input, other, defaultCrossDim(input, dim), "cross"),
);
/** `linalg.cross(input, other, *, dim=-1, out=None)`: the cross product of 3-vectors along `dim`, broadcasting the other dims */
export const linalgCross = op(
  signature("linalg.cross", [self, arg("other", k.tensor)], [arg("dim", k.int, -1), outOpt], {
    forms: ["function"],
  }),
  ({ input, other, dim, out }): Tensor =>
    maybeOut("linalg.cross", crossImpl(input, other, dim, "linalg.cross"), out, [input, other]),
);

// ---- cdist ----

type ComputeMode =
  | "use_mm_for_euclid_dist_if_necessary"
  | "use_mm_for_euclid_dist"
  | "donot_use_mm_for_euclid_dist";

/** PyTorch's `_euclidean_dist`: |a|^2 - 2 a.b + |b|^2 by one matrix product, clamped at 0 (autograd through it). */
function euclideanByMatmul(a: Tensor, b: Tensor): Tensor {
  const an = a.square().sum(-1, true);
  const bn = b.square().sum(-1, true);
  const a2 = cat([a.mul(-2), an, onesLike(an)], -1);
  const b2 = cat([b, onesLike(bn), bn], -1);
  return matmul(a2, b2.transpose(-1, -2)).clamp(0).sqrt();
}

/** The p-norm distances of every pair of rows, [..., P, R], from the broadcast pairwise differences. */
function pairwise(diff: Tensor, p: number): Tensor {
  const m = diff.shape[diff.ndim - 1];
  if (m === 0) return zeros(diff.shape.slice(0, -1), { dtype: diff.dtype, device: diff.device });
  if (p === 0) return diff.ne(0).sum(-1).to(diff.dtype);
  if (p === 1) return diff.abs().sum(-1);
  if (p === 2) return diff.square().sum(-1).sqrt();
  if (p === Number.POSITIVE_INFINITY) return diff.abs().amax(-1);
  return diff
    .abs()
    .pow(p)
    .sum(-1)
    .pow(1 / p);
}

/** PyTorch's `_cdist_backward`: d dist / d diff for each p, 0 where the distance (or, for p < 1, the difference) is 0. */
function pairwiseGrad(diff: Tensor, dist: Tensor, p: number): Tensor {
  const d = dist.unsqueeze(-1);
  if (p === 0) return diff.mul(0);
  if (p === 1) return diff.sign();
  if (p === Number.POSITIVE_INFINITY) return diff.sign().mul(diff.abs().eq(d));
  const zero = d.eq(0);
  if (p === 2) return where(zero, 0, diff.div(d));
  const g =
    p < 2
      ? diff
          .sign()
          .mul(diff.abs().pow(p - 1))
          .div(d.pow(p - 1))
      : diff.mul(diff.abs().pow(p - 2)).div(d.pow(p - 1));
  return where(p < 1 ? zero.logicalOr(diff.eq(0)) : zero, 0, g);
}

function cdistImpl(x1: Tensor, x2: Tensor, p: number, mode: ComputeMode): Tensor {
  for (const [name, t] of [
    ["X1", x1],
    ["X2", x2],
  ] as const) {
    if (t.ndim < 2)
      throw new ShapeError(`cdist(): only supports at least 2D tensors, ${name} got: ${t.ndim}D`);
    if (!isFloat(t.dtype))
      throw new DTypeError(`cdist(): only supports floating-point dtypes, ${name} got: ${t.dtype}`);
  }
  sameDtype("cdist", x1, x2);
  const m1 = x1.shape[x1.ndim - 1];
  const m2 = x2.shape[x2.ndim - 1];
  if (m1 !== m2) {
    throw new ShapeError(`cdist(): X1 and X2 must have the same number of columns. X1: ${m1} X2: ${m2}`);
  }
  if (!(p >= 0)) throw new ArgumentError(`cdist(): only supports non-negative p values, got ${p}`);
  const batch = broadcastShapes(x1.shape.slice(0, -2), x2.shape.slice(0, -2), "cdist");
  const P = x1.shape[x1.ndim - 2];
  const R = x2.shape[x2.ndim - 2];
  const a = x1.expand([...batch, P, m1]);
  const b = x2.expand([...batch, R, m1]);
  const empty = a.numel() === 0 || b.numel() === 0;
  // as PyTorch: p = 2 by one matrix product when asked, or when "if necessary" and either side has > 25 rows
  if (
    p === 2 &&
    !empty &&
    (mode === "use_mm_for_euclid_dist" ||
      (mode === "use_mm_for_euclid_dist_if_necessary" && (P > 25 || R > 25)))
  ) {
    return euclideanByMatmul(a, b);
  }
  const diffOf = () => a.unsqueeze(-2).sub(b.unsqueeze(-3)); // [..., P, R, M]
  const dist = noGrad(() => pairwise(diffOf(), p));
  if (!needsGrad(x1, x2)) return dist;
  return recordOp({
    name: "CdistBackward0",
    inputs: [x1, x2],
    output: dist,
    saved: [x1, x2],
    backward: (g) => {
      const w = pairwiseGrad(noGrad(diffOf), dist, p).mul(g.unsqueeze(-1));
      return [w.sum(-2), w.sum(-3).neg()]; // broadcast batch dims are summed back by the engine
    },
  });
}
/**
 * `cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary')`: the p-norm distance between every row
 * of x1 ([..., P, M]) and every row of x2 ([..., R, M]), batch dims broadcast: [..., P, R]. p = 0, 1, 2, inf or any
 * p > 0; for p = 2 the compute mode picks PyTorch's matrix-product formula (faster, less exact) as PyTorch does.
 */
export const cdist = op(
  signature("cdist", [
    arg("x1", k.tensor),
    arg("x2", k.tensor),
    arg("p", k.float, 2),
    arg(
      "computeMode",
      k.oneOf(
        "use_mm_for_euclid_dist_if_necessary",
        "use_mm_for_euclid_dist",
        "donot_use_mm_for_euclid_dist",
      ),
      "use_mm_for_euclid_dist_if_necessary",
    ),
  ]),
  ({ x1, x2, p, computeMode }): Tensor => cdistImpl(x1, x2, p, computeMode),
);
