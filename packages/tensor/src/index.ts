/**
 * @cinder/tensor: the tensor core. Tensor, dtypes, views, the op table, the backend protocol and device
 * registry, seeded RNG, printing and memory scopes. Register a backend (e.g. `registerBackend(cpu)` from
 * "@cinder/backend-cpu") before creating tensors, or import "cinder", which does it for you.
 */
import { installMethods } from "./methods";

export * from "./backend";
export {
  type BufferPoolOptions,
  type BufferPoolStats,
  bufferPoolStats,
  recycleBuffer,
  setBufferPool,
  takeBuffer,
  trimBufferPool,
} from "./buffer-pool";
export { type Complex, isComplexValue } from "./complex-value";
export * from "./dtype";
export * from "./errors";
export { fusionEnabled, fusionStats, setFusion } from "./fusion";
export {
  type AutogradHooks,
  autogradHooks,
  enableGrad,
  installAutograd,
  isGradEnabled,
  needsGrad,
  noGrad,
  type OpRecord,
  type RemovableHandle,
  recordOp,
  setGradEnabled,
  type TensorHook,
} from "./grad";
export {
  decodeHalf,
  encodeHalf,
  fromBFloat16Bits,
  fromFloat16Bits,
  isHalf,
  roundBFloat16,
  roundFloat16,
  toBFloat16Bits,
  toFloat16Bits,
  valuesOf,
} from "./half";
export * from "./int64";
export { graphOwned, keep, type MemoryInfo, memory, tidy, tidyMade, userVisible } from "./memory";
export {
  type AlphaOptions,
  allclose,
  binaryFns,
  type ClampOptions,
  clamp,
  clip,
  detach,
  equal,
  isclose,
  type TensorMethods,
  unaryFns,
} from "./methods";
export { importNodeBuiltin } from "./node-import";
export { type OpTracer, setOpTracer } from "./op-tracer";
export {
  adjoint,
  broadcastTo,
  concat,
  concatenate,
  ger,
  inner,
  pinverse,
  rowStack,
  swapaxes,
  swapdims,
  vdot,
} from "./ops/aliases";
export { castOp } from "./ops/cast";
export {
  angle,
  COMPLEX_BINARY_OPS,
  COMPLEX_UNARY_OPS,
  complex,
  conj,
  conjPhysical,
  imag,
  isComplexOp,
  isConj,
  polar,
  real,
  resolveConj,
  viewAsComplex,
  viewAsReal,
} from "./ops/complex";
export * from "./ops/creation";
export { type CreationOptions, getDefaultDevice, setDefaultDevice } from "./ops/creation-args";
export { logspace, meshgrid } from "./ops/creation-extra";
export { einsum } from "./ops/einsum";
export {
  accepts,
  type BinaryDef,
  binaryOps,
  computeDtype,
  erfinv as erfinvScalar,
  nodeName,
  type Only,
  type Scalar,
  type TensorOrScalar,
  type UnaryDef,
  unaryOps,
  where,
} from "./ops/elementwise";
export { addcdiv, addcmul, frac, isfinite, lerp, logaddexp, logaddexp2 } from "./ops/elementwise-extra";
export { indexAdd, indexCopy, indexFill, maskedSelect, put, take } from "./ops/index-extra";
export {
  at,
  gather,
  type IndexItem,
  indexPut,
  indexSelect,
  maskedFill,
  nonzero,
  type Slice,
  type SliceString,
  scatter,
  scatterAdd,
  set,
  slice,
} from "./ops/indexing";
export { bmm, dot, matmul, mm, mv, outer } from "./ops/linalg";
export { stepwiseStats } from "./ops/linalg-bf16";
export { choleskySolve, inverse, torchDet as det, torchSlogdet as slogdet } from "./ops/linalg-decomp";
export { cdist, cross, kron, tensordot } from "./ops/linalg-extra";
export { luUnpack, torchLu as lu, torchLuSolve as luSolve } from "./ops/linalg-lu";
export {
  orgqr,
  torchMatrixExp as matrixExp,
  torchMatrixPower as matrixPower,
  torchVander as vander,
} from "./ops/linalg-more";
/**
 * `torch.linalg`: the functions of PyTorch's linalg module that Cinder has: `cross`, the norms, `det`, `slogdet`,
 * `inv`, `solve`, `luFactor`, `cholesky`, `qr`, `eigh`, `eigvalsh`, `svd`, `svdvals`, `pinv`, `lstsq`, `lu`, `luFactorEx`,
 * `luSolve`, `solveTriangular`, `invEx`, `solveEx`, `choleskyEx`, `matrixPower`, `matrixExp`, `multiDot`, `matrixRank`,
 * `cond`, `vander`, `vecdot`, `tensorinv`, `tensorsolve`, `householderProduct`, `diagonal`, `matmul`, `eig`, `eigvals`
 * (complex results).
 */
