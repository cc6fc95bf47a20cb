/**
 * Dtype logic of the core, no backend needed: PyTorch's promotion table (torch.promote_types) and
 * torch.result_type for dimensioned tensors, 0-dim tensors and JS numbers, checked against fixtures from
 * real PyTorch (fixtures/core.json, written by fixtures/core_fixtures.py; PyTorch's int64 is Cinder's int32).
 */
import { readFileSync } from "node:fs";
import {
  checkDType,
  DTYPES,
  type DType,
  dtypeOfNumber,
  dtypeOfTypedArray,
  isFloat,
  isInt,
  itemSize,
  type PromotionOperand,
  promoteTypes,
  resultType,
} from "@cinder/tensor";
import { describe, expect, it } from "vitest";

interface Operand {
  kind: PromotionOperand["kind"];
  dtype: DType;
  value?: number | boolean;
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/core.json", import.meta.url), "utf8")) as {
  torch: string;
  promote_types: { a: DType; b: DType; result: DType }[];
  result_type: { a: Operand; b: Operand; result: DType }[];
};

describe("promoteTypes matches torch.promote_types", () => {
  it("covers every pair of dtypes", () => {
    expect(fixture.promote_types).toHaveLength(DTYPES.length ** 2);
  });
  it.each(fixture.promote_types.map((c) => [c.a, c.b, c.result] as const))(
    "%s with %s is %s",
    (a, b, result) => {
      expect(promoteTypes(a, b)).toBe(result);
    },
  );
  it("is symmetric and idempotent", () => {
    for (const a of DTYPES) {
      expect(promoteTypes(a, a)).toBe(a);
      for (const b of DTYPES) expect(promoteTypes(a, b)).toBe(promoteTypes(b, a));
    }
  });
});

/** The operand as the core describes it: a JS number's dtype comes from its value. */
function operand(o: Operand): PromotionOperand {
  if (o.kind === "number") return { kind: "number", dtype: dtypeOfNumber(o.value as number | boolean) };
  return { kind: o.kind, dtype: o.dtype };
}

function describeOperand(o: Operand): string {
  return o.kind === "number" ? `number ${JSON.stringify(o.value)}` : `${o.kind} ${o.dtype}`;
}

describe("resultType matches torch.result_type", () => {
  it.each(fixture.result_type.map((c) => [describeOperand(c.a), describeOperand(c.b), c.result, c] as const))(
    "%s with %s is %s",
    (_a, _b, result, c) => {
      expect(resultType([operand(c.a), operand(c.b)])).toBe(result);
      expect(resultType([operand(c.b), operand(c.a)])).toBe(result);
    },
  );

  it("spot checks of the rules", () => {
    const t = (dtype: DType): PromotionOperand => ({ kind: "tensor", dtype });
    const s = (dtype: DType): PromotionOperand => ({ kind: "scalar-tensor", dtype });
    const n = (v: number | boolean): PromotionOperand => ({ kind: "number", dtype: dtypeOfNumber(v) });
    // dimensioned tensors dominate 0-dim tensors of the same category
    expect(resultType([t("float32"), s("float64")])).toBe("float32");
    expect(resultType([t("uint8"), s("int32")])).toBe("uint8");
    // ... but a higher category wins
    expect(resultType([t("int32"), s("float64")])).toBe("float64");
    expect(resultType([t("bool"), s("uint8")])).toBe("uint8");
    // JS numbers: integers keep an integer tensor's dtype, floats give the default float dtype
    expect(resultType([t("uint8"), n(1000)])).toBe("uint8");
    expect(resultType([t("int32"), n(0.5)])).toBe("float32");
    expect(resultType([t("float64"), n(0.5)])).toBe("float64");
    expect(resultType([t("bool"), n(true)])).toBe("bool");
    expect(resultType([t("bool"), n(2)])).toBe("int64");
    expect(resultType([s("float64"), n(0.5)])).toBe("float64");
    expect(resultType([s("int32"), n(0.5)])).toBe("float32");
    // three operands (torch.where-like): each class folds in turn
    expect(resultType([t("int32"), s("float64"), n(0.5)])).toBe("float64");
    expect(resultType([t("uint8"), t("bool"), s("int32")])).toBe("uint8");
    expect(resultType([n(1), n(2)])).toBe("int64");
    // int64 is the widest integer; a 0-dim int64 does not widen a dimensioned int32, a float number floats it
    expect(resultType([t("int32"), t("int64")])).toBe("int64");
    expect(resultType([t("int32"), s("int64")])).toBe("int32");
    expect(resultType([t("int64"), n(0.5)])).toBe("float32");
    expect(resultType([t("int64"), t("float32")])).toBe("float32");
    expect(resultType([n(1), n(2.5)])).toBe("float32");
    expect(resultType([])).toBe("float32");
  });
});

describe("dtype helpers", () => {
  it("classifies dtypes", () => {
    expect(DTYPES.filter(isFloat)).toEqual(["float32", "float64", "float16", "bfloat16"]);
    expect(DTYPES.filter(isInt)).toEqual(["int32", "uint8", "int8", "int16", "int64"]);
    expect(DTYPES.map(itemSize)).toEqual([4, 8, 4, 1, 1, 1, 2, 8, 8, 16, 2, 2]);
  });

  it("gives JS values a dtype", () => {
    expect(dtypeOfNumber(3)).toBe("int64");
    expect(dtypeOfNumber(-0)).toBe("int64");
    expect(dtypeOfNumber(2.5)).toBe("float32");
    expect(dtypeOfNumber(Number.NaN)).toBe("float32");
    expect(dtypeOfNumber(Number.POSITIVE_INFINITY)).toBe("float32");
    expect(dtypeOfNumber(false)).toBe("bool");
  });

  it("gives TypedArrays a dtype", () => {
    expect(dtypeOfTypedArray(new Float32Array(1))).toBe("float32");
    expect(dtypeOfTypedArray(new Float64Array(1))).toBe("float64");
    expect(dtypeOfTypedArray(new Int32Array(1))).toBe("int32");
    expect(dtypeOfTypedArray(new Uint8Array(1))).toBe("uint8");
    expect(dtypeOfTypedArray(new Uint8ClampedArray(1))).toBe("uint8");
    expect(dtypeOfTypedArray(new Int16Array(1))).toBe("int16");
    expect(dtypeOfTypedArray(new Int8Array(1))).toBe("int8");
    expect(dtypeOfTypedArray(new Uint16Array(1))).toBe("int32");
    expect(dtypeOfTypedArray(new BigInt64Array(1))).toBe("int64");
    expect(() => dtypeOfTypedArray(new BigUint64Array(1))).toThrow(/unsupported TypedArray BigUint64Array/);
  });

  it("rejects unknown dtypes naming the valid ones", () => {
    for (const d of DTYPES) expect(checkDType(d)).toBe(d);
    expect(() => checkDType("half")).toThrow(
      /unknown dtype "half": expected one of float32, float64, int32, uint8, bool, int8, int16, int64, complex64, complex128, float16, bfloat16 \(torch.half is "float16"\)/,
    );
    expect(() => checkDType(undefined)).toThrow(/unknown dtype undefined/);
  });
});
