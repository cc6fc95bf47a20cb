/**
 * Tensor's op methods, as one table (name -> op callable), read by `installMethods()` in `methods.ts`. A method's
 * doc comment sits on its line here (TypeDoc reads it through `TensorMethods`). The table is a function, read when
 * `installMethods()` runs, never while an import cycle is still evaluating (a bundle may order modules differently).
 */
import { ownMethods as m } from "./methods";
import * as al from "./ops/aliases";
import { castOp } from "./ops/cast";
import * as cx from "./ops/complex";
import { diag } from "./ops/creation";
import * as ex from "./ops/elementwise-extra";
import * as ie from "./ops/index-extra";
import * as ix from "./ops/indexing";
import * as la from "./ops/linalg";
import * as ld from "./ops/linalg-decomp";
import * as lx from "./ops/linalg-extra";
import * as lu from "./ops/linalg-lu";
import * as lm from "./ops/linalg-more";
import * as rx from "./ops/random-extra";
import * as rd from "./ops/reduce";
import { normal_, uniform_ } from "./ops/sampling";
import * as sc from "./ops/scan-extra";
import * as sr from "./ops/scatter-reduce";
import * as sx from "./ops/shape-extra";
import * as so from "./ops/sort";
import * as st from "./ops/stats";
import * as un from "./ops/unique";
import * as vw from "./ops/view";

/**
 * The methods, as a function: the table is read when `installMethods()` runs (from the package entry, after every
 * module has loaded), never while an import cycle is still evaluating (a bundle may order modules differently).
 */
