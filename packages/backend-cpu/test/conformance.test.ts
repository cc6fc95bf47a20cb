import { registerBackend } from "@cinder/tensor";
import { conformanceCases } from "@cinder/tensor/testing";
import { describe, it } from "vitest";
import { cpu } from "../src/index";

/**
 * Cases whose reference in the core's op table disagrees with PyTorch (checked against torch 1.13 goldens in
 * fixtures/elementwise_goldens.json, which this backend follows):
 * - logical ops treat NaN as false (`!x`); PyTorch treats NaN as true (nonzero): logical_not(nan) = False.
 * - pow uses `a ** b`; PyTorch (C pow) gives pow(1, nan) = 1 and pow(-1, ±inf) = 1.
 * - floorDivide uses Math.floor(a / b); PyTorch gives floor_divide(-2, inf) = -1 (Python's -2.0 // inf).
 * - "sort and where and cast" expects `cond.where(a, b)` to select by `cond`; the core's method follows
 *   PyTorch's `self.where(condition, other)`, so the case's expectation, not the kernel, is off.
 * Remove an entry once the core's reference is fixed.
 */
const KNOWN_REFERENCE_MISMATCHES = new Set([
  "unary logicalNot float32",
  "binary pow float32",
  "binary pow float64",
  "binary floorDivide float32",
  "binary floorDivide float64",
  "binary logicalAnd float32",
  "binary logicalAnd float64",
  "binary logicalOr float32",
  "binary logicalOr float64",
  "binary logicalXor float32",
  "binary logicalXor float64",
  "sort and where and cast",
]);

describe("@cinder/tensor conformance suite", () => {
  registerBackend(cpu);
  for (const c of conformanceCases()) {
    if (KNOWN_REFERENCE_MISMATCHES.has(c.name)) it.skip(c.name, () => c.run("cpu"));
    else it(c.name, () => c.run("cpu"));
  }
});
