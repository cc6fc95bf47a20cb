#!/usr/bin/env node
// The consumer test: does Cinder work for someone who installs it from npm? After `pnpm build`,
// packs every public package as it would be published (tensor, backend-cpu, backend-webgpu, autograd, nn,
// optim, data, datasets-mnist, viz and cinder), installs the tarballs with npm (offline: their third-party
// dependencies are packed from the workspace too, see lib/consumer.mjs) into a new project outside the
// workspace, and runs two plain .mjs programs there against the built dist/:
//   - layers.mjs, the layered packages alone: a matmul, then a small training step written with PyTorch's
//     positional call forms (which also proves that every module of the bundles initialises: an import
//     cycle resolved in another order shows up here);
//   - cinder.mjs, `import * as torch from "cinder"` with nothing registered by hand: the printed model is
//     PyTorch's, messages name the PyTorch classes, the MNIST sample loads from the package through the
//     lazily imported node:fs/node:zlib, a viz figure renders to SVG, and @cinder/backend-webgpu imports
//     (without `webgpu`, its optional peer, and without initialising it).
// The browser counterpart is browser-consumer-test.mjs.
//
//   node scripts/consumer-test.mjs [--keep]   (--keep leaves the temporary project for a look)
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installConsumerProject } from "./lib/consumer.mjs";

const keep = process.argv.includes("--keep");
const work = mkdtempSync(join(tmpdir(), "cinder-consumer-"));
let project = join(work, "app");
/** The layered packages that layers.mjs imports (under @cinder/). */
const LAYERS = ["tensor", "backend-cpu", "autograd", "nn", "optim", "data"];

const PROGRAM = `\
import assert from "node:assert/strict";
import { tensor, registerBackend, randn, manualSeed } from "@cinder/tensor";
import { cpu } from "@cinder/backend-cpu";
import "@cinder/autograd";
import * as nn from "@cinder/nn";
import * as optim from "@cinder/optim";
import { DataLoader, TensorDataset } from "@cinder/data";

for (const name of ${JSON.stringify(LAYERS.map((p) => `@cinder/${p}`))}) {
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

/** PyTorch's `print(model)` of this model. */
const SEQUENTIAL = `Sequential(
  (0): Linear(in_features=784, out_features=128, bias=True)
  (1): ReLU()
  (2): Linear(in_features=128, out_features=10, bias=True)
)`;

const CINDER_PROGRAM = `\
import assert from "node:assert/strict";
import * as torch from "cinder";
import * as webgpu from "@cinder/backend-webgpu";
import { MNIST } from "@cinder/datasets-mnist";
import { figure } from "@cinder/viz";

for (const name of ["cinder", "@cinder/backend-webgpu", "@cinder/datasets-mnist", "@cinder/viz"]) {
  const url = import.meta.resolve(name);
  assert.match(url, /\\/node_modules\\/(@cinder\\/)?[a-z-]+\\/dist\\/index\\.js$/, \`\${name} resolved to \${url}\`);
}

const { nn, optim } = torch;
const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
assert.equal(String(model), ${JSON.stringify(SEQUENTIAL)});
assert.equal(String(new nn.ModuleList()), "ModuleList()");
assert.equal(String(new nn.Embedding(3, 2)), "Embedding(3, 2)");
assert.throws(() => new nn.InstanceNorm1d(3)(torch.randn(2, 3, 4, 5)), /^Error: InstanceNorm1d: expected 2D or 3D input/);

// the shipped MNIST sample, read from the installed package with node:fs and inflated with node:zlib
const test = await MNIST.create({ sample: true, train: false });
assert.equal(test.length, 2000);
const [image, label] = test.getItem(0);
assert.deepEqual([...image.shape], [28, 28]);
assert.ok(Number.isInteger(label));

// a few SGD steps of the MLP on the first 64 test digits
torch.manualSeed(0);
const x = test.data.narrow(0, 0, 64).reshape(64, 784).float().div(255);
const y = test.targets.narrow(0, 0, 64).long();
const opt = new optim.SGD(model.parameters(), 0.1);
const lossFn = new nn.CrossEntropyLoss();
const losses = [];
for (let step = 0; step < 5; step++) {
  opt.zeroGrad();
  const loss = lossFn(model(x), y);
  loss.backward();
  opt.step();
  losses.push(loss.item());
}
assert.ok(losses.at(-1) < losses[0], \`the loss went from \${losses[0]} to \${losses.at(-1)}\`);

const fig = figure({ figsize: [4, 3] });
fig.gca().plot([1, 2, 3], [1, 4, 9]);
assert.match(fig.toSVG(), /^<svg[^>]*>/);

assert.equal(typeof webgpu.initWebGPU, "function");
console.log(\`cinder: \${String(model).split("\\n")[0]} ... loss \${losses[0].toFixed(3)} -> \${losses.at(-1).toFixed(3)}\`);
`;

// PyTorch prints torch.tensor([[1, 2], [3, 4]], dtype=torch.int32) @ itself like this.
const PYTORCH = "tensor([[ 7, 10],\n        [15, 22]], dtype=torch.int32)";

function fail(message, detail = "") {
  console.error(`consumer test: FAILED: ${message}`);
  if (detail.trim()) console.error(detail.trimEnd().replace(/^/gm, "  "));
  console.error(`  (temporary project: ${project})`);
  process.exit(1);
}

try {
  ({ project } = installConsumerProject(work, {
    files: { "layers.mjs": PROGRAM, "cinder.mjs": CINDER_PROGRAM },
  }));
} catch (error) {
  fail(error.message, error.detail ?? "");
}

/** Runs a program of the project; one that does not finish (or exit: a handle left open) in 2 minutes fails. */
function runProgram(file) {
  const r = spawnSync(process.execPath, [file], { cwd: project, encoding: "utf8", timeout: 120_000 });
  if (r.error?.code === "ETIMEDOUT") fail(`${file} did not exit within 2 minutes`, `${r.stdout}${r.stderr}`);
  if (r.status !== 0) fail(`${file} failed`, `${r.stdout}${r.stderr}`);
  return r;
}
const cinderRun = runProgram("cinder.mjs");
const run = runProgram("layers.mjs");

const printed = run.stdout.trimEnd();
console.log(printed);
if (printed !== PYTORCH) {
  console.log(`consumer test: note: PyTorch prints this tensor as\n${PYTORCH}`);
}
console.log(cinderRun.stdout.trimEnd());
if (!keep) rmSync(work, { recursive: true, force: true });
console.log(
  "consumer test: ok (every public package npm-installed: the layers' matmul gives [[7, 10], [15, 22]] and a training step in PyTorch's call forms lowers the loss; cinder prints PyTorch's Sequential, trains on the shipped MNIST sample, viz draws, backend-webgpu imports)",
);
