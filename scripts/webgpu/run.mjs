#!/usr/bin/env node
/**
 * Run a command with the SwiftShader environment (see swiftshader-env.mjs), e.g.
 *   node scripts/webgpu/run.mjs npx tsx scripts/webgpu/bench-matmul.ts
 */
import { spawnSync } from "node:child_process";
import { applySwiftShaderEnv } from "./swiftshader-env.mjs";

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error("usage: node scripts/webgpu/run.mjs <command> [args...]");
  process.exit(2);
}
applySwiftShaderEnv();
const r = spawnSync(cmd, args, { stdio: "inherit", env: process.env });
process.exit(r.status ?? 1);
