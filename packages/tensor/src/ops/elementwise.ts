/**
 * Running the elementwise ops of the table (`elementwise-table.ts`): dtype promotion, scalar operands, `out=`,
 * fusion on backends that fuse (`fusion.ts`), in-place forms, and the autograd records with what PyTorch saves.
 */
import type { BinaryOp, UnaryOp } from "../backend";
import type { DType } from "../dtype";
import { dtypeOfNumber, intOn, isComplex, isFloat, resultType } from "../dtype";
import { DTypeError, fmtShape, ShapeError } from "../errors";
import { fuses } from "../fusion";
import { needsGrad, recordOp } from "../grad";
import { opTracer } from "../op-tracer";
import { castScalar } from "../scalar";
import { broadcastShapes, numel, sameShape } from "../shape";
import type { Tensor } from "../tensor";
import { emptyTensor } from "../tensor";
import { complexBinary, complexUnary, isComplexTensor } from "./complex";
import {
  type BinaryDef,
  binaryOps,
  checkOnly,
  nodeName,
  type SavedName,
  type UnaryDef,
  unaryOps,
} from "./elementwise-table";
import { cast, expandTo, fused, runBinary, runUnary, sameDevice } from "./kernels";

export {
  accepts,
  type BinaryDef,
  binaryOps,
  erf,
  erfinv,
  nodeName,
  type Only,
  type UnaryDef,
  unaryOps,
} from "./elementwise-table";

// ---- running them ----

/** A JS scalar operand: a number or a boolean. */
export type Scalar = number | boolean;
/** An operand of elementwise ops: a tensor or a JS scalar. */
export type TensorOrScalar = Tensor | Scalar;

export function unaryOutDtype(op: UnaryOp, dtype: DType): DType {
  const k = unaryOps[op].kind;
  return k === "bool" ? "bool" : k === "float" && !isFloat(dtype) ? "float32" : dtype;
}

export function unary(op: UnaryOp, x: Tensor, out?: Tensor): Tensor {
  if (opTracer !== null) return opTracer.call(op, { input: x }, () => runUnaryOp(op, x, out)) as Tensor;
  return runUnaryOp(op, x, out);
}

function runUnaryOp(op: UnaryOp, x: Tensor, out?: Tensor): Tensor {
  if (isComplexTensor(x)) return complexUnary(op, x, out);
  checkOnly(op, unaryOps[op].only, x.dtype);
  // PyTorch's bitwise_not of bool is the logical not (~ on 0/1 words would give -1/-2)
  if (op === "bitwiseNot" && x.dtype === "bool") op = "logicalNot";
  // PyTorch 1.13's bfloat16 rsqrt is 1 / sqrt(x), each rounded to bfloat16 (its vectorized kernel): the same bits
  if (op === "rsqrt" && x.dtype === "bfloat16" && !out) return unary("reciprocal", unary("sqrt", x));
  const def = unaryOps[op];
  const dtype = unaryOutDtype(op, x.dtype);
  const src = def.kind === "float" ? cast(x, dtype) : x;
  let y: Tensor;
  if (out && out.dtype === dtype) {
    y = out;
    const sv = src.view_;
    x.backend.unary(op, sv, out.writeView_);
  } else y = runUnary(op, src, dtype);
  if (!def.grad || !needsGrad(x)) return y;
  const grad = def.grad;
  // ops that save nothing (neg, floor, ...) have derivatives that do not read their second argument
  const saved = def.save === "self" ? x : def.save === "result" ? y : null;
  return recordOp({
    name: nodeName(op, def),
    inputs: [x],
    output: y,
    saved: saved ? [saved] : [],
    backward: unaryBackward(grad, saved ?? y),
  });
}

// The derivative closures are made by functions returning them, not written inline as `backward: (g) => ...`: a
// build with esbuild's keepNames (tsup's and tsx's) wraps every closure bound to a name in a `__name()` call, a
// defineProperty per op recorded (~0.3 us, a third of a 4-element add with requiresGrad).
function unaryBackward(grad: NonNullable<UnaryDef["grad"]>, s: Tensor) {
  return (g: Tensor) => [grad(g, s)];
}

