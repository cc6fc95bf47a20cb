/**
 * The "mpi" backend on 2 ranks under mpirun (loopback only): each launch runs many checks, since starting mpirun
 * and Node costs seconds. Skipped without Open MPI, except in CI (where scripts/setup.sh installs it).
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { SWIFTSHADER_ICD } from "../../../scripts/webgpu/swiftshader-env.mjs";
import { buildAddon, hasMpirun, mpirun } from "./mpirun";

const available = hasMpirun();
const inCI = !!process.env.CI && process.env.CI !== "false";

// each launch takes 2-10 s; a busy machine may take several times that
describe.skipIf(!available && !inCI)("under mpirun -np 2", { timeout: 150_000 }, () => {
  beforeAll(buildAddon);

  it("every collective, dtype and op matches the reference bit for bit (1 element to 64 MB), async works and timeouts", () => {
    const run = mpirun("collectives.ts");
    expect(run.status, run.stderr).toBe(0);
    expect(run.json.map((r) => r.rank).sort()).toEqual([0, 1]);
    for (const r of run.json) {
      expect(r.failures, `rank ${r.rank}`).toEqual([]);
      expect(r.worldSize).toBe(2);
      expect(r.checks).toBeGreaterThan(250);
      expect(r.library).toMatch(/Open MPI/);
    }
  });

  it("on 3 ranks too, where floating sums and products are combined in rank order (non-commutative MPI ops)", () => {
    const run = mpirun("collectives.ts", { np: 3, env: { CINDER_MPI_TEST_QUICK: "1" } });
    expect(run.status, run.stderr).toBe(0);
    expect(run.json.map((r) => r.rank).sort()).toEqual([0, 1, 2]);
    for (const r of run.json) {
      expect(r.failures, `rank ${r.rank}`).toEqual([]);
      expect(r.worldSize).toBe(3);
      expect(r.checks).toBeGreaterThan(150);
    }
  });

  it("@cinder/distributed on the mpi backend: its conformance check, the tensor collectives, WebGPU tensors", () => {
    const run = mpirun("process-group.ts");
    expect(run.status, run.stderr).toBe(0);
    expect(run.json.map((r) => r.rank).sort()).toEqual([0, 1]);
    for (const r of run.json) {
      expect(r.failures, `rank ${r.rank}`).toEqual([]);
      expect(r.checks).toBeGreaterThan(300);
      // Dawn on SwiftShader wherever chromium is installed (CI's setup installs it)
      if (existsSync(SWIFTSHADER_ICD)) expect(r.webgpuChecked).toBe(true);
    }
  });

  it("send/recv/isend/irecv/batchIsendIrecv, newGroup (a non-member rank), flat collectives on 3 ranks; a recv from a rank that never sends times out naming it", () => {
    const run = mpirun("p2p.ts", { np: 3 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.json.map((r) => r.rank).sort()).toEqual([0, 1, 2]);
    for (const r of run.json) expect(r.failures, `rank ${r.rank}`).toEqual([]);
    expect(run.json.find((r) => r.rank === 0)?.timeoutError).toMatch(
      /recv from rank 1 of Float32Array\[4\] \(tag 9\) on rank 0 of 3 timed out after 300 ms waiting for the sender; the receive was cancelled/,
    );
    expect(run.json.find((r) => r.rank === 0)?.sizeErrors).toEqual([
      expect.stringMatching(
        /recv from rank 1 of Float32Array\[4\] \(tag 11\): rank 1 sent 2 elements, but the receiving array holds 4/,
      ),
      expect.stringMatching(
        /recv from rank 1 of Float32Array\[4\] \(tag 12\) on rank 0 of 3 failed: .*truncat/i,
      ),
    ]);
    // PyTorch's warning on the rank outside the subgroup
    expect(run.stderr).toMatch(
      /Running all_reduce on global rank 1 which does not belong to the given group/,
    );
  });

  it("DistributedDataParallel: 2 ranks x batch B = 1 process x batch 2B after 50 steps (float32 tolerance)", () => {
    const run = mpirun("ddp.ts");
    expect(run.status, run.stderr).toBe(0);
    expect(run.json.map((r) => r.rank).sort()).toEqual([0, 1]);
    for (const r of run.json) {
      expect(r.steps).toBe(50);
      expect(r.ranksAgree).toBe(true);
      expect(r.maxParam).toBeGreaterThan(0.05);
      expect(r.maxDiff).toBeLessThan(1e-5);
    }
  });

  it("examples/mnist-ddp.ts --backend mpi trains on 2 ranks and reports worldSize, accuracy and throughput", () => {
    const example = fileURLToPath(new URL("../../../examples/mnist-ddp.ts", import.meta.url));
    const args = ["--backend", "mpi", "--dataset", "mnist-sample", "--epochs", "1", "--train-size", "2000"];
    const run = mpirun(example, { args: [...args, "--lr", "0.05"] });
    expect(run.status, run.stderr).toBe(0);
    expect(run.json).toHaveLength(1); // rank 0 reports
    expect(run.json[0]).toMatchObject({
      example: "mnist-ddp",
      backend: "mpi",
      worldSize: 2,
      trainSamples: 2000,
    });
    expect(run.json[0].testAccuracy).toBeGreaterThan(0.75);
  });

  it("the README's example prints what the README says", () => {
    const run = mpirun("readme-example.ts");
    expect(run.status, run.stderr).toBe(0);
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const printed = /```text\n([^`]*)```/.exec(readme)?.[1];
    expect(run.stdout).toBe(printed);
  });

  it("a rank that throws ends the job with its error instead of leaving the others waiting", () => {
    const run = mpirun("failing-rank.ts");
    expect(run.signal).toBeNull(); // mpirun ended by itself, long before the 120 s limit
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("rank 1 fails on purpose");
    expect(run.stdout).not.toContain("rank 0 finished");
  });
});
