import { fmtShape, IndexError, ShapeError } from "./errors";

/** A tensor shape: sizes of each dimension. */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for `[]`). */
export function numel(shape: Shape): number {
  // indexed loops over shapes: a tensor's shape is a `Size` (an Array subclass), on which V8 runs the iterating
  // builtins (for-of, every, includes) through their slower generic paths
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Row-major strides of a shape, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** PyTorch's is_contiguous: size-1 dims may have any stride; empty tensors are contiguous. */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  for (let i = 0; i < shape.length; i++) if (shape[i] === 0) return true;
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** Whether two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Wrap a possibly negative dim into [0, rank); `what` names the op in the error. */
export function normDim(dim: number, rank: number, what = "dim"): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new IndexError(
      `${what}: dimension out of range (expected to be in range of [${-r}, ${r - 1}], but got ${dim})`,
    );
  }
  return dim < 0 ? dim + r : dim;
}

/**
 * Normalises dims (negative counts from the end) against `rank` and sorts them; throws an IndexError for one
 * out of range and a ShapeError for a repeated one.
 */
export function normDims(dims: number | readonly number[], rank: number, what = "dim"): number[] {
  const list = typeof dims === "number" ? [dims] : dims;
  const out = list.map((d) => normDim(d, rank, what));
  const sorted = [...new Set(out)].sort((a, b) => a - b);
  if (sorted.length !== out.length)
    throw new ShapeError(`${what}: dim ${list.join(", ")} appears multiple times`);
  return sorted;
}

/**
 * The broadcast shape of two shapes (`torch.broadcast_shapes`); throws a ShapeError naming both when they do
 * not broadcast.
 */
export function broadcastShapes(a: Shape, b: Shape, what = "operation"): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${what}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together ` +
          `(the size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that view a tensor of (shape, strides) as `target` by broadcasting (stride 0 on expanded dims). */
export function broadcastStrides(
  shape: Shape,
  strides: readonly number[],
  target: Shape,
  what = "expand",
): number[] {
  const n = target.length;
  if (shape.length > n) {
    throw new ShapeError(
      `${what}: cannot expand shape ${fmtShape(shape)} to fewer dimensions ${fmtShape(target)}`,
    );
  }
  const out = new Array<number>(n).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const j = i + n - shape.length;
    if (shape[i] === target[j]) out[j] = strides[i];
    else if (shape[i] === 1) out[j] = 0;
    else {
      throw new ShapeError(
        `${what}: the expanded size of the tensor (${target[j]}) must match the existing size (${shape[i]}) at ` +
          `non-singleton dimension ${j}. Target sizes: ${fmtShape(target)}. Tensor sizes: ${fmtShape(shape)}`,
      );
    }
  }
  return out;
}

/** Resolve one -1 in a requested shape; check the element count. */
export function inferShape(requested: Shape, count: number, what = "reshape"): number[] {
  let infer = -1;
  let known = 1;
  for (let i = 0; i < requested.length; i++) {
    const d = requested[i];
    if (d === -1) {
      if (infer >= 0)
        throw new ShapeError(`${what}: only one dimension can be inferred, got ${fmtShape(requested)}`);
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${what}: invalid shape dimension ${d} in ${fmtShape(requested)}`);
    } else known *= d;
  }
  const out = [...requested];
  if (infer >= 0) {
    if (known === 0 || count % known !== 0) {
      throw new ShapeError(`${what}: shape ${fmtShape(requested)} is invalid for input of size ${count}`);
    }
    out[infer] = count / known;
  } else if (known !== count) {
    throw new ShapeError(`${what}: shape ${fmtShape(requested)} is invalid for input of size ${count}`);
  }
  return out;
}

/**
 * Strides for viewing (shape, strides) as `newShape` without copying, or null when impossible
 * (PyTorch's computeStride: each run of merged dims must be contiguous within itself).
 */
export function viewStrides(shape: Shape, strides: readonly number[], newShape: Shape): number[] | null {
  const n = numel(shape);
  if (n <= 1) return contiguousStrides(newShape);
  const newStrides = new Array<number>(newShape.length).fill(0);
  let viewD = newShape.length - 1;
  let chunkBaseStride = strides.length ? strides[strides.length - 1] : 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let tensorD = shape.length - 1; tensorD >= 0; tensorD--) {
    tensorNumel *= shape[tensorD];
    if (
      tensorD === 0 ||
      (shape[tensorD - 1] !== 1 && strides[tensorD - 1] !== tensorNumel * chunkBaseStride)
    ) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBaseStride;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (tensorD > 0) {
        chunkBaseStride = strides[tensorD - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}

/** Returns the shape when every size is a non-negative integer, else throws a ShapeError naming `what`. */
export function checkShape(shape: readonly unknown[], what: string): number[] {
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${what}: expected a shape of non-negative integers, got [${shape.join(", ")}]`);
    }
  }
  return shape as number[];
}
