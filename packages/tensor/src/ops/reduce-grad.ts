/**
 * The derivatives of the reductions (made by functions returning closures, see `sumBackward`), among them PyTorch
 * 1.13's derivatives of prod and cumprod (`prod_backward`, `prod_safe_zeros_backward` and
 * `cumprod_backward` in FunctionsManual.cpp), and the integer-overflow checks of the integer reductions and scans.
 *
 * prod: without zeros, grad * result / input; with zeros, the product of all the other elements, computed as
 * exclusive cumulative products from both ends (exact with zeros: one zero gets the product of the others and every
 * other element 0; two or more zeros give 0 everywhere). cumprod: without zeros, the reversed cumulative sum of
 * grad * output divided by the input, where the cumulative sum runs forward over the flipped tensor (the backends
 * accumulate scans in float64, as PyTorch's CPU kernel does), never total - cumsum (which cancels catastrophically
 * on long dims); with zeros, the same before the first zero of each line, the product formula at the first zero,
 * 0 after it. Under createGraph (double backward) the differentiable forms PyTorch uses are taken.
 *
 * The zero tests read the tensor (PyTorch's `.item()`); on a device without synchronous reads the zero-safe forms,
 * which are exact without zeros too, are used instead.
 */
import type { DType } from "../dtype";
import { defaultIntDtype, isFloat } from "../dtype";
import { isGradEnabled } from "../grad";
import { type Tensor, tensorFromData } from "../tensor";
import { zerosLike } from "./creation";
import { where } from "./elementwise";
import { checkInt32Results } from "./range-check";

const readable = (t: Tensor): boolean => t.backend.readSync !== undefined;

function hasZero(x: Tensor): boolean {
  return x.eq(0).any().item() as boolean;
}

/** A bool mask, true at position `k` of `dim` and broadcastable against `x`. */
function positionMask(x: Tensor, dim: number, k: number): Tensor {
  const n = x.shape[dim];
  const data = new Uint8Array(n);
  data[k] = 1;
  const shape = x.shape.map((_, i) => (i === dim ? n : 1));
  return tensorFromData(data, shape, "bool", x.device);
}

/** Along `dim`: out[i] = x[0] * ... * x[i-1], and 1 at i = 0 (a cumprod of x shifted one place). */
function exclusiveCumprod(x: Tensor, dim: number): Tensor {
  const n = x.shape[dim];
  const idx = tensorFromData(
    Int32Array.from({ length: n }, (_, i) => Math.max(0, i - 1)),
    [n],
    "int32",
    x.device,
  );
  return x
    .indexSelect(dim, idx)
    .maskedFill(positionMask(x, dim, 0), 1)
    .cumprod(dim);
}

/** sum_{j >= i} w[j] along `dim`: a forward cumsum of the flipped tensor (PyTorch's reversed_cumsum). */
function reversedCumsum(w: Tensor, dim: number): Tensor {
  return w.flip([dim]).cumsum(dim).flip([dim]);
}

/** PyTorch's prod_safe_zeros_backward: grad times the product of all the other elements along `dim`. */
function prodSafeZerosBackward(g: Tensor, x: Tensor, dim: number): Tensor {
  if (x.numel() === 0) return zerosLike(x, { dtype: g.dtype });
  const before = exclusiveCumprod(x, dim);
  const after = exclusiveCumprod(x.flip([dim]), dim).flip([dim]);
  return g.mul(before.mul(after));
}

/**
 * The gradient of `y = x.prod()` (dim null: ProdBackward0) or `y = x.prod(dim, keepdim)` (ProdBackward1), given
 * the gradient `g` of y.
 */
export function prodBackward(g: Tensor, x: Tensor, y: Tensor, dim: number | null, keepdim: boolean): Tensor {
  if (x.ndim === 0) return g;
  if (dim === null) {
    if (readable(x)) {
      const zeros = x.eq(0).sum().item() as number;
      if (zeros === 0) return g.mul(y.div(x));
      // PyTorch 1.13 returns plain zeros here even under create_graph (so no second derivative flows)
      if (zeros > 1) return zerosLike(x, { dtype: g.dtype });
    }
    const g0 = g.numel() === 1 ? g.reshape([]) : g;
    return prodSafeZerosBackward(g0, x.reshape(-1), 0).reshape(x.shape);
  }
  const d = dim < 0 ? dim + x.ndim : dim;
  const gk = !keepdim && x.ndim !== 1 ? g.unsqueeze(d) : g;
  const yk = !keepdim && x.ndim !== 1 ? y.unsqueeze(d) : y;
  if (readable(x) && !hasZero(x)) return gk.mul(yk.div(x));
  return prodSafeZerosBackward(gk, x, d);
}

