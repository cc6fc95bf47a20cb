import { expect, it } from "vitest";
import { spawnRanks } from "../src/index";

const RANKS = new URL("./ranks.ts", import.meta.url).href;

it("smoke", async () => {
  const res = await spawnRanks(2, { kind: "call", module: RANKS, export: "smoke", data: {} });
  expect(res).toEqual([
    [3, 6, 9],
    [3, 6, 9],
  ]);
});
