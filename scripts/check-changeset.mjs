#!/usr/bin/env node
// Fails when a public package's sources (packages/<name>/src/**) changed since a base ref and no
// changeset added or changed since then names that package. An empty changeset
// (`pnpm changeset --empty`) says "no release needed" and covers every package.
//
//   node scripts/check-changeset.mjs [base-ref]
//
// The base ref comes from the argument, else CHANGESET_BASE_REF, else GITHUB_BASE_REF (as
// origin/<branch>). With none, or one that does not resolve (a fresh single-commit clone), the
// check is skipped and exits 0. Uncommitted and untracked files count as changed.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { publicPackages, root } from "./lib/workspace.mjs";

const git = (...args) =>
  execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const tryGit = (...args) => {
  try {
    return git(...args);
  } catch {
    return undefined;
  }
};
const skip = (why) => {
  console.log(`check-changeset: skipped (${why})`);
  process.exit(0);
};

const base =
  process.argv[2] ||
  process.env.CHANGESET_BASE_REF ||
  (process.env.GITHUB_BASE_REF ? `origin/${process.env.GITHUB_BASE_REF}` : "");
if (!base) skip("no base ref: pass one, or set CHANGESET_BASE_REF");
if (!tryGit("rev-parse", "--verify", "--quiet", `${base}^{commit}`))
  skip(`base ref "${base}" does not resolve`);
const since = tryGit("merge-base", base, "HEAD") ?? base;

const changed = new Set(
  [tryGit("diff", "--name-only", since) ?? "", tryGit("ls-files", "--others", "--exclude-standard") ?? ""]
    .join("\n")
    .split("\n")
    .filter(Boolean),
);

// Public packages whose src/ changed.
const needed = new Map();
for (const { rel, manifest } of publicPackages()) {
  if ([...changed].some((file) => file.startsWith(`${rel}/src/`))) needed.set(manifest.name, rel);
}
if (needed.size === 0) {
  console.log(`check-changeset: ok (no package sources changed since ${base})`);
  process.exit(0);
}

// Changesets added or changed since the base, and the packages their front matter names.
const covered = new Set();
let empty = false;
for (const file of changed) {
  if (!/^\.changeset\/[^/]+\.md$/.test(file) || file === ".changeset/README.md") continue;
  const path = join(root, file);
  if (!existsSync(path)) continue; // deleted (consumed by `changeset version`)
  const front = readFileSync(path, "utf8").match(/^---\r?\n([\s\S]*?)\r?\n?---/);
  if (!front) continue;
  const names = [...front[1].matchAll(/^\s*["']?([^"':\s]+)["']?\s*:\s*(major|minor|patch)\s*$/gm)].map(
    (m) => m[1],
  );
  if (names.length === 0) empty = true;
  for (const name of names) covered.add(name);
}
if (empty) {
  console.log("check-changeset: ok (an empty changeset says no release is needed)");
  process.exit(0);
}
const missing = [...needed].filter(([name]) => !covered.has(name));
if (missing.length === 0) {
  console.log(`check-changeset: ok (${[...needed.keys()].join(", ")} covered by changesets)`);
  process.exit(0);
}
console.error(`check-changeset: sources changed since ${base} without a changeset for:`);
for (const [name, rel] of missing) console.error(`  ${name} (${rel}/src)`);
console.error(
  "Run `pnpm changeset`, pick the packages and bump types, describe the change, and commit the file\n" +
    "(or `pnpm changeset --empty` if no release is needed).",
);
process.exit(1);
