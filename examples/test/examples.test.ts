/**
 * tensor-basics, run as a user runs it (`pnpm example tensor-basics`, a child process), judged by the one
 * JSON line of headline figures it ends with: every check against the values the seeds print must pass.
 */
import { describe, expect, it } from "vitest";
import { runExample } from "./run";

describe("tensor-basics (the seeds' tensor sections)", () => {
  const { json, stdout } = runExample("tensor-basics");

  it("ends with one JSON line in which every check passed", () => {
    expect(json).toMatchObject({ example: "tensor-basics", device: "cpu" });
    expect(json.checks).toBeGreaterThanOrEqual(70);
    expect(json.passed).toBe(json.checks);
    expect(typeof json.ms).toBe("number");
  });

  it("prints like the tutorial", () => {
    expect(stdout).toContain("tensor([[19, 22],\n        [43, 50],\n        [67, 78]])");
    expect(stdout).toContain("tensor([0, 2, 4, 6, 8])");
    expect(stdout).toContain("tensor(4.1667, dtype=torch.float64)");
  });
});