/** The gradient of `y = x.cumprod(dim)` given the gradient `g` of y (CumprodBackward0). */
export function cumprodBackward(g: Tensor, x: Tensor, y: Tensor, dim: number): Tensor {
  if (x.numel() <= 1) return g;
  const d = dim < 0 ? dim + x.ndim : dim;
  const n = x.shape[d];
  if (n === 1) return g;
  const w = y.mul(g);
  const isZero = x.eq(0);
  if (readable(x) && !isZero.any().item()) return reversedCumsum(w, d).div(x);
  if (!isGradEnabled()) {
    // z = number of zeros up to each position: [0, z1) before the first zero, z1 itself, (z1, z2) after it
    const z = isZero.cumsum(d);
    const before = z.eq(0);
    const once = z.eq(1);
    const firstZero = once.logicalAnd(isZero);
    const between = once.logicalAnd(isZero.logicalNot());
    const beforeFirst = reversedCumsum(w.maskedFill(before.logicalNot(), 0), d).div(x);
    // at z1: prod(x[:z1]) * sum_{z1 <= j < z2} g[j] * prod(x[z1+1 : j+1])
    const tail = x
      .maskedFill(between.logicalNot(), 1)
      .cumprod(d)
      .mul(g.maskedFill(once.logicalNot(), 0))
      .sum({ dim: d, keepdim: true });
    const prefix = x.maskedFill(before.logicalNot(), 1).prod({ dim: d, keepdim: true });
    return where(before, beforeFirst, where(firstZero, tail.mul(prefix), 0));
  }
  // differentiable O(n^2) form (double backward): grad[k] = sum_{j >= k} g[j] * prod_{i <= j, i != k} x[i]
  let out: Tensor | null = null;
  for (let k = 0; k < n; k++) {
    const rest = x.narrow(d, k, n - k);
    const after = rest.maskedFill(positionMask(rest, d, 0), 1).cumprod(d);
    let omitted = after;
    if (k > 0) omitted = omitted.mul(x.narrow(d, 0, k).prod({ dim: d, keepdim: true }));
    const gk = g
      .narrow(d, k, n - k)
      .mul(omitted)
      .sum({ dim: d, keepdim: true });
    const term = where(positionMask(x, d, k), gk, 0);
    out = out === null ? term : out.add(term);
  }
  return out as Tensor;
}

/**
 * sum/prod of an integer tensor: PyTorch's result is int64, as on the CPU; on a backend without int64 it is int32,
 * and a result int32 cannot hold is an error, not a wrapped value. Computed exactly in float64 (integer sums up to 2^53; a product whose magnitude passes 2^31
 * never comes back, so the range test is exact too). Skipped with an explicit `dtype` (PyTorch wraps then too) and
 * where the device cannot be read synchronously.
 */
export function checkIntReduction(
  what: "sum" | "prod",
  x: Tensor,
  dim: number | readonly number[] | null,
  dtype: DType | null,
): void {
  // an int64 result (the CPU's) is range-checked by the kernel itself; int32 (backends without int64) is checked here
  if (dtype !== null || isFloat(x.dtype) || intResult(x) === "int64" || x.numel() === 0 || !readable(x))
    return;
  const xd = x.to("float64");
  const all = dim === null || (Array.isArray(dim) && dim.length === 0);
  const r =
    what === "sum"
      ? all
        ? xd.sum()
        : xd.sum({ dim: dim as number | number[] })
      : all
        ? xd.prod()
        : xd.prod({ dim: dim as number });
  checkInt32Results(`${what}()`, r.data(), `x.double().${what}()`);
}

/** The dtype of an integer reduction of `x`: its own int64, else the backend's default integer. */
function intResult(x: Tensor): DType {
  return x.dtype === "int64" ? "int64" : defaultIntDtype(x.backend);
}

