/**
 * DistributedSampler against PyTorch 1.13 (fixtures/distributed-sampler.json, from
 * scripts/fixtures/distributed_sampler.py): identical unshuffled index lists for every length, world size, rank
 * and dropLast; shuffled lists of the same length that, over the ranks, cover one permutation (plus padding) and
 * change with the epoch.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DistributedSampler } from "../src/index";

interface Case {
  n: number;
  numReplicas: number;
  rank: number;
  dropLast: boolean;
  indices: number[];
  numSamples: number;
  totalSize: number;
  shuffledLength: number;
}
const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/distributed-sampler.json", import.meta.url), "utf8"),
) as {
  cases: Case[];
  errors: { numReplicas: number; rank: number; message: string }[];
};

describe("DistributedSampler", () => {
  it("gives PyTorch's unshuffled index lists, lengths and total sizes (300 cases)", () => {
    for (const c of fixture.cases) {
      const s = new DistributedSampler(c.n, c.numReplicas, c.rank, { shuffle: false, dropLast: c.dropLast });
      expect([...s], JSON.stringify(c)).toEqual(c.indices);
      expect(s.length).toBe(c.numSamples);
      expect(s.totalSize).toBe(c.totalSize);
      const sh = new DistributedSampler(c.n, {
        numReplicas: c.numReplicas,
        rank: c.rank,
        seed: 3,
        dropLast: c.dropLast,
      });
      sh.setEpoch(1);
      expect([...sh].length).toBe(c.shuffledLength);
    }
  });

  it("shuffles one permutation per epoch, shared by the ranks (seed + epoch)", () => {
    const n = 10;
    const lists = (epoch: number) =>
      [0, 1, 2].map((rank) => {
        const s = new DistributedSampler({ length: n }, { numReplicas: 3, rank, seed: 7 });
        s.setEpoch(epoch);
        return [...s];
      });
    const e0 = lists(0);
    // 10 indices over 3 ranks: 4 each, the permutation's first two repeated as padding
    const interleaved = [0, 1, 2, 3].flatMap((i) => e0.map((l) => l[i]));
    expect(new Set(interleaved.slice(0, n)).size).toBe(n);
    expect(interleaved.slice(n)).toEqual(interleaved.slice(0, 2));
    expect(lists(0)).toEqual(e0);
    expect(lists(1)).not.toEqual(e0);
  });

  it("throws PyTorch's errors for a bad rank, and names what is missing without a process group", () => {
    for (const e of fixture.errors)
      expect(() => new DistributedSampler(4, e.numReplicas, e.rank)).toThrow(e.message);
    expect(() => new DistributedSampler(4)).toThrow(/numReplicas not given and no default process group/);
    expect(() => new DistributedSampler(4, 2, 0, { shufle: true } as never)).toThrow(/shufle/);
    expect(() => new DistributedSampler(4, 2, 0, true, 0, false, 1 as never)).toThrow();
  });
});
