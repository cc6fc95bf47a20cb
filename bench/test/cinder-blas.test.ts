/**
 * The cinder-blas column: its products run on OpenBLAS (the provider's counter moves) and the cinder column's stay
 * on Cinder's own GEMM, though both share the process; both agree with each other within the guard's tolerance.
 */
import { cpu, gemmProvider, gemmProviderStats } from "@cinder/backend-cpu";
import { registerBackend } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { CinderPeer, createBlasPeer } from "../src/peers/cinder";
import { checkTask, makeInputs, mismatch, TASKS, tolerance } from "../src/tasks";

registerBackend(cpu);

describe("the cinder-blas column", () => {
  it("runs its products on OpenBLAS, the cinder column on Cinder's GEMM, with the same results", async () => {
    const blas = await createBlasPeer();
    if (typeof blas === "string") throw new Error(blas);
    expect(blas.id).toBe("cinder_blas");
    expect(blas.notes.join()).toMatch(/OpenBLAS/);
    expect(gemmProvider()).toBeNull(); // creating the column leaves the process on Cinder's GEMM
    const task = TASKS.find((t) => t.id === "matmul-256");
    if (!task) throw new Error("no matmul-256 task");
    const small = checkTask(task);
    const inputs = makeInputs(small);
    const plain = new CinderPeer("cpu");
    const n0 = gemmProviderStats().products;
    const own = await plain.check(small, inputs);
    expect(gemmProviderStats().products).toBe(n0);
    const viaBlas = await blas.check(small, inputs);
    expect(gemmProviderStats().products).toBe(n0 + 1);
    const [atol, rtol] = tolerance(task);
    expect(mismatch(viaBlas, own, atol, rtol)).toBeLessThanOrEqual(1);
    await plain.check(small, inputs);
    expect(gemmProviderStats().products).toBe(n0 + 1);
  });
});
