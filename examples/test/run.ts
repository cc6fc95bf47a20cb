import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Run `pnpm example <name> -- args` as a user would (stdout and stderr are pipes, not a terminal) and parse its
 * closing JSON line. stderr (progress and notes) is returned too. `env` adds to the environment.
 */
export function runExample(
  name: string,
  args: string[] = [],
  env: Record<string, string> = {},
): { json: Record<string, any>; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["scripts/example.mjs", name, "--", ...args], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
    env: { ...process.env, FORCE_COLOR: "0", ...env },
  });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(
      `pnpm example ${name} exited with ${result.status ?? result.signal}\n${result.stderr.slice(-4000)}`,
    );
  const lines = result.stdout.trim().split("\n");
  return { json: JSON.parse(lines[lines.length - 1]), stdout: result.stdout, stderr: result.stderr };
}
