import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root, runExample } from "./run";

const ARGS = ["--dataset", "mnist-sample", "--epochs", "1", "--train-size", "2000", "--lr", "0.05"];
const hasMpi =
  spawnSync("mpirun", ["--version"]).status === 0 &&
  existsSync(join(root, "packages/distributed-mpi/build/Release/cinder_mpi.node"));

/** One run on the threads backend, shared by the tests. */
let threads: ReturnType<typeof runExample> | undefined;
const threadsRun = () => {
  threads ??= runExample("mnist-ddp", ["--backend", "threads", "--nproc", "2", ...ARGS]);
  return threads;
};

describe("mnist-ddp (DistributedDataParallel + DistributedSampler on the threads backend)", () => {
  it("trains on 2 ranks and reports worldSize, accuracy and throughput", () => {
    const { json, stdout } = threadsRun();
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

  // the same program under mpirun (its addon built): the same training, so the same accuracy as the threads backend
  it.skipIf(!hasMpi)("trains the same under mpirun -np 2 --backend mpi", () => {
    const mpi = spawnSync(
      "mpirun",
      [
        ...["--allow-run-as-root", "--oversubscribe", "--mca", "plm", "isolated", "--mca", "btl", "self,tcp"],
        ...["--mca", "btl_tcp_if_include", "lo", "-np", "2", process.execPath, "--conditions=@cinder/source"],
        ...["--import", "tsx", "examples/mnist-ddp.ts", "--backend", "mpi", ...ARGS],
      ],
      { cwd: root, encoding: "utf8", timeout: 120_000 },
    );
    expect(mpi.status, mpi.stderr).toBe(0);
    const json = JSON.parse(mpi.stdout.trim().split("\n").at(-1) as string);
    expect(json).toMatchObject({ example: "mnist-ddp", backend: "mpi", worldSize: 2 });
    expect(json.testAccuracy).toBe(threadsRun().json.testAccuracy);
  });
});
