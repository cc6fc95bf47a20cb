/**
 * MultiheadAttention, the Transformer layers and stacks, scaled_dot_product_attention and GELU against PyTorch 1.13
 * (test/fixtures/attention.json, scripts/fixtures/attention_fixtures.py): outputs, gradients w.r.t. the inputs and every
 * parameter, state-dict keys in PyTorch's order, and printouts.
 */
import { tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { F, GELU } from "../src";
import { callOf, fx, moduleOf, run } from "./attention-helpers";
import { expectClose, t } from "./helpers";

const RTOL = 1e-4;

describe("modules equal PyTorch 1.13", () => {
  for (const c of fx.modules) {
    it(c.name, () => {
      const m = moduleOf(c);
      expect([...m.stateDict().keys()]).toEqual(Object.keys(c.state));
      expect(String(m)).toBe(c.repr);
      const call = callOf(c);
      const outs = run(m, c, call);
      expect(outs.length).toBe(c.outputs.length);
      c.outputs.forEach((want, i) => {
        if (want === null) expect(outs[i]).toBeNull();
        else expectClose(outs[i], want, `output ${i}`, RTOL);
      });
      if (c.noGrad) return;
      let loss = tensor(0);
      c.upstream?.forEach((u, i) => {
        if (u) loss = loss.add((outs[i] as NonNullable<(typeof outs)[number]>).mul(t(u)).sum());
      });
      loss.backward();
      for (const [k, g] of Object.entries(c.inputGrads ?? {}))
        expectClose(call.inputs[k].grad, g, `grad ${k}`, RTOL);
      const params = new Map(m.namedParameters());
      expect([...params.keys()]).toEqual(Object.keys(c.paramGrads ?? {}));
      for (const [k, g] of Object.entries(c.paramGrads ?? {}))
        expectClose(params.get(k)?.grad, g, `grad ${k}`, RTOL);
    });
  }
});

describe("scaledDotProductAttention equals PyTorch 2.0's definition", () => {
  for (const c of fx.sdpa) {
    it(c.name, () => {
      const [q, k, v] = [t(c.query, true), t(c.key, true), t(c.value, true)];
      const out = F.scaledDotProductAttention(q, k, v, {
        attnMask: c.attnMask ? t(c.attnMask) : null,
        isCausal: c.isCausal,
      });
      expectClose(out, c.output, "output", RTOL);
      out.mul(t(c.upstream)).sum().backward();
      for (const [i, x] of [q, k, v].entries()) expectClose(x.grad, c.grads[i], `grad ${i}`, RTOL);
    });
  }
});

describe("gelu equals PyTorch 1.13's", () => {
  for (const c of fx.gelu) {
    it(`approximate="${c.approximate}"`, () => {
      const x = t(c.input, true);
      const y = F.gelu(x, c.approximate);
      expectClose(y, c.output, "output");
      y.mul(t(c.upstream)).sum().backward();
      expectClose(x.grad, c.grad, "grad");
      const m = new GELU({ approximate: c.approximate });
      expect(String(m)).toBe(c.repr);
      expectClose(m(t(c.input)), c.output, "module");
    });
  }
});
