/**
 * Finite-difference gradient checks (float64, tiny sizes) of scaled dot-product attention, MultiheadAttention with the
 * options that change its computation, and the Transformer encoder and decoder layers: w.r.t. the inputs and the
 * parameters.
 */
import { gradcheck } from "@cinder/autograd";
import { manualSeed, randn, type Tensor, tensor } from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import * as nn from "../src";
import { F } from "../src";
import "./helpers";

const f64 = { dtype: "float64" as const };
const leaf = (x: Tensor) => x.requiresGrad_(true);
beforeAll(() => manualSeed(11));

/**
 * gradcheck of a module's outputs (reduced to one number by fixed random weights) w.r.t. the inputs and every parameter
 * (gradcheck perturbs the parameters in place, so the module sees each perturbation).
 */
function checkModule(m: nn.Module, inputs: Tensor[], f: (...xs: Tensor[]) => Tensor[]): boolean {
  const n = inputs.length;
  const outs = f(...inputs);
  const ws = outs.map((o) => randn(o.shape, f64));
  const scalar = (...xs: Tensor[]) =>
    f(...xs.slice(0, n)).reduce((acc: Tensor, o, i) => acc.add(o.mul(ws[i]).sum()), tensor(0, f64));
  return gradcheck(scalar, [...inputs, ...m.parameters()]);
}

describe("gradcheck: attention", () => {
  it("scaledDotProductAttention with bool and float masks, causal, 4-D", () => {
    const q = leaf(randn(2, 3, 4, f64));
    const k = leaf(randn(2, 5, 4, f64));
    const v = leaf(randn(2, 5, 3, f64));
    const keep = tensor([
      [true, false, true, true, false],
      [true, true, false, true, true],
      [false, true, true, true, true],
    ]);
    expect(gradcheck((q, k, v) => F.scaledDotProductAttention(q, k, v, keep), [q, k, v])).toBe(true);
    const bias = randn(3, 5, f64);
    expect(gradcheck((q, k, v) => F.scaledDotProductAttention(q, k, v, bias), [q, k, v])).toBe(true);
    expect(gradcheck((q, k, v) => F.scaledDotProductAttention(q, k, v, { isCausal: true }), [q, k, v])).toBe(
      true,
    );
    const q4 = leaf(randn(1, 2, 3, 2, f64));
    expect(gradcheck((q) => F.scaledDotProductAttention(q, q, q), [q4])).toBe(true);
  });
});

describe("gradcheck: modules w.r.t. inputs and every parameter", () => {
  const opts = { dtype: "float64" as const };
  const kpm = tensor([
    [false, true, false],
    [false, false, false],
  ]);
  it("MultiheadAttention: packed, kdim/vdim, bias_k/bias_v + zero attention, masks, per-head weights", () => {
    const q = leaf(randn(2, 2, 4, f64));
    const kv = leaf(randn(3, 2, 4, f64));
    const mask = randn(2, 3, f64);
    const packed = new nn.MultiheadAttention(4, 2, opts);
    expect(
      checkModule(packed, [q, kv], (q, kv) => packed(q, kv, kv, kpm, { attnMask: mask }) as Tensor[]),
    ).toBe(true);
    const sep = new nn.MultiheadAttention(4, 2, { kdim: 3, vdim: 2, batchFirst: true, ...opts });
    const k3 = leaf(randn(2, 3, 3, f64));
    const v2 = leaf(randn(2, 3, 2, f64));
    expect(
      checkModule(
        sep,
        [k3, v2],
        (k, v) => sep(q.detach().transpose(0, 1), k, v, { averageAttnWeights: false }) as Tensor[],
      ),
    ).toBe(true);
    const extra = new nn.MultiheadAttention(4, 2, { addBiasKv: true, addZeroAttn: true, ...opts });
    const bool = tensor([
      [false, true, false],
      [false, false, true],
    ]);
    expect(
      checkModule(extra, [q], (q) => extra(q, kv.detach(), kv.detach(), kpm, true, bool) as Tensor[]),
    ).toBe(true);
  });
  it("TransformerEncoderLayer (post-norm relu, pre-norm gelu) and TransformerDecoderLayer with masks", () => {
    const src = leaf(randn(3, 2, 4, f64));
    const sm = nn.Transformer.generateSquareSubsequentMask(3).double();
    for (const o of [{}, { normFirst: true, activation: "gelu" as const }]) {
      const enc = new nn.TransformerEncoderLayer(4, 2, 6, 0, { ...o, ...opts });
      expect(checkModule(enc, [src], (s) => [enc(s, sm, kpm)])).toBe(true);
    }
    const dec = new nn.TransformerDecoderLayer(4, 2, 6, 0, { ...opts });
    const tgt = leaf(randn(2, 2, 4, f64));
    const tm = nn.Transformer.generateSquareSubsequentMask(2).double();
    expect(checkModule(dec, [tgt, src], (t, m) => [dec(t, m, tm, null, null, kpm)])).toBe(true);
  });
});
