// The rest of issue 14 against PyTorch 1.13 (tests/fixtures/ops-more.json, from scripts/fixtures/ops_more.py): the
// aliases and torch.linalg's remaining functions, values (zero-size and non-contiguous inputs too), errors, gradients
// by PyTorch and by gradcheck (linalg.eig / eigvals, complex results, are tested in complex.test.mjs).
import { expressionCases } from "./support/expression-cases.mjs";

expressionCases("ops-more", "issue 14, the rest: values, errors and gradients are PyTorch's");
