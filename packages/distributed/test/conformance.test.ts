import { describe, expect, it } from "vitest";
import { type ConformanceReport, spawnRanks } from "../src/index";

const RANKS = new URL("./ranks.ts", import.meta.url).href;

describe("the threads backend passes the backend conformance check", () => {
  for (const [nproc, slotBytes] of [
    [1, 1 << 20],
    [2, 4096],
    [3, 1 << 16],
  ] as const) {
    it(`${nproc} rank(s), ${slotBytes}-byte slots (every size but 1 crosses chunks)`, async () => {
      const reports = (await spawnRanks(
        nproc,
        { kind: "call", module: RANKS, export: "conformance", data: { sizes: [1, 7, 1000, 5003] } },
        { slotBytes },
      )) as ConformanceReport[];
      for (const r of reports) {
        expect(r.failures).toEqual([]);
        expect(r.checks).toBeGreaterThan(100);
      }
    });
  }
});

describe("the conformance check looks at the optional members", () => {
  it("reports a transport whose receives are off by one and whose subgroups miss a member", async () => {
    const reports = (await spawnRanks(3, {
      kind: "call",
      module: RANKS,
      export: "brokenConformance",
      data: {},
    })) as ConformanceReport[];
    const all = reports.flatMap((r) => r.failures).join("\n");
    expect(all).toMatch(/broken rank 1: send\/recv\(float32\[7\]\) from rank 0: element 0 is/);
    expect(all).toMatch(/broken rank 0: recv from any rank/);
    expect(all).toMatch(/broken rank 2: newGroup\(\[0,2\]\) returned null/);
    // the world's collectives are right (the broken subgroup's all-reduce is not)
    const collectives = /^broken rank \d: (allReduce|broadcast|allGather|reduceScatter|gather|scatter)\(/;
    expect(all.split("\n").filter((l) => collectives.test(l) && !l.includes("newGroup"))).toEqual([]);
  });
});
