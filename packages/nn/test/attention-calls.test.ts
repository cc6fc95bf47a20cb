/**
 * The attention and Transformer callables that the JSON signature cases cannot replay (PyTorch 1.13 lacks
 * scaled_dot_product_attention; module forwards take tensors and masks): every call form gives the same result, and an
 * extra argument, an unknown option, a wrong-kind value or bad shapes throw clear errors.
 */
import { manualSeed, ones, randn, type Tensor, tensor, zeros } from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import * as nn from "../src";
import { F } from "../src";
import "./helpers";

beforeAll(() => manualSeed(7));
const same = (a: Tensor, b: Tensor) => expect(a.sub(b).abs().max().item()).toBe(0);

describe("scaledDotProductAttention(query, key, value, attnMask=None, dropoutP=0.0, isCausal=False)", () => {
  const q = randn(2, 3, 4);
  const k = randn(2, 5, 4);
  const v = randn(2, 5, 6);
  const keep = tensor([
    [true, false, true, true, false],
    [true, true, false, true, true],
    [false, true, true, true, true],
  ]);
  it("positional, options and mixed forms agree", () => {
    const a = F.scaledDotProductAttention(q, k, v, keep, 0, false);
    same(a, F.scaledDotProductAttention(q, k, v, { attnMask: keep }));
    same(a, F.scaledDotProductAttention({ query: q, key: k, value: v, attnMask: keep, dropoutP: 0 }));
    same(a, F.scaledDotProductAttention(q, k, v, keep, { isCausal: false }));
    expect(a.shape).toEqual([2, 3, 6]);
  });
  it("a bool mask keeps where true; a float mask is added; isCausal is the lower triangle", () => {
    const bias = zeros(3, 5).maskedFill(keep.logicalNot(), Number.NEGATIVE_INFINITY);
    same(F.scaledDotProductAttention(q, k, v, keep), F.scaledDotProductAttention(q, k, v, bias));
    const causal = ones(3, 5, { dtype: "bool" }).tril();
    same(
      F.scaledDotProductAttention(q, k, v, { isCausal: true }),
      F.scaledDotProductAttention(q, k, v, causal),
    );
  });
  it("dropoutP drops weights (p = 1 leaves zeros), and the result stays differentiable", () => {
    expect(F.scaledDotProductAttention(q, k, v, null, 1).abs().sum().item()).toBe(0);
    const qq = randn(2, 3, 4).requiresGrad_(true);
    F.scaledDotProductAttention(qq, k, v, null, 0.5).sum().backward();
    expect(qq.grad?.shape).toEqual([2, 3, 4]);
  });
  it("errors name what was expected and what was given", () => {
    expect(() => F.scaledDotProductAttention(q, k, v, keep, 0, true)).toThrow(
      /is_causal=True and an attn_mask cannot be given together/,
    );
    expect(() => F.scaledDotProductAttention(q, randn(2, 5, 3), v)).toThrow(
      /query and key must have the same embedding size \(last dim\), got \[2, 3, 4\] and \[2, 5, 3\]/,
    );
    expect(() => F.scaledDotProductAttention(q, k, randn(2, 4, 6))).toThrow(/same sequence length/);
    expect(() => F.scaledDotProductAttention(q, k, v, ones(3, 4, { dtype: "bool" }))).toThrow(
      /attn_mask of shape \[3, 4\] does not broadcast to the attention scores' \[..., L, S\] = \[2, 3, 5\]/,
    );
    expect(() => F.scaledDotProductAttention(q, k, v, ones(3, 5, { dtype: "int32" }))).toThrow(
      /expected a bool attn_mask or one of query's dtype \(float32\), got int32/,
    );
    expect(() => F.scaledDotProductAttention(q, randn(3, 5, 4), randn(3, 5, 6))).toThrow(/do not broadcast/);
    expect(() => F.scaledDotProductAttention(randn(4), k, v)).toThrow(/at least 2 dimensions/);
    expect(() => F.scaledDotProductAttention(q, k, v, null, 1.5)).toThrow(/dropout_p must be in \[0, 1\]/);
    expect(() =>
      (F.scaledDotProductAttention as unknown as (...a: unknown[]) => Tensor)(q, k, v, null, 0, false, 1),
    ).toThrow(/takes 6 positional arguments/);
    expect(() => F.scaledDotProductAttention(q, k, v, { causal: true } as never)).toThrow(
      /unknown option "causal"; did you mean "isCausal"\?/,
    );
    expect(() => F.scaledDotProductAttention(q, k, v, { isCausal: 1 } as never)).toThrow(
      /argument "isCausal" must be bool, got/,
    );
  });
});

