#!/usr/bin/env node
// The browser consumer test: does Cinder work for someone who installs it from npm and bundles it for a web
// page? After `pnpm build`, packs every public package as it would be published, installs the tarballs with
// npm (offline, see lib/consumer.mjs) into a new project outside the workspace, and bundles one program that
// imports cinder, @cinder/backend-webgpu, data, datasets-mnist and viz for the browser, minified (and without
// keepNames, as a user's own build would), twice: with esbuild and with Vite (`vite build`). Both bundles are
// served from 127.0.0.1 (node:http) and opened in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core, a fresh profile each run). Each page checks that
//   - String(new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10))) is PyTorch's
//     print(model), and a message built from a class name names the PyTorch class;
//   - a few Adam steps of that MLP on the CPU backend lower the loss;
//   - the Node-only functions (safetensors files, the MNIST sample) fail at run time with a clear message
//     (their lazy node: imports did not break the bundle);
//   - a viz figure renders; @cinder/backend-webgpu is initialised only when the browser has an adapter.
// and hands its results to Node (page.evaluate), which compares them. The esbuild page is served
// cross-origin isolated (COOP/COEP: the CPU backend may use Web Workers there), the Vite page is not.
// Skips (exit 0) when Chromium is missing, except in CI (CI set and not "false"), where it must run.
//
//   node scripts/browser-consumer-test.mjs [--keep]   (--keep leaves the temporary project for a look)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { CHROMIUM, HEADLESS_ARGS } from "./lib/chromium.mjs";
import { installConsumerProject } from "./lib/consumer.mjs";
import { root } from "./lib/workspace.mjs";

const inCI = Boolean(process.env.CI) && process.env.CI !== "false" && process.env.CI !== "0";
const keep = process.argv.includes("--keep");
const started = Date.now();
/** Past this the test fails (and cleans up) rather than hanging a CI run. */
const DEADLINE_MS = 240_000;

if (!existsSync(CHROMIUM)) {
  if (inCI) {
    console.error(
      `browser consumer test: FAILED: ${CHROMIUM} not found (in CI it must run: apt-get install chromium)`,
    );
    process.exit(1);
  }
  console.log(
    `browser consumer test: skipped: ${CHROMIUM} not found (apt-get install chromium, or bash scripts/setup.sh)`,
  );
  process.exit(0);
}

/** PyTorch's `print(model)` of this model. */
const SEQUENTIAL = `Sequential(
  (0): Linear(in_features=784, out_features=128, bias=True)
  (1): ReLU()
  (2): Linear(in_features=128, out_features=10, bias=True)
)`;

// The consumer's program: what a web page would do with Cinder. No top-level await (Vite's default targets
// do not all have it); the results go to window.__cinder for the test to read.
const PROGRAM = `\
import * as torch from "cinder";
import { initWebGPU } from "@cinder/backend-webgpu";
import { DataLoader, TensorDataset } from "@cinder/data";
import { MNIST } from "@cinder/datasets-mnist";
import { figure } from "@cinder/viz";

const { nn, optim } = torch;

/** The promise's value, or undefined when it has not settled after ms milliseconds. */
const within = (promise, ms) => Promise.race([promise, new Promise((r) => setTimeout(r, ms))]);
const failureOf = (promise) => promise.then(() => "no error", (e) => String(e?.message ?? e));

async function main() {
  const r = { crossOriginIsolated: globalThis.crossOriginIsolated === true };
  const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
  r.printed = String(model);
  r.message = (() => {
    try {
      new nn.InstanceNorm1d(3)(torch.randn(2, 3, 4, 5));
      return "no error";
    } catch (e) {
      return e.message;
    }
  })();

  // a few Adam steps of the MLP on a fixed set of 64 random "images" in 2 batches, on the CPU backend
  torch.manualSeed(0);
  const x = torch.rand(64, 784);
  const y = torch.randint(0, 10, [64]);
  const loader = new DataLoader(new TensorDataset(x, y), 32, true);
  const opt = new optim.Adam(model.parameters(), 1e-3);
  const lossFn = new nn.CrossEntropyLoss();
  r.losses = [];
  for (let epoch = 0; epoch < 4; epoch++) {
    for (const [xb, yb] of loader) {
      opt.zeroGrad();
      const loss = lossFn(model(xb), yb);
      loss.backward();
      opt.step();
      r.losses.push(loss.item());
    }
  }
  r.device = String([...model.parameters()][0].device);
  r.threads = typeof torch.getNumThreads === "function" ? torch.getNumThreads() : null;

  // Node-only functions: bundled fine, failing only when called, with a message that says why
  r.saveError = await failureOf(torch.nn.saveSafetensors(model.stateDict(), "model.safetensors"));
  r.mnistError = await failureOf(MNIST.create({ sample: true }));

  const fig = figure({ figsize: [4, 3] });
  fig.gca().plot([1, 2, 3], [1, 4, 9]);
  r.svg = fig.toSVG().slice(0, 4);

  // WebGPU only where the browser has an adapter (a headless Chromium without flags usually has none)
  const adapter = globalThis.navigator?.gpu ? await within(navigator.gpu.requestAdapter(), 10_000) : null;
  if (adapter) {
    await initWebGPU();
    r.webgpu = await torch.ones(4, { device: "webgpu" }).sum().itemAsync();
  } else {
    r.webgpu = globalThis.navigator?.gpu ? "no adapter" : "no navigator.gpu";
  }
  return r;
}

main().then(
  (r) => { window.__cinder = { ok: true, ...r }; },
  (e) => { window.__cinder = { ok: false, error: String(e?.stack ?? e) }; },
);
`;

