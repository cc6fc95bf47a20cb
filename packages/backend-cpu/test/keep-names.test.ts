/**
 * The per-call functions of the CPU kernels make no named closure: a build with esbuild's keepNames (tsup's and
 * tsx's) wraps each in a `__name()` defineProperty every time it is made (see packages/tensor/test/keep-names.test.ts).
 */
import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";

const PER_CALL: Record<string, string[]> = {
  "codegen.ts": ["runLoop", "kernelFor", "denseOver", "broadcastOver", "numel"],
  "elementwise.ts": ["unary", "binary", "copy", "fill", "specOf"],
  "fused.ts": ["elementwise", "binaryWasm", "unaryWasm", "copyWasm", "whereWasm"],
  "wasm/fused-wasm.ts": ["elementwiseWasm", "gather", "slotOf"],
  "wasm/render-wasm.ts": ["constSlots", "collectConsts"],
};

/** The source of the top-level function `name` in esbuild's output (up to the next top-level statement). */
function body(code: string, name: string): string {
  const start = code.search(new RegExp(`^function ${name}\\(`, "m"));
  if (start < 0) throw new Error(`function ${name} not found`);
  const rest = code.slice(start);
  const end = rest.search(/\n__name\(/);
  return rest.slice(0, end < 0 ? undefined : end);
}

describe("per-call kernel paths under esbuild's keepNames", () => {
  for (const [file, names] of Object.entries(PER_CALL)) {
    const src = readFileSync(new URL(`../src/${file}`, import.meta.url), "utf8");
    const { code } = transformSync(src, { loader: "ts", keepNames: true, format: "esm", target: "es2022" });
    for (const name of names) {
      it(`${file}: ${name} names no closure per call`, () => {
        expect(body(code, name)).not.toContain("__name(");
      });
    }
  }
});
