/**
 * Recurrent layers on webgpu (issue 16): LSTM (two layers, bidirectional, projected, from a given state; and on a
 * packed batch of unsorted lengths) and GRU (batch first) run forward and backward on webgpu and on the cpu from
 * the same weights and inputs; outputs, final states and every gradient agree within float32 tolerance. A training
 * loop written with tidy keeps webgpu memory flat.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { assertClose } from "@cinder/tensor/testing";
import { describe, expect, it } from "vitest";
import { liveAfterGC } from "./helpers";
import { gpu } from "./setup";

torch.registerBackend(cpu);

type Run = (m: nn.Module, xs: torch.Tensor[], device: string) => torch.Tensor[];

/** Outputs, then the inputs' and the parameters' gradients, of `make()` (seeded) on `device`. */
async function run(make: () => nn.Module, shapes: number[][], f: Run, device: string): Promise<number[][]> {
  torch.manualSeed(1);
  const m = make().to(device);
  const xs = shapes.map((s) => torch.randn(s).to(device).requiresGrad_(true));
  const outs = f(m, xs, device);
  torch.manualSeed(2);
  let loss = torch.zeros([], { device });
  for (const o of outs) loss = loss.add(o.mul(torch.randn(o.shape as number[]).to(device)).sum());
  loss.backward();
  const res: number[][] = [];
  for (const t of [...outs, ...xs.map((x) => x.grad!), ...m.parameters().map((p) => p.grad!)])
    res.push(Array.from(await t.dataAsync()));
  return res;
}

async function compare(name: string, make: () => nn.Module, shapes: number[][], f: Run): Promise<void> {
  const g = await run(make, shapes, f, "webgpu");
  const c = await run(make, shapes, f, "cpu");
  for (let i = 0; i < c.length; i++)
    assertClose(g[i], c[i], { rtol: 2e-4, atol: 2e-4 }, `${name}: result ${i}`);
}

describe.skipIf(!gpu)("recurrent layers on webgpu equal the cpu's", () => {
  it("LSTM: 2 layers, bidirectional, projSize, initial state", () =>
    compare(
      "lstm",
      () => new nn.LSTM(3, 4, 2, { bidirectional: true, projSize: 2 }),
      [
        [4, 2, 3],
        [4, 2, 2],
        [4, 2, 4],
      ],
      (m, [x, h, c]) => {
        const [out, [hn, cn]] = (m as nn.LSTM)(x, [h, c]);
        return [out, hn, cn];
      },
    ));
  it("LSTM on a packed batch with unsorted lengths", () =>
    compare(
      "lstm packed",
      () => new nn.LSTM(3, 4),
      [[4, 3, 3]],
      (m, [x]) => {
        const packed = nn.utils.rnn.packPaddedSequence(x, [2, 4, 3], false, false);
        const [out, [hn, cn]] = (m as nn.LSTM)(packed);
        return [nn.utils.rnn.padPackedSequence(out)[0], hn, cn];
      },
    ));
  it("GRU, batch first", () =>
    compare(
      "gru",
      () => new nn.GRU(3, 5, { batchFirst: true }),
      [[2, 4, 3]],
      (m, [x]) => {
        const [out, hn] = (m as nn.GRU)(x);
        return [out, hn];
      },
    ));
  it("training steps (packed input, clipGradNorm_, in tidy) keep webgpu memory flat", async () => {
    torch.manualSeed(0);
    const m = new nn.LSTM(3, 4, 2, { bidirectional: true }).to("webgpu");
    const x = torch.randn(5, 2, 3).to("webgpu");
    const live: number[] = [];
    for (let i = 0; i < 4; i++) {
      const loss = torch.tidy(() => {
        m.zeroGrad();
        const [out] = m(nn.utils.rnn.packPaddedSequence(x, [5, 3], false, false));
        const l = out.data.mul(out.data).sum();
        l.backward();
        nn.utils.clipGradNorm_(m.parameters(), 0.5);
        torch.noGrad(() => {
          for (const p of m.parameters()) p.sub_(p.grad!.mul(0.1));
        });
        return l;
      });
      await loss.itemAsync();
      loss.dispose();
      live.push(await liveAfterGC());
    }
    expect(live[3]).toBe(live[1]);
  });
});
