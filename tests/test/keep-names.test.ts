/**
 * Cinder is built (tsup) and run from sources (tsx) with esbuild's keepNames, which wraps every closure bound to a
 * name (`backward: (g) => ...`, `const f = () => ...`) in a `__name()` call: a defineProperty each time the closure
 * is made. In the per-op and per-call paths that cost a third of a small op with requiresGrad (issue 11), so those
 * paths make their closures through functions that return them (or avoid them); this checks that they stay free of
 * it, file by file.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

/** Per-op and per-call functions by source file (relative to packages/). */
const HOT: Record<string, string[]> = {
  "tensor/src/ops/elementwise.ts": ["runUnaryOp", "runBinaryOp", "savedTensors", "saves", "where"],
  "tensor/src/ops/view.ts": ["viewOf", "cloneImpl"],
  "tensor/src/ops/reduce.ts": [
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
  "tensor/src/ops/linalg.ts": ["product", "dotImpl", "mvImpl"],
  "tensor/src/fusion.ts": ["lower"],
  "backend-cpu/src/codegen.ts": ["runLoop", "kernelFor", "denseOver", "broadcastOver", "numel"],
  "backend-cpu/src/elementwise.ts": ["unary", "binary", "copy", "fill", "specOf"],
  "backend-cpu/src/fused.ts": ["elementwise", "binaryWasm", "unaryWasm", "copyWasm", "whereWasm"],
  "backend-cpu/src/wasm/fused-wasm.ts": ["elementwiseWasm", "gather", "slotOf"],
  "backend-cpu/src/wasm/render-wasm.ts": ["constSlots", "collectConsts"],
  "nn/src/functional/loss.ts": ["fusedCrossEntropy", "bceImpl", "bceWithLogitsImpl"],
  "nn/src/functional/linear.ts": ["embeddingImpl"],
};

const keepNames = (src: string) =>
  transformSync(src, { loader: "ts", keepNames: true, format: "esm", target: "es2022" }).code;

/** The source of the top-level function `name` in esbuild's output (up to the next top-level statement). */
function body(code: string, name: string): string {
  const start = code.search(new RegExp(`^(export )?function ${name}\\(`, "m"));
  if (start < 0) throw new Error(`function ${name} not found`);
  const rest = code.slice(start + 1);
  const end = rest.search(/\n(__name\(|(export )?(async )?function |const |let |class )/);
  return rest.slice(0, end < 0 ? undefined : end);
}

describe("hot paths under esbuild's keepNames", () => {
  for (const [file, names] of Object.entries(HOT)) {
    const code = keepNames(readFileSync(join(root, "packages", file), "utf8"));
    for (const name of names) {
      it(`${file}: ${name} names no closure per call`, () => {
        expect(body(code, name)).not.toContain("__name(");
      });
    }
  }

  it("the check sees inline closures (keepNames wraps them)", () => {
    expect(body(keepNames("function f(g) { return { backward: (x) => g(x) }; }"), "f")).toContain("__name(");
  });
});
