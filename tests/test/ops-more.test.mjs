// The rest of issue 14 against PyTorch 1.13 (tests/fixtures/ops-more.json, from scripts/fixtures/ops_more.py): the
// aliases and torch.linalg's remaining functions, values (zero-size and non-contiguous inputs too), errors, gradients
// by PyTorch and by gradcheck; and what PyTorch has but Cinder cannot give (complex results), which must say so.
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { expressionCases } from "./support/expression-cases.mjs";

expressionCases("ops-more", "issue 14, the rest: values, errors and gradients are PyTorch's");

describe("linalg.eig / eigvals: complex results, which Cinder has no dtype for", () => {
  it("throw an error naming the complex dtypes and eigh", () => {
    const A = torch.tensor(
      [
        [0, 1],
        [-1, 0],
      ],
      { dtype: "float32" },
    );
    expect(() => torch.linalg.eig(A)).toThrow(/complex dtypes.*linalg\.eigh/);
    expect(() => torch.linalg.eigvals(A)).toThrow(/complex dtypes/);
    expect(() => torch.linalg.eig(A, 1)).toThrow(/argument/i);
  });
});
