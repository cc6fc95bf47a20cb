#!/usr/bin/env node
/**
 * Bundle the browser MNIST page: examples/browser/main.ts -> dist/main.js (esbuild, from the packages' TypeScript
 * sources through the "@cinder/source" export condition), plus index.html and the MNIST sample's gzipped IDX
 * files from @cinder/datasets-mnist (dist/data/). dist/ is a static site: serve it with `node serve.mjs` or
 * any static server.
 *
 *   node examples/browser/build.mjs [--minify]
 *
 * The packages' "sideEffects": false is honoured (no ignoreAnnotations): @cinder/tensor installs its Tensor
 * methods with a call in its index, which bundlers keep; the build checks that the call is in the bundle.
 */
import { copyFile, mkdir, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const require = createRequire(import.meta.url);
// the shipped sample: packages/datasets-mnist/data/*.gz (resolved through the package, as a user would)
const mnistData = join(dirname(require.resolve("@cinder/datasets-mnist/package.json")), "data");

export async function buildPage({ minify = false, log = console.log } = {}) {
  await rm(dist, { recursive: true, force: true });
  await mkdir(join(dist, "data"), { recursive: true });
  await build({
    entryPoints: [join(here, "main.ts")],
    outfile: join(dist, "main.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["@cinder/source"],
    // Node-only code paths (file reading, downloads, safetensors files) load node:* lazily; they never run here
    external: ["node:*"],
    sourcemap: "linked",
    minify,
    logLevel: "warning",
  });
  const js = await readFile(join(dist, "main.js"), "utf8");
  if (!minify && !/^\s*installMethods\d*\(\);$/m.test(js)) {
    throw new Error("dist/main.js does not call installMethods(): the Tensor methods were tree-shaken away");
  }
  await copyFile(join(here, "index.html"), join(dist, "index.html"));
  const files = (await readdir(mnistData)).filter((f) => f.endsWith(".gz"));
  for (const f of files) await copyFile(join(mnistData, f), join(dist, "data", f));
  log(
    `built ${dist}: main.js (${(js.length / 1024).toFixed(0)} KiB), index.html, data/ (${files.length} files)`,
  );
  return dist;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildPage({ minify: process.argv.includes("--minify") });
}