export * as linalg from "./ops/linalg-namespace";
export { bernoulli, multinomial, normal, poisson } from "./ops/random-extra";
export {
  all,
  amax,
  amin,
  any,
  argmax,
  argmin,
  cumprod,
  cumsum,
  logSoftmax,
  logsumexp,
  max,
  mean,
  min,
  norm,
  prod,
  type ReduceOptions,
  softmax,
  std,
  sum,
  type ValuesIndices,
  type VarOptions,
  valuesIndices,
  variance as var,
  variance,
} from "./ops/reduce";
export * from "./ops/sampling";
export { cummax, cummin, logcumsumexp } from "./ops/scan-extra";
export { scatterReduce } from "./ops/scatter-reduce";
export {
  columnStack,
  diagEmbed,
  diagonal,
  dstack,
  fliplr,
  flipud,
  hstack,
  moveaxis,
  movedim,
  repeatInterleave,
  roll,
  rot90,
  tile,
  trace,
  tril,
  triu,
  vstack,
} from "./ops/shape-extra";
export { argsort, sort, topk } from "./ops/sort";
export {
  aminmax,
  countNonzero,
  kthvalue,
  type MinMax,
  median,
  mode,
  nanmedian,
  nanquantile,
  quantile,
  stdMean,
  varMean,
} from "./ops/stats";
export { unique, uniqueConsecutive } from "./ops/unique";
export {
  cat,
  chunk,
  clone,
  contiguous,
  expand,
  flatten,
  flip,
  narrow,
  permute,
  repeat,
  reshape,
  select,
  split,
  squeeze,
  stack,
  t,
  transpose,
  unbind,
  unflatten,
  unsqueeze,
  view,
} from "./ops/view";
export { getPrintOptions, setPrintOptions } from "./print";
export {
  defaultGenerator,
  Generator,
  hash32,
  randomBits,
  randomNormal,
  randomUniform,
  seedKey,
} from "./random";
export * from "./scalar";
export * from "./shape";
export {
  type AnyParam,
  ArgumentError,
  type AsMethod,
  arg,
  type Calls,
  type CallsOf,
  formatDefault,
  isPlainObject,
  type Kind,
  k,
  type MethodCalls,
  type OpFn,
  type Options,
  op,
  overloads,
  type Param,
  type Parsed,
  type ParsedOf,
  Signature,
  type SignatureInfo,
  type SignatureOptions,
  self,
  signature,
  signatures,
  snakeCase,
} from "./signature";
export { Storage } from "./storage";
export {
  emptyTensor,
  type GradFn,
  type NestedArray,
  Size,
  Tensor,
  tensorFromData,
} from "./tensor";

import { binaryFns, unaryFns } from "./methods";
import { type AliasFns, aliasFns } from "./ops/aliases";
import type { BinaryFns } from "./ops/elementwise-signatures";

installMethods();

