/**
 * DistributedDataParallel on the threads backend: 2 ranks x batch B train to the same parameters as 1 rank x batch 2B
 * (50 steps), with one bucket or many, and with gradient accumulation under noSync; state dict keys; unused
 * parameters.
 */
import { describe, expect, it } from "vitest";
import { spawnRanks } from "../src/index";
import type { TrainArgs } from "./ddp-ranks";

const RANKS = new URL("./ddp-ranks.ts", import.meta.url).href;
type Trained = { params: number[][]; spareGrad: boolean; buckets: string[][]; keys: string[] };
const train = (n: number, data: TrainArgs) =>
  spawnRanks(n, { kind: "call", module: RANKS, export: "train", data }, { timeoutMs: 30_000 }) as Promise<
    Trained[]
  >;

function expectClose(a: number[][], b: number[][], tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (const [i, p] of a.entries())
    for (const [j, v] of p.entries()) worst = Math.max(worst, Math.abs(v - b[i][j]));
  expect(worst).toBeLessThan(tol);
}

/** The reference: 1 rank x batch 16 (trained once, shared by the tests). */
let reference: Promise<Trained> | undefined;
const oneRank = () => {
  reference ??= train(1, { steps: 50, batch: 16 }).then((r) => r[0]);
  return reference;
};

describe("DistributedDataParallel", () => {
  it("2 ranks x batch 8 = 1 rank x batch 16 after 50 steps", async () => {
    const one = await oneRank();
    const two = await train(2, { steps: 50, batch: 16 });
    expect(two[0].params).toEqual(two[1].params); // ranks stay bit-identical
    expect(two.map((r) => r.spareGrad)).toEqual([false, false]); // used by no rank: .grad stays null
    expectClose(two[0].params, one.params, 2e-5);
    expect(two[0].buckets).toEqual([
      ["spare.bias", "spare.weight", "fc2.bias", "fc2.weight", "fc1.bias", "fc1.weight"],
    ]);
    expect(two[0].keys).toEqual([
      "module.fc1.weight",
      "module.fc1.bias",
      "module.fc2.weight",
      "module.fc2.bias",
      "module.spare.weight",
      "module.spare.bias",
    ]);
  });

  it("the same with tiny buckets (one all-reduce per parameter or two)", async () => {
    const small = await train(2, { steps: 50, batch: 16, bucketCapMb: 0.0001 });
    expect(small[0].buckets.length).toBeGreaterThan(3);
    expectClose(small[0].params, (await oneRank()).params, 2e-5);
  });

  it("the same with 2 micro-batches per step, the first under noSync", async () => {
    const acc = await train(2, { steps: 50, batch: 16, accumulate: 2 });
    expectClose(acc[0].params, (await oneRank()).params, 2e-5);
  });

  it("names unused parameters without findUnusedParameters, and reduces around them with it", async () => {
    const without = (await spawnRanks(2, {
      kind: "call",
      module: RANKS,
      export: "unused",
      data: { find: false },
    })) as {
      error: string | null;
    }[];
    expect(without[0].error).toMatch(
      /did not receive gradients: spare.bias, spare.weight.*findUnusedParameters/,
    );
    const withFind = (await spawnRanks(2, {
      kind: "call",
      module: RANKS,
      export: "unused",
      data: { find: true },
    })) as {
      spareGrad: boolean;
      error: string | null;
    }[];
    expect(withFind.map((r) => r.error)).toEqual([null, null]);
    expect(withFind.map((r) => r.spareGrad)).toEqual([true, true]);
  });

  it("broadcasts rank 0's buffers at construction and before every forward (broadcastBuffers)", async () => {
    const [r0, r1] = (await spawnRanks(2, { kind: "call", module: RANKS, export: "buffers", data: {} })) as {
      afterInit: number[];
      afterStep: number[];
      beforeSecond: number[];
    }[];
    expect(r0.afterInit).toEqual([1, 1, 1, 1]);
    expect(r1.afterInit).toEqual(r0.afterInit);
    expect(r1.afterStep).not.toEqual(r0.afterStep); // different data, different statistics
    expect(r1.beforeSecond).toEqual(r0.afterStep); // rank 0's, broadcast before the second forward
  });
});