/** cumsum/cumprod of an integer tensor: as checkIntReduction, for every prefix. */
export function checkIntScan(what: "cumsum" | "cumprod", x: Tensor, dim: number, dtype: DType | null): void {
  // an int64 result (the CPU's) is range-checked by the kernel itself; int32 (backends without int64) is checked here
  if (dtype !== null || isFloat(x.dtype) || intResult(x) === "int64" || x.numel() === 0 || !readable(x))
    return;
  const xd = x.to("float64");
  const r = what === "cumsum" ? xd.cumsum(dim) : xd.cumprod(dim);
  checkInt32Results(`${what}()`, r.data(), `x.double().${what}(${dim})`);
}

/** A reduction's gradient `g` with the reduced dims back as size 1 (when not kept), to broadcast over `shape`. */
export function unsqueezeGrad(
  g: Tensor,
  shape: readonly number[],
  dims: readonly number[],
  keepdim: boolean,
): Tensor {
  return keepdim ? g : g.reshape(shape.map((d, i) => (dims.includes(i) ? 1 : d)));
}

// The derivative closures of the per-step reductions are made by functions returning them, not written inline as
// `backward: (g) => ...`: esbuild's keepNames (tsup's build, tsx) wraps an inline closure bound to a name in
// `__name()`, a defineProperty per op recorded (see tests/test/keep-names.test.ts).
/** sum's derivative (mean's with `n`, the count averaged over): g broadcast back to the input's shape, / n. */
export function sumBackward(shape: readonly number[], dims: readonly number[], keepdim: boolean, n: number) {
  return (g: Tensor) => {
    const gk = unsqueezeGrad(g, shape, dims, keepdim);
    return [(n === 1 ? gk : gk.div(n)).expand(shape)];
  };
}

export function softmaxBackward(y: Tensor, d: number, log: boolean) {
  return (g: Tensor) =>
    log
      ? [g.sub(y.exp().mul(g.sum({ dim: d, keepdim: true })))]
      : [y.mul(g.sub(g.mul(y).sum({ dim: d, keepdim: true })))];
}

export function prodBackwardFn(x: Tensor, y: Tensor, dim: number | null, keepdim: boolean) {
  return (g: Tensor) => [prodBackward(g, x, y, dim, keepdim)];
}

/** max()/min() over all elements: ties share the gradient evenly, as in PyTorch. */
export function extremumAllBackward(x: Tensor, y: Tensor) {
  return (g: Tensor) => {
    const mask = x.eq(y).float().to(x.dtype);
    return [mask.div(mask.sum()).mul(g)];
  };
}

export function extremumDimBackward(x: Tensor, idx: Tensor, dim: number, keepdim: boolean) {
  return (g: Tensor) => [
    zerosLike(x, { dtype: g.dtype }).scatterAdd(dim, idx, unsqueezeGrad(g, x.shape, [dim], keepdim)),
  ];
}

export function varBackward(
  x: Tensor,
  y: Tensor,
  centered: Tensor,
  dims: readonly number[],
  keepdim: boolean,
  denom: number,
  sqrt: boolean,
) {
  return (g: Tensor) => {
    const gk = unsqueezeGrad(g, x.shape, dims, keepdim);
    if (!sqrt) return [gk.mul(centered).mul(2 / denom)];
    return [gk.mul(centered).div(unsqueezeGrad(y, x.shape, dims, keepdim).mul(denom))];
  };
}

export function logsumexpBackward(xf: Tensor, y: Tensor, dims: readonly number[], keepdim: boolean) {
  return (g: Tensor) => [
    unsqueezeGrad(g, xf.shape, dims, keepdim).mul(xf.sub(unsqueezeGrad(y, xf.shape, dims, keepdim)).exp()),
  ];
}

export function amaxAminBackward(x: Tensor, y: Tensor, dims: readonly number[], keepdim: boolean) {
  return (g: Tensor) => {
    const mask = x.eq(unsqueezeGrad(y, x.shape, dims, keepdim)).to(x.dtype);
    const count = mask.sum({ dim: dims as number[], keepdim: true });
    return [mask.div(count).mul(unsqueezeGrad(g, x.shape, dims, keepdim))];
  };
}

/** cumsum's: the reverse cumulative sum, sum_{j >= i} g_j, summed from the end (as PyTorch; total - cumsum loses precision). */
export function cumsumBackward(d: number) {
  return (g: Tensor) => [g.flip([d]).cumsum(d).flip([d])];
}

export function cumprodBackwardFn(x: Tensor, y: Tensor, d: number) {
  return (g: Tensor) => [cumprodBackward(g, x, y, d)];
}
