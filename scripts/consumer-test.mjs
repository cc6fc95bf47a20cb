#!/usr/bin/env node
// The consumer test: does Cinder work for someone who installs it from npm? After `pnpm build`,
// packs @cinder/tensor, backend-cpu, autograd, nn, optim and data as they would be published, installs
// the tarballs with npm (offline: they have no external runtime dependencies) into a new project
// outside the workspace, and runs a plain .mjs program there against the built dist/: a matmul, then
// a small training step written with PyTorch's positional call forms (which also proves that every
// module of the bundles initialises: an import cycle resolved in another order shows up here).
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
/** The packages packed, installed and imported (under @cinder/). */
const PACKAGES = ["tensor", "backend-cpu", "autograd", "nn", "optim", "data"];

const PROGRAM = `\
import assert from "node:assert/strict";
import { tensor, registerBackend, randn, manualSeed } from "@cinder/tensor";
import { cpu } from "@cinder/backend-cpu";
import "@cinder/autograd";
import * as nn from "@cinder/nn";
import * as optim from "@cinder/optim";
import { DataLoader, TensorDataset } from "@cinder/data";

for (const name of ${JSON.stringify(PACKAGES.map((p) => `@cinder/${p}`))}) {
  const url = import.meta.resolve(name);
  assert.match(url, /\\/node_modules\\/@cinder\\/[a-z-]+\\/dist\\/index\\.js$/, \`\${name} resolved to \${url}\`);
}

registerBackend(cpu);
const a = tensor([[1, 2], [3, 4]]);
const product = a.matmul(a);
console.log(product.toString());
assert.deepEqual(product.toArray(), [[7, 10], [15, 22]]);

// PyTorch's positional forms, end to end through every package's bundle
manualSeed(0);
const x = randn(16, 4);
const y = x.sum(1, true).mul(0.5);
const loader = new DataLoader(new TensorDataset(x, y), 8, true);
const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1));
const opt = new optim.Adam(model.parameters(), 0.05);
const sched = new optim.StepLR(opt, 1, 0.5);
const lossFn = new nn.MSELoss();
let first, last;
for (let epoch = 0; epoch < 3; epoch++) {
  for (const [xb, yb] of loader) {
    assert.deepEqual([...xb.shape], [8, 4]);
    opt.zeroGrad();
    const loss = lossFn(model(xb), yb);
    loss.backward();
    opt.step();
    last = loss.item();
    first ??= last;
  }
  sched.step();
}
assert.ok(last < first, \`the loss went from \${first} to \${last}\`);
assert.equal(opt.paramGroups[0].lr, 0.05 * 0.125);
const [values, indices] = tensor([[0, 5, 6], [6, 2, 0]]).max(1);
assert.deepEqual([values.toArray(), indices.toArray()], [[6, 6], [2, 0]]);
assert.throws(() => x.sum({ keep_dim: true }), /unknown option "keep_dim"; did you mean "keepdim"/);
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
  tarballs = PACKAGES.map((name) => pack(join(root, "packages", name), work));
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
  "consumer test: ok (npm-installed tensor, backend-cpu, autograd, nn, optim, data: matmul gives [[7, 10], [15, 22]], a training step in PyTorch's call forms lowers the loss)",
);
