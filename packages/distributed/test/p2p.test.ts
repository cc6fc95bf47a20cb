/**
 * Point to point (`send`, `recv`, `isend`, `irecv`, `batchIsendIrecv`), subgroups (`newGroup`) and the flat-tensor
 * collectives on the threads backend, with their failures: a rank that never sends, a wrong size or tag; argument
 * errors and the zero-copy staging of contiguous CPU tensors on one rank.
 */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as dist from "../src/index";
import { staging } from "../src/staging";

const RANKS = new URL("./p2p-ranks.ts", import.meta.url).href;
const call = (n: number, name: string, data: unknown = {}, slotBytes?: number) =>
  dist.spawnRanks(n, { kind: "call", module: RANKS, export: name, data }, { slotBytes });

/** The per-rank error messages of a failed spawn. */
async function failures(n: number, name: string): Promise<Map<number, string>> {
  try {
    await call(n, name);
  } catch (e) {
    const errors = (e as { errors: { rank: number; error: Error }[] }).errors;
    return new Map(errors.map((f) => [f.rank, f.error.message]));
  }
  throw new Error(`${name}: expected a failure`);
}

describe("point to point and subgroups, threads backend", () => {
  for (const n of [2, 3])
    it(`send/recv/isend/irecv/batchIsendIrecv (every dtype, past a chunk), newGroup, flat collectives, on ${n} ranks`, async () => {
      // 4 KB slots: channels of about 1-2 KB, so 1000 elements go in several chunks
      const res = (await call(n, "p2p", { sizes: [0, 1, 1000] }, 4096)) as string[][];
      expect(res.flat()).toEqual([]);
    });

  it("a rank that never sends makes recv time out naming it", async () => {
    const ranks = await failures(2, "neverSends");
    expect(ranks.get(0)).toMatch(
      /recv on rank 0 from rank 1 \(4 float32 elements, tag 0\) timed out after 300 ms waiting for rank 1 to send/,
    );
  });

  it("a rank that returns without sending fails the receiver at once", async () => {
    const ranks = await failures(2, "returnsWithoutSending");
    expect(ranks.get(0)).toMatch(
      /recv on rank 0 from rank 1 .* failed: rank 1 finished its job without sending/,
    );
  });

  it("a message of another size fails naming both; a receive for a tag never sent times out naming what came", async () => {
    expect((await failures(2, "wrongSize")).get(0)).toMatch(
      /rank 1 sent 6 float32 elements \(tag 0\), but the receiving tensor holds 4 float32 elements/,
    );
    expect((await failures(2, "wrongTag")).get(0)).toMatch(
      /recv on rank 0 from rank 1 \(4 float32 elements, tag 3\) timed out after 300 ms waiting for rank 1 to send \(not received: rank 1 sent 4 float32 elements with tag 5\)/,
    );
  });
});

describe("point to point and subgroup arguments (one rank)", () => {
  beforeAll(async () => {
    if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
    await dist.initProcessGroup("threads", { worldSize: 1, rank: 0 });
  });
  afterAll(() => dist.destroyProcessGroup());

  it("reject a peer that is this rank or outside the world, bad tags, ops that are not isend/irecv", () => {
    const t = torch.zeros([3]);
    expect(() => dist.send(t, 0)).toThrow(/dst = 0 is this rank/);
    expect(() => dist.recv(t, 3)).toThrow(/src must be a rank in \[0, 1\), got 3/);
    expect(() => dist.send(t, 1, null, -1)).toThrow(/tag/);
    expect(() => new dist.P2POp(dist.send, t, 0)).toThrow(/dist.isend or dist.irecv/);
    expect(() => dist.batchIsendIrecv([])).toThrow(/P2POp/);
    expect(() => dist.isend(t, 0, { tagg: 1 } as never)).toThrow(/tagg/);
  });

  it("newGroup checks its ranks; a group of a destroyed default group is refused", async () => {
    expect(() => dist.newGroup([0, 1])).toThrow(/ranks are more than the world size 1/);
    expect(() => dist.newGroup([2])).toThrow(/ranks must be in \[0, 1\), got 2/);
    expect(() => dist.newGroup([0], null, "mpi")).toThrow(
      /default group's backend "threads", got backend "mpi"/,
    );
    const g = dist.newGroup([0]);
    expect([
      dist.getRank(g),
      dist.getWorldSize(g),
      dist.getGroupRank(g, 0),
      dist.getGlobalRank(g, 0),
    ]).toEqual([0, 1, 0, 0]);
    expect(() => dist.getGlobalRank(g, 1)).toThrow(/group rank 1 is not part of the group of ranks \[0\]/);
    dist.destroyProcessGroup();
    await dist.initProcessGroup("threads", { worldSize: 1, rank: 0 });
    expect(() => dist.allReduce(torch.ones([2]), "sum", g)).toThrow(
      /belongs to a process group that was destroyed/,
    );
  });

  it("allGatherIntoTensor/reduceScatterTensor check sizes and dtypes", () => {
    expect(() => dist.allGatherIntoTensor(torch.zeros([3]), torch.zeros([2]))).toThrow(
      /outputTensor must hold worldSize \(1\) x 2 = 2 elements, got 3/,
    );
    expect(() => dist.reduceScatterTensor(torch.zeros([2]), torch.zeros([2], { dtype: "int32" }))).toThrow(
      /input has dtype int32, expected output's dtype float32/,
    );
  });

  it("contiguous CPU tensors go as views of their storage (no copies), others through a copy, with equal results", () => {
    for (const useDirect of [true, false]) {
      staging.useDirect = useDirect;
      const before = { ...staging };
      const t = torch.arange(6, { dtype: "float32" }).reshape(2, 3);
      const v0 = t.version;
      dist.allReduce(t, "avg");
      const strided = torch.arange(6, { dtype: "float32" }).reshape(2, 3).t();
      dist.allReduce(strided);
      expect(Array.from(t.data())).toEqual([0, 1, 2, 3, 4, 5]);
      expect(t.version).toBeGreaterThan(v0); // written in place, as PyTorch's collectives
      expect(Array.from(strided.contiguous().data())).toEqual([0, 3, 1, 4, 2, 5]);
      expect(staging.direct - before.direct).toBe(useDirect ? 1 : 0);
      expect(staging.copied - before.copied).toBe(useDirect ? 1 : 2);
    }
    staging.useDirect = true;
  });
});
