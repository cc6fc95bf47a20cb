/**
 * Starting "threads" ranks: each rank is a `worker_threads` worker of this process, given the world's shared
 * memory, its rank and the environment torchrun gives (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `LOCAL_WORLD_SIZE`,
 * `MASTER_ADDR`, `MASTER_PORT`), and a job: a script to run (`cinder-run`) or a module's exported function to call
 * (tests, `DataParallel`, programs that start their own ranks).
 *
 * A worker first runs a small bootstrap that, when the job or this package is TypeScript (development), registers
 * the `tsx` loader in the worker and adds the `@cinder/source` export condition; then `worker.ts` runs the job.
 * When a rank fails (throws, exits), the world is aborted with its error, so every other rank's next (or current)
 * collective throws a `DistributedError` naming it; `spawnRanks` then rejects with the first failure.
 */
import { DistributedError } from "./backend";
import { nodeModule, usableCores } from "./node";
import {
  abortWorld,
  createWorld,
  DEFAULT_SLOT_BYTES,
  markFinished,
  type WorldInit,
  worldAbort,
} from "./threads/world";

/** What a rank runs: a script file (with its arguments) or an exported function of a module (with data). */
export type RankJob =
  | { kind: "script"; path: string; args: string[] }
  | { kind: "call"; module: string; export: string; data: unknown };

/** Options of {@link spawnRanks}. */
export interface SpawnOptions {
  /** The bound on every collective of the group, in ms (default 30 minutes, as PyTorch's). */
  timeoutMs?: number;
  /** Extra environment variables of every rank. */
  env?: Record<string, string>;
  /** The shared slot per rank, in bytes (collectives larger than this run in chunks). */
  slotBytes?: number;
}

/** What `worker.ts` receives in `workerData`. */
export interface RankData {
  world: WorldInit;
  rank: number;
  timeoutMs: number;
  job: RankJob;
}

/** The default bound on a collective: 30 minutes, as PyTorch's `default_pg_timeout`. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
(async () => {
  const boot = workerData.cinderBoot;
  if (boot.tsx) (await import(boot.tsx)).register();
  const m = await import(boot.entry);
  await m.runRank(workerData.cinderRank);
})();
`;

const isTs = (p: string) => /\.[mc]?tsx?$/.test(p);

/** `tsx`'s loader API, resolved from `from` (a file path or URL) and then from this package, or null. */
function findTsx(from: string[]): string | null {
  const { createRequire } = nodeModule("node:module");
  const { pathToFileURL } = nodeModule("node:url");
  for (const base of from) {
    try {
      // the ESM entry of tsx's loader API (require.resolve would give its CommonJS one)
      const manifest = createRequire(base).resolve("tsx/package.json");
      const exp = JSON.parse(nodeModule("node:fs").readFileSync(manifest, "utf8")).exports["./esm/api"];
      return new URL(exp.import.default, pathToFileURL(manifest)).href;
    } catch {}
  }
  return null;
}

/** The URL of `worker.ts` (sources) or `worker.js` (the build), next to this file. */
function workerEntry(): string {
  const here = import.meta.url;
  return new URL(isTs(new URL(here).pathname) ? "./worker.ts" : "./worker.js", here).href;
}

/** How each rank's worker is started: the bootstrap's data and the Node flags (also `DataParallel`'s replicas). */
export function bootFor(job: RankJob): { boot: { tsx: string | null; entry: string }; execArgv: string[] } {
  const { fileURLToPath } = nodeModule("node:url");
  const entry = workerEntry();
  const target = job.kind === "script" ? job.path : job.module;
  const needsTs = isTs(entry) || isTs(target);
  let tsx: string | null = null;
  if (needsTs) {
    const targetPath = target.startsWith("file:") ? fileURLToPath(target) : target;
    tsx = findTsx([targetPath, fileURLToPath(entry), `${process.cwd()}/`]);
    if (tsx === null)
      throw new Error(
        `cinder-run: ${target} is TypeScript; running it needs tsx (npm i -D tsx), or run its compiled .js`,
      );
  }
  // the workers' own loader registers tsx; a --import/--loader of the parent would not reach them (Node 20)
  const execArgv: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i];
    if (/^--(import|loader|experimental-loader)$/.test(a)) i++;
    else if (!/^--(import|loader|experimental-loader)=/.test(a)) execArgv.push(a);
  }
  if (isTs(entry) && !execArgv.some((a) => a.includes("@cinder/source")))
    execArgv.push("--conditions=@cinder/source");
  return { boot: { tsx, entry }, execArgv };
}

