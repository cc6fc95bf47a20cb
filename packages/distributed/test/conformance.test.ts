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
