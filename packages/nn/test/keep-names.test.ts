/**
 * The per-step loss and linear paths make their derivative closures through functions returning them: esbuild's
 * keepNames (tsup's build, tsx) wraps an inline closure bound to a name (`backward: (g) => ...`) in `__name()`, a
 * defineProperty each time it is made. See packages/tensor/test/keep-names.test.ts.
 */
import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";

const PER_OP: Record<string, string[]> = {
  "functional/loss.ts": ["fusedCrossEntropy", "bceImpl", "bceWithLogitsImpl"],
  "functional/linear.ts": ["embeddingImpl"],
};

/** The source of the top-level function `name` in esbuild's output (up to the next top-level statement). */
function body(code: string, name: string): string {
  const start = code.search(new RegExp(`^function ${name}\\(`, "m"));
  if (start < 0) throw new Error(`function ${name} not found`);
  const rest = code.slice(start);
  const end = rest.search(/\n(__name\(|function |const |class )/);
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
});
