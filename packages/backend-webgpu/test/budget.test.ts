/**
 * The memory budget's policy (budget.ts), without a device: when a read reclaims, how the threshold follows what
 * the program holds, and the limit's error.
 */
import { describe, expect, it } from "vitest";
import { MemoryBudget } from "../src/budget";

describe("MemoryBudget", () => {
  it("reclaims only past the budget, and then not again until what is held has grown by half", async () => {
    const b = new MemoryBudget({ memoryBudgetBytes: 1000 });
    let live = 900;
    await b.settle(() => live);
    expect(b.reclaims).toBe(0);
    live = 1200; // past the budget: a reclaim, which frees nothing (the program holds it)
    await b.settle(() => live);
    expect(b.reclaims).toBe(1);
    live = 1700; // below 1.5 x 1200: no collection on every read
    await b.settle(() => live);
    expect(b.reclaims).toBe(1);
    live = 1900; // past it: reclaim again
    await b.settle(() => live);
    expect(b.reclaims).toBe(2);
    live = 500; // back under the budget: the threshold is the budget again
    await b.settle(() => live);
    live = 1100;
    await b.settle(() => live);
    expect(b.reclaims).toBe(3);
  });

  it("lets finalisers run during a reclaim: what they free counts", async () => {
    const b = new MemoryBudget({ memoryBudgetBytes: 1000 });
    let live = 5000;
    setTimeout(() => {
      live = 100; // a finaliser freeing what nobody referenced
    }, 0);
    await b.settle(() => live);
    expect(b.reclaims).toBe(1);
    live = 1100; // the threshold re-aimed at the budget, not at 1.5 x 5000
    await b.settle(() => live);
    expect(b.reclaims).toBe(2);
  });

  it("an allocation past the limit throws, naming what is held and the idiom", () => {
    const b = new MemoryBudget({ memoryLimitBytes: 4096 });
    expect(() => b.admit(1024, 2048, 3)).not.toThrow();
    expect(() => b.admit(4096, 2048, 3)).toThrow(
      "webgpu: out of memory: allocating 4096 bytes would pass the memory limit of 4096 bytes (2048 bytes held in 3 live buffers); tensors are freed when disposed",
    );
    expect(() => b.admit(4096, 2048, 3)).toThrow(/torch\.tidy\(\(\) => \.\.\.\).*`using`.*t\.dispose\(\)/);
  });
});
