import { describe, expect, it } from "vitest";
import { runExample } from "./run";

const quick = ["--dataset", "mnist-sample", "--epochs", "1", "--train-size", "640", "--progress", "off"];

describe("the ONNX examples (on the shipped sample of real digits)", () => {
  it("export-onnx: ONNX Runtime runs the exported MLP to Cinder's accuracy and logits", () => {
    const { json, stdout } = runExample("export-onnx", quick);
    expect(json).toMatchObject({ example: "export-onnx", dataset: "mnist-sample", trainSamples: 640 });
    expect(json.testAccuracy).toBeGreaterThan(0.5);
    expect(Math.abs(json.ortAccuracy - json.testAccuracy)).toBeLessThanOrEqual(0.001);
    expect(json.maxAbsDiff).toBeLessThan(1e-4);
    expect(json.bytes).toBeGreaterThan(4 * 784 * 128);
    expect(stdout).toContain("= aten::linear(%1, %fc1.weight, %fc1.bias)");
  }, 120_000);

  it("import-onnx: PyTorch's MLP loads with PyTorch's outputs, fine-tunes, and runs in ONNX Runtime once saved", () => {
    const { json } = runExample("import-onnx", quick);
    expect(json).toMatchObject({ example: "import-onnx", steps: 10, trainSamples: 640 });
    expect(json.maxAbsDiff).toBeLessThan(1e-5);
    expect(json.accuracyBefore).toBeLessThan(0.3);
    expect(json.accuracyAfter).toBeGreaterThan(json.accuracyBefore + 0.3);
    expect(Math.abs(json.ortAccuracy - json.accuracyAfter)).toBeLessThanOrEqual(0.001);
  }, 120_000);
});
