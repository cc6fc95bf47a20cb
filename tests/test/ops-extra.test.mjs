// The shape, indexing and linear-algebra-lite ops of issue 14 against PyTorch 1.13 (tests/fixtures/ops-extra.json,
// from scripts/fixtures/ops_extra.py; see its docstring for the case format): each case's Cinder expression runs on
// the fixture's inputs and must give PyTorch's values (dtype, shape, elements); where PyTorch raised it must throw a
// message matching the case's paraphrase; where the output requires grad, the gradients of sum(out * w) must be
// PyTorch's; and where PyTorch's gradcheck passes, Cinder's gradcheck (finite differences, float64) must too.
import { expressionCases } from "./support/expression-cases.mjs";

expressionCases("ops-extra", "issue 14 ops: values, errors and gradients are PyTorch's");
