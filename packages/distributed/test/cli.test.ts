/** `cinder-run`: its arguments, and a script on 3 ranks (env, argv, a collective) and with a failing rank. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseArgs } from "../src/launch";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const script = fileURLToPath(new URL("./scripts/hello.ts", import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, ["--conditions=@cinder/source", "--import", "tsx", cli, ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
  });

describe("cinder-run", () => {
  it("parses torchrun-style options and leaves the script's own to it", () => {
    expect(parseArgs(["--nproc", "3", "s.js", "--nproc", "9"])).toMatchObject({
      nproc: 3,
      script: "s.js",
      args: ["--nproc", "9"],
    });
    expect(parseArgs(["--nproc-per-node=2", "--timeout", "500", "s.ts"])).toMatchObject({
      nproc: 2,
      timeoutMs: 500,
    });
    expect(parseArgs(["--nproc_per_node", "auto", "s.ts"]).nproc).toBeGreaterThanOrEqual(1);
    expect(() => parseArgs(["--nproc", "0", "s.js"])).toThrow(/expects an integer >= 1 or "auto", got 0/);
    expect(() => parseArgs(["--nprocs", "2", "s.js"])).toThrow(/unknown option --nprocs/);
    expect(() => parseArgs(["--nproc", "2"])).toThrow(/no script given/);
  });

  it("runs a script on 3 ranks with RANK / WORLD_SIZE set, and fails naming a rank that throws", () => {
    const ok = run("--nproc", "3", script, "x");
    expect(ok.status, ok.stderr).toBe(0);
    const lines = ok.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.rank).sort()).toEqual([0, 1, 2]);
    for (const l of lines)
      expect(l).toMatchObject({ worldSize: 3, env: String(l.rank), sum: 6, args: ["x"] });
    const bad = run("--nproc", "2", script, "--fail", "1");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/rank 1 of 2 failed: Error: rank 1 was told to fail/);
  });
});
