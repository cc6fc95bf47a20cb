/** Errors say what was expected and what was given (shapes, dtypes, devices). */
export class ShapeError extends Error {
  override name = "ShapeError";
}
export class DTypeError extends TypeError {
  override name = "DTypeError";
}
export class DeviceError extends Error {
  override name = "DeviceError";
}
export class IndexError extends RangeError {
  override name = "IndexError";
}
/** A tensor too large to allocate (PyTorch: "DefaultCPUAllocator: can't allocate memory"). */
export class AllocationError extends Error {
  override name = "AllocationError";
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
