/**
 * Complex tensors (complex64, complex128): the elementwise ops routed here from the op table, and the ops that
 * make and take apart complex tensors. Storage holds (re, im) pairs, two words of the part dtype per element
 * (see ARCHITECTURE.md); a backend that lists complex dtypes takes complex views in copy, fill, where, gather,
 * scatter, reduce (sum, prod), matmul, and the unary/binary ops named in `COMPLEX_UNARY_OPS`/`COMPLEX_BINARY_OPS`.
 * Complex ops never fuse (a fused program is one word per element) and never record autograd: a complex tensor
 * cannot require grad, and a real one that does cannot enter a complex op (`complexGradError`).
 */
import type { BinaryOp, UnaryOp } from "../backend";
import type { DType } from "../dtype";
import { complexDtype, DTYPE_INFO, isComplex, isFloat, realDtype } from "../dtype";
import { DTypeError, ShapeError } from "../errors";
import { needsGrad } from "../grad";
import { broadcastShapes } from "../shape";
import { arg, k, op, self, signature } from "../signature";
import { aliasStorage } from "../storage";
import { complexGradError, emptyTensor, Tensor } from "../tensor";
import { computeDtype, type TensorOrScalar } from "./elementwise";
import { writeOut } from "./elementwise-signatures";
import { cast, expandTo, sameDevice } from "./kernels";

/** The unary ops with complex inputs (abs gives the real magnitude; isnan/isinf give bool). */
export const COMPLEX_UNARY_OPS: readonly UnaryOp[] = [
  "neg",
  "exp",
  "log",
  "log2",
  "log10",
  "sqrt",
  "rsqrt",
  "sin",
  "cos",
  "tan",
  "sinh",
  "cosh",
  "tanh",
  "sigmoid",
  "reciprocal",
  "square",
  "abs",
  "isnan",
  "isinf",
];

/** The binary ops with complex operands (eq/ne give bool). */
export const COMPLEX_BINARY_OPS: readonly BinaryOp[] = ["add", "sub", "mul", "div", "pow", "eq", "ne"];

/** Whether `v` is a tensor of a complex dtype (one check per op call on the real paths). */
export function isComplexTensor(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  const d = (v as { dtype?: unknown }).dtype;
  return d === "complex64" || d === "complex128";
}

/** PyTorch's refusal of an op it does not define for complex numbers (ordering, rounding, relu, ...). */
export function complexUnsupported(what: string, dtype: DType): DTypeError {
  return new DTypeError(
    `${what}: not supported for complex tensors (got ${dtype}): complex numbers have no order or rounding`,
  );
}

/** A unary op on a complex tensor (from `elementwise.ts`). */
export function complexUnary(opName: UnaryOp, x: Tensor, out?: Tensor): Tensor {
  if (!COMPLEX_UNARY_OPS.includes(opName)) throw complexUnsupported(opName, x.dtype);
  if (needsGrad(x)) throw complexGradError(opName);
  const dtype =
    opName === "abs" ? realDtype(x.dtype) : opName === "isnan" || opName === "isinf" ? "bool" : x.dtype;
  const y = emptyTensor(x.shape, dtype, x.backend, opName);
  x.backend.unary(opName, x.view_, y.view_);
  return out ? writeOut(opName, y, out, [x]) : y;
}

/** An operand of a complex op as a tensor of `dtype` (a JS number as a 0-dim tensor filled with it). */
function complexOperand(v: TensorOrScalar, dtype: DType, like: Tensor): Tensor {
  if (typeof v === "object") return cast(v, dtype);
  const t = emptyTensor([], dtype, like.backend);
  if (+v !== 0) t.backend.fill(t.view_, +v);
  return t;
}

/** A binary op with a complex operand (from `elementwise.ts`): promoted to one complex dtype, broadcast. */
export function complexBinary(opName: BinaryOp, a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  const like = (typeof a === "object" ? a : b) as Tensor;
  if (!COMPLEX_BINARY_OPS.includes(opName)) {
    throw complexUnsupported(opName, isComplexTensor(a) ? (a as Tensor).dtype : like.dtype);
  }
  if (needsGrad(typeof a === "object" ? a : null, typeof b === "object" ? b : null)) {
    throw complexGradError(opName);
  }
  const dtype = computeDtype(a, b);
  const ta = complexOperand(a, dtype, like);
  const tb = complexOperand(b, dtype, like);
  sameDevice(opName, ta, tb);
  const shape = broadcastShapes(ta.shape, tb.shape, opName);
  const y = emptyTensor(shape, opName === "eq" || opName === "ne" ? "bool" : dtype, like.backend, opName);
  like.backend.binary(opName, expandTo(ta, shape, opName).view_, expandTo(tb, shape, opName).view_, y.view_);
  if (!out) return y;
  if (isComplex(y.dtype) && !isComplex(out.dtype)) {
    throw new DTypeError(
      `${opName}: result type ${y.dtype} can't be cast to the desired output type ${out.dtype}`,
    );
  }
  return writeOut(opName, y, out, [a, b]);
}

