import { describe, expect, it } from "vitest";
import { runExample } from "./run";

describe("mnist-ddp (DistributedDataParallel + DistributedSampler on the threads backend)", () => {
  it("trains on 2 ranks and reports worldSize, accuracy and throughput", () => {
    const { json, stdout } = runExample("mnist-ddp", [
      "--backend",
      "threads",
      "--nproc",
      "2",
      "--dataset",
      "mnist-sample",
      "--epochs",
      "1",
      "--train-size",
      "2000",
      "--lr",
      "0.05",
    ]);
    expect(json).toMatchObject({
      example: "mnist-ddp",
      backend: "threads",
      worldSize: 2,
      trainSamples: 2000,
    });
    expect(json.testAccuracy).toBeGreaterThan(0.75);
    expect(json.samplesPerSec).toBeGreaterThan(0);
    expect(stdout).toContain("DistributedDataParallel(\n  (module): SimpleNet(");
    // only rank 0 logs: one epoch line
    expect(stdout.match(/^epoch 1\/1/gm)).toHaveLength(1);
  });
});
