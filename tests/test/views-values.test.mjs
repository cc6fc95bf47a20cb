// Indexing values against PyTorch 1.13 (tests/fixtures/views-values.json, from scripts/fixtures/views_values.py):
// advanced indices with ints, slices and None between them, read with x.at(...) and written with x.set([...], v).
// PyTorch selects with an int first (basic indexing), so `x[1, :, idx]` keeps idx's dims in place (NumPy would
// move them to the front); advanced indices separated by a slice or None put their broadcast dims first.
import { readFileSync } from "node:fs";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";

torch.registerBackend(cpu);
const fixture = JSON.parse(readFileSync(new URL("../fixtures/views-values.json", import.meta.url), "utf8"));

function decode(v) {
  return torch.tensor(v.$tensor, { dtype: v.dtype }).reshape(v.shape);
}

describe("indexing values are PyTorch's", () => {
  for (const c of fixture.cases) {
    it(`${c.torch}  ~  ${c.cinder}`, () => {
      const scope = { ...fixture.inputs, ...c.inputs };
      const names = Object.keys(scope);
      const f = new Function("torch", ...names, `return ${c.cinder};`);
      const got = f(torch, ...names.map((n) => decode(scope[n])));
      const want = decode(c.expect);
      expect([...got.shape]).toEqual([...want.shape]);
      expect(got.dtype).toBe(want.dtype);
      expect(got.toArray()).toEqual(want.toArray());
    });
  }
});
