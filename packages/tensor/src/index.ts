/**
 * @cinder/tensor: the tensor core. Tensor, dtypes, views, the op table, the backend protocol and device
 * registry, seeded RNG, printing and memory scopes. Register a backend (e.g. `registerBackend(cpu)` from
 * "@cinder/backend-cpu") before creating tensors, or import "cinder", which does it for you.
 */
import { installMethods } from "./methods";

export * from "./backend";
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
  recordOp,
  setGradEnabled,
} from "./grad";
export { keep, type MemoryInfo, memory, tidy } from "./memory";
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
export { castOp } from "./ops/cast";
export * from "./ops/creation";
export { type CreationOptions, getDefaultDevice, setDefaultDevice } from "./ops/creation-args";
export {
  type BinaryDef,
  binaryOps,
  computeDtype,
  nodeName,
  type Scalar,
  type TensorOrScalar,
  type UnaryDef,
  unaryOps,
  where,
} from "./ops/elementwise";
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
export { argsort, sort, topk } from "./ops/sort";
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
import type { BinaryFns } from "./ops/elementwise-signatures";

installMethods();

export const {
  neg,
  abs,
  sqrt,
  rsqrt,
  exp,
  expm1,
  log,
  log1p,
  log2,
  sin,
  cos,
  tan,
  tanh,
  sigmoid,
  relu,
  floor,
  ceil,
  round,
  trunc,
  sign,
  reciprocal,
  square,
  erf,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  asinh,
  acosh,
  atanh,
  exp2,
  log10,
  logicalNot,
  isnan,
  isinf,
} = unaryFns;
export const {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  remainder,
  fmod,
  floorDivide,
  atan2,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  logicalAnd,
  logicalOr,
  logicalXor,
}: BinaryFns = binaryFns;
