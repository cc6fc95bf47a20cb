/**
 * @cinder/tensor: the tensor core. Tensor, dtypes, views, the op table, the backend protocol and device
 * registry, seeded RNG, printing and memory scopes. Register a backend (e.g. `registerBackend(cpu)` from
 * "@cinder/backend-cpu") before creating tensors, or import "cinder", which does it for you.
 */
import "./methods";

export * from "./backend";
export * from "./dtype";
export * from "./errors";
export {
  autogradHooks,
  enableGrad,
  type AutogradHooks,
  installAutograd,
  isGradEnabled,
  needsGrad,
  noGrad,
  type OpRecord,
  recordOp,
  setGradEnabled,
} from "./grad";
export { keep, memory, type MemoryInfo, tidy } from "./memory";
export { type AlphaOptions, type ClampOptions, type TensorMethods, unaryFns, binaryFns } from "./methods";
export { getPrintOptions, setPrintOptions } from "./print";
export { defaultGenerator, Generator, hash32, randomBits, randomNormal, randomUniform, seedKey } from "./random";
export * from "./scalar";
export * from "./shape";
export { Storage } from "./storage";
export { emptyTensor, type GradFn, type NestedArray, Tensor, tensorFromData } from "./tensor";
export { castOp } from "./ops/cast";
export * from "./ops/creation";
export { unaryOps, binaryOps, type UnaryDef, type BinaryDef, type Scalar, type TensorOrScalar, where, computeDtype, nodeName } from "./ops/elementwise";
export { at, gather, indexSelect, indexPut, type IndexItem, maskedFill, nonzero, scatter, scatterAdd, set, type Slice, slice, type SliceString } from "./ops/indexing";
export { bmm, dot, matmul, mm, mv, outer } from "./ops/linalg";
export {
  all,
  amax,
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
  variance as var,
  variance,
  type VarOptions,
} from "./ops/reduce";
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
export { add, allclose, clamp, detach, div, equal, isclose, sub } from "./methods";

import { binaryFns, unaryFns } from "./methods";

export const {
  neg, abs, sqrt, rsqrt, exp, expm1, log, log1p, log2, sin, cos, tan, tanh, sigmoid, relu, floor, ceil, round,
  trunc, sign, reciprocal, square, erf, logicalNot, isnan, isinf,
} = unaryFns;
export const {
  mul, pow, maximum, minimum, remainder, fmod, floorDivide, atan2, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr,
  logicalXor,
} = binaryFns;
