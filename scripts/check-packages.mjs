#!/usr/bin/env node
// Checks what each public package would publish, after `pnpm build`: packs it with pnpm (as
// `pnpm publish` would), then
//   - the packed package.json has no `workspace:` ranges and no exports into src/;
//   - publint --strict finds nothing (suggestions are printed, warnings and errors fail);
//   - are-the-types-wrong finds no type-resolution problem for an ESM-only package.
// attw reads the pnpm tarball, not `attw --pack`: that runs `npm pack`, which keeps `workspace:^`
// and the source exports. Both tools run offline.
//
//   node scripts/check-packages.mjs [package-name ...]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { manifestProblems, pack } from "./lib/pack.mjs";
import { publicPackages, root } from "./lib/workspace.mjs";

const only = process.argv.slice(2);
const packages = publicPackages().filter((p) => only.length === 0 || only.includes(p.manifest.name));
const dest = mkdtempSync(join(tmpdir(), "cinder-check-packages-"));
const attw = join(root, "node_modules", ".bin", "attw");
let failures = 0;

for (const { dir, manifest } of packages) {
  const problems = [];
  const notes = [];
  let tarball;
  try {
    tarball = pack(dir, dest);
  } catch (error) {
    problems.push(error.stderr ? `pnpm pack failed: ${error.stderr}`.trim() : error.message);
  }
  if (tarball) {
    const bytes = readFileSync(tarball);
    const { messages, pkg } = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
      strict: true,
      level: "suggestion",
    });
    problems.push(...manifestProblems(pkg));
    for (const message of messages) {
      const text = `publint ${message.type}: ${formatMessage(message, pkg, { color: false })}`;
      (message.type === "suggestion" ? notes : problems).push(text);
    }
    const result = spawnSync(
      attw,
      [
        tarball,
        "--profile",
        "esm-only",
        "--no-definitely-typed",
        "--no-emoji",
        "--no-color",
        "--format",
        "ascii",
      ],
      { encoding: "utf8" },
    );
    if (result.status !== 0) problems.push(`attw:\n${result.stdout}${result.stderr}`.trim());
  }
  const status = problems.length ? "FAIL" : "ok  ";
  console.log(`${status} ${manifest.name}`);
  for (const line of [...problems, ...notes]) console.log(`     ${line.replace(/\n/g, "\n     ")}`);
  if (problems.length) failures += 1;
}

rmSync(dest, { recursive: true, force: true });
if (failures) {
  console.error(`check-packages: ${failures} of ${packages.length} packages have packaging problems`);
  process.exit(1);
}
console.log(`check-packages: ${packages.length} packages ok (publint --strict, attw, installable manifest)`);
