/**
 * `x.view(dtype)`: the elements' bytes read as another dtype, with PyTorch's rules and errors. Same element size:
 * any shape and layout, the shape is kept. Different sizes: the last dimension scales by the ratio of the sizes, and
 * PyTorch requires a dimensioned tensor whose last stride is 1 and, when the new element is larger, a last size, an
 * offset and the other strides divisible by the ratio.
 *
 * Deviation: PyTorch returns a view sharing memory; Cinder returns the reinterpreted bytes in a new tensor (storages
 * have one dtype), so a later in-place write to one is not seen in the other. The result does not require grad.
 * Bool results hold 0/1 (a nonzero byte is true, as PyTorch prints it). int64 goes through its two's-complement
 * bytes; bits that read as an int64 beyond ±(2^53 - 1) (most float64 patterns) are an error naming the value.
 */
import { DTYPE_INFO, type DType, itemSize } from "../dtype";
import { DeviceError, ShapeError } from "../errors";
import { fromBigInt64Array } from "../int64";
import { type Tensor, tensorFromData } from "../tensor";

/** The new shape of `x.view(dtype)` for a dtype of a different size, or the error PyTorch raises. */
function viewShape(x: Tensor, dtype: DType): number[] {
  const from = itemSize(x.dtype);
  const to = itemSize(dtype);
  if (from === to) return [...x.shape];
  const why = `to view ${DTYPE_INFO[x.dtype].torch} as ${DTYPE_INFO[dtype].torch} (different element sizes)`;
  const last = x.ndim - 1;
  if (last < 0) throw new ShapeError(`view(): self.dim() cannot be 0 ${why}`);
  if (x.strides[last] !== 1) {
    throw new ShapeError(`view(): self.stride(-1) must be 1 ${why}, but got ${x.strides[last]}`);
  }
  const shape = [...x.shape];
  if (to > from) {
    const r = to / from;
    if (x.shape[last] % r !== 0) {
      throw new ShapeError(
        `view(): self.size(-1) must be divisible by ${r} ${why}, but got ${x.shape[last]}`,
      );
    }
    if (x.offset % r !== 0) {
      throw new ShapeError(
        `view(): self.storage_offset() must be divisible by ${r} ${why}, but got ${x.offset}`,
      );
    }
    for (let i = 0; i < last; i++) {
      if (x.strides[i] % r !== 0) {
        throw new ShapeError(
          `view(): self.stride(${i}) must be divisible by ${r} ${why}, but got ${x.strides[i]}`,
        );
      }
    }
    shape[last] /= r;
  } else {
    shape[last] *= from / to;
  }
  return shape;
}

/** `x.view(dtype)` for a dtype other than x's (see the module comment). */
export function viewAsDtype(x: Tensor, dtype: DType): Tensor {
  const shape = viewShape(x, dtype);
  if (!x.backend.readSync) {
    throw new DeviceError(
      `view(): reinterpreting a ${x.device} tensor's bytes as ${dtype} needs its data on the host: move it with \`await t.toAsync("cpu")\` first`,
    );
  }
  const data = x.contiguous().data();
  // int64 is stored as exact doubles: its bytes are those of the BigInt64Array of its values, and bytes read as
  // int64 become numbers with a range check (a value past 2^53 - 1 is an error naming it, not a rounded number)
  const src = x.dtype === "int64" ? BigInt64Array.from(data, (v) => BigInt(v)) : data;
  const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength).slice();
  const out =
    dtype === "int64"
      ? fromBigInt64Array(new BigInt64Array(bytes.buffer), "view()")
      : new DTYPE_INFO[dtype].ctor(bytes.buffer);
  if (dtype === "bool") for (let i = 0; i < out.length; i++) out[i] = out[i] !== 0 ? 1 : 0;
  return tensorFromData(out, shape, dtype, x.device, "view()");
}