const outOpt = arg.opt("out", k.tensor);
const fn = { forms: ["function"] as const };
const method = { forms: ["method"] as const };

// ---- views: real and imaginary parts ----

/** `torch.view_as_real(input)`: a complex tensor's (re, im) pairs as a real view with a last dimension of 2. */
export const viewAsReal = op(
  signature("viewAsReal", [self], [], fn),
  ({ input }): Tensor => viewAsRealImpl(input),
);

function viewAsRealImpl(z: Tensor): Tensor {
  if (!isComplex(z.dtype)) {
    throw new DTypeError(`view_as_real is only supported for complex tensors, got ${z.dtype}`);
  }
  if (needsGrad(z)) throw complexGradError("view_as_real");
  const storage = aliasStorage(z.storage, realDtype(z.dtype), 2 * z.storage.length);
  return new Tensor(storage, [...z.shape, 2], [...z.strides.map((s) => 2 * s), 1], 2 * z.offset);
}

/** `torch.view_as_complex(input)`: a float tensor with a last dimension of 2 (stride 1) seen as complex pairs. */
export const viewAsComplex = op(
  signature("viewAsComplex", [self], [], fn),
  ({ input }): Tensor => viewAsComplexImpl(input),
);

function viewAsComplexImpl(r: Tensor): Tensor {
  if (!isFloat(r.dtype)) {
    throw new DTypeError(
      `view_as_complex is only supported for float and double tensors, but got a tensor of scalar type: ${DTYPE_INFO[r.dtype].torch}`,
    );
  }
  if (needsGrad(r)) throw complexGradError("view_as_complex");
  const last = r.ndim - 1;
  if (last < 0) throw new ShapeError("view_as_complex: Input tensor must have one or more dimensions");
  if (r.shape[last] !== 2) {
    throw new ShapeError(
      `view_as_complex: Tensor must have a last dimension of size 2, got ${r.shape[last]}`,
    );
  }
  if (r.strides[last] !== 1)
    throw new ShapeError("view_as_complex: Tensor must have a last dimension with stride 1");
  if (r.strides.slice(0, last).some((s) => s % 2 !== 0)) {
    throw new ShapeError(
      "view_as_complex: Tensor must have a stride divisible by 2 for all but last dimension",
    );
  }
  if (r.offset % 2 !== 0)
    throw new ShapeError("view_as_complex: Tensor must have a storage_offset divisible by 2");
  const storage = aliasStorage(r.storage, complexDtype(r.dtype), Math.floor(r.storage.length / 2));
  return new Tensor(
    storage,
    r.shape.slice(0, last),
    r.strides.slice(0, last).map((s) => s / 2),
    r.offset / 2,
  );
}

/** `x.real` / `torch.real(x)`: the real parts as a view (a real tensor is its own real part, as in PyTorch). */
export function realPart(x: Tensor): Tensor {
  return isComplex(x.dtype) ? viewAsRealImpl(x).select(-1, 0) : x;
}

/** `x.imag` / `torch.imag(x)`: the imaginary parts as a view; an error for real tensors, as in PyTorch. */
export function imagPart(x: Tensor): Tensor {
  if (!isComplex(x.dtype))
    throw new DTypeError("imag is not implemented for tensors with non-complex dtypes.");
  return viewAsRealImpl(x).select(-1, 1);
}

/** `torch.real(input)` */
export const real = op(signature("real", [self], [], fn), ({ input }): Tensor => realPart(input));
/** `torch.imag(input)` */
export const imag = op(signature("imag", [self], [], fn), ({ input }): Tensor => imagPart(input));

/** `torch.is_complex(input)` / `x.isComplex()`: whether the dtype is complex64 or complex128. */
export const isComplexOp = op(signature("isComplex", [self]), ({ input }): boolean => isComplex(input.dtype));

// ---- making complex tensors ----