describe("module forwards take PyTorch's arguments", () => {
  it("MultiheadAttention.forward(query, key, value, keyPaddingMask, needWeights, attnMask, averageAttnWeights)", () => {
    const m = new nn.MultiheadAttention(8, 2);
    const x = randn(3, 2, 8);
    const kpm = tensor([
      [false, true, false],
      [false, false, false],
    ]);
    const [a, wa] = m(x, x, x, kpm, true, null, false);
    const [b, wb] = m(x, x, x, { keyPaddingMask: kpm, averageAttnWeights: false });
    const [c, wc] = m(x, x, x, kpm, { averageAttnWeights: false, needWeights: true });
    for (const [o, w] of [
      [b, wb],
      [c, wc],
    ] as const) {
      same(a, o);
      same(wa as Tensor, w as Tensor);
    }
    expect(wa?.shape).toEqual([2, 2, 3, 3]);
    expect(m(x, x, x, { needWeights: false })[1]).toBeNull();
    expect(() => m(x, x, x, null, true, null, true, 1 as never)).toThrow(/takes 7 positional arguments/);
    expect(() => m(x, x, x, { attn_mask: null } as never)).toThrow(/did you mean "attnMask"\?/);
    expect(() => m(x, x, x, { needWeights: "yes" } as never)).toThrow(/"needWeights" must be bool/);
    expect(() => m(x, x, x, kpm.int())).toThrow(/only bool and floating types of key_padding_mask/);
    expect(() => m(randn(3, 2, 6), x, x)).toThrow(/was expecting embedding dimension of 8, but got 6/);
    expect(() => m(x, x, x, { attnMask: ones(2, 2, { dtype: "bool" }) })).toThrow(
      /The shape of the 2D attn_mask is \[2, 2\], but should be \[3, 3\]/,
    );
    expect(() => new nn.MultiheadAttention(8, 3)).toThrow(/embed_dim must be divisible by num_heads/);
  });
  it("the Transformer layers, stacks and Transformer", () => {
    const enc = new nn.TransformerEncoderLayer(8, 2, 16, 0);
    const src = randn(4, 2, 8);
    const mask = nn.Transformer.generateSquareSubsequentMask(4);
    const kpm = tensor([
      [false, false, true, true],
      [false, false, false, false],
    ]);
    same(enc(src, mask, kpm), enc(src, { srcMask: mask, srcKeyPaddingMask: kpm }));
    expect(() => enc(src, { mask } as never)).toThrow(/unknown option "mask"/);
    const stack = new nn.TransformerEncoder(enc, 2);
    same(stack(src, mask, kpm), stack(src, { mask, srcKeyPaddingMask: kpm }));
    const dec = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 });
    const tgt = randn(3, 2, 8);
    const tm = nn.Transformer.generateSquareSubsequentMask(3);
    same(dec(tgt, src, tm, null, null, kpm), dec(tgt, src, { tgtMask: tm, memoryKeyPaddingMask: kpm }));
    const decs = new nn.TransformerDecoder(dec, 2, new nn.LayerNorm(8));
    same(decs(tgt, src, tm), decs(tgt, src, { tgtMask: tm }));
    const t = new nn.Transformer(8, 2, 1, 1, 16, 0);
    same(t(src, tgt, null, tm), t(src, tgt, { tgtMask: tm }));
    expect(() => t(src, randn(3, 3, 8))).toThrow(
      /the batch number of src and tgt must be equal, got 2 and 3/,
    );
    expect(() => t(src, randn(3, 2, 6))).toThrow(/must be equal to d_model \(8\), got 8 and 6/);
    expect(() => new nn.TransformerEncoderLayer(8, 2, { activation: "tanh" } as never)).toThrow(
      /argument "activation" must be "relu" \| "gelu" or callable/,
    );
    expect(() => new nn.TransformerEncoder(enc, { numLayers: 2, norm: 3 } as never)).toThrow(
      /"norm" must be Module or null/,
    );
  });
  it("generateSquareSubsequentMask(sz, device='cpu')", () => {
    const m = nn.Transformer.generateSquareSubsequentMask(3);
    expect(m.tolist()).toEqual([
      [0, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
      [0, 0, Number.NEGATIVE_INFINITY],
      [0, 0, 0],
    ]);
    expect(nn.Transformer.generateSquareSubsequentMask({ sz: 3, device: "cpu" }).tolist()).toEqual(
      m.tolist(),
    );
    expect(() => nn.Transformer.generateSquareSubsequentMask(2.5)).toThrow(/"sz" must be int/);
  });
});

describe("dropout acts in training only", () => {
  it("MultiheadAttention drops attention weights (p = 1: only the out-projection's bias is left)", () => {
    const m = new nn.MultiheadAttention(8, 2, { dropout: 1 });
    m.outProj.bias?.detach().normal_();
    const x = randn(3, 2, 8);
    const [out, w] = m(x, x, x);
    expect((w as Tensor).abs().sum().item()).toBe(0);
    same(out, (m.outProj.bias as Tensor).expand(3, 2, 8));
    m.eval();
    const [, we] = m(x, x, x);
    const rows = (we as Tensor).sum(-1);
    expect(rows.sub(1).abs().max().item()).toBeLessThan(1e-6);
  });
  it("a Transformer encoder layer is random in training and deterministic in evaluation", () => {
    const enc = new nn.TransformerEncoderLayer(8, 2, 16, 0.5);
    const x = randn(4, 2, 8);
    expect(enc(x).sub(enc(x)).abs().max().item()).toBeGreaterThan(0);
    enc.eval();
    same(enc(x), enc(x));
  });
});