function binaryBackward(
  grad: NonNullable<BinaryDef["grad"]>,
  a: Tensor,
  b: Tensor,
  y: Tensor,
  need: readonly [boolean, boolean],
) {
  return (g: Tensor) => grad(g, a, b, y, need);
}

function kindOf(v: TensorOrScalar): "tensor" | "scalar-tensor" | "number" {
  return typeof v === "object" ? (v.ndim === 0 ? "scalar-tensor" : "tensor") : "number";
}

/** The dtype computation runs in (torch.result_type) for an elementwise op over these operands. */
export function computeDtype(...vs: TensorOrScalar[]): DType {
  // two tensors of one dtype (the usual case) promote to it whatever their dims: no bookkeeping objects
  if (vs.length === 2) {
    const [a, b] = vs;
    if (typeof a === "object" && typeof b === "object" && a.dtype === b.dtype) return a.dtype;
  }
  const d = resultType(
    vs.map((v) => ({ dtype: typeof v === "object" ? v.dtype : dtypeOfNumber(v), kind: kindOf(v) })),
  );
  // an int64 from a JS integer (bool tensor + 3) is the backend's default integer: int32 where it has no int64
  if (d !== "int64") return d;
  const t = vs.find((v) => typeof v === "object") as Tensor | undefined;
  return t === undefined ? d : intOn(d, t.backend);
}

export function binaryDtypes(
  op: BinaryOp,
  a: TensorOrScalar,
  b: TensorOrScalar,
): { compute: DType; out: DType } {
  const { kind, only } = binaryOps[op];
  let compute = computeDtype(a, b);
  checkOnly(op, only, compute);
  if (kind === "float" && !isFloat(compute)) compute = "float32";
  return { compute, out: kind === "compare" || kind === "logical" ? "bool" : compute };
}

/** A JS number as a 0-dim tensor of `dtype` on `like`'s device. */
export function scalarTensor(v: Scalar, dtype: DType, like: Tensor): Tensor {
  if (fuses(like.backend)) {
    // a constant program: no kernel until something reads it, inlined under any broadcast
    return fused(like.backend, [], dtype, "scalar", (p) => p.constant(castScalar(+v, dtype), dtype));
  }
  const t = emptyTensor([], dtype, like.backend);
  if (v !== 0) t.backend.fill(t.view_, +v);
  return t;
}

export function toTensor(v: TensorOrScalar, dtype: DType, like: Tensor): Tensor {
  return typeof v === "object" ? cast(v, dtype) : scalarTensor(v, dtype, like);
}

export function binary(op: BinaryOp, a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  if (opTracer !== null)
    return opTracer.call(op, { input: a, other: b }, () => runBinaryOp(op, a, b, out)) as Tensor;
  return runBinaryOp(op, a, b, out);
}

function runBinaryOp(op: BinaryOp, a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  const like = (typeof a === "object" ? a : b) as Tensor;
  if (typeof like !== "object") throw new TypeError(`${op}: expected at least one tensor operand`);
  if (isComplexTensor(a) || isComplexTensor(b)) return complexBinary(op, a, b, out);
  const { compute, out: outDtype } = binaryDtypes(op, a, b);
  // devices first: casting to the common dtype on the wrong device would fail with a dtype error instead
  if (typeof a === "object" && typeof b === "object") sameDevice(op, a, b);
  const ta = toTensor(a, compute, like);
  const tb = toTensor(b, compute, like);
  if ((op === "floorDivide" || op === "remainder" || op === "fmod") && !isFloat(compute)) {
    checkIntegerDivisor(op, tb);
  }
  let y: Tensor;
  if (out && out.dtype === outDtype) {
    sameDevice(op, ta, tb, out);
    const shape = broadcastShapes(ta.shape, tb.shape, op);
    if (!sameShape(shape, out.shape)) {
      throw new ShapeError(
        `${op}: output with shape ${fmtShape(out.shape)} doesn't match the broadcast shape ${fmtShape(shape)}`,
      );
    }
    const av = expandTo(ta, out.shape, op).view_;
    const bv = expandTo(tb, out.shape, op).view_;
    ta.backend.binary(op, av, bv, out.writeView_);
    y = out;
  } else y = runBinary(op, ta, tb, outDtype);
  const def = binaryOps[op];
  const ga = typeof a === "object" ? a : null;
  const gb = typeof b === "object" ? b : null;
  if (!def.grad || !needsGrad(ga, gb)) return y;
  const grad = def.grad;
  const need = [ga?.requiresGrad === true, gb?.requiresGrad === true] as const;
  // pow's three overloads are three nodes in PyTorch: Tensor_Scalar 0, Tensor_Tensor 1, Scalar (a number base) 2
  const name = op === "pow" ? `PowBackward${gb === null ? 0 : ga === null ? 2 : 1}` : nodeName(op, def);
  return recordOp({
    name,
    inputs: [ga, gb],
    output: y,
    saved: savedTensors(def, ga, gb, y, need),
    backward: binaryBackward(grad, ta, tb, y, need),
  });
}

