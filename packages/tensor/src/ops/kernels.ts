/**
 * Kernel-level helpers: run one backend primitive on tensors, allocate outputs, never record autograd.
 * The user-level ops (elementwise.ts, reduce.ts, ...) are built from these and record their derivative.
 */
import type { BinaryOp, UnaryOp } from "../backend";
import type { DType } from "../dtype";
import { DeviceError, fmtShape } from "../errors";
import { broadcastShapes, broadcastStrides, isContiguous, sameShape } from "../shape";
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

export function empty(shape: readonly number[], dtype: DType, like: Tensor): Tensor {
  return emptyTensor(shape, dtype, like.backend);
}

/** A view of `t` broadcast to `shape` (no copy). */
export function expandTo(t: Tensor, shape: readonly number[], what: string): Tensor {
  if (sameShape(t.shape, shape)) return t;
  return new Tensor(t.storage, shape, broadcastStrides(t.shape, t.strides, shape, what), t.offset);
}

/** Copy with conversion (a no-op returning `t` when the dtype already matches). */
export function cast(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t;
  const out = empty(t.shape, dtype, t);
  t.backend.copy(t.view_, out.view_);
  return out;
}

/** `t` itself when contiguous, else a contiguous copy. */
export function contiguous(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  return copyOf(t);
}

export function copyOf(t: Tensor): Tensor {
  const out = empty(t.shape, t.dtype, t);
  t.backend.copy(t.view_, out.view_);
  return out;
}

export function runUnary(op: UnaryOp, x: Tensor, outDtype: DType): Tensor {
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
  const out = empty(shape, outDtype, a);
  a.backend.binary(op, expandTo(a, shape, op).view_, expandTo(b, shape, op).view_, out.view_);
  return out;
}

/** Write `src` (broadcast) into the view `dst` in place, converting dtype. */
export function copyInto(dst: Tensor, src: Tensor): void {
  sameDevice("copy_", dst, src);
  const s = expandTo(src, dst.shape, "copy_");
  dst.backend.copy(s.view_, dst.view_);
  dst.bumpVersion();
}

export function isDense(t: Tensor): boolean {
  return t.offset === 0 && isContiguous(t.shape, t.strides) && t.storage.length === t.numel();
}

export { fmtShape };
