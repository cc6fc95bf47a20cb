import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Run `pnpm example <name> -- args` as a user would and parse its closing JSON line. */
export function runExample(name: string, args: string[] = []): { json: Record<string, any>; stdout: string } {
  const stdout = execFileSync(process.execPath, ["scripts/example.mjs", name, "--", ...args], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  const lines = stdout.trim().split("\n");
  return { json: JSON.parse(lines[lines.length - 1]), stdout };
}
