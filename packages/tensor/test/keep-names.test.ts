/**
 * Cinder is built (tsup) and run from sources (tsx) with esbuild's keepNames, which wraps every closure bound to a
 * name (`backward: (g) => ...`, `const f = () => ...`) in a `__name()` call: a defineProperty each time the closure
 * is made. In the per-op paths of the elementwise and view ops that cost a third of a small op with requiresGrad,
 * so those paths make their closures through functions that return them; this checks that they stay free of it.
 */
import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";

/** Per-op functions by source file. */
const PER_OP: Record<string, string[]> = {
  "ops/elementwise.ts": ["runUnaryOp", "runBinaryOp", "savedTensors", "saves", "where"],
  "ops/view.ts": ["viewOf", "cloneImpl"],
  "ops/reduce.ts": [
    "sumImpl",
    "meanImpl",
    "softmaxImpl",
    "prodImpl",
    "maxMin",
    "varImpl",
    "logsumexpImpl",
    "amaxAmin",
    "cumsumImpl",
    "cumprodImpl",
  ],
  "ops/linalg.ts": ["product", "dotImpl", "mvImpl"],
  "fusion.ts": ["lower"],
};

/** The source of the top-level function `name` in esbuild's output (up to the next top-level statement). */
function body(code: string, name: string): string {
  const start = code.search(new RegExp(`^function ${name}\\(`, "m"));
  if (start < 0) throw new Error(`function ${name} not found`);
  const rest = code.slice(start);
  const end = rest.search(/\n__name\(/);
  return rest.slice(0, end < 0 ? undefined : end);
}

describe("per-op paths under esbuild's keepNames", () => {
  for (const [file, names] of Object.entries(PER_OP)) {
    const src = readFileSync(new URL(`../src/${file}`, import.meta.url), "utf8");
    const { code } = transformSync(src, { loader: "ts", keepNames: true, format: "esm", target: "es2022" });
    for (const name of names) {
      it(`${file}: ${name} names no closure per call`, () => {
        expect(body(code, name)).not.toContain("__name(");
      });
    }
  }

  it("the check sees inline closures (keepNames wraps them)", () => {
    const inline = transformSync("function f(g) { return { backward: (x) => g(x) }; }", {
      loader: "ts",
      keepNames: true,
    }).code;
    expect(body(inline, "f")).toContain("__name(");
  });
});
