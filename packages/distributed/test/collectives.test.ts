/**
 * The tensor collectives on the threads backend: every dtype, sizes from 1 element past a chunk, non-contiguous
 * tensors, asyncOp; one 64 MB all-reduce; a throwing, a late and a disagreeing rank fail every rank with a
 * clear error; argument errors on one rank.
 */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as dist from "../src/index";

const RANKS = new URL("./collective-ranks.ts", import.meta.url).href;
const call = (n: number, name: string, data: unknown = {}, slotBytes?: number) =>
  dist.spawnRanks(n, { kind: "call", module: RANKS, export: name, data }, { slotBytes });

/** The per-rank errors of a failed spawn. */
async function failures(
  n: number,
  name: string,
): Promise<{ error: dist.DistributedError; ranks: Map<number, string> }> {
  try {
    await call(n, name);
  } catch (e) {
    const errors = (e as { errors: { rank: number; error: Error }[] }).errors;
    return {
      error: e as dist.DistributedError,
      ranks: new Map(errors.map((f) => [f.rank, f.error.message])),
    };
  }
  throw new Error(`${name}: expected a failure`);
}

describe("tensor collectives, threads backend", () => {
  for (const n of [2, 3])
    it(`match the references for every dtype, size (1 .. past a chunk), layout and op, on ${n} ranks`, async () => {
      const sizes: [number, number][] = [
        [1, 1],
        [3, 5],
        [40, 70],
      ];
      const res = (await call(n, "collectives", { sizes }, 4096)) as string[][];
      expect(res.flat()).toEqual([]);
    });

  it("give the same answers through copies (the fallback of the zero-copy staging of contiguous CPU tensors)", async () => {
    const sizes: [number, number][] = [[3, 5]];
    const res = (await call(2, "collectives", { sizes, direct: false }, 4096)) as string[][];
    expect(res.flat()).toEqual([]);
  });

  it("all-reduce 64 MB of float32 over 2 ranks", async () => {
    expect(await call(2, "big", { mb: 64 })).toEqual([true, true]);
  });

  it("a rank that throws fails the others with its error, not a hang", async () => {
    const { error, ranks } = await failures(2, "throws");
    expect(error.rank).toBe(1);
    expect(error.message).toMatch(/rank 1 of 2 failed: Error: boom in rank 1/);
    expect(ranks.get(0)).toMatch(
      /allReduce on rank 0 failed: rank 1 aborted the group: rank 1 failed: Error: boom in rank 1/,
    );
  });

  it("a late rank makes the waiting one time out naming it, and then fails itself", async () => {
    const { ranks } = await failures(2, "late");
    expect(ranks.get(0)).toMatch(/allReduce on rank 0 timed out after 300 ms waiting for rank\(s\) 1/);
    expect(ranks.get(1)).toMatch(/rank 0 aborted the group/);
  });

  it("a rank that returns without joining a collective fails the one waiting for it at once", async () => {
    const { error, ranks } = await failures(2, "early");
    expect(error.rank).toBe(0);
    expect(ranks.get(0)).toMatch(
      /allReduce on rank 0 failed: rank 1 has finished its job without joining this collective/,
    );
  });

  it("ranks that disagree on a collective fail instead of mixing data", async () => {
    const { ranks } = await failures(2, "mismatch");
    for (const r of [0, 1])
      expect(ranks.get(r)).toMatch(
        /ranks disagree.*rank 0 called allReduce\(10 float32.*rank 1 called allReduce\(20 float32/,
      );
  });
});

describe("collective arguments (one rank)", () => {
  beforeAll(async () => {
    if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
    await dist.initProcessGroup("threads", { worldSize: 1, rank: 0 });
  });
  afterAll(() => dist.destroyProcessGroup());

  it("take PyTorch's positional and keyword forms", () => {
    const t = torch.tensor([1, 2, 3], { dtype: "float32" });
    expect(dist.allReduce(t, dist.ReduceOp.MAX, null, false)).toBeUndefined();
    const work = dist.allReduce(t, { op: "avg", asyncOp: true }) as dist.Work;
    work.wait();
    expect(work.isCompleted()).toBe(true);
    expect(Array.from(t.data())).toEqual([1, 2, 3]);
    expect(dist.getRank()).toBe(0);
    expect(dist.getWorldSize(dist.group.WORLD)).toBe(1);
    expect(dist.getBackend()).toBe("threads");
    expect(dist.isInitialized()).toBe(true);
    expect(dist.isAvailable()).toBe(true);
  });

  it("keep an async call's storage referenced until it completes (the buffer pool cannot hand it out)", () => {
    const t = torch.randn(1000);
    const work = dist.allReduce(t, { op: "sum", asyncOp: true }) as dist.Work;
    const recycled = torch.bufferPoolStats().recycled;
    t.dispose();
    expect(torch.bufferPoolStats().recycled).toBe(recycled);
    expect(() => work.wait()).toThrow(/disposed/); // the write-back needs the tensor
    expect(torch.bufferPoolStats().recycled).toBe(recycled + 1);
  });

  it("reject wrong arguments with clear errors", () => {
    const t = torch.tensor([1, 2, 3]);
    expect(() => dist.allReduce(t, "mean" as never)).toThrow(/op/);
    expect(() => dist.allReduce(t, { opp: "sum" } as never)).toThrow(/opp/);
    expect(() => dist.allReduce([1, 2] as never)).toThrow(/Tensor/);
    expect(() => dist.allReduce(t, "avg")).toThrow(/AVG needs a floating-point tensor, got dtype int64/);
    expect(() => dist.broadcast(t, 1)).toThrow(/src must be a rank in \[0, 1\), got 1/);
    expect(() => dist.allGather([t, t], t)).toThrow(/tensorList must hold worldSize = 1 tensors, got 2/);
    expect(() => dist.allGather([torch.zeros([2], { dtype: "int64" })], t)).toThrow(
      /has 2 elements.*expected 3/,
    );
    expect(() => dist.gather(t)).toThrow(/rank 0 is dst and needs a gatherList/);
  });

  it("int64 (BatchNorm's numBatchesTracked, labels): exact past 2^31; a sum or product that could pass 2^53 - 1 refused", () => {
    const t = torch.tensor([2 ** 40, -3]);
    dist.broadcast(t, 0);
    expect(t.dtype).toBe("int64");
    expect(t.toArray()).toEqual([2 ** 40, -3]);
    dist.allReduce(t, "max");
    expect(t.toArray()).toEqual([2 ** 40, -3]);
    const out = [torch.zeros([2], { dtype: "int64" })];
    dist.allGather(out, t);
    expect(out[0].toArray()).toEqual([2 ** 40, -3]);
    dist.allReduce(t, "sum");
    expect(t.toArray()).toEqual([2 ** 40, -3]);
    dist.allReduce(t, "product");
    expect(t.toArray()).toEqual([2 ** 40, -3]);
    const big = torch.tensor([2 ** 53 - 1, 1]);
    dist.allReduce(big, "sum"); // one rank: the bound is the value itself
    expect(big.toArray()).toEqual([2 ** 53 - 1, 1]);
  });

  it("initProcessGroup: keyword form, clear errors for a second group, an unknown backend, bad options", async () => {
    await expect(dist.initProcessGroup("threads")).rejects.toThrow(
      /already initialized \(backend "threads"\)/,
    );
    dist.destroyProcessGroup();
    expect(dist.isInitialized()).toBe(false);
    expect(() => dist.getRank()).toThrow(/not initialized; call initProcessGroup\(\) first/);
    await expect(dist.initProcessGroup("nccl")).rejects.toThrow(/unknown backend "nccl"; available: threads/);
    await expect(dist.initProcessGroup("threads", { worldSize: 2, rank: 0 })).rejects.toThrow(
      /only worldSize 1 works here \(got worldSize 2, rank 0\)/,
    );
    expect(() => dist.initProcessGroup({ backend: "threads", timeout: -1 })).toThrow(/timeout/);
    expect(() => dist.initProcessGroup({ backend: "threads", store: {} } as never)).toThrow(/store/);
    await dist.initProcessGroup({ backend: "threads", worldSize: 1, rank: 0, timeout: 5000 });
    expect(dist.getWorldSize()).toBe(1);
  });
});
