#!/usr/bin/env node
// The consumer test: does Cinder work for someone who installs it from npm? After `pnpm build`,
// packs @cinder/tensor and @cinder/backend-cpu as they would be published, installs the two
// tarballs with npm (offline: they have no external runtime dependencies) into a new project
// outside the workspace, and runs a plain .mjs program there against the built dist/.
//
//   node scripts/consumer-test.mjs [--keep]   (--keep leaves the temporary project for a look)
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pack } from "./lib/pack.mjs";
import { root } from "./lib/workspace.mjs";

const keep = process.argv.includes("--keep");
const work = mkdtempSync(join(tmpdir(), "cinder-consumer-"));
const project = join(work, "app");

const PROGRAM = `\
import assert from "node:assert/strict";
import { tensor, registerBackend } from "@cinder/tensor";
import { cpu } from "@cinder/backend-cpu";

for (const name of ["@cinder/tensor", "@cinder/backend-cpu"]) {
  const url = import.meta.resolve(name);
  assert.match(url, /\\/node_modules\\/@cinder\\/[a-z-]+\\/dist\\/index\\.js$/, \`\${name} resolved to \${url}\`);
}

registerBackend(cpu);
const a = tensor([[1, 2], [3, 4]]);
const product = a.matmul(a);
console.log(product.toString());
assert.deepEqual(product.toArray(), [[7, 10], [15, 22]]);
`;

// PyTorch prints torch.tensor([[1, 2], [3, 4]], dtype=torch.int32) @ itself like this.
const PYTORCH = "tensor([[ 7, 10],\n        [15, 22]], dtype=torch.int32)";

function fail(message, detail = "") {
  console.error(`consumer test: FAILED: ${message}`);
  if (detail.trim()) console.error(detail.trimEnd().replace(/^/gm, "  "));
  console.error(`  (temporary project: ${project})`);
  process.exit(1);
}

let tarballs;
try {
  tarballs = ["tensor", "backend-cpu"].map((name) => pack(join(root, "packages", name), work));
} catch (error) {
  fail("could not pack the packages", error.stderr || error.message);
}

mkdirSync(project);
writeFileSync(
  join(project, "package.json"),
  `${JSON.stringify({ name: "cinder-consumer", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
);
writeFileSync(join(project, "main.mjs"), PROGRAM);

const install = spawnSync(
  "npm",
  ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", ...tarballs],
  { cwd: project, encoding: "utf8" },
);
if (install.status !== 0) {
  fail("npm install of the packed tarballs failed", `${install.stdout}${install.stderr}`);
}

const run = spawnSync(process.execPath, ["main.mjs"], { cwd: project, encoding: "utf8" });
if (run.status !== 0) fail("the consumer program failed", `${run.stdout}${run.stderr}`);

const printed = run.stdout.trimEnd();
console.log(printed);
if (printed !== PYTORCH) {
  console.log(`consumer test: note: PyTorch prints this tensor as\n${PYTORCH}`);
}
if (!keep) rmSync(work, { recursive: true, force: true });
console.log(
  "consumer test: ok (npm-installed @cinder/tensor + @cinder/backend-cpu, matmul gives [[7, 10], [15, 22]])",
);
