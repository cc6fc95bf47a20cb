#!/usr/bin/env node
// pnpm bench [-- flags]     (pnpm bench -- --help lists the flags)
//
// Runs the benchmark harness (bench/src/main.ts) from TypeScript sources: Node with the tsx loader, the
// "@cinder/source" export condition and --expose-gc (the harness collects garbage between samples, untimed).
// The harness runs in a child process so that its environment is set before anything loads Dawn: when
// VK_ICD_FILENAMES is unset and Chromium's SwiftShader Vulkan driver is installed, the child gets it.
//
// --cpu-prof (ours, not the harness's): profile the run with V8's CPU profiler, write the profile to
// bench/results/prof/ and print (to stderr) the functions with the most self time. Profile Cinder alone with
// `pnpm bench -- --only mlp --peers none --cpu-prof`.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { root } from "./lib/workspace.mjs";

const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

let args = process.argv.slice(2);
if (args[0] === "--") args = args.slice(1);
const profile = args.includes("--cpu-prof");
args = args.filter((a) => a !== "--cpu-prof");

const env = { ...process.env };
if (!env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

const profDir = join(root, "bench", "results", "prof");
const nodeFlags = ["--conditions=@cinder/source", "--import", import.meta.resolve("tsx"), "--expose-gc"];
if (profile) {
  mkdirSync(profDir, { recursive: true });
  nodeFlags.push("--cpu-prof", `--cpu-prof-dir=${profDir}`);
}
const startedAt = Date.now();
const child = spawn(process.execPath, [...nodeFlags, join(root, "bench", "src", "main.ts"), ...args], {
  stdio: "inherit",
  env,
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (profile && code === 0) summarizeProfile();
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});

/** Prints the top functions by self time of the newest profile written by this run. */
function summarizeProfile(top = 25) {
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx's loader has its own).
  const files = readdirSync(profDir)
    .filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    .map((f) => join(profDir, f))
    .filter((f) => statSync(f).mtimeMs >= startedAt - 1000)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) return;
  const prof = JSON.parse(readFileSync(files[0], "utf8"));
  const dt = new Map(); // node id -> sampled ms
  for (let i = 0; i < prof.samples.length; i++) {
    const ms = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + ms);
  }
  const byFn = new Map();
  let total = 0;
  for (const node of prof.nodes) {
    const ms = dt.get(node.id) ?? 0;
    total += ms;
    const f = node.callFrame;
    // tsx-compiled sources report line 0: show the file alone then.
    const file = f.url ? relative(root, f.url.replace(/^file:\/\//, "")) : "";
    const where = file && f.lineNumber > 0 ? `${file}:${f.lineNumber + 1}` : file;
    const key = `${f.functionName || "(anonymous)"} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + ms);
  }
  const rows = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top);
  process.stderr.write(`\nCPU profile ${relative(root, files[0])}: top ${top} functions by self time\n`);
  for (const [name, ms] of rows) {
    process.stderr.write(
      `${((100 * ms) / total).toFixed(1).padStart(6)}%  ${ms.toFixed(0).padStart(7)} ms  ${name}\n`,
    );
  }
}
