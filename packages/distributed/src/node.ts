/**
 * Node built-ins, reached through `process.getBuiltinModule` (Node >= 20.16) so that bundlers never see them and
 * the package still bundles for browsers, where only single-process groups (`worldSize` 1) make sense.
 */
interface NodeModules {
  "node:worker_threads": typeof import("node:worker_threads");
  "node:os": typeof import("node:os");
  "node:module": typeof import("node:module");
  "node:url": typeof import("node:url");
  "node:path": typeof import("node:path");
  "node:fs": typeof import("node:fs");
}

/** A Node built-in, or a clear error where there is none. */
export function nodeModule<K extends keyof NodeModules>(name: K): NodeModules[K] {
  const p = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  const m = p?.getBuiltinModule?.(name);
  if (m === undefined)
    throw new Error(
      `@cinder/distributed: ${name} is not available here (the threads backend and cinder-run need Node >= 20.16)`,
    );
  return m as NodeModules[K];
}

/** The number of usable cores (`os.availableParallelism()`), 1 where unknown. */
export function usableCores(): number {
  const p = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  const os = p?.getBuiltinModule?.("node:os") as typeof import("node:os") | undefined;
  if (os) return os.availableParallelism?.() ?? os.cpus().length;
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}
