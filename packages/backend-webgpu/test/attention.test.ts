/**
 * Attention on webgpu (issue 16): MultiheadAttention (masks, per-head weights), a Transformer encoder layer and
 * scaled dot-product attention run forward and backward on webgpu and on the cpu from the same weights and inputs;
 * outputs and every gradient agree within float32 tolerance.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { assertClose } from "@cinder/tensor/testing";
import { describe, it } from "vitest";
import { gpu } from "./setup";

torch.registerBackend(cpu);

type Outputs = (torch.Tensor | null)[];
type Case = (m: nn.Module, x: torch.Tensor[], device: string) => Outputs;

/** Outputs, then input and parameter gradients, of a module built by `make` under `seed`, run on `device`. */
async function run(make: () => nn.Module, shapes: number[][], f: Case, device: string): Promise<number[][]> {
  torch.manualSeed(1);
  const m = make().to(device);
  const xs = shapes.map((s) => torch.randn(s).to(device).requiresGrad_(true));
  const outs = f(m, xs, device).filter((o): o is torch.Tensor => o !== null);
  torch.manualSeed(2);
  let loss = torch.zeros([], { device });
  for (const o of outs) loss = loss.add(o.mul(torch.randn(o.shape as number[]).to(device)).sum());
  loss.backward();
  const res: number[][] = [];
  for (const o of outs) res.push(Array.from(await o.dataAsync()));
  for (const x of xs) res.push(Array.from(await x.grad!.dataAsync()));
  for (const p of m.parameters()) res.push(Array.from(await p.grad!.dataAsync()));
  return res;
}

async function compare(name: string, make: () => nn.Module, shapes: number[][], f: Case): Promise<void> {
  const g = await run(make, shapes, f, "webgpu");
  const c = await run(make, shapes, f, "cpu");
  for (let i = 0; i < c.length; i++)
    assertClose(g[i], c[i], { rtol: 2e-4, atol: 2e-4 }, `${name}: result ${i}`);
}

const kpm = (device: string) =>
  torch
    .tensor([
      [false, false, true, false],
      [false, true, false, false],
    ])
    .to(device);

describe.skipIf(!gpu)("attention on webgpu equals the cpu's", () => {
  it("MultiheadAttention with a key padding mask, a float mask and per-head weights", () =>
    compare(
      "mha",
      () => new nn.MultiheadAttention(8, 2, { batchFirst: true }),
      [
        [2, 3, 8],
        [2, 4, 8],
      ],
      (m, [q, kv], d) => {
        torch.manualSeed(3);
        const mask = torch.randn(3, 4).to(d);
        return m(q, kv, kv, kpm(d), true, mask, false) as Outputs;
      },
    ));
  it("MultiheadAttention with kdim/vdim, bias_k/bias_v and zero attention", () =>
    compare(
      "mha separate",
      () => new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 6, addBiasKv: true, addZeroAttn: true }),
      [
        [3, 2, 8],
        [4, 2, 5],
        [4, 2, 6],
      ],
      (m, [q, k, v], d) => m(q, k, v, { keyPaddingMask: kpm(d) }) as Outputs,
    ));
  it("TransformerEncoderLayer (gelu, pre-norm) with a causal mask and padding", () =>
    compare(
      "encoder layer",
      () => new nn.TransformerEncoderLayer(8, 2, 16, 0, "gelu", { normFirst: true }),
      [[4, 2, 8]],
      (m, [x], d) => [m(x, nn.Transformer.generateSquareSubsequentMask(4, d), kpm(d))],
    ));
  it("scaledDotProductAttention, causal, 4-D", () =>
    compare(
      "sdpa",
      () => new nn.Identity(),
      [
        [2, 2, 3, 4],
        [2, 2, 5, 4],
        [2, 2, 5, 4],
      ],
      (_m, [q, k, v]) => [nn.F.scaledDotProductAttention(q, k, v, { isCausal: true })],
    ));
});
