/**
 * `resultType`'s shortcut for operands of one dtype (the common `a.add(b)`) and its allocation-free loop, against the
 * rule written out as before: every combination of up to three operands of each dtype and kind.
 */
import { describe, expect, it } from "vitest";
import {
  complexDtype,
  DTYPES,
  type DType,
  isComplex,
  isFloat,
  type PromotionOperand,
  promoteTypes,
  resultType,
} from "../src/dtype";

/** The rule as written before the shortcut (torch.result_type's three priority classes). */
function reference(ops: readonly PromotionOperand[]): DType {
  const by: Record<PromotionOperand["kind"], DType | undefined> = {
    tensor: undefined,
    "scalar-tensor": undefined,
    number: undefined,
  };
  for (const o of ops) {
    const d =
      o.kind === "number" && isFloat(o.dtype)
        ? "float32"
        : o.kind === "number" && isComplex(o.dtype)
          ? "complex64"
          : o.dtype;
    const cur = by[o.kind];
    by[o.kind] = cur === undefined ? d : promoteTypes(cur, d);
  }
  const combine = (higher: DType | undefined, lower: DType | undefined): DType | undefined => {
    if (higher === undefined) return lower;
    // PyTorch's combine_categories: a lower-class complex operand keeps a float's width
    if (lower === undefined || isComplex(higher)) return higher;
    if (isComplex(lower)) return isFloat(higher) ? complexDtype(higher) : lower;
    if (isFloat(higher)) return higher;
    if (higher === "bool" || isFloat(lower)) return promoteTypes(higher, lower);
    return higher;
  };
  return combine(by.tensor, combine(by["scalar-tensor"], by.number)) ?? "float32";
}

const KINDS: PromotionOperand["kind"][] = ["tensor", "scalar-tensor", "number"];
const OPERANDS: PromotionOperand[] = DTYPES.flatMap((dtype) => KINDS.map((kind) => ({ dtype, kind })));

describe("resultType", () => {
  it("equals the written-out rule for every combination of up to three operands", () => {
    expect(resultType([])).toBe(reference([]));
    let n = 0;
    for (const a of OPERANDS) {
      expect(resultType([a])).toBe(reference([a]));
      for (const b of OPERANDS) {
        expect(resultType([a, b]), `${JSON.stringify([a, b])}`).toBe(reference([a, b]));
        for (const c of OPERANDS) {
          expect(resultType([a, b, c])).toBe(reference([a, b, c]));
          n++;
        }
      }
    }
    expect(n).toBe(OPERANDS.length ** 3);
  });

  it("operands of one dtype give that dtype, except a float64 JS number (which counts as float32)", () => {
    for (const dtype of DTYPES) {
      expect(
        resultType([
          { dtype, kind: "tensor" },
          { dtype, kind: "tensor" },
        ]),
      ).toBe(dtype);
      expect(
        resultType([
          { dtype, kind: "tensor" },
          { dtype, kind: "scalar-tensor" },
        ]),
      ).toBe(dtype);
    }
    expect(resultType([{ dtype: "float64", kind: "number" }])).toBe("float32");
    expect(
      resultType([
        { dtype: "float64", kind: "number" },
        { dtype: "float64", kind: "number" },
      ]),
    ).toBe("float32");
  });
});