/** The torchrun-style environment of rank `rank` of `nproc`. */
export function rankEnv(
  rank: number,
  nproc: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  const threads = Math.max(1, Math.floor(usableCores() / nproc));
  return {
    ...(process.env as Record<string, string>),
    // each rank's own matrix-product threads share the cores with the other ranks
    CINDER_NUM_THREADS: process.env.CINDER_NUM_THREADS ?? String(threads),
    ...extra,
    RANK: String(rank),
    LOCAL_RANK: String(rank),
    WORLD_SIZE: String(nproc),
    LOCAL_WORLD_SIZE: String(nproc),
    MASTER_ADDR: "127.0.0.1",
    MASTER_PORT: process.env.MASTER_PORT ?? "29500",
    CINDER_DIST_BACKEND: "threads",
  };
}

/**
 * Runs `job` on `nproc` ranks (worker threads of this process) and resolves with each rank's result (a called
 * function's return value, structured-cloned; `undefined` for scripts) once all have finished; rejects with the
 * failure of the rank that failed first: a `DistributedError` naming it, its error as `cause`, and every rank's
 * failure as `errors` (`{ rank, error }[]`).
 */
export async function spawnRanks(
  nproc: number,
  job: RankJob,
  options: SpawnOptions = {},
): Promise<unknown[]> {
  if (!Number.isInteger(nproc) || nproc < 1)
    throw new RangeError(`spawnRanks: expected nproc >= 1, got ${nproc}`);
  const { Worker } = nodeModule("node:worker_threads");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const world = createWorld(nproc, options.slotBytes ?? DEFAULT_SLOT_BYTES);
  const { boot, execArgv } = bootFor(job);
  const failures: { rank: number; error: unknown }[] = [];
  const results = await Promise.all(
    Array.from({ length: nproc }, (_, rank) => {
      const data: RankData = { world, rank, timeoutMs, job };
      const worker = new Worker(BOOTSTRAP, {
        eval: true,
        execArgv,
        env: rankEnv(rank, nproc, options.env),
        argv: job.kind === "script" ? job.args : [],
        workerData: { cinderBoot: boot, cinderRank: data },
      });
      return new Promise<unknown>((resolve) => {
        let result: unknown;
        let failed = false;
        worker.on("message", (m: { cinderResult?: unknown }) => {
          if (m && typeof m === "object" && "cinderResult" in m) result = m.cinderResult;
        });
        worker.on("error", (error) => {
          failed = true;
          failures.push({ rank, error });
          abortWorld(world, rank, `rank ${rank} failed: ${describeError(error)}`);
        });
        worker.on("exit", (code) => {
          if (code !== 0 && !failed) {
            failures.push({ rank, error: new Error(`rank ${rank} exited with code ${code}`) });
            abortWorld(world, rank, `rank ${rank} exited with code ${code}`);
          } else if (code === 0) markFinished(world, rank);
          resolve(result);
        });
      });
    }),
  );
  if (failures.length > 0) {
    const abort = worldAbort(world);
    const first = failures.find((f) => f.rank === abort?.rank) ?? failures[0];
    const err = new DistributedError(
      `rank ${first.rank} of ${nproc} failed: ${describeError(first.error)}` +
        (failures.length > 1 ? ` (and ${failures.length - 1} other rank(s) after it)` : ""),
      first.rank,
    );
    (err as { cause?: unknown }).cause = first.error;
    (err as { errors?: unknown }).errors = failures;
    throw err;
  }
  return results;
}

/** `Name: message` of a thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
