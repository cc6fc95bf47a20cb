#!/usr/bin/env node
// pnpm example <name> [-- flags...]
//
// Runs examples/<name>.ts or examples/<name>/index.ts straight from TypeScript (no build): Node with
// the tsx loader and the "@cinder/source" export condition, so every @cinder/* package and `cinder`
// resolve to their src/ files. Flags after the name are passed to the example.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { root } from "./lib/workspace.mjs";

const examplesDir = join(root, "examples");
const NOT_EXAMPLES = new Set(["node_modules", "test", "out", "data", "fixtures"]);

/** Every runnable example: `name` -> file. */
function listExamples() {
  const found = new Map();
  for (const entry of readdirSync(examplesDir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts") && !/\.(d|test|config)\.ts$/.test(entry.name)) {
      found.set(entry.name.slice(0, -3), join(examplesDir, entry.name));
    } else if (entry.isDirectory() && !NOT_EXAMPLES.has(entry.name) && !entry.name.startsWith(".")) {
      const index = join(examplesDir, entry.name, "index.ts");
      if (existsSync(index)) found.set(entry.name, index);
    }
  }
  return new Map([...found].sort(([a], [b]) => a.localeCompare(b)));
}

function printList(stream, examples) {
  if (examples.size === 0) {
    stream.write("No examples yet: add examples/<name>.ts or examples/<name>/index.ts.\n");
    return;
  }
  stream.write("Available examples:\n");
  for (const [name, file] of examples) stream.write(`  ${name.padEnd(24)} ${relative(root, file)}\n`);
}

const usage = "Usage: pnpm example <name> [-- flags passed to the example]\n";
let args = process.argv.slice(2);
if (args[0] === "--") args = args.slice(1);
const examples = listExamples();

if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "--list") {
  process.stdout.write(usage);
  printList(process.stdout, examples);
  process.exit(0);
}

// Accept `mnist-mlp`, `examples/mnist-mlp.ts`, `examples/mnist-mlp/` and `examples/mnist-mlp/index.ts`.
const name = args[0]
  .replace(/^(\.\/)?examples\//, "")
  .replace(/(\/index)?\.ts$/, "")
  .replace(/\/$/, "");
let rest = args.slice(1);
if (rest[0] === "--") rest = rest.slice(1);

const file = examples.get(name);
if (!file) {
  process.stderr.write(`Unknown example "${args[0]}".\n${usage}`);
  printList(process.stderr, examples);
  process.exit(1);
}

const tsx = import.meta.resolve("tsx");
const child = spawn(process.execPath, ["--conditions=@cinder/source", "--import", tsx, file, ...rest], {
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
