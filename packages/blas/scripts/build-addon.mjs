#!/usr/bin/env node
// Builds the BLAS addon (build/Release/cinder_blas.node) with node-gyp, against the Node headers this machine
// has (<node's prefix>/include/node: Debian's nodejs, the official tarballs and nvm all ship them), so nothing is
// downloaded. The addon opens OpenBLAS with dlopen when the package is imported (src/native/blas_addon.c), so the
// build needs a C compiler and nothing of OpenBLAS: no -dev package, no cblas.h.
//
//   node scripts/build-addon.mjs              rebuild
//   node scripts/build-addon.mjs --if-missing   only when the addon is missing or older than its sources
//   node scripts/build-addon.mjs --optional     when it cannot build, print why and exit 0 (the install script)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const addon = join(pkg, "build", "Release", "cinder_blas.node");
const native = join(pkg, "src", "native");
const sources = [join(pkg, "binding.gyp"), join(native, "blas_addon.c")];
const ifMissing = process.argv.includes("--if-missing");
const optional = process.argv.includes("--optional");

function fail(message) {
  console.error(`@cinder/blas: ${message}`);
  process.exit(optional ? 0 : 1);
}

const mtime = (f) => statSync(f).mtimeMs;
const upToDate = () => existsSync(addon) && sources.every((s) => mtime(s) <= mtime(addon));
if (ifMissing && upToDate()) process.exit(0);

// One build at a time (turbo may run this package's build and test at once): a lock directory, taken over when a
// crashed build left it behind for over 5 minutes. A build that waited finds the addon built and stops there.
const lock = join(pkg, ".build-addon.lock");
for (const start = Date.now(); ; ) {
  try {
    mkdirSync(lock);
    break;
  } catch {
    if (Date.now() - mtime(lock) > 300_000) rmSync(lock, { recursive: true, force: true });
    else if (Date.now() - start > 300_000)
      fail(`another build holds ${lock}; remove it if no build is running`);
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    if (ifMissing && upToDate()) process.exit(0);
  }
}
process.on("exit", () => rmSync(lock, { recursive: true, force: true }));

const cc = process.env.CC ?? "cc";
if (spawnSync(cc, ["--version"], { encoding: "utf8" }).status !== 0) {
  fail(
    `no C compiler (\`${cc}\`), so the addon cannot be built; install one (Debian/Ubuntu: apt-get install ` +
      "build-essential) and run `npm run build:addon`",
  );
}

const nodedir = dirname(dirname(process.execPath));
if (!existsSync(join(nodedir, "include", "node", "node_api.h"))) {
  fail(
    `Node's headers are not at ${join(nodedir, "include", "node")} (node_api.h), so the addon cannot be built`,
  );
}

/** node-gyp: this package's devDependency, else the one npm runs install scripts with, else npm's copy, else PATH's. */
function nodeGyp() {
  try {
    return [process.execPath, createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js")];
  } catch {
    const npmCopy = join(
      nodedir,
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    );
    const found = [process.env.npm_config_node_gyp, npmCopy].find((c) => c && existsSync(c));
    return found ? [process.execPath, found] : ["node-gyp"];
  }
}

const [cmd, ...args] = nodeGyp();
const result = spawnSync(cmd, [...args, "rebuild", `--nodedir=${nodedir}`, "--loglevel=warn"], {
  cwd: pkg,
  encoding: "utf8",
});
if (result.status !== 0) {
  process.stderr.write(`${result.stdout ?? ""}${result.stderr ?? ""}${result.error ?? ""}\n`);
  fail("node-gyp rebuild failed (its output is above)");
}
