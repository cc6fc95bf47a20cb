// `pnpm pack` of one workspace package, the way it would be published: pnpm rewrites `workspace:^`
// ranges to real versions and replaces `exports` with `publishConfig.exports`.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** Packs `dir` into `dest` and returns the tarball's path. Throws with pnpm's output on failure. */
export function pack(dir, dest) {
  if (!existsSync(join(dir, "dist"))) {
    throw new Error(`${dir}/dist does not exist: run \`pnpm build\` first`);
  }
  const out = execFileSync("pnpm", ["pack", "--json", "--pack-destination", dest], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const json = JSON.parse(out.slice(out.indexOf("{")));
  return json.filename;
}

/** What would stop strangers from installing the tarball: workspace ranges, source-only exports. */
export function manifestProblems(manifest) {
  const problems = [];
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith("workspace:")) problems.push(`${field}.${dep} is still "${range}"`);
    }
  }
  const exportsText = JSON.stringify(manifest.exports ?? {});
  if (exportsText.includes("@cinder/source") || exportsText.includes("./src/")) {
    problems.push("exports still point at src/ (publishConfig.exports was not applied)");
  }
  return problems;
}
