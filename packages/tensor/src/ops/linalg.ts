/** Matrix products. One primitive (batched matmul over strided 3-D views) serves them all. */
import { type DType, isComplex, isFloat } from "../dtype";
import { DTypeError, fmtShape, ShapeError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { checkHalfKernel } from "../half";
import { INT64_SAFE_MAX, int64RangeError } from "../int64";
import { broadcastShapes, broadcastStrides, viewStrides } from "../shape";
import { arg, k, op, self, signature } from "../signature";
import { Tensor } from "../tensor";
import { castOp } from "./cast";
import { computeDtype } from "./elementwise";
import { contiguous, empty, output, sameDevice } from "./kernels";
import { type ProductKind, roundsEachStep, stepwiseProduct } from "./linalg-bf16";

/** View `t` ([...batch, m, n] broadcast to `batch`) as [B, m, n] without copying when strides allow. */
function as3d(t: Tensor, batch: readonly number[]): Tensor {
  const shape = [...batch, t.shape[t.ndim - 2], t.shape[t.ndim - 1]];
  const strides = broadcastStrides(t.shape, t.strides, shape, "matmul");
  const b = batch.reduce((p, d) => p * d, 1);
  const target = [b, shape[shape.length - 2], shape[shape.length - 1]];
  const s3 = viewStrides(shape, strides, target);
  if (s3) return new Tensor(t.storage, target, s3, t.offset);
  const dense = contiguous(new Tensor(t.storage, shape, strides, t.offset));
  return new Tensor(dense.storage, target, undefined, dense.offset);
}

/** The batched product primitive on tensors of rank >= 2 with broadcast batch dims. */
function bmmKernel(a: Tensor, b: Tensor, kind: ProductKind = "product"): Tensor {
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const n = b.shape[b.ndim - 1];
  if (b.shape[b.ndim - 2] !== k) {
    throw new ShapeError(
      `matmul: mat1 and mat2 shapes cannot be multiplied (${m}x${k} and ${b.shape[b.ndim - 2]}x${n}); ` +
        `got tensors of shape ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "matmul (batch dims)");
  // every element is a dot product over k > 0 terms, written whole; an empty product (k = 0) is zeros
  const out = (k > 0 ? output : empty)([...batch, m, n], a.dtype, a);
  const B = batch.reduce((p, d) => p * d, 1);
  // bfloat16: where PyTorch 1.13's CPU rounds every multiply-add (small products, mv, dot), so does Cinder
  if (a.dtype === "bfloat16" && k > 0 && roundsEachStep(a, b, B, kind))
    return stepwiseProduct(as3d(a, batch), as3d(b, batch), out.shape);
  const o3 = new Tensor(out.storage, [B, m, n]);
  a.backend.matmul(as3d(a, batch).view_, as3d(b, batch).view_, o3.view_);
  return out;
}

function prepare(a: Tensor, b: Tensor, what: string): [Tensor, Tensor] {
  sameDevice(what, a, b);
  const dtype = computeDtype(a, b);
  checkHalfKernel(what, dtype); // PyTorch 1.13's CPU has no float16 products (bfloat16 it has)
  if (dtype !== "int32" && dtype !== "int64" && !isFloat(dtype) && !isComplex(dtype)) {
    throw new DTypeError(`${what}: expected float, complex or int32 tensors, got ${a.dtype} and ${b.dtype}`);
  }
  // PyTorch's products take one dtype: a complex operand with a real one is an error, as two floats of two widths
  const inexact = (d: DType) => isFloat(d) || isComplex(d);
  if (a.dtype !== b.dtype && inexact(a.dtype) && inexact(b.dtype)) {
    throw new DTypeError(
      `${what}: expected both tensors to have the same dtype, but got ${a.dtype} and ${b.dtype}`,
    );
  }
  return [castOp(a, dtype), castOp(b, dtype)];
}

/** The recorded product of rank>=2 operands; gradients are products with the other operand transposed. */
function product(a: Tensor, b: Tensor, name: string): Tensor {
  const y = bmmKernel(a, b, name === "BmmBackward0" && a.ndim > 2 && b.ndim > 2 ? "bmm" : "product");
  if (!needsGrad(a, b)) return y;
  // as PyTorch's mm/bmm: the gradient of a reads b, that of b reads a; each is saved only when needed, so an
  // in-place change to an operand whose partner needs no gradient is not an error
  const need = [a.requiresGrad, b.requiresGrad] as const;
  return recordOp({
    name,
    inputs: [a, b],
    output: y,
    saved: savedFor(need, a, b),
    backward: productBackward(a, b, name, need),
  });
}

// The derivative closures are made by functions returning them, not written inline as `backward: (g) => ...`:
// esbuild's keepNames (tsup's build, tsx) wraps an inline closure bound to a name in `__name()`, a
// defineProperty per op recorded (see tests/test/keep-names.test.ts).
function productBackward(a: Tensor, b: Tensor, name: string, need: readonly [boolean, boolean]) {
  return (g: Tensor) => [
    need[0]
      ? columnMajor(a)
        ? productT(b, g.transpose(-1, -2), name) // (b g^T)^T = g b^T
        : product(g, b.transpose(-1, -2), name)
      : null,
    need[1]
      ? columnMajor(b)
        ? productT(g.transpose(-1, -2), a, name) // (g^T a)^T = a^T g
        : product(a.transpose(-1, -2), g, name)
      : null,
  ];
}

/**
 * A 2-D operand laid out column-major (a transposed view, as `weight.t()` in `F.linear`): its gradient is then
 * computed transposed, so that the gradient reaching the underlying tensor (through the transpose's backward) is
 * contiguous, as PyTorch's `mm_mat1_backward`/`mm_mat2_backward` do. Without it, a Linear weight's gradient is a
 * transposed view that gradient accumulation must read strided (or copy when it becomes `.grad`).
 */
function columnMajor(t: Tensor): boolean {
  return (
    t.ndim === 2 && t.shape[0] > 1 && t.shape[1] > 1 && t.strides[0] === 1 && t.strides[1] === t.shape[0]
  );
}

/** `(x @ y)^T`: a contiguous product seen transposed (column-major), the layout of the operand it is the gradient of. */
function productT(x: Tensor, y: Tensor, name: string): Tensor {
  return product(x, y, name).transpose(-1, -2);
}

/** torch.matmul: dot, matrix-vector, matrix-matrix and broadcast batched products. */
function matmulImpl(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(
      `matmul: both arguments need at least 1 dimension, got ${a.ndim}D and ${b.ndim}D tensors (use mul for scalars)`,
    );
  }
  const [x, y] = prepare(a, b, "matmul");
  if (x.ndim === 1 && y.ndim === 1) return dotImpl(x, y);
  if (x.ndim === 2 && y.ndim === 2) return product(x, y, "MmBackward0");
  if (x.ndim === 2 && y.ndim === 1) return mvImpl(x, y);
  const xa = x.ndim === 1 ? x.unsqueeze(0) : x;
  const ya = y.ndim === 1 ? y.unsqueeze(1) : y;
  let r = product(xa, ya, x.ndim <= 2 && y.ndim <= 2 ? "MmBackward0" : "BmmBackward0");
  if (x.ndim === 1) r = r.squeeze(-2);
  if (y.ndim === 1) r = r.squeeze(-1);
  return r;
}

function mmImpl(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new ShapeError(
      `mm: expected 2-D tensors, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  const [x, y] = prepare(a, b, "mm");
  return product(x, y, "MmBackward0");
}

function bmmImpl(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) {
    throw new ShapeError(
      `bmm: expected 3-D tensors with the same batch size, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  const [x, y] = prepare(a, b, "bmm");
  return product(x, y, "BmmBackward0");
}

function dotImpl(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1 || a.shape[0] !== b.shape[0]) {
    throw new ShapeError(
      `dot: expected 1-D tensors of the same size, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  const [x, y] = prepare(a, b, "dot");
  const r = bmmKernel(
    new Tensor(x.storage, [1, x.shape[0]], [0, x.strides[0]], x.offset),
    new Tensor(y.storage, [y.shape[0], 1], [y.strides[0], 0], y.offset),
    "dot",
  );
  const out = new Tensor(r.storage, []);
  if (!needsGrad(x, y)) return out;
  const need = [x.requiresGrad, y.requiresGrad] as const;
  return recordOp({
    name: "DotBackward0",
    inputs: [x, y],
    output: out,
    saved: savedFor(need, x, y),
    backward: dotBackward(x, y, need),
  });
}

function mvImpl(a: Tensor, v: Tensor): Tensor {
  if (a.ndim !== 2 || v.ndim !== 1 || a.shape[1] !== v.shape[0]) {
    throw new ShapeError(
      `mv: expected a 2-D matrix and a 1-D vector with matching inner size, got shapes ${fmtShape(a.shape)} and ${fmtShape(v.shape)}`,
    );
  }
  const [x, y] = prepare(a, v, "mv");
  const r = bmmKernel(x, new Tensor(y.storage, [y.shape[0], 1], [y.strides[0], 0], y.offset), "mv");
  const out = new Tensor(r.storage, [x.shape[0]]);
  if (!needsGrad(x, y)) return out;
  const need = [x.requiresGrad, y.requiresGrad] as const;
  return recordOp({
    name: "MvBackward0",
    inputs: [x, y],
    output: out,
    saved: savedFor(need, x, y),
    backward: mvBackward(x, y, need),
  });
}

function dotBackward(x: Tensor, y: Tensor, need: readonly [boolean, boolean]) {
  return (g: Tensor) => [need[0] ? y.mul(g) : null, need[1] ? x.mul(g) : null];
}

function mvBackward(a: Tensor, v: Tensor, need: readonly [boolean, boolean]) {
  return (g: Tensor) => [need[0] ? g.unsqueeze(1).mul(v.unsqueeze(0)) : null, need[1] ? a.t().mv(g) : null];
}

/** The operands a product's backward reads: `b` when `a` needs its gradient, `a` when `b` does. */
function savedFor(need: readonly [boolean, boolean], a: Tensor, b: Tensor): Tensor[] {
  return [...(need[1] ? [a] : []), ...(need[0] ? [b] : [])];
}

/** Outer product of two vectors. */
function outerImpl(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new ShapeError(
      `outer: expected 1-D tensors, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  return a.unsqueeze(1).mul(b.unsqueeze(0));
}

/**
 * int8 and int16 products run in int32 and are cast back: integer sums wrap modulo 2^bits either way, so the
 * bits are those of PyTorch's narrow accumulation.
 */
function narrowInts(f: (a: Tensor, b: Tensor) => Tensor): (a: Tensor, b: Tensor) => Tensor {
  return (a, b) => {
    const d = computeDtype(a, b);
    if (d === "int64") return int64Product(f, a, b);
    if (d !== "int8" && d !== "int16") return f(a, b);
    if (a.dtype !== b.dtype) {
      throw new DTypeError(`expected both tensors to have the same dtype, but got ${a.dtype} and ${b.dtype}`);
    }
    return castOp(f(castOp(a, "int32"), castOp(b, "int32")), d);
  };
}
/**
 * int64 products run in float64, exact while every partial sum stays within 2^53 - 1: the same product of the
 * absolute values bounds them all, and a bound past that is an error (never a rounded value).
 */
function int64Product(f: (a: Tensor, b: Tensor) => Tensor, a: Tensor, b: Tensor): Tensor {
  const a64 = castOp(a, "float64");
  const b64 = castOp(b, "float64");
  const bound = f(a64.abs(), b64.abs());
  const worst = bound.numel() === 0 ? 0 : (bound.max().item() as number);
  if (worst > INT64_SAFE_MAX) throw int64RangeError(worst, "int64 product: a partial sum");
  return castOp(f(a64, b64), "int64");
}
const matmulInts = narrowInts(matmulImpl);
const mmInts = narrowInts(mmImpl);
const bmmInts = narrowInts(bmmImpl);
const dotInts = narrowInts(dotImpl);
const mvInts = narrowInts(mvImpl);

// ---- declared signatures (PyTorch's names: `torch.mm(input, mat2)`, `x.mv(vec)`, ...) ----

/** `matmul(input, other)`: dot, matrix-vector, matrix-matrix and broadcast batched products */
export const matmul = op(
  signature("matmul", [self, arg("other", k.tensor)]),
  ({ input, other }): Tensor => matmulInts(input, other),
);
/** `mm(input, mat2)`: 2-D matrix product */
export const mm = op(
  signature("mm", [self, arg("mat2", k.tensor)]),
  ({ input, mat2 }): Tensor => mmInts(input, mat2),
);
/** `bmm(input, mat2)`: batched 3-D matrix product */
export const bmm = op(
  signature("bmm", [self, arg("mat2", k.tensor)]),
  ({ input, mat2 }): Tensor => bmmInts(input, mat2),
);
/** `dot(input, tensor)`: inner product of two 1-D tensors */
export const dot = op(
  signature("dot", [self, arg("tensor", k.tensor)]),
  ({ input, tensor }): Tensor => dotInts(input, tensor),
);
/** `mv(input, vec)`: matrix-vector product */
export const mv = op(
  signature("mv", [self, arg("vec", k.tensor)]),
  ({ input, vec }): Tensor => mvInts(input, vec),
);
/** `outer(input, vec2)`: outer product of two 1-D tensors */
export const outer = op(
  signature("outer", [self, arg("vec2", k.tensor)]),
  ({ input, vec2 }): Tensor => outerImpl(input, vec2),
);
