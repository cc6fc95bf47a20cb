// A consumer's project outside the workspace: every public package packed as it would be published,
// installed with `npm install --offline` into a new folder, as someone installing Cinder from npm gets it.
// The packages' own third-party dependencies (d3-scale and fflate for viz, ...) are not in npm's cache on
// a machine that never ran npm install for them, so they are packed from the workspace's node_modules
// (the versions pnpm-lock.yaml pins) and installed from those tarballs too: nothing is downloaded.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pack } from "./pack.mjs";
import { publicPackages } from "./workspace.mjs";

/** The folder of `name` as Node would find it from `fromDir` (walking up through node_modules). */
function findPackageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The third-party packages `packages` need at run time (`dependencies`, transitively; not peers), as
 * `{ name, version, dir }` found in the workspace's node_modules.
 */
export function externalDependencies(packages) {
  const workspace = new Set(publicPackages().map((p) => p.manifest.name));
  const found = new Map();
  const queue = packages.flatMap(({ dir, manifest }) =>
    Object.keys(manifest.dependencies ?? {}).map((name) => ({ name, from: dir, by: manifest.name })),
  );
  while (queue.length > 0) {
    const { name, from, by } = queue.shift();
    if (workspace.has(name)) continue;
    const dir = findPackageDir(name, from);
    if (!dir) throw new Error(`${by} depends on ${name}, which is not installed: run \`pnpm install\``);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const seen = found.get(name);
    if (seen) {
      if (seen.version !== manifest.version)
        throw new Error(`two versions of ${name} are needed (${seen.version}, ${manifest.version})`);
      continue;
    }
    found.set(name, { name, version: manifest.version, dir });
    for (const dep of Object.keys(manifest.dependencies ?? {}))
      queue.push({ name: dep, from: dir, by: name });
  }
  return [...found.values()];
}

/**
 * Packs the public packages named in `names` (all of them by default; directory names under packages/) and
 * their third-party dependencies into `work`, and installs them with npm, offline, into a new project
 * `work/app` with the files in `files`. Returns the project's path. Throws an Error whose `detail` holds the
 * tools' output on failure.
 */
export function installConsumerProject(work, { names, files = {} } = {}) {
  const all = publicPackages();
  const packages = names ? names.map((n) => all.find((p) => p.rel === `packages/${n}`)) : all;
  const missing = names?.filter((_, i) => !packages[i]);
  if (missing?.length) throw new Error(`no public package in packages/${missing[0]}`);

  const tarballs = [];
  try {
    for (const { dir } of packages) tarballs.push(pack(dir, work));
  } catch (error) {
    throw Object.assign(new Error("could not pack the packages"), { detail: error.stderr || error.message });
  }
  const externals = externalDependencies(packages);
  try {
    // a tarball as npm publishes one (files under package/); `npm pack <dir>` stumbles over pnpm's layout
    for (const { name, version, dir } of externals) {
      const file = join(work, `${name.replace(/^@/, "").replace(/\//g, "-")}-${version}.tgz`);
      execFileSync(
        "tar",
        ["-czf", file, "--exclude=./node_modules", "--transform=s,^\\.,package,", "-C", dir, "."],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      tarballs.push(file);
    }
  } catch (error) {
    throw Object.assign(new Error("could not pack the third-party dependencies"), {
      detail: error.stderr?.toString() || error.message,
    });
  }

  const project = join(work, "app");
  mkdirSync(project);
  const manifest = { name: "cinder-consumer", version: "1.0.0", private: true, type: "module" };
  writeFileSync(join(project, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, name)), { recursive: true });
    writeFileSync(join(project, name), text);
  }
  const install = spawnSync(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", ...tarballs],
    { cwd: project, encoding: "utf8" },
  );
  if (install.status !== 0) {
    throw Object.assign(new Error("npm install of the packed tarballs failed"), {
      detail: `${install.stdout}${install.stderr}`,
    });
  }
  return { project, packages: packages.map((p) => p.manifest.name), externals };
}
