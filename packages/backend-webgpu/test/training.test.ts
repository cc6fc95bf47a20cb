/** The seeds' training loop, written naturally, on webgpu: the loss falls and memory stays flat. */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as optim from "@cinder/optim";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { liveAfterGC } from "./helpers";
import { gpu } from "./setup";

torch.registerBackend(cpu); // modules are built on the cpu, then moved

describe.skipIf(!gpu)("training on webgpu", () => {
  it("an MLP with cross-entropy and SGD(momentum) learns, with flat memory", async () => {
    expect(typeof (globalThis as { gc?: unknown }).gc, "vitest.config.ts passes --expose-gc").toBe(
      "function",
    );
    torch.manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(20, 64), new nn.ReLU(), new nn.Linear(64, 4)).to("webgpu");
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const crit = new nn.CrossEntropyLoss();
    const x = torch.randn([128, 20], { device: "webgpu" });
    const y = x.at(":", "0:4").argmax({ dim: 1 }); // a learnable rule
    const losses: number[] = [];
    const live: number[] = [];
    for (let step = 0; step < 300; step++) {
      const loss = torch.tidy(() => {
        opt.zeroGrad();
        const l = crit(model.forward(x), y);
        l.backward();
        opt.step();
        return l;
      });
      if (step % 50 === 0 || step === 299) {
        losses.push((await loss.itemAsync()) as number);
        live.push(await liveAfterGC());
      }
      loss.dispose();
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    expect(new Set(live.slice(2)).size).toBe(1);
  });
});
