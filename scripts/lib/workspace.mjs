// The workspace's packages, read from pnpm-workspace.yaml (only its `packages:` globs, of the forms
// `dir/*` and `dir`), without running pnpm.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function globs() {
  const text = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8");
  const out = [];
  let inPackages = false;
  for (const line of text.split("\n")) {
    if (/^packages:\s*$/.test(line)) inPackages = true;
    else if (/^\S/.test(line)) inPackages = false;
    else if (inPackages) {
      const m = line.match(/^\s+-\s+["']?([^"'#\s]+)["']?/);
      if (m) out.push(m[1]);
    }
  }
  return out;
}

/** @returns {{ dir: string, rel: string, manifest: Record<string, any> }[]} sorted by directory */
export function workspacePackages() {
  const dirs = [];
  for (const glob of globs()) {
    if (glob.endsWith("/*")) {
      const base = join(root, glob.slice(0, -2));
      if (!existsSync(base)) continue;
      for (const entry of readdirSync(base, { withFileTypes: true })) {
        if (entry.isDirectory()) dirs.push(join(base, entry.name));
      }
    } else {
      dirs.push(join(root, glob));
    }
  }
  return dirs
    .filter((dir) => existsSync(join(dir, "package.json")))
    .sort()
    .map((dir) => ({
      dir,
      rel: dir.slice(root.length + 1),
      manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")),
    }));
}

/** Packages that are published: not private. */
export function publicPackages() {
  return workspacePackages().filter((p) => !p.manifest.private);
}

/** `@cinder/tensor` -> `cinder-tensor`: the name vitest.shared.ts gives a package's JSON report. */
export function reportName(packageName) {
  return packageName.replace(/^@/, "").replace(/\//g, "-");
}