/**
 * The tensors a binary node saves, as PyTorch 1.13's generated autograd code does (gen_variable_type.py): an
 * input read by only one of the derivatives is saved only when that input needs its gradient, one read by both
 * always, the result always when read. A JS number operand is PyTorch's Scalar overload (no derivative for it).
 * The originals are saved (not their dtype-converted copies), so an in-place change to them is caught.
 */
function savedTensors(
  def: BinaryDef,
  a: Tensor | null,
  b: Tensor | null,
  y: Tensor,
  need: readonly [boolean, boolean],
): Tensor[] {
  const uses = def.uses;
  if (!uses) return [];
  const saved: Tensor[] = [];
  if (a !== null && saves(uses, "self", a, b, need)) saved.push(a);
  if (b !== null && saves(uses, "other", a, b, need)) saved.push(b);
  if (saves(uses, "result", a, b, need)) saved.push(y);
  return saved;
}

/** Whether the node saves the tensor `name` names (see `savedTensors`); loops, not closures (one per op). */
function saves(
  uses: NonNullable<BinaryDef["uses"]>,
  name: SavedName,
  a: Tensor | null,
  b: Tensor | null,
  need: readonly [boolean, boolean],
): boolean {
  // the derivatives that exist (a JS number operand has none) and read `name`
  let usedBy = 0;
  let reader = -1;
  for (let i = 0; i < 2; i++) {
    if ((i === 0 ? a : b) === null || !uses[i].includes(name)) continue;
    usedBy++;
    reader = i;
  }
  if (usedBy === 0) return false;
  const derivs = (a !== null ? 1 : 0) + (b !== null ? 1 : 0);
  return name === "result" || usedBy > 1 || derivs === 1 || need[reader];
}

/**
 * Integer division by zero is PyTorch's "ZeroDivisionError" (floor/trunc division, remainder, fmod on integer
 * tensors); JS would give NaN, stored as 0. `divisor` is the operand converted to the integer compute dtype.
 * Checked where the backend reads synchronously (on other devices the kernel's result stands).
 */
export function checkIntegerDivisor(what: string, divisor: Tensor): void {
  if (isFloat(divisor.dtype) || divisor.numel() === 0 || !divisor.backend.readSync) return;
  const zero = divisor.ndim === 0 ? divisor.item() === 0 : (divisor.eq(0).any().item() as boolean);
  if (zero) {
    throw new RangeError(
      `${what}: ZeroDivisionError: integer division by zero (the divisor, of dtype ${divisor.dtype}, has a 0); PyTorch raises here too. Divide floats (e.g. x.double()) to get inf/nan instead`,
    );
  }
}

/**
 * `where(cond, a, b)`: `out = cond ? a : b` with broadcasting over all three (WhereBackward0).
 * `where(cond)`: the indices of the nonzero elements of `cond`, one int32 tensor per dim (torch.where(condition),
 * which is `nonzero(cond, as_tuple=True)`; a 0-dim `cond` counts as 1-D).
 */
