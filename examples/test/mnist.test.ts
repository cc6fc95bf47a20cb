import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { controlChars } from "./fake";
import { runExample } from "./run";

describe("the MNIST examples (on the shipped sample of real digits)", () => {
  it("mnist-mlp trains, evaluates, saves, reloads to the same accuracy", () => {
    const { json, stdout, stderr } = runExample("mnist-mlp", [
      "--dataset",
      "mnist-sample",
      "--epochs",
      "1",
      "--out",
      ".cache/test-mnist-mlp.safetensors",
    ]);
    expect(json).toMatchObject({
      example: "mnist-mlp",
      dataset: "mnist-sample",
      device: "cpu",
      epochs: 1,
      trainSamples: 8000,
    });
    expect(json.testAccuracy).toBeGreaterThan(0.85);
    expect(json.reloadedAccuracy).toBe(json.testAccuracy);
    expect(json.samplesPerSec).toBeGreaterThan(0);
    expect(stdout).toContain("SimpleNet(\n  (fc1): Linear(in_features=784, out_features=128, bias=True)");
    expect(stdout).toMatch(/MNIST sample: 8,000 train \/ 2,000 test real digits/);
    // progress on stderr, which is a pipe here: plain lines every tenth of the epoch, a loss from the first one
    const progress = stderr.split("\n").filter((l) => l.startsWith("epoch "));
    expect(progress).toHaveLength(10);
    expect(progress[0]).toMatch(
      /^epoch 1\/1 \| batch 13\/125 \(10%\) \| loss \d\.\d{4} \| [\d,.]+ samples\/s [\d,.]+ it\/s \| \d+:\d\d elapsed, ETA \d+:\d\d$/,
    );
    expect(controlChars(stderr)).toEqual([]);
  });

  it("mnist-cnn trains on a subset and reloads to the same accuracy", () => {
    const { json } = runExample("mnist-cnn", [
      "--dataset",
      "mnist-sample",
      "--epochs",
      "1",
      "--train-size",
      "1280",
      "--out",
      ".cache/test-mnist-cnn.safetensors",
    ]);
    expect(json).toMatchObject({ example: "mnist-cnn", trainSamples: 1280 });
    expect(json.testAccuracy).toBeGreaterThan(0.6);
    expect(json.reloadedAccuracy).toBe(json.testAccuracy);
  }, 300_000);
});

const swiftshader = existsSync("/usr/lib/chromium/vk_swiftshader_icd.json");

describe.skipIf(!swiftshader)("mnist-mlp on WebGPU (SwiftShader here: a CPU Vulkan driver)", () => {
  it("trains to the CPU run's accuracy (within one point) and says device webgpu", () => {
    const args = ["--dataset", "mnist-sample", "--epochs", "1", "--train-size", "1280"];
    const cpu = runExample("mnist-mlp", [...args, "--out", ".cache/test-mlp-cpu.safetensors"]).json;
    const gpu = runExample("mnist-mlp", [
      ...args,
      "--device",
      "webgpu",
      "--out",
      ".cache/test-mlp-gpu.safetensors",
    ]).json;
    expect(gpu.device).toBe("webgpu");
    expect(gpu.adapter).toBeTruthy();
    expect(Math.abs(gpu.testAccuracy - cpu.testAccuracy)).toBeLessThanOrEqual(0.01);
    expect(gpu.reloadedAccuracy).toBe(gpu.testAccuracy);
  }, 300_000);
});
