/**
 * The "threads" rank this worker is (set by `worker.ts` before the job runs), kept on `globalThis` under a
 * registered symbol so that every copy of this package loaded in the worker (sources and build) sees it.
 */
import type { RankData } from "../spawn";

const KEY = Symbol.for("@cinder/distributed.threadsRank");

/** Records this worker's rank (worker.ts). */
export function setThreadsRank(data: RankData): void {
  (globalThis as Record<symbol, unknown>)[KEY] = data;
}

/** This worker's rank data, or null outside a "threads" rank. */
export function threadsRank(): RankData | null {
  return ((globalThis as Record<symbol, unknown>)[KEY] as RankData | undefined) ?? null;
}