/** Real and imaginary parts (broadcast, both float32 or both float64) into a new complex tensor. */
function fromParts(re: Tensor, im: Tensor, what: string): Tensor {
  if (!isFloat(re.dtype) || !isFloat(im.dtype)) {
    throw new DTypeError(
      `${what}: Expected both inputs to be Half, Float or Double tensors but got ${DTYPE_INFO[re.dtype].torch} and ${DTYPE_INFO[im.dtype].torch}`,
    );
  }
  if (re.dtype !== im.dtype) {
    throw new DTypeError(
      `${what}: Expected object of scalar type ${DTYPE_INFO[re.dtype].torch} but got scalar type ${DTYPE_INFO[im.dtype].torch} for second argument`,
    );
  }
  if (needsGrad(re, im)) throw complexGradError(what);
  sameDevice(what, re, im);
  const shape = broadcastShapes(re.shape, im.shape, what);
  const z = emptyTensor(shape, complexDtype(re.dtype), re.backend, what);
  const pairs = viewAsRealImpl(z);
  const b = z.backend;
  b.copy(expandTo(re, shape, what).view_, pairs.select(-1, 0).view_);
  b.copy(expandTo(im, shape, what).view_, pairs.select(-1, 1).view_);
  return z;
}

/** `torch.complex(real, imag, *, out=None)`: a complex tensor from its parts. */
export const complex = op(
  signature("complex", [arg("real", k.tensor), arg("imag", k.tensor)], [outOpt], fn),
  ({ real, imag, out }): Tensor => {
    const z = fromParts(real, imag, "complex");
    return out ? writeOut("complex", z, out, [real, imag]) : z;
  },
);

/** `torch.polar(abs, angle, *, out=None)`: `abs * (cos(angle) + i sin(angle))`. */
export const polar = op(
  signature("polar", [arg("abs", k.tensor), arg("angle", k.tensor)], [outOpt], fn),
  ({ abs, angle, out }): Tensor => {
    if (isFloat(abs.dtype) && abs.dtype === angle.dtype && !needsGrad(abs, angle)) {
      const z = fromParts(abs.mul(angle.cos()), abs.mul(angle.sin()), "polar");
      return out ? writeOut("polar", z, out, [abs, angle]) : z;
    }
    return fromParts(abs, angle, "polar"); // the same errors as complex()
  },
);

// ---- conjugates, angles, adjoints ----

/** The complex conjugate's values (a real tensor itself): `conj`, `adjoint`, `vdot`, `x.mH`. */
export function conjImpl(x: Tensor): Tensor {
  if (!isComplex(x.dtype)) return x;
  return fromParts(realPart(x), imagPart(x).neg(), "conj");
}

/** `torch.conj(input)` / `x.conj()`: the complex conjugate (values; a real tensor is returned as is). */
export const conj = op(signature("conj", [self]), ({ input }): Tensor => conjImpl(input));
/** `x.conj_physical()` */
export const conjPhysicalMethod = op(
  signature("conjPhysical", [self], [], method),
  ({ input }): Tensor => (isComplex(input.dtype) ? conjImpl(input) : input.clone()),
);
/** `torch.conj_physical(input, *, out=None)`: the conjugate (Cinder's `conj` already computes it). */
export const conjPhysical = op(signature("conjPhysical", [self], [outOpt], fn), ({ input, out }): Tensor => {
  const y = isComplex(input.dtype) ? conjImpl(input) : input.clone();
  return out ? writeOut("conj_physical", y, out, [input]) : y;
});
/** `x.resolve_conj()`: Cinder's conjugates are values already: the tensor itself. */
export const resolveConj = op(signature("resolveConj", [self]), ({ input }): Tensor => input);
/** `x.is_conj()`: always false (Cinder has no lazy conjugate bit). */
export const isConj = op(signature("isConj", [self]), (): boolean => false);

/** `x.angle()` */
export const angleMethod = op(
  signature("angle", [self], [], method),
  ({ input }): Tensor => angleImpl(input),
);
/** `torch.angle(input, *, out=None)`: the argument atan2(im, re); for real input 0, pi for negatives, NaN for NaN. */
export const angle = op(signature("angle", [self], [outOpt], fn), ({ input, out }): Tensor => {
  const y = angleImpl(input);
  return out ? writeOut("angle", y, out, [input]) : y;
});

function angleImpl(input: Tensor): Tensor {
  let y: Tensor;
  if (isComplex(input.dtype)) y = imagPart(input).atan2(realPart(input));
  else {
    // PyTorch's angle of a real number: pi where negative, 0 elsewhere, NaN kept
    const x = isFloat(input.dtype) ? input : input.float();
    y = x.lt(0).mul(Math.PI).to(x.dtype).add(x.mul(0));
  }
  return y;
}