const VITE_CONFIG = `\
// no import from "vite": the workspace's vite builds this project, whose node_modules do not have it
export default {
  logLevel: "warn",
  clearScreen: false,
  base: "./",
  build: {
    outDir: "dist-vite",
    target: "es2022",
    minify: true,
    emptyOutDir: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 2000,
  },
};
`;

const html = (src) =>
  `<!doctype html>\n<html><head><meta charset="utf-8"><title>cinder</title></head>\n<body><script type="module" src="${src}"></script></body></html>\n`;

const work = mkdtempSync(join(tmpdir(), "cinder-browser-consumer-"));
let project = join(work, "app");
let server;
let context;
const profile = join(work, "chromium-profile");

async function cleanUp() {
  await context?.close().catch(() => {});
  context = undefined;
  server?.closeAllConnections?.();
  server?.close();
  server = undefined;
  if (!keep) rmSync(work, { recursive: true, force: true });
}

async function fail(message, detail = "") {
  console.error(`browser consumer test: FAILED: ${message}`);
  if (String(detail).trim()) console.error(String(detail).trimEnd().replace(/^/gm, "  "));
  if (keep) console.error(`  (temporary project: ${project})`);
  await cleanUp();
  process.exit(1);
}

const deadline = setTimeout(() => fail(`did not finish within ${DEADLINE_MS / 1000} s`), DEADLINE_MS);
deadline.unref();

