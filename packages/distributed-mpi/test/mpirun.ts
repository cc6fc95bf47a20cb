/**
 * Launching test programs under Open MPI: `mpirun` with the flags a container needs (root allowed, more ranks than
 * cores, no ssh: local launch only, loopback TCP only) running a TypeScript program with Node.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { applySwiftShaderEnv } from "../../../scripts/webgpu/swiftshader-env.mjs";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The flags every launch in the tests uses (the README's container line). */
export const MPIRUN_FLAGS = [
  "--allow-run-as-root",
  "--oversubscribe",
  "--mca",
  "plm",
  "isolated",
  "--mca",
  "btl",
  "self,tcp",
  "--mca",
  "btl_tcp_if_include",
  "lo",
];

/** Whether Open MPI's launcher is installed. */
export function hasMpirun(): boolean {
  return spawnSync("mpirun", ["--version"]).status === 0;
}

/** Builds the addon when it is missing or stale (the package's test script does this too). */
export function buildAddon(): void {
  const r = spawnSync(process.execPath, [join(pkg, "scripts", "build-addon.mjs"), "--if-missing"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`building the addon failed:\n${r.stdout}${r.stderr}`);
}

/** The ranks' environment: this one, WebGPU on SwiftShader where no GPU exists, and a scratch directory. */
function rankEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env, CINDER_MPI_TEST_DIR: mkdtempSync(join(tmpdir(), "cinder-mpi-")) };
  applySwiftShaderEnv(env);
  return env;
}

/**
 * Runs `program` (relative to test/programs, or absolute) with `args` on `np` ranks, with `env` added to the ranks'
 * environment; its own scratch directory is CINDER_MPI_TEST_DIR.
 */
export function mpirun(
  program: string,
  {
    np = 2,
    args: programArgs = [] as string[],
    env = {} as Record<string, string>,
    timeoutMs = 120_000,
  } = {},
) {
  const args = [
    ...MPIRUN_FLAGS,
    "-np",
    String(np),
    process.execPath,
    "--expose-gc",
    "--conditions=@cinder/source",
    "--import",
    "tsx",
  ];
  const file = isAbsolute(program) ? program : join(pkg, "test", "programs", program);
  const r = spawnSync("mpirun", [...args, file, ...programArgs], {
    cwd: pkg,
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...rankEnv(), ...env },
  });
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("{"));
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    json: lines.map((l) => JSON.parse(l)),
  };
}