export const {
  /** `torch.neg(input)`: elementwise `-x`. */
  neg,
  /** `torch.abs(input)`: elementwise absolute value. */
  abs,
  /** `torch.sqrt(input)`: elementwise square root (NaN for negative values). */
  sqrt,
  /** `torch.rsqrt(input)`: elementwise `1 / sqrt(x)`. */
  rsqrt,
  /** `torch.exp(input)`: elementwise `e^x`. */
  exp,
  /** `torch.expm1(input)`: elementwise `e^x - 1`, accurate for small x. */
  expm1,
  /** `torch.log(input)`: elementwise natural logarithm. */
  log,
  /** `torch.log1p(input)`: elementwise `log(1 + x)`, accurate for small x. */
  log1p,
  /** `torch.log2(input)`: elementwise base-2 logarithm. */
  log2,
  /** `torch.sin(input)`: elementwise sine. */
  sin,
  /** `torch.cos(input)`: elementwise cosine. */
  cos,
  /** `torch.tan(input)`: elementwise tangent. */
  tan,
  /** `torch.tanh(input)`: elementwise hyperbolic tangent. */
  tanh,
  /** `torch.sigmoid(input)`: elementwise `1 / (1 + e^-x)`. */
  sigmoid,
  /** `torch.relu(input)`: elementwise `max(x, 0)`. */
  relu,
  /** `torch.floor(input)`: elementwise round down. */
  floor,
  /** `torch.ceil(input)`: elementwise round up. */
  ceil,
  /** `torch.round(input, decimals=0)`: elementwise round half to even. */
  round,
  /** `torch.trunc(input)`: elementwise round toward zero. */
  trunc,
  /** `torch.sign(input)`: elementwise -1, 0 or 1. */
  sign,
  /** `torch.reciprocal(input)`: elementwise `1 / x`. */
  reciprocal,
  /** `torch.square(input)`: elementwise `x * x`. */
  square,
  /** `torch.erf(input)`: elementwise error function. */
  erf,
  /** `torch.asin(input)`: elementwise arcsine (NaN outside [-1, 1]). */
  asin,
  /** `torch.acos(input)`: elementwise arccosine (NaN outside [-1, 1]). */
  acos,
  /** `torch.atan(input)`: elementwise arctangent. */
  atan,
  /** `torch.sinh(input)`: elementwise hyperbolic sine. */
  sinh,
  /** `torch.cosh(input)`: elementwise hyperbolic cosine. */
  cosh,
  /** `torch.asinh(input)`: elementwise inverse hyperbolic sine. */
  asinh,
  /** `torch.acosh(input)`: elementwise inverse hyperbolic cosine (NaN below 1). */
  acosh,
  /** `torch.atanh(input)`: elementwise inverse hyperbolic tangent (NaN outside [-1, 1]). */
  atanh,
  /** `torch.exp2(input)`: elementwise `2^x`. */
  exp2,
  /** `torch.log10(input)`: elementwise base-10 logarithm. */
  log10,
  /** `torch.erfinv(input)`: elementwise inverse error function (±inf at ±1, NaN outside [-1, 1]). */
  erfinv,
  /** `torch.bitwise_not(input)`: elementwise NOT of integer bits (logical NOT of bool); floats are an error. */
  bitwiseNot,
  /** `torch.logical_not(input)`: elementwise NOT, a bool tensor. */
  logicalNot,
  /** `torch.isnan(input)`: where the elements are NaN, a bool tensor. */
  isnan,
  /** `torch.isinf(input)`: where the elements are ±inf, a bool tensor. */
  isinf,
} = unaryFns;
export const {
  /** `torch.add(input, other, *, alpha=1)`: elementwise `input + alpha * other`, broadcasting. */
  add,
  /** `torch.sub(input, other, *, alpha=1)`: elementwise `input - alpha * other`, broadcasting. */
  sub,
  /** `torch.mul(input, other)`: elementwise product, broadcasting. */
  mul,
  /**
   * `torch.div(input, other, *, rounding_mode=None)`: elementwise true division (integers give floats), or
   * rounded with `roundingMode` "trunc" or "floor".
   */
  div,
  /** `torch.pow(input, exponent)`: elementwise power. */
  pow,
  /** `torch.maximum(input, other)`: elementwise maximum (NaN propagates). */
  maximum,
  /** `torch.minimum(input, other)`: elementwise minimum (NaN propagates). */
  minimum,
  /** `torch.remainder(input, other)`: Python's modulus, with the sign of the divisor. */
  remainder,
  /** `torch.fmod(input, other)`: C's remainder, with the sign of the dividend. */
  fmod,
  /** `torch.floor_divide(input, other)`: elementwise division rounded down. */
  floorDivide,
  /** `torch.atan2(input, other)`: elementwise arctangent of `input / other` in the right quadrant. */
  atan2,
  /** `torch.hypot(input, other)`: elementwise `sqrt(input^2 + other^2)` without overflow; float tensors only. */
  hypot,
  /** `torch.copysign(input, other)`: elementwise `|input|` with the sign of `other` (-0 counts as negative). */
  copysign,
  /** `torch.bitwise_and(input, other)`: elementwise AND of integer bits (logical AND of bool). */
  bitwiseAnd,
  /** `torch.bitwise_or(input, other)`: elementwise OR of integer bits (logical OR of bool). */
  bitwiseOr,
  /** `torch.bitwise_xor(input, other)`: elementwise XOR of integer bits (logical XOR of bool). */
  bitwiseXor,
  /** `torch.bitwise_left_shift(input, other)`: `input << other` on integers, the count taken modulo 32. */
  bitwiseLeftShift,
  /** `torch.bitwise_right_shift(input, other)`: arithmetic `input >> other` on integers, the count modulo 32. */
  bitwiseRightShift,
  /** `torch.eq(input, other)`: elementwise `==`, a bool tensor. */
  eq,
  /** `torch.ne(input, other)`: elementwise `!=`, a bool tensor. */
  ne,
  /** `torch.lt(input, other)`: elementwise `<`, a bool tensor. */
  lt,
  /** `torch.le(input, other)`: elementwise `<=`, a bool tensor. */
  le,
  /** `torch.gt(input, other)`: elementwise `>`, a bool tensor. */
  gt,
  /** `torch.ge(input, other)`: elementwise `>=`, a bool tensor. */
  ge,
  /** `torch.logical_and(input, other)`: elementwise AND of truth values, a bool tensor. */
  logicalAnd,
  /** `torch.logical_or(input, other)`: elementwise OR of truth values, a bool tensor. */
  logicalOr,
  /** `torch.logical_xor(input, other)`: elementwise XOR of truth values, a bool tensor. */
  logicalXor,
}: BinaryFns = binaryFns;
export const {
  /** `torch.absolute(input, *, out=None)`: alias of `abs`. */
  absolute,
  /** `torch.arccos(input, *, out=None)`: alias of `acos`. */
  arccos,
  /** `torch.arccosh(input, *, out=None)`: alias of `acosh`. */
  arccosh,
  /** `torch.arcsin(input, *, out=None)`: alias of `asin`. */
  arcsin,
  /** `torch.arcsinh(input, *, out=None)`: alias of `asinh`. */
  arcsinh,
  /** `torch.arctan(input, *, out=None)`: alias of `atan`. */
  arctan,
  /** `torch.arctanh(input, *, out=None)`: alias of `atanh`. */
  arctanh,
  /** `torch.fix(input, *, out=None)`: alias of `trunc`. */
  fix,
  /** `torch.negative(input, *, out=None)`: alias of `neg`. */
  negative,
  /** `torch.sgn(input, *, out=None)`: `sign` for real tensors. */
  sgn,
  /** `torch.multiply(input, other, *, out=None)`: alias of `mul`. */
  multiply,
  /** `torch.subtract(input, other, *, alpha=1, out=None)`: alias of `sub`. */
  subtract,
  /** `torch.divide(input, other, *, rounding_mode=None, out=None)`: alias of `div`. */
  divide,
  /** `torch.true_divide(input, other, *, out=None)`: `div` without a rounding mode. */
  trueDivide,
  /** `torch.arctan2(input, other, *, out=None)`: alias of `atan2`. */
  arctan2,
  /** `torch.greater(input, other, *, out=None)`: alias of `gt`. */
  greater,
  /** `torch.greater_equal(input, other, *, out=None)`: alias of `ge`. */
  greaterEqual,
  /** `torch.less(input, other, *, out=None)`: alias of `lt`. */
  less,
  /** `torch.less_equal(input, other, *, out=None)`: alias of `le`. */
  lessEqual,
  /** `torch.not_equal(input, other, *, out=None)`: alias of `ne`. */
  notEqual,
}: AliasFns = aliasFns;
