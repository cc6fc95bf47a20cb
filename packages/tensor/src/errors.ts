/** Errors say what was expected and what was given (shapes, dtypes, devices). */
export class ShapeError extends Error {
  override name = "ShapeError";
}
/** A dtype that an op does not accept, or dtypes that do not go together. */
export class DTypeError extends TypeError {
  override name = "DTypeError";
}
/** A device that is not registered or not available, or tensors on different devices in one op. */
export class DeviceError extends Error {
  override name = "DeviceError";
}
/** An index out of range (PyTorch's IndexError). */
export class IndexError extends RangeError {
  override name = "IndexError";
}
/** A tensor too large to allocate (PyTorch: "DefaultCPUAllocator: can't allocate memory"). */
export class AllocationError extends Error {
  override name = "AllocationError";
}

/** A shape for messages: `[2, 3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