const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const timings = [];
const lap = (what, t0) => timings.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)}s`);

// ---- the project: every package from its tarball ----
let t0 = Date.now();
try {
  ({ project } = installConsumerProject(work, {
    files: { "main.js": PROGRAM, "index.html": html("/main.js"), "vite.config.mjs": VITE_CONFIG },
  }));
} catch (error) {
  await fail(error.message, error.detail ?? "");
}
lap("pack+install", t0);

// ---- esbuild: minified, for the browser, no keepNames ----
t0 = Date.now();
const { build } = await import("esbuild");
mkdirSync(join(project, "dist-esbuild"));
try {
  const result = await build({
    absWorkingDir: project,
    entryPoints: ["main.js"],
    outdir: "dist-esbuild",
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: false,
    logLevel: "silent",
  });
  for (const w of result.warnings) console.log(`esbuild warning: ${w.text}`);
} catch (error) {
  await fail("esbuild could not bundle the program for the browser", error.message);
}
writeFileSync(join(project, "dist-esbuild", "index.html"), html("./main.js"));
lap("esbuild", t0);

// ---- Vite: `vite build` of index.html + main.js (the workspace's vite, run in the project) ----
t0 = Date.now();
const vite = spawnSync(process.execPath, [join(root, "node_modules", "vite", "bin", "vite.js"), "build"], {
  cwd: project,
  encoding: "utf8",
  timeout: 120_000,
  env: { ...process.env, NO_COLOR: "1" },
});
if (vite.status !== 0)
  await fail("vite build failed", `${vite.error?.message ?? ""}${vite.stdout}${vite.stderr}`);
if (vite.stderr.trim()) console.log(`vite: ${vite.stderr.trim()}`);
lap("vite build", t0);

// ---- a static server: /esbuild/ (cross-origin isolated) and /vite/ ----
const TYPES = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
};
const DIRS = { esbuild: join(project, "dist-esbuild"), vite: join(project, "dist-vite") };
server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const [, which, ...rest] = url.pathname.split("/");
  const dir = DIRS[which];
  const file = dir && normalize(join(dir, rest.join("/") || "index.html"));
  if (!file?.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  const headers = { "content-type": TYPES[extname(file)] ?? "application/octet-stream" };
  if (which === "esbuild") {
    headers["cross-origin-opener-policy"] = "same-origin";
    headers["cross-origin-embedder-policy"] = "require-corp";
  }
  res.writeHead(200, headers).end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

// ---- headless Chromium: open each page, read its results ----
t0 = Date.now();
const { chromium } = await import("playwright-core");
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: HEADLESS_ARGS,
  });
} catch (error) {
  await fail(`could not start ${CHROMIUM}`, error.message);
}
lap("chromium start", t0);

const problems = [];
const reports = [];
for (const which of ["esbuild", "vite"]) {
  t0 = Date.now();
  const page = await context.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => logs.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  let r;
  try {
    await page.goto(`${origin}/${which}/`);
    await page.waitForFunction(() => window.__cinder !== undefined, null, { timeout: 90_000 });
    r = await page.evaluate(() => window.__cinder);
  } catch (error) {
    r = { ok: false, error: error.message };
  }
  await page.close();
  lap(which, t0);
  const bad = (what) => problems.push(`${which}: ${what}${logs.length ? `\n${logs.join("\n")}` : ""}`);
  if (!r.ok) {
    bad(`the page failed: ${r.error}`);
    continue;
  }
  if (r.printed !== SEQUENTIAL)
    bad(`String(model) printed\n${r.printed}\ninstead of PyTorch's\n${SEQUENTIAL}`);
  if (!/^InstanceNorm1d: expected 2D or 3D input/.test(r.message))
    bad(`the InstanceNorm1d message was: ${r.message}`);
  const first = r.losses[0];
  const last = r.losses.at(-1);
  if (!(r.losses.length === 8 && r.losses.every(Number.isFinite) && last < first))
    bad(`the loss did not go down: ${r.losses.join(", ")}`);
  if (!/@cinder\/nn: files are not available in browsers/.test(r.saveError))
    bad(`saveSafetensors to a path in a browser: ${r.saveError}`);
  if (!/@cinder\/datasets-mnist: files are not available in browsers/.test(r.mnistError))
    bad(`MNIST.create({ sample: true }) in a browser: ${r.mnistError}`);
  if (r.svg !== "<svg") bad(`the viz figure's SVG starts with ${JSON.stringify(r.svg)}`);
  if (typeof r.webgpu === "number" && r.webgpu !== 4) bad(`ones(4).sum() on webgpu gave ${r.webgpu}`);
  reports.push(
    `${which}: ${r.printed.split("\n")[0]} ... loss ${first.toFixed(3)} -> ${last.toFixed(3)} on ${r.device}` +
      ` (threads ${r.threads}, crossOriginIsolated ${r.crossOriginIsolated}), webgpu: ${r.webgpu}`,
  );
}

clearTimeout(deadline);
await cleanUp();
for (const line of reports) console.log(line);
console.log(`times: ${timings.join(", ")}`);
if (problems.length > 0) {
  for (const p of problems) console.error(`browser consumer test: FAILED: ${p}`);
  process.exit(1);
}
console.log(
  `browser consumer test: ok in ${seconds()} s (every public package npm-installed, bundled minified for the browser with esbuild and Vite, run in headless Chromium: PyTorch's printout, the loss goes down)`,
);
