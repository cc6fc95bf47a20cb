/**
 * PyTorch 1.13's aliases (issue 14): other names of ops Cinder has, NumPy's (`arccos`, `multiply`, `greater`,
 * `concatenate`, `swapaxes`, ...) and older ones (`ger`, `fix`, `true_divide`). An elementwise alias is one row of
 * `UNARY_ALIASES` / `BINARY_ALIAS_SPECS`: the op table's function, method and in-place method, declared under the
 * alias's name with the op's parameters (`torch.true_divide` without div's `rounding_mode`). The other aliases are one
 * declaration each over the op they name.
 */
import type { BinaryOp, UnaryOp } from "../backend";
import { ShapeError } from "../errors";
import { arg, k, op, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { conjImpl } from "./complex";
import {
  type BinaryFn,
  type BinaryMethod,
  type BinarySpec,
  binaryFn,
  binarySpec,
  installBinary,
  installUnary,
  type UnaryFn,
  type UnaryMethod,
  unaryFn,
} from "./elementwise-signatures";
import { dot, matmul, outer } from "./linalg";
import { tensordot } from "./linalg-extra";
import { pinv } from "./linalg-spectral";
import { diagonal, vstack } from "./shape-extra";
import { cat, transpose } from "./view";

/** Unary aliases: name -> the op it is. */
export const UNARY_ALIASES = {
  absolute: "abs",
  arccos: "acos",
  arccosh: "acosh",
  arcsin: "asin",
  arcsinh: "asinh",
  arctan: "atan",
  arctanh: "atanh",
  fix: "trunc",
  negative: "neg",
  sgn: "sign",
} as const satisfies Record<string, UnaryOp>;

/** Binary aliases: name -> the op it is, and how its signature differs from the op's (`binarySpec`). */
const BINARY_ALIAS_SPECS = {
  multiply: ["mul", {}],
  subtract: ["sub", {}],
  divide: ["div", {}],
  trueDivide: ["div", { keywords: [] }],
  arctan2: ["atan2", {}],
  greater: ["gt", {}],
  greaterEqual: ["ge", {}],
  less: ["lt", {}],
  lessEqual: ["le", {}],
  notEqual: ["ne", {}],
} as const satisfies Record<string, readonly [BinaryOp, Partial<BinarySpec>]>;

type UnaryAliases = typeof UNARY_ALIASES;
type BinaryAliases = { [A in keyof typeof BINARY_ALIAS_SPECS]: (typeof BINARY_ALIAS_SPECS)[A][0] };
/** `true_divide` is `div` without `rounding_mode`, typed as `mul` (a number input, `out=` only). */
type BinaryAliasFn<A extends keyof BinaryAliases> = A extends "trueDivide"
  ? BinaryFn<"mul">
  : BinaryFn<BinaryAliases[A]>;

/** The functions of the elementwise aliases (`torch.arccos`, `torch.multiply`, ...). */
export type AliasFns = { [A in keyof UnaryAliases]: UnaryFn<UnaryAliases[A]> } & {
  [A in keyof BinaryAliases]: BinaryAliasFn<A>;
};
/** The Tensor methods of the elementwise aliases and their in-place forms (`x.arccos()`, `x.multiply_(y)`, ...). */
export type AliasMethods = { [A in keyof UnaryAliases]: UnaryMethod<UnaryAliases[A]> } & {
  [A in keyof UnaryAliases as `${A}_`]: UnaryMethod<UnaryAliases[A]>;
} & { [A in keyof BinaryAliases]: BinaryMethod<A extends "trueDivide" ? "mul" : BinaryAliases[A]> } & {
  [A in keyof BinaryAliases as `${A}_`]: BinaryMethod<A extends "trueDivide" ? "mul" : BinaryAliases[A]>;
};

/** Each binary alias's op and its full spec. */
const binaryAliases = (
  Object.entries(BINARY_ALIAS_SPECS) as [string, readonly [BinaryOp, Partial<BinarySpec>]][]
).map(([name, [o, spec]]) => [o, binarySpec(o, { ...spec, name })] as const);

/** The alias functions, by name. */
export const aliasFns = Object.fromEntries([
  ...Object.entries(UNARY_ALIASES).map(([name, o]) => [name, unaryFn(o, name)]),
  ...binaryAliases.map(([o, spec]) => [spec.name, binaryFn(o, spec)]),
]) as unknown as AliasFns;

/** Install the alias methods and their in-place forms on Tensor.prototype (called once by `installMethods`). */
export function installAliases(proto: Record<string, unknown>): void {
  for (const [name, o] of Object.entries(UNARY_ALIASES)) installUnary(proto, o, name);
  for (const [o, spec] of binaryAliases) installBinary(proto, o, spec);
}

// ---- aliases of other ops ----

const fn = { forms: ["function"] as const };
const tensorsArg = arg("tensors", k.tensors);

/** `ger(input, vec2)` / `x.ger(vec2)`: `outer` (PyTorch's deprecated name). */
export const ger = op(
  signature("ger", [self, arg("vec2", k.tensor)]),
  ({ input, vec2 }): Tensor => outer(input, vec2),
);
/** `concat(tensors, dim=0)`: `cat`. */
export const concat = op(
  signature("concat", [tensorsArg, arg("dim", k.int, 0)], [], fn),
  ({ tensors, dim }): Tensor => cat(tensors, dim),
);
/** `concatenate(tensors, dim=0)`: `cat` (NumPy's name). */
export const concatenate = op(
  signature("concatenate", [tensorsArg, arg("dim", k.int, 0)], [], fn),
  ({ tensors, dim }): Tensor => cat(tensors, dim),
);
/** `row_stack(tensors)`: `vstack`. */
export const rowStack = op(
  signature("rowStack", [tensorsArg], [], fn),
  ({ tensors }): Tensor => vstack(tensors),
);
/** `swapdims(input, dim0, dim1)` / `x.swapdims(dim0, dim1)`: `transpose` (a view). */
export const swapdims = op(
  signature("swapdims", [self, arg("dim0", k.int), arg("dim1", k.int)]),
  ({ input, dim0, dim1 }): Tensor => transpose(input, dim0, dim1),
);
/** `swapaxes(input, axis0, axis1)` / `x.swapaxes(axis0, axis1)`: `transpose` (a view; NumPy's name). */
export const swapaxes = op(
  signature("swapaxes", [self, arg("axis0", k.int), arg("axis1", k.int)]),
  ({ input, axis0, axis1 }): Tensor => transpose(input, axis0, axis1),
);
/** `adjoint(input)` / `x.adjoint()`: the conjugate transpose of the last two dims, `x.mT` for real tensors (a view). */
export const adjoint = op(signature("adjoint", [self]), ({ input }): Tensor => {
  if (input.ndim < 2) {
    throw new ShapeError(
      `adjoint(): tensor.adjoint() is only supported on matrices or batches of matrices. Got ${input.ndim}-D tensor.`,
    );
  }
  return transpose(conjImpl(input), -2, -1);
});
/** `linalg.diagonal(A, *, offset=0, dim1=-2, dim2=-1)`: `diagonal` with the matrix dims last by default. */
export const linalgDiagonal = op(
  signature(
    "linalg.diagonal",
    [arg("A", k.tensor)],
    [arg("offset", k.int, 0), arg("dim1", k.int, -2), arg("dim2", k.int, -1)],
    fn,
  ),
  ({ A, offset, dim1, dim2 }): Tensor => diagonal(A, offset, dim1, dim2),
);
/** `linalg.matmul(input, other)`: `matmul`. */
export const linalgMatmul = op(
  signature("linalg.matmul", [self, arg("other", k.tensor)], [], fn),
  ({ input, other }): Tensor => matmul(input, other),
);
/** `broadcast_to(input, size)` / `x.broadcastTo(size)`: `expand` (a view; -1 keeps a size). */
export const broadcastTo = op(
  signature("broadcastTo", [self, arg("size", k.ints)]),
  ({ input, size }): Tensor => input.expand([...size]),
);
/** `pinverse(input, rcond=1e-15)` / `x.pinverse(rcond=1e-15)`: `linalg.pinv` with `rtol=rcond`. */
export const pinverse = op(
  signature("pinverse", [self, arg("rcond", k.float, 1e-15)]),
  ({ input, rcond }): Tensor => pinv(input, { rtol: rcond }),
);
/** `vdot(input, other)` / `x.vdot(other)`: the dot product of two 1-D tensors, the first conjugated (`dot` for real tensors). */
export const vdot = op(
  signature("vdot", [self, arg("other", k.tensor)]),
  ({ input, other }): Tensor => dot(conjImpl(input), other),
);
/** `inner(input, other)` / `x.inner(other)`: the sum of products over the last dims (`tensordot` of the last dims). */
export const inner = op(signature("inner", [self, arg("other", k.tensor)]), ({ input, other }): Tensor => {
  if (input.ndim === 0 || other.ndim === 0) return input.mul(other);
  const n = input.shape[input.ndim - 1];
  if (other.shape[other.ndim - 1] !== n) {
    throw new ShapeError(
      `inner(): the last dims of input and other must agree, got [${input.shape}] and [${other.shape}]`,
    );
  }
  return tensordot(input, other, [[input.ndim - 1], [other.ndim - 1]]);
});
/** `x.ndimension()`: alias of `x.dim()`. */
export const ndimension = op(
  signature("ndimension", [self], [], { forms: ["method"] }),
  ({ input }): number => input.ndim,
);
/** `x.nelement()`: alias of `x.numel()`. */
export const nelement = op(signature("nelement", [self], [], { forms: ["method"] }), ({ input }): number =>
  input.numel(),
);
