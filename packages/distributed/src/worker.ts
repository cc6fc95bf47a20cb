/**
 * What each "threads" rank runs first (a `worker_threads` entry, started by `spawnRanks`): it makes the rank's world
 * known to `initProcessGroup("threads")`, runs the job (a script, or a module's exported function whose result goes
 * back to the parent), and when the job fails aborts the world with the error, so that the other ranks' collectives
 * fail naming this rank instead of waiting.
 */
import { nodeModule } from "./node";
import { describeError, type RankData } from "./spawn";
import { setThreadsRank } from "./threads/rank";
import { abortWorld } from "./threads/world";

/** Runs rank `data.rank`'s job in this worker. */
export async function runRank(data: RankData): Promise<void> {
  const { parentPort } = nodeModule("node:worker_threads");
  const { pathToFileURL } = nodeModule("node:url");
  const { resolve } = nodeModule("node:path");
  setThreadsRank(data);
  try {
    const { job } = data;
    if (job.kind === "script") {
      const path = resolve(job.path);
      process.argv[1] = path;
      await import(pathToFileURL(path).href);
    } else {
      const m = (await import(job.module)) as Record<string, unknown>;
      const fn = m[job.export];
      if (typeof fn !== "function") throw new TypeError(`${job.module} exports no function "${job.export}"`);
      const result = await fn(job.data);
      parentPort?.postMessage({ cinderResult: result });
    }
  } catch (e) {
    abortWorld(data.world, data.rank, `rank ${data.rank} failed: ${describeError(e)}`);
    throw e;
  }
}
