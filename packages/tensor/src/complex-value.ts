/**
 * A complex number as Cinder's JS API takes and returns it: `{ re, im }` (`item()` and `tolist()` of a complex
 * tensor, elements of `tensor([...], { dtype: "complex64" })`). JS has no complex number type, so this plain object
 * stands in for Python's `complex`.
 */
export interface Complex {
  re: number;
  im: number;
}

/** Whether `v` is a `{ re, im }` complex number (exactly those two number-valued keys). */
export function isComplexValue(v: unknown): v is Complex {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.re === "number" && typeof o.im === "number" && Object.keys(o).length === 2;
}
