import { describe, expect, it } from "vitest";
import { runExample } from "./run";

describe("seed 000 and 002 programs", () => {
  it("autograd-basics: every gradient the seeds print", () => {
    const { json } = runExample("autograd-basics");
    expect(json.example).toBe("autograd-basics");
    expect(json.checks).toBeGreaterThanOrEqual(20);
    expect(json.passed).toBe(json.checks);
  });

  it("linear-regression-manual reaches w = 3.00 and b = 0.80 within 0.02", () => {
    const { json, stdout } = runExample("linear-regression-manual");
    expect(Math.abs(json.w - 3)).toBeLessThan(0.02);
    expect(Math.abs(json.b - 0.8)).toBeLessThan(0.02);
    expect(stdout).toContain("Epoch 900: w=");
  });

  it("linear-regression: nn.Linear + MSELoss + SGD + StepLR over 2000 epochs", () => {
    const { json, stdout } = runExample("linear-regression");
    expect(json).toMatchObject({ example: "linear-regression", device: "cpu", epochs: 2000 });
    expect(Math.abs(json.w - 3)).toBeLessThan(0.05);
    expect(Math.abs(json.b - 0.8)).toBeLessThan(0.05);
    // the noise has std 0.2, so the least-squares loss is about 0.04
    expect(json.finalLoss).toBeLessThan(0.06);
    // StepLR(200, 0.9) after 2000 steps: 0.01 * 0.9^10
    expect(json.lr).toBeCloseTo(0.01 * 0.9 ** 10, 5);
    expect(stdout).toMatch(/Epoch \[2000\/2000\], Loss: \d\.\d{6}, LR: 0\.00349/);
    expect(stdout).toContain("predicted |");
  });

  it("nonlinear-regression: the hidden layer fits x^2 far better than a line", () => {
    const { json } = runExample("nonlinear-regression", ["--epochs", "1000"]);
    expect(json.finalMSE).toBeLessThan(0.05);
    expect(json.linearMSE).toBeGreaterThan(1);
  });
});

describe("seed 001 and 003 modules, seed 002 and 003 data loaders", () => {
  it("simple-nn prints like PyTorch and counts 241 parameters", () => {
    const { json, stdout } = runExample("simple-nn");
    expect(stdout).toContain(
      "SimpleNN(\n  (layer1): Linear(in_features=10, out_features=20, bias=True)\n  (activation): ReLU()\n  (layer2): Linear(in_features=20, out_features=1, bias=True)\n)",
    );
    expect(json).toMatchObject({ example: "simple-nn", parameters: 241, outputShape: [4, 1] });
  });

  it("linear-regression-dataloader predicts close to 11 at x = 5", () => {
    const { json } = runExample("linear-regression-dataloader");
    expect(Math.abs(json.predictionAt5 - 11)).toBeLessThan(0.5);
  });

  it("linear-regression-batches learns make_regression's coefficient and draws the figure", () => {
    const { json, stdout } = runExample("linear-regression-batches");
    expect(Math.abs(json.w - json.trueW)).toBeLessThan(2);
    // noise has std 10, so the mean squared error settles near 100
    expect(json.finalLoss).toBeLessThan(150);
    expect(stdout).toMatch(/Figure: .*\.svg/);
  });
});