export function where(cond: Tensor): Tensor[];
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor;
export function where(cond: Tensor, a?: TensorOrScalar, b?: TensorOrScalar): Tensor | Tensor[] {
  if (a === undefined && b === undefined) {
    const idx = (cond.ndim === 0 ? cond.reshape(1) : cond).nonzero(); // [n, ndim]
    return Array.from({ length: idx.shape[1] }, (_, d) => idx.select(1, d).contiguous());
  }
  if (a === undefined || b === undefined) {
    throw new TypeError("where: expected where(condition) or where(condition, input, other)");
  }
  const like = typeof a === "object" ? a : typeof b === "object" ? b : cond;
  // two JS integers: the default integer of the condition's backend
  const dtype = intOn(computeDtype(a, b), like.backend);
  // devices first: a cast to the common dtype on the wrong device would fail with a dtype error instead
  sameDevice("where", cond, ...[a, b].filter((v): v is Tensor => typeof v === "object"));
  const ta = toTensor(a, dtype, like);
  const tb = toTensor(b, dtype, like);
  const c = cast(cond, "bool");
  sameDevice("where", c, ta, tb);
  const shape = broadcastShapes(broadcastShapes(c.shape, ta.shape, "where"), tb.shape, "where");
  let y: Tensor;
  if (fuses(like.backend, numel(shape)) && !isComplex(dtype)) {
    y = fused(like.backend, shape, dtype, "where", (p) =>
      p.node({ op: "where", cond: p.operand(c), a: p.operand(ta), b: p.operand(tb), dtype }),
    );
  } else {
    y = emptyTensor(shape, dtype, like.backend);
    like.backend.where(
      expandTo(c, shape, "where").view_,
      expandTo(ta, shape, "where").view_,
      expandTo(tb, shape, "where").view_,
      y.view_,
    );
  }
  const ga = typeof a === "object" ? a : null;
  const gb = typeof b === "object" ? b : null;
  if (!needsGrad(ga, gb)) return y;
  return recordOp({
    name: "WhereBackward0",
    inputs: [ga, gb],
    output: y,
    saved: [cond],
    backward: whereBackward(c),
  });
}

function whereBackward(c: Tensor) {
  return (g: Tensor) => [g.maskedFill(c.logicalNot(), 0), g.maskedFill(c, 0)];
}

/**
 * Run `compute` and write its result into `self` (the `op_` variants). Without autograd the kernel writes
 * straight into `self` when dtypes allow. With autograd, `self` is rebased onto the new node as PyTorch does.
 */
export function inplace(
  self: Tensor,
  others: readonly (Tensor | Scalar | null | undefined)[],
  compute: (src: Tensor, out?: Tensor) => Tensor,
  what: string,
): Tensor {
  const tensors = others.filter((o): o is Tensor => typeof o === "object" && o !== null);
  const tracking = needsGrad(self) || tensors.some((t) => needsGrad(t));
  if (tracking && self.isLeaf && self.requiresGrad) {
    throw new Error(`${what}: a leaf Variable that requires grad is being used in an in-place operation.`);
  }
  // under autograd the op reads a copy of self's old values (PyTorch's `original_self`): a node that saves its
  // input must not see it overwritten by the op's own write below
  const r = tracking ? compute(self.clone()) : compute(self, self);
  if (r !== self) {
    if (!sameShape(r.shape, self.shape)) {
      throw new ShapeError(
        `${what}: output with shape ${fmtShape(self.shape)} doesn't match the broadcast shape ${fmtShape(r.shape)}`,
      );
    }
    if (isFloat(r.dtype) && !isFloat(self.dtype)) {
      throw new DTypeError(
        `${what}: result type ${r.dtype} can't be cast to the desired output type ${self.dtype}`,
      );
    }
    const rv = r.view_;
    self.backend.copy(rv, self.writeView_);
  }
  self.bumpVersion();
  if (tracking) {
    self.gradFn = r.gradFn;
    self.requiresGrad = r.requiresGrad;
  }
  return self;
}
