/**
 * What `cinder-run` does (see `cli.ts`): parse the torchrun-style options, start the ranks, report the first
 * failure.
 */
import { usableCores } from "./node";
import { DEFAULT_TIMEOUT_MS, describeError, spawnRanks } from "./spawn";

const USAGE = "usage: cinder-run --nproc N [--timeout MS] script.(js|ts) [script args...]";

/** The launcher's options and the script's command line, from `argv` (without node and this file). */
export function parseArgs(argv: readonly string[]): {
  nproc: number;
  timeoutMs: number;
  script: string;
  args: string[];
} {
  let nproc = 1;
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  let i = 0;
  for (; i < argv.length && argv[i].startsWith("--"); i++) {
    const [flag, inline] = argv[i].split("=", 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`cinder-run: ${flag} needs a value\n${USAGE}`);
    if (/^--nproc([-_]per[-_]node)?$/.test(flag)) {
      nproc = value === "auto" ? usableCores() : Number(value);
      if (!Number.isInteger(nproc) || nproc < 1)
        throw new Error(`cinder-run: ${flag} expects an integer >= 1 or "auto", got ${value}`);
    } else if (flag === "--timeout") {
      timeoutMs = Number(value);
      if (!(timeoutMs > 0)) throw new Error(`cinder-run: --timeout expects milliseconds > 0, got ${value}`);
    } else throw new Error(`cinder-run: unknown option ${flag}\n${USAGE}`);
  }
  const script = argv[i];
  if (script === undefined) throw new Error(`cinder-run: no script given\n${USAGE}`);
  return { nproc, timeoutMs, script, args: argv.slice(i + 1) as string[] };
}

/** Runs `cinder-run` with `argv` (without node and the launcher); sets `process.exitCode` (2: bad usage, 1: a rank failed). */
export async function runCli(argv: readonly string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const { nproc, timeoutMs, script, args } = parsed;
  try {
    await spawnRanks(nproc, { kind: "script", path: script, args }, { timeoutMs });
  } catch (e) {
    process.stderr.write(`cinder-run: ${describeError(e)}\n`);
    process.exitCode = 1;
  }
}