export const methodTable = () => ({
  /** `x.clamp(min=None, max=None)`: each element limited to [min, max] (bounds may be tensors). */
  clamp: m.clampMethod,
  /** `x.clip(min=None, max=None)`: alias of `clamp`. */
  clip: m.clipMethod,
  /** `x.clamp_(min=None, max=None)`: `clamp` in place. */
  clamp_: m.clampInplace,
  /** `x.clip_(min=None, max=None)`: alias of `clamp_`. */
  clip_: m.clipInplace,
  /** `x.where(condition, other)`: `x` where `condition` is true, else `other` (broadcast). */
  where: m.whereMethod,
  /** `x.maskedFill(mask, value)`: `value` where the bool `mask` (broadcast) is true, `x` elsewhere. */
  maskedFill: ix.maskedFill,
  /** `x.maskedFill_(mask, value)`: `maskedFill` in place. */
  maskedFill_: ix.maskedFill_,
  /**
   * `x.isclose(other, rtol=1e-05, atol=1e-08, equal_nan=False)`: elementwise `|x - other| <= atol + rtol *
   * |other|`, a bool tensor.
   */
  isclose: m.iscloseOp,
  /**
   * `x.allclose(other, rtol=1e-05, atol=1e-08, equal_nan=False)`: whether every element is close to `other`'s
   * (a JS boolean).
   */
  allclose: m.allcloseOp,
  /** `x.equal(other)`: whether both have the same shape and elements (a JS boolean). */
  equal: m.equalOp,
  /** `x.detach()`: a view of the same data that autograd does not track. */
  detach: m.detachOp,
  /** `x.detach_()`: detaches `x` from the graph in place (it becomes a leaf). */
  detach_: m.detachInplace,
  /**
   * `x.copy_(src, non_blocking=False)`: copies `src` (broadcast, converted to x's dtype) into `x` in place.
   */
  copy_: m.copyOp,
  /** `x.fill_(value)`: sets every element to `value`, in place. */
  fill_: m.fillOp,
  /** `x.zero_()`: sets every element to 0, in place. */
  zero_: m.zeroOp,
  uniform_,
  diag,
  normal_,
  /**
   * `x.to_(dtype)`: Cinder's unparsed dtype conversion, the same as `x.to(dtype)` (`x` itself when the dtype
   * matches). Not an in-place op despite the `_`.
   */
  to_: castOp,
  /**
   * `x.sum(dim=None, keepdim=False, *, dtype=None)`: the sum over dims (all by default); integer and bool
   * inputs sum to int32.
   */
  sum: rd.sum,
  /**
   * `x.mean(dim=None, keepdim=False, *, dtype=None)`: the mean over dims (all by default); float inputs (or a
   * float `dtype`) only.
   */
  mean: rd.mean,
  /** `x.prod(dim=None, keepdim=False, *, dtype=None)`: the product over one dim (all elements by default). */
  prod: rd.prod,
  /**
   * `x.argmax(dim=None, keepdim=False)`: the index of the first maximum (of the flattened tensor without
   * `dim`).
   */
  argmax: rd.argmax,
  /**
   * `x.argmin(dim=None, keepdim=False)`: the index of the first minimum (of the flattened tensor without
   * `dim`).
   */
  argmin: rd.argmin,
  std: rd.std,
  var: rd.variance,
  /** `x.logsumexp(dim, keepdim=False)`: `log(sum(exp(x)))` over dims, computed stably. */
  logsumexp: rd.logsumexp,
  /**
   * `x.norm(p="fro", dim=None, keepdim=False, dtype=None)`: the vector p-norm over dims (2 and Frobenius by
   * default).
   */
  norm: rd.normMethod,
  /** `x.amax(dim=(), keepdim=False)`: the maximum over dims (all dims by default). */
  amax: rd.amax,
  /** `x.amin(dim=(), keepdim=False)`: the minimum over dims (all dims by default). */
  amin: rd.amin,
  max: rd.max,
  min: rd.min,
  /** `x.all(dim=None, keepdim=False)`: whether every element (along `dim`) is true (nonzero). */
  all: rd.all,
  /** `x.any(dim=None, keepdim=False)`: whether any element (along `dim`) is true (nonzero). */
  any: rd.any,
  /** `x.cumsum(dim, dtype=None)`: cumulative sum along `dim`. */
  cumsum: rd.cumsum,
  /** `x.cumprod(dim, dtype=None)`: cumulative product along `dim`. */
  cumprod: rd.cumprod,
  /** `x.cummax(dim)` -> (values, indices): running maximum along `dim` (ties: the later index; NaN wins). */
  cummax: sc.cummax,
  /** `x.cummin(dim)` -> (values, indices): running minimum along `dim`. */
  cummin: sc.cummin,
  /** `x.logcumsumexp(dim)`: `log(cumsum(exp(x)))` along `dim`, computed stably. */
  logcumsumexp: sc.logcumsumexp,
  /** `x.median()`, `x.median(dim, keepdim=False)` -> (values, indices): the lower median. */
  median: st.median,
  /** `x.nanmedian()`, `x.nanmedian(dim, keepdim=False)`: the median ignoring NaN. */
  nanmedian: st.nanmedian,
  /** `x.mode(dim=-1, keepdim=False)` -> (values, indices): the most frequent value along `dim`. */
  mode: st.mode,
  /** `x.kthvalue(k, dim=-1, keepdim=False)` -> (values, indices): the k-th smallest along `dim`. */
  kthvalue: st.kthvalue,
  /** `x.quantile(q, dim=None, keepdim=False, *, interpolation='linear')` */
  quantile: st.quantile,
  /** `x.nanquantile(q, dim=None, keepdim=False, *, interpolation='linear')`: quantile ignoring NaN. */
  nanquantile: st.nanquantile,
  /** `x.countNonzero(dim=None)`: the number of non-zero elements over `dim`. */
  countNonzero: st.countNonzero,
  /** `x.aminmax(*, dim=None, keepdim=False)` -> (min, max). */
  aminmax: st.aminmax,
  /** `x.unique(sorted=True, return_inverse=False, return_counts=False, dim=None)` */
  unique: un.unique,
  /** `x.uniqueConsecutive(return_inverse=False, return_counts=False, dim=None)` */
  uniqueConsecutive: un.uniqueConsecutive,
  /** `x.scatterReduce(dim, index, src, reduce, *, include_self=True)` ("sum", "prod", "mean", "amax", "amin"). */
  scatterReduce: sr.scatterReduce,
  /** `x.scatterReduce_(dim, index, src, reduce, *, include_self=True)`: in place. */
  scatterReduce_: sr.scatterReduce_,
  /** `x.softmax(dim, dtype=None)`: `exp(x) / sum(exp(x))` along `dim`, computed stably. */
  softmax: rd.softmax,
  /** `x.logSoftmax(dim, dtype=None)`: `log(softmax(x))` along `dim`, computed stably. */
  logSoftmax: rd.logSoftmax,
  /** `x.matmul(other)`: matrix product with NumPy's rules for 1-D operands and broadcast batch dims. */
  matmul: la.matmul,
  /** `x.mm(mat2)`: matrix product of two 2-D tensors. */
  mm: la.mm,
  /** `x.bmm(mat2)`: batched matrix product `[B, n, m] @ [B, m, p]`. */
  bmm: la.bmm,
  /** `x.dot(other)`: inner product of two 1-D tensors. */
  dot: la.dot,
  /** `x.mv(vec)`: matrix-vector product. */
  mv: la.mv,
  /** `x.outer(vec2)`: the outer product of two 1-D tensors. */
  outer: la.outer,
  /**
   * `x.reshape(*shape)`: the same elements in a new shape (a view when the strides allow, else a copy); one
   * size may be -1.
   */
  reshape: vw.reshapeMethod,
  /**
   * `x.view(*shape)`: a view with a new shape and the same elements; fails, as PyTorch's, where the strides
   * do not allow it. One size may be -1.
   */
  view: vw.view,
  /** `x.viewAs(other)`: `x.view(other.shape)`. */
  viewAs: vw.viewAs,
  /** `x.reshapeAs(other)`: `x.reshape(other.shape)`. */
  reshapeAs: vw.reshapeAs,
  /** `x.clone()`: a copy with its own storage (recorded by autograd). */
  clone: vw.clone,
  /** `x.contiguous()`: `x` itself when row-major contiguous, else a contiguous copy. */
  contiguous: vw.contiguous,
  /** `x.squeeze(dim=None)`: a view without size-1 dims (only `dim`, if given). */
  squeeze: vw.squeeze,
  /** `x.unsqueeze(dim)`: a view with a size-1 dim inserted at `dim`. */
  unsqueeze: vw.unsqueeze,
  /** `x.permute(*dims)`: a view with the dims reordered. */
  permute: vw.permuteMethod,
  /** `x.transpose(dim0, dim1)`: a view with two dims swapped. */
  transpose: vw.transpose,
  /** `x.t()`: a 2-D tensor transposed (0-D and 1-D unchanged); a view. */
  t: vw.t,
  /** `x.flatten(start_dim=0, end_dim=-1)`: dims `startDim..endDim` merged into one (a view when possible). */
  flatten: vw.flatten,
  /** `x.unflatten(dim, sizes)`: `dim` expanded into several dims of `sizes` (a view). */
  unflatten: vw.unflatten,
  /** `x.expand(*sizes)`: a broadcast view with size-1 dims repeated (-1 keeps a size); no copy. */
  expand: vw.expand,
  /** `x.expandAs(other)`: `x.expand(other.shape)`. */
  expandAs: vw.expandAs,
  /** `x.narrow(dim, start, length)`: a view of `length` entries of `dim` from `start`. */
  narrow: vw.narrow,
  /** `x.select(dim, index)`: the view at `index` along `dim`, which is removed (`x[:, i]` for dim 1). */
  select: vw.select,
  /**
   * `x.split(split_size_or_sections, dim=0)`: views of `splitSize` entries along `dim` (the last may be
   * shorter), or of the listed sizes.
   */
  split: vw.splitMethod,
  /** `x.chunk(chunks, dim=0)`: splits into `chunks` views of (nearly) equal size along `dim`. */
  chunk: vw.chunk,
  /** `x.unbind(dim=0)`: the views along `dim`, which is removed from each. */
  unbind: vw.unbind,
  /** `x.repeat(*sizes)`: the tensor tiled `sizes[i]` times along each dim (a copy). */
  repeat: vw.repeat,
  /** `x.flip(dims)`: the elements reversed along `dims` (a copy, as in PyTorch). */
  flip: vw.flipMethod,
  /**
   * `x.at(...items)`: Python's `x[...]`: integers, slice strings (":", "1:4:2"), `"..."`, null (a new axis),
   * index lists and int or bool tensors. Basic indexing returns views.
   */
  at: ix.at,
  /**
   * `x.set([...items], value)`: Python's `x[...] = value`, in place: the same index items as `at`; `value` is
   * a tensor or a scalar, broadcast.
   */
  set: ix.set,
  /**
   * `x.gather(dim, index)`: values along `dim` picked by an int32 `index` tensor (`out[i][j] =
   * x[i][index[i][j]]` for dim 1).
   */
  gather: ix.gather,
  scatter: ix.scatter,
  /**
   * `x.scatterAdd(dim, index, src)`: a copy of `x` with `src` added at the positions `index` gives along
   * `dim`.
   */
  scatterAdd: ix.scatterAdd,
  scatter_: ix.scatter_,
  /** `x.scatterAdd_(dim, index, src)`: `scatterAdd` in place. */
  scatterAdd_: ix.scatterAdd_,
  /** `x.indexSelect(dim, index)`: the entries of `dim` listed in a 1-D int32 `index`. */
  indexSelect: ix.indexSelect,
  nonzero: ix.nonzero,
  /**
   * `x.sort(dim=-1, descending=False, *, stable=False)`: `[values, indices]` sorted along `dim` (a stable
   * sort; NaN sorts as largest).
   */
  sort: so.sort,
  /** `x.argsort(dim=-1, descending=False)`: the indices that sort the tensor along `dim` (a stable sort). */
  argsort: so.argsort,
  /**
   * `x.topk(k, dim=-1, largest=True, sorted=True)`: `[values, indices]` of the k largest (or smallest) along
   * `dim`.
   */
  topk: so.topk,
  /** `x.roll(shifts, dims=())`: elements shifted along `dims` (the flattened tensor when none), wrapping around. */
  roll: sx.roll,
  /** `x.tril(diagonal=0)`: the lower triangle of the last two dims (zeros above `diagonal`). */
  tril: sx.trilMethod,
  /** `x.triu(diagonal=0)`: the upper triangle of the last two dims (zeros below `diagonal`). */
  triu: sx.triuMethod,
  /** `x.tril_(diagonal=0)`: `tril` in place. */
  tril_: sx.tril_,
  /** `x.triu_(diagonal=0)`: `triu` in place. */
  triu_: sx.triu_,
  /** `x.diagonal(offset=0, dim1=0, dim2=1)`: a diagonal as the last dim (a view). */
  diagonal: sx.diagonal,
  /** `x.diagEmbed(offset=0, dim1=-2, dim2=-1)`: the last dim placed on diagonals of a new pair of dims. */
  diagEmbed: sx.diagEmbed,
  /** `x.trace()`: the sum of a matrix's main diagonal. */
  trace: sx.trace,
  /** `x.fliplr()`: reversed along dim 1. */
  fliplr: sx.fliplr,
  /** `x.flipud()`: reversed along dim 0. */
  flipud: sx.flipud,
  /** `x.rot90(k=1, dims=[0, 1])`: rotated by 90 degrees `k` times. */
  rot90: sx.rot90,
  /** `x.movedim(source, destination)`: dims moved to new positions (a view). */
  movedim: sx.movedim,
  /** `x.moveaxis(source, destination)`: alias of `movedim`. */
  moveaxis: sx.moveaxis,
  /** `x.tile(*dims)`: repeated along each dim (missing leading dims count as 1). */
  tile: sx.tileMethod,
  /** `x.repeatInterleave(repeats, dim=None, *, output_size=None)`: each element (slice) repeated in place. */
  repeatInterleave: sx.repeatInterleaveMethod,
  /** `x.unfold(dimension, size, step)`: sliding windows along a dim as a new last dim (a view). */
  unfold: sx.unfold,
  /** `x.take(index)`: elements of the flattened tensor at `index`. */
  take: ie.takeMethod,
  /** `x.indexAdd(dim, index, source, *, alpha=1)`: `alpha * source` added at `index` along `dim`. */
  indexAdd: ie.indexAddMethod,
  /** `x.indexAdd_(dim, index, source, *, alpha=1)`: `indexAdd` in place. */
  indexAdd_: ie.indexAdd_,
  /** `x.indexCopy(dim, index, source)`: slices at `index` along `dim` replaced by `source`'s. */
  indexCopy: ie.indexCopyMethod,
  /** `x.indexCopy_(dim, index, source)`: `indexCopy` in place. */
  indexCopy_: ie.indexCopy_,
  /** `x.indexFill(dim, index, value)`: slices at `index` along `dim` set to `value`. */
  indexFill: ie.indexFill,
  /** `x.indexFill_(dim, index, value)`: `indexFill` in place. */
  indexFill_: ie.indexFill_,
  /** `x.maskedSelect(mask)`: the elements where the bool `mask` (broadcast) is true, as 1-D. */
  maskedSelect: ie.maskedSelectMethod,
  /** `x.kron(other)`: the Kronecker product. */
  kron: lx.kronMethod,
  /** `x.cross(other, dim=None)`: the cross product of 3-vectors along `dim`. */
  cross: lx.crossMethod,
  /** `x.det()`: the determinant of each square matrix (`linalg.det`). */
  det: ld.torchDet,
  /** `x.slogdet()`: `(sign, logabsdet)` of each square matrix (`linalg.slogdet`). */
  slogdet: ld.torchSlogdet,
  /** `x.inverse()`: the inverse of each square matrix (`linalg.inv`). */
  inverse: ld.inverseMethod,
  /** `x.cholesky(upper=False)`: the Cholesky factor of each positive-definite matrix (`linalg.cholesky`). */
  cholesky: ld.choleskyMethod,
  /** `x.choleskySolve(input2, upper=False)`: X with (L L^T) X = x from the Cholesky factor `input2`. */
  choleskySolve: ld.choleskySolveMethod,
  /** `x.put(index, source, accumulate=False)`: elements of the flattened tensor at `index` set to (or incremented by) `source`'s. */
  put: ie.put,
  /** `x.put_(index, source, accumulate=False)`: `put` in place. */
  put_: ie.put_,
  to: m.toMethod,
  /**
   * `x.backward(gradient=None, retain_graph=None, create_graph=False)`: accumulates the gradient of `x` into
   * `.grad` of the leaves that require grad (needs `@cinder/autograd`).
   */
  backward: m.backwardOp,
  /**
   * `x.register_hook(hook)`: `hook(grad)` runs on the gradient w.r.t. `x` during backward (before it is accumulated
   * into a leaf's `.grad`, or flows on from a non-leaf) and may return a replacement; returns a handle whose
   * `remove()` unregisters it (needs `@cinder/autograd`).
   */
  registerHook: m.registerHookOp,
  /** `x.isfinite()`: where the elements are neither NaN nor ±inf, a bool tensor. */
  isfinite: ex.isfinite,
  /** `x.frac()`: the fractional part, `x - trunc(x)`. */
  frac: ex.fracMethod,
  /** `x.frac_()`: `frac` in place. */
  frac_: ex.frac_,
  /** `x.lerp(end, weight)`: linear interpolation `x + weight * (end - x)`. */
  lerp: ex.lerpMethod,
  /** `x.lerp_(end, weight)`: `lerp` in place. */
  lerp_: ex.lerp_,
  /** `x.addcmul(tensor1, tensor2, *, value=1)`: `x + value * tensor1 * tensor2`. */
  addcmul: ex.addcmulMethod,
  /** `x.addcmul_(tensor1, tensor2, *, value=1)`: `addcmul` in place. */
  addcmul_: ex.addcmul_,
  /** `x.addcdiv(tensor1, tensor2, *, value=1)`: `x + value * tensor1 / tensor2`. */
  addcdiv: ex.addcdivMethod,
  /** `x.addcdiv_(tensor1, tensor2, *, value=1)`: `addcdiv` in place. */
  addcdiv_: ex.addcdiv_,
  /** `x.logaddexp(other)`: `log(exp(x) + exp(other))` without overflow. */
  logaddexp: ex.logaddexpMethod,
  /** `x.logaddexp2(other)`: `log2(2^x + 2^other)` without overflow. */
  logaddexp2: ex.logaddexp2Method,
  /** `x.bernoulli(*, generator=None)`, `x.bernoulli(p, *, generator=None)`: 1 with probability `x` (or `p`), else 0. */
  bernoulli: rx.bernoulliMethod,
  /** `x.bernoulli_(p=0.5, *, generator=None)`: each element set to 1 with probability `p`, else 0, in place. */
  bernoulli_: rx.bernoulli_,
  /** `x.multinomial(num_samples, replacement=False, *, generator=None)`: category indices drawn from the weights `x`. */
  multinomial: rx.multinomialMethod,
  /** `x.exponential_(lambd=1, *, generator=None)`: filled with Exp(lambd) samples. */
  exponential_: rx.exponential_,
  /** `x.geometric_(p, *, generator=None)`: filled with Geometric(p) samples (trials up to the first success). */
  geometric_: rx.geometric_,
  /** `x.logNormal_(mean=1, std=2, *, generator=None)`: filled with `exp(N(mean, std^2))` samples. */
  logNormal_: rx.logNormal_,
  /** `x.cauchy_(median=0, sigma=1, *, generator=None)`: filled with Cauchy(median, sigma) samples. */
  cauchy_: rx.cauchy_,
  /** `x.random_(from=0, to=None, *, generator=None)`: filled with integers uniform on [from, to). */
  random_: rx.random_,
  /** `x.ger(vec2)`: alias of `outer`. */
  ger: al.ger,
  /** `x.swapdims(dim0, dim1)`: alias of `transpose`. */
  swapdims: al.swapdims,
  /** `x.swapaxes(axis0, axis1)`: alias of `transpose`. */
  swapaxes: al.swapaxes,
  /** `x.isComplex()`: whether the dtype is complex64 or complex128 (`x.is_complex()`). */
  isComplex: cx.isComplexOp,
  /** `x.conj()`: the complex conjugate (values; a real tensor itself). */
  conj: cx.conj,
  /** `x.conjPhysical()`: the complex conjugate (values). */
  conjPhysical: cx.conjPhysicalMethod,
  /** `x.resolveConj()`: the tensor itself (Cinder has no lazy conjugate bit). */
  resolveConj: cx.resolveConj,
  /** `x.isConj()`: always false (Cinder has no lazy conjugate bit). */
  isConj: cx.isConj,
  /** `x.angle()`: the argument of each element, atan2(im, re) (0 or pi for real tensors). */
  angle: cx.angleMethod,
  /** `x.adjoint()`: the (conjugate) transpose of the last two dims, `x.mT` for real tensors. */
  adjoint: al.adjoint,
  /** `x.broadcastTo(size)`: alias of `expand`. */
  broadcastTo: al.broadcastTo,
  /** `x.pinverse(rcond=1e-15)`: `linalg.pinv` with `rtol=rcond`. */
  pinverse: al.pinverse,
  /** `x.vdot(other)`: the dot product of two 1-D tensors. */
  vdot: al.vdot,
  /** `x.inner(other)`: the sum of products over the last dims. */
  inner: al.inner,
  /** `x.ndimension()`: alias of `x.dim()`. */
  ndimension: al.ndimension,
  /** `x.nelement()`: alias of `x.numel()`. */
  nelement: al.nelement,
  /** `x.matrixPower(n)`: `linalg.matrix_power` (A^n; the inverse's power for n < 0). */
  matrixPower: lm.torchMatrixPower,
  /** `x.matrixExp()`: `linalg.matrix_exp`. */
  matrixExp: lm.torchMatrixExp,
  /** `x.orgqr(input2)`: `linalg.householder_product` of x and the scalars `input2`. */
  orgqr: lm.orgqr,
  /** `x.lu(pivot=True, get_infos=False)`: the older `torch.lu`, `[LU, pivots(, infos)]`. */
  lu: lu.torchLu,
  /** `x.luSolve(LU_data, LU_pivots)`: the older `torch.lu_solve` (`linalg.lu_solve(LU_data, LU_pivots, x)`). */
  luSolve: lu.torchLuSolveMethod,
});
