import { describe, expect, it } from "vitest";
import { runExample } from "./run";

const quick = ["--dataset", "mnist-sample", "--epochs", "1", "--train-size", "640", "--progress", "off"];

describe("the ONNX examples (on the shipped sample of real digits)", () => {
  it("export-onnx: ONNX Runtime runs the exported MLP and CNN to Cinder's accuracy and logits", () => {
    const { json, stdout } = runExample("export-onnx", quick);
    expect(json).toMatchObject({ example: "export-onnx", dataset: "mnist-sample", trainSamples: 640 });
    for (const model of [json.mlp, json.cnn]) {
      expect(model.testAccuracy).toBeGreaterThan(0.4);
      expect(Math.abs(model.ortAccuracy - model.testAccuracy)).toBeLessThanOrEqual(0.001);
      expect(model.maxAbsDiff).toBeLessThan(1e-4);
    }
    expect(json.mlp.bytes).toBeGreaterThan(4 * 784 * 128);
    expect(json.cnn.bytes).toBeGreaterThan(4 * 3136 * 128);
    expect(json.maxAbsDiff).toBe(Math.max(json.mlp.maxAbsDiff, json.cnn.maxAbsDiff));
    expect(json.bytes).toBe(json.mlp.bytes + json.cnn.bytes);
    expect(stdout).toContain("= aten::linear(%1, %fc1.weight, %fc1.bias)");
  }, 180_000);

  it("import-onnx: PyTorch's MLP loads with PyTorch's outputs, fine-tunes, and runs in ONNX Runtime once saved", () => {
    const { json } = runExample("import-onnx", quick);
    expect(json).toMatchObject({ example: "import-onnx", steps: 10, trainSamples: 640 });
    expect(json.maxAbsDiff).toBeLessThan(1e-5);
    expect(json.accuracyBefore).toBeLessThan(0.3);
    expect(json.accuracyAfter).toBeGreaterThan(json.accuracyBefore + 0.3);
    expect(Math.abs(json.ortAccuracy - json.accuracyAfter)).toBeLessThanOrEqual(0.001);
  }, 120_000);
});
