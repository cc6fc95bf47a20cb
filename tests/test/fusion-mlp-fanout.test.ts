/**
 * The MLP train step's pending-gradient fan-out (packages/tensor/src/fusion.ts, `runNow`): the cross-entropy
 * gradient exp(logp) s - onehot s is a pending program read by the last Linear's bias gradient (a sum over the
 * batch) and by its weight and input gradients (matmuls). The reduction computes it into its buffer first, so its
 * `exp` runs once per step, and training gives the same bits with fusion on and off.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as optim from "@cinder/optim";
import * as torch from "@cinder/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let fusionWas = true;
beforeAll(() => {
  if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
  fusionWas = torch.setFusion(true); // counted on the fused path even under CINDER_FUSION=0
});
afterAll(() => torch.setFusion(fusionWas));

/** How many `exp` nodes the CPU backend's fused programs evaluate while `fn` runs. */
function expEvaluations(fn: () => void): number {
  const elementwise = cpu.elementwise as NonNullable<typeof cpu.elementwise>;
  let seen = 0;
  const count = (e: torch.Expr): number => {
    switch (e.op) {
      case "input":
      case "const":
        return 0;
      case "unary":
        return (e.fn === "exp" ? 1 : 0) + count(e.x);
      case "cast":
        return count(e.x);
      case "binary":
        return count(e.a) + count(e.b);
      case "where":
        return count(e.cond) + count(e.a) + count(e.b);
    }
  };
  cpu.elementwise = (expr, inputs, out, reduce) => {
    seen += count(expr);
    elementwise(expr, inputs, out, reduce);
  };
  try {
    fn();
  } finally {
    cpu.elementwise = elementwise;
  }
  return seen;
}

/** Parameters after `steps` SGD-momentum steps of a seeded 20-32-10 MLP (batch 16: every gradient is fused). */
function train(steps: number, onStep: (step: () => void) => void): number[][] {
  torch.manualSeed(11);
  const model = new nn.Sequential(new nn.Linear(20, 32), new nn.ReLU(), new nn.Linear(32, 10));
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const x = torch.randn(16, 20);
  const y = torch.randint(0, 10, [16]);
  const crit = new nn.CrossEntropyLoss();
  const step = () => {
    opt.zeroGrad();
    crit(model(x), y).backward();
    opt.step();
  };
  for (let i = 0; i < steps; i++) onStep(step);
  return model.parameters().map((p) => Array.from(p.data() as Float32Array));
}

describe("MLP step: the cross-entropy gradient read by a bias sum and by matmuls", () => {
  it("evaluates its exp once per step", () => {
    const counts: number[] = [];
    train(3, (step) => counts.push(expEvaluations(step)));
    expect(counts).toEqual([1, 1, 1]);
  });

  it("gives the same parameters with fusion on and off", () => {
    const fused = train(4, (step) => step());
    const was = torch.setFusion(false);
    try {
      expect(train(4, (step) => step())).toEqual(fused);
    } finally {
      torch.setFusion(was);
    }
  });
});
