/**
 * Kernel-level helpers: run one backend primitive on tensors, allocate outputs, never record autograd.
 * The user-level ops (elementwise.ts, reduce.ts, ...) are built from these and record their derivative.
 */
import type { Backend, BinaryOp, Expr, UnaryOp } from "../backend";
import type { DType } from "../dtype";
import { checkAllocation, isComplex } from "../dtype";
import { DeviceError, fmtShape } from "../errors";
import { fuses, ProgramBuilder } from "../fusion";
import { broadcastShapes, broadcastStrides, isContiguous, numel, sameShape } from "../shape";
import { Storage } from "../storage";
import { emptyTensor, Tensor } from "../tensor";

export function sameDevice(what: string, ...ts: Tensor[]): void {
  const b = ts[0].backend;
  for (const t of ts) {
    if (t.backend !== b) {
      throw new DeviceError(
        `${what}: expected all tensors to be on the same device, but found tensors on ${ts[0].device} and ${t.device} ` +
          `(move one with .to("${ts[0].device}") or .to("${t.device}"))`,
      );
    }
  }
}

/** A zero-filled tensor on `like`'s device. */
export function empty(shape: readonly number[], dtype: DType, like: Tensor): Tensor {
  return emptyTensor(shape, dtype, like.backend);
}

/**
 * A tensor for a kernel's output that the kernel writes whole (a copy, a product with a non-empty inner dimension):
 * its contents before the kernel are never read, so a recycled buffer is not cleared first (buffer-pool.ts).
 */
export function output(shape: readonly number[], dtype: DType, like: Tensor): Tensor {
  return emptyTensor(shape, dtype, like.backend, "", false);
}

/** A view of `t` broadcast to `shape` (no copy). */
export function expandTo(t: Tensor, shape: readonly number[], what: string): Tensor {
  if (sameShape(t.shape, shape)) return t;
  return new Tensor(t.storage, shape, broadcastStrides(t.shape, t.strides, shape, what), t.offset);
}

/**
 * A pending result (fusion.ts): `build` makes the program's expression from a builder over `shape`; the tensor's
 * storage runs it at its first use. The allocation is checked now, so a size error names the op that asked for it.
 */
export function fused(
  b: Backend,
  shape: readonly number[],
  dtype: DType,
  what: string,
  build: (p: ProgramBuilder) => Expr,
): Tensor {
  const n = numel(shape);
  checkAllocation(n, dtype, what, shape);
  const pb = new ProgramBuilder(shape);
  const expr = build(pb);
  const storage = Storage.pending(b, dtype, n, pb.finish(expr));
  const t = new Tensor(storage, shape);
  if (pb.eager) void storage.handle;
  return t;
}

/** Copy with conversion (a no-op returning `t` when the dtype already matches). */
export function cast(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t;
  // complex storage is two words per element: never in a fused program (the backend's copy converts it)
  const complex = isComplex(t.dtype) || isComplex(dtype);
  // (to bool is "either part nonzero": nothing is discarded)
  if (complex && isComplex(t.dtype) && !isComplex(dtype) && dtype !== "bool") warnDiscardImag();
  if (!complex && fuses(t.backend, t.numel())) {
    return fused(t.backend, t.shape, dtype, "cast", (p) => p.node({ op: "cast", x: p.operand(t), dtype }));
  }
  const out = output(t.shape, dtype, t);
  t.backend.copy(t.view_, out.view_);
  return out;
}

let warnedImag = false;
/** PyTorch 1.13's UserWarning for a complex to real cast, given once per process (as Python shows it once). */
function warnDiscardImag(): void {
  if (warnedImag) return;
  warnedImag = true;
  console.warn("UserWarning: Casting complex values to real discards the imaginary part");
}

/** `t` itself when contiguous, else a contiguous copy. */
export function contiguous(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  return copyOf(t);
}

export function copyOf(t: Tensor): Tensor {
  const out = output(t.shape, t.dtype, t);
  t.backend.copy(t.view_, out.view_);
  return out;
}

export function runUnary(op: UnaryOp, x: Tensor, outDtype: DType): Tensor {
  if (fuses(x.backend, x.numel())) {
    return fused(x.backend, x.shape, outDtype, op, (p) =>
      p.node({ op: "unary", fn: op, x: p.operand(x), dtype: outDtype }),
    );
  }
  const out = empty(x.shape, outDtype, x);
  x.backend.unary(op, x.view_, out.view_);
  return out;
}

/** Broadcast, then run a binary primitive; `a` and `b` must already share the compute dtype. */
export function runBinary(op: BinaryOp, a: Tensor, b: Tensor, outDtype: DType): Tensor {
  sameDevice(op, a, b);
  let shape: readonly number[] = broadcastShapes(a.shape, b.shape, op);
  // the result's shape is usually an operand's: pass that Size on (no new shape object per result)
  if (sameShape(shape, a.shape)) shape = a.shape;
  else if (sameShape(shape, b.shape)) shape = b.shape;
  if (fuses(a.backend, numel(shape))) {
    return fused(a.backend, shape, outDtype, op, (p) =>
      p.node({ op: "binary", fn: op, a: p.operand(a), b: p.operand(b), dtype: outDtype }),
    );
  }
  const out = empty(shape, outDtype, a);
  a.backend.binary(op, expandTo(a, shape, op).view_, expandTo(b, shape, op).view_, out.view_);
  return out;
}

/** Write `src` (broadcast) into the view `dst` in place, converting dtype. */
export function copyInto(dst: Tensor, src: Tensor): void {
  sameDevice("copy_", dst, src);
  const s = expandTo(src, dst.shape, "copy_");
  const sv = s.view_;
  dst.backend.copy(sv, dst.writeView_);
  dst.bumpVersion();
}

export function isDense(t: Tensor): boolean {
  return t.offset === 0 && isContiguous(t.shape, t.strides) && t.storage.length === t.numel();
}

export { fmtShape };
