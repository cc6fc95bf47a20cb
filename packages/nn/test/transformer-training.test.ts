/**
 * The layers train: a tiny decoder-only Transformer (embedding, a causal TransformerEncoder with pre-norm GELU layers,
 * a linear head), as the GPT example builds it, learns a periodic token sequence with plain SGD; the loss falls.
 */
import { arange, manualSeed, noGrad, type Tensor } from "@cinder/tensor";
import { expect, it } from "vitest";
import * as nn from "../src";
import "./helpers";

class TinyGpt extends nn.Module {
  static override readonly name: string = "TinyGpt";
  tok = new nn.Embedding(5, 16);
  pos = new nn.Embedding(8, 16);
  blocks = new nn.TransformerEncoder(
    new nn.TransformerEncoderLayer(16, 2, 32, 0, "gelu", { batchFirst: true, normFirst: true }),
    2,
    new nn.LayerNorm(16),
  );
  head = new nn.Linear(16, 5);
  override forward(idx: Tensor): Tensor {
    const t = idx.shape[1];
    const x = this.tok(idx).add(this.pos(arange(t)));
    const mask = nn.Transformer.generateSquareSubsequentMask(t);
    return this.head(this.blocks(x, { mask }));
  }
}

it("a tiny causal Transformer learns a periodic sequence (loss falls by more than half)", () => {
  manualSeed(0);
  const model = new TinyGpt();
  const seq = arange(0, 36).remainder(5); // 0 1 2 3 4 0 1 ...
  const x = seq.narrow(0, 0, 32).reshape(4, 8);
  const y = seq.narrow(0, 1, 32).reshape(4, 8);
  const lossFn = new nn.CrossEntropyLoss();
  const losses: number[] = [];
  for (let step = 0; step < 20; step++) {
    model.zeroGrad();
    const loss = lossFn(model(x).reshape(32, 5), y.reshape(32));
    loss.backward();
    losses.push(loss.item() as number);
    noGrad(() => {
      for (const p of model.parameters()) if (p.grad) p.sub_(p.grad.mul(0.1));
    });
  }
  expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 2);
});
