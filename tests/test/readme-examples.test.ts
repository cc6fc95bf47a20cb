/**
 * The packages' READMEs cannot rot: every ```ts block marked `<!-- test -->` in `packages/<name>/README.md` runs
 * here (as a module of its own, so top-level `await` works), and when a ```text block follows it, what the example
 * printed with `console.log` must equal that text. A ```ts block marked `<!-- include: <path> -->` must equal that
 * file (relative to the README): the example backend in @cinder/tensor's README is
 * `tests/test/support/minimal-backend.ts`, and it passes the conformance suite below.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import { registerBackend, unregisterBackend } from "@cinder/tensor";
import { conformanceCases } from "@cinder/tensor/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MinimalBackend } from "./support/minimal-backend";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const scratch = join(root, ".cache", "readme-examples");

interface Block {
  readme: string;
  line: number;
  marker: string;
  code: string;
  /** The ```text block right after a tested example: what it prints. */
  output?: string;
}

/** The ```ts blocks of a README that a `<!-- test -->` or `<!-- include: ... -->` line marks. */
function markedBlocks(readme: string): Block[] {
  if (!existsSync(readme)) return [];
  const lines = readFileSync(readme, "utf8").split("\n");
  const fence = (from: number, lang: string): [string, number] | null => {
    if (lines[from]?.trim() !== `\`\`\`${lang}`) return null;
    const end = lines.findIndex((l, i) => i > from && l.trim() === "```");
    if (end < 0) throw new Error(`${readme}:${from + 1}: unclosed code block`);
    return [lines.slice(from + 1, end).join("\n"), end];
  };
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!-- (test|include: .+?) -->$/.exec(lines[i].trim());
    if (!m) continue;
    const code = fence(i + 1, "ts");
    if (!code) throw new Error(`${readme}:${i + 1}: "${m[0]}" must be followed by a \`\`\`ts block`);
    const block: Block = { readme, line: i + 2, marker: m[1], code: code[0] };
    let next = code[1] + 1;
    while (lines[next]?.trim() === "") next++;
    const output = m[1] === "test" ? fence(next, "text") : null;
    if (output) block.output = output[0];
    blocks.push(block);
  }
  return blocks;
}

/** Packages whose examples cannot run here, and why. */
const UNTESTED: Record<string, string> = {
  "backend-webgpu": "its examples need a GPU adapter; the package's own tests run them on SwiftShader",
  "distributed-mpi": "its examples run under mpirun; the package's own tests launch them",
};

const packages = readdirSync(join(root, "packages")).sort();
const blocks = packages.flatMap((p) => markedBlocks(join(root, "packages", p, "README.md")));
const name = (b: Block) => `${b.readme.slice(root.length + 1)}:${b.line}`;

// First: the README examples below reset the module registry, and cases import modules lazily.
describe("the example backend of @cinder/tensor's README passes the conformance suite", () => {
  const backend = new MinimalBackend("minimal");
  beforeAll(() => registerBackend(backend));
  afterAll(() => unregisterBackend("minimal"));
  it.each(conformanceCases().map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    await c.run("minimal");
  });
});

describe("README examples", () => {
  it("every package has a README", () => {
    for (const p of packages) expect(existsSync(join(root, "packages", p, "README.md")), p).toBe(true);
  });
  it("every package's README has a tested example", () => {
    for (const p of packages.filter((q) => !(q in UNTESTED))) {
      const tested = blocks.filter((b) => b.readme.includes(`/packages/${p}/`) && b.marker === "test");
      expect(tested.length, `packages/${p}/README.md has no <!-- test --> example`).toBeGreaterThan(0);
    }
  });

  const tested = blocks.filter((b) => b.marker === "test");
  it.each(tested.map((b) => [name(b), b] as const))("%s runs", async (id, b) => {
    mkdirSync(scratch, { recursive: true });
    const file = join(scratch, `${id.replace(/[^a-z0-9]+/gi, "-")}.ts`);
    writeFileSync(file, `${b.code}\nexport {};\n`);
    const printed: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      printed.push(format(...args)); // as console.log prints it
    });
    vi.resetModules(); // a fresh copy of every package: an example must set up what it uses (a backend, ...)
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      log.mockRestore();
    }
    if (b.output !== undefined) expect(printed.join("\n").trimEnd()).toBe(b.output.trimEnd());
  });

  const included = blocks.filter((b) => b.marker.startsWith("include: "));
  it.each(included.map((b) => [name(b), b] as const))("%s is the file it names", (_id, b) => {
    const path = resolve(dirname(b.readme), b.marker.slice("include: ".length));
    expect(b.code).toBe(readFileSync(path, "utf8").trimEnd());
  });
});
