/**
 * Class names that survive builds: every nn class states its PyTorch name (`static name`), so that printouts and
 * messages built from `constructor.name` stay PyTorch's when a minifier renames the classes (`Sequential` to
 * `jc`), with or without keepNames.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import "./helpers";
import * as nn from "../src";

const SEQUENTIAL = `Sequential(
  (0): Linear(in_features=784, out_features=128, bias=True)
  (1): ReLU()
  (2): Linear(in_features=128, out_features=10, bias=True)
)`;

const moduleClasses = Object.entries(nn).filter(
  ([, v]) => typeof v === "function" && (v === nn.Module || v.prototype instanceof nn.Module),
);

describe("class names", () => {
  it("every exported module class sets its own name, its export name", () => {
    expect(moduleClasses.length).toBeGreaterThan(100);
    for (const [exported, cls] of moduleClasses) {
      // a static field is writable and enumerable; the name JavaScript gives a class is neither
      const own = Object.getOwnPropertyDescriptor(cls, "name");
      expect({ exported, value: own?.value, explicit: own?.writable && own?.enumerable }).toEqual({
        exported,
        value: exported,
        explicit: true,
      });
    }
  });

  it("a subclass of yours keeps its own name", () => {
    class Net extends nn.Linear {}
    expect(Net.name).toBe("Net");
    expect(String(new Net(2, 3))).toBe("Net(in_features=2, out_features=3, bias=True)");
  });

  it("a minified bundle without keepNames prints PyTorch's names", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cinder-nn-names-"));
    try {
      const src = fileURLToPath(new URL("../src/index.ts", import.meta.url));
      const result = await build({
        stdin: {
          contents: `
            import { registerBackend, randn } from "@cinder/tensor";
            import { cpu } from "@cinder/backend-cpu";
            import * as nn from ${JSON.stringify(src)};
            registerBackend(cpu);
            const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
            let message;
            try { new nn.InstanceNorm1d(3)(randn(2, 3, 4, 5)); } catch (e) { message = e.message; }
            export const printed = String(model);
            export { message };
            export const renamed = nn.Sequential.toString().slice(0, 40);`,
          resolveDir: fileURLToPath(new URL(".", import.meta.url)),
          loader: "ts",
        },
        bundle: true,
        minify: true,
        keepNames: false,
        format: "esm",
        platform: "node",
        target: "es2022",
        conditions: ["@cinder/source"],
        write: false,
        logLevel: "silent",
      });
      const file = join(dir, "bundle.mjs");
      writeFileSync(file, result.outputFiles[0].text);
      const out = await import(pathToFileURL(file).href);
      expect(out.renamed).not.toMatch(/^class Sequential\b/); // the minifier did rename the class
      expect(out.printed).toBe(SEQUENTIAL);
      expect(out.message).toMatch(/^InstanceNorm1d: expected 2D or 3D input \(got 4D input\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
