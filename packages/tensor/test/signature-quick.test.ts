/**
 * The signature parser's fast path (`quickParse`) against the general one: options that skip parameters
 * (`zerosLike(x, { dtype })`, a loss module's `{ weight, ignoreIndex, reduction }`) or hold `undefined` take the fast
 * path and give the general path's object, keys in the same order (nn's cross-entropy test checks real calls).
 */
import { describe, expect, it } from "vitest";
import { arg, k, signature, UNDECIDED } from "../src/signature";

const sig = signature(
  "probeQuick",
  [arg("input", k.int), arg("dim", k.int, 0), arg("keepdim", k.bool, false)],
  [arg("dtype", k.oneOf("float32", "float64"), "float32"), arg("scale", k.float, 1)],
);

describe("quickParse", () => {
  const x = 5;
  const calls: unknown[][] = [
    [x],
    [x, 1],
    [x, { dim: 1, keepdim: true }],
    [x, { keepdim: true }],
    [x, { scale: 2, dtype: "float64" }],
    [x, 1, { scale: 2 }],
    [x, { dim: undefined, scale: 3 }],
    [x, { dtype: undefined }],
  ];
  for (const args of calls) {
    it(`${JSON.stringify(args.slice(1))}: the general path's object, keys in its order`, () => {
      const q = sig.quickParse(args);
      expect(typeof q).toBe("object");
      const g = sig.parseGeneral(args);
      expect(q).toStrictEqual(g);
      expect(Object.keys(q)).toEqual(Object.keys(g as object));
    });
  }

  it("undefined positional arguments still go to the general path; bad calls still fail there", () => {
    expect(sig.quickParse([x, undefined, true])).toBe(UNDECIDED);
    expect(() => sig.parse([x, { scale: "no" }])).toThrow(/argument "scale" must be float/);
    expect(() => sig.parse([x, { dimm: 1 }])).toThrow(/unknown option "dimm"; did you mean "dim"/);
    expect(() => sig.parse([x, 1, { dim: 2 }])).toThrow(/multiple values for "dim"/);
  });
});
