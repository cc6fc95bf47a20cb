/**
 * The default process group (PyTorch's `torch.distributed` world): `initProcessGroup`, `destroyProcessGroup`,
 * `getRank`, `getWorldSize`, `getBackend`, `isInitialized`, `isAvailable`.
 *
 * One group per thread: a "threads" rank is a worker thread with its own group, an MPI rank a process with its
 * own. Subgroups (`new_group`) are not supported yet: the `group` parameters take `null` or `group.WORLD`.
 */
import { arg, k, op, signature } from "@cinder/tensor";
import {
  type BackendInitOptions,
  type CollectiveBackend,
  checkBackend,
  DistributedError,
  getBackendFactory,
  registeredBackends,
} from "./backend";
import { DEFAULT_TIMEOUT_MS } from "./spawn";
import { ThreadsBackend } from "./threads/backend";
import { threadsRank } from "./threads/rank";
import { createWorld } from "./threads/world";

/** A process group: the default one is `group.WORLD`. */
export class ProcessGroup {
  /** @internal */
  constructor(
    /** The backend this group runs on. */
    readonly backend: CollectiveBackend,
  ) {}
  /** This rank within the group. */
  rank(): number {
    return this.backend.rank;
  }
  /** The number of ranks in the group. */
  size(): number {
    return this.backend.worldSize;
  }
}

let world: ProcessGroup | null = null;

// published for @cinder/data's DistributedSampler (which cannot import this package) while the group exists
const GROUP_KEY = Symbol.for("@cinder/distributed.defaultGroup");
function setWorld(g: ProcessGroup | null): void {
  world = g;
  const slot = globalThis as Record<symbol, unknown>;
  if (g === null) delete slot[GROUP_KEY];
  else slot[GROUP_KEY] = { rank: g.rank(), worldSize: g.size() };
}

/** PyTorch's `dist.group`: `group.WORLD` is the default group once `initProcessGroup` has run (else null). */
export const group = {
  /** The default group, or null before `initProcessGroup`. */
  get WORLD(): ProcessGroup | null {
    return world;
  },
};

/** The built-in "threads" backend: this worker's rank of a `cinder-run`/`spawnRanks` world, or a world of one. */
function threadsFactory(o: BackendInitOptions, timeoutGiven: boolean): CollectiveBackend {
  const here = threadsRank();
  if (here !== null) {
    const { world: w, rank } = here;
    if (o.worldSize >= 0 && o.worldSize !== w.worldSize)
      throw new DistributedError(
        `initProcessGroup: worldSize ${o.worldSize} given, but this thread is one of ${w.worldSize} ranks`,
      );
    if (o.rank >= 0 && o.rank !== rank)
      throw new DistributedError(`initProcessGroup: rank ${o.rank} given, but this thread is rank ${rank}`);
    return new ThreadsBackend(w, rank, timeoutGiven ? o.timeoutMs : here.timeoutMs);
  }
  if (o.worldSize <= 1 && o.rank <= 0) return new ThreadsBackend(createWorld(1, 1 << 20), 0, o.timeoutMs);
  throw new DistributedError(
    `initProcessGroup: the "threads" backend's ranks are worker threads started by \`cinder-run --nproc N script\` ` +
      `(or spawnRanks); this thread is not one of them, so only worldSize 1 works here (got worldSize ${o.worldSize}, rank ${o.rank})`,
  );
}

const envInt = (name: string): number => {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  const n = v === undefined || v === "" ? Number.NaN : Number(v);
  return Number.isInteger(n) ? n : -1;
};

const positiveMs = k.where(k.float, (t) => t > 0, "milliseconds > 0");

/**
 * `init_process_group(backend, init_method=None, timeout=default_pg_timeout, world_size=-1, rank=-1, store=None,
 * group_name='', pg_options=None)`: joins this rank to the default group. `rank` and `worldSize` default to the
 * environment's `RANK` and `WORLD_SIZE` (what `cinder-run` and `torchrun` set); `timeout` is in milliseconds (30
 * minutes by default, as PyTorch's) and bounds every collective. Async (a backend may need to connect):
 * `await initProcessGroup("threads")` or `await initProcessGroup({ backend: "threads" })`.
 */
export const initProcessGroup = op(
  signature(
    "distributed.initProcessGroup",
    [
      arg("backend", k.str),
      arg.opt("initMethod", k.str),
      arg("timeout", positiveMs, DEFAULT_TIMEOUT_MS),
      arg("worldSize", k.int, -1),
      arg("rank", k.int, -1),
      arg.unsupported("store", null, "Cinder's backends find their ranks themselves"),
      arg("groupName", k.str, ""),
      arg.unsupported("pgOptions", null, "no backend takes options"),
    ],
    [],
    { torch: "torch.distributed.init_process_group" },
  ),
  async (a): Promise<void> => {
    if (world !== null)
      throw new DistributedError(
        `initProcessGroup: the default process group is already initialized (backend "${world.backend.name}"); call destroyProcessGroup() first`,
      );
    const name = a.backend.toLowerCase();
    const options: BackendInitOptions = {
      rank: a.rank >= 0 ? a.rank : envInt("RANK"),
      worldSize: a.worldSize >= 0 ? a.worldSize : envInt("WORLD_SIZE"),
      initMethod: a.initMethod ?? "env://",
      timeoutMs: a.timeout,
    };
    const factory = getBackendFactory(name);
    let backend: CollectiveBackend;
    if (factory !== undefined) backend = await factory(options);
    else if (name === "threads") backend = threadsFactory(options, a.timeout !== DEFAULT_TIMEOUT_MS);
    else
      throw new DistributedError(
        `initProcessGroup: unknown backend "${a.backend}"; available: ${["threads", ...registeredBackends()].join(", ")}` +
          (name === "mpi" ? ' (import "@cinder/distributed-mpi" first, which registers "mpi")' : ""),
      );
    checkBackend(backend, name);
    if (options.rank >= 0 && backend.rank !== options.rank)
      throw new DistributedError(
        `initProcessGroup: asked for rank ${options.rank}, backend "${name}" says ${backend.rank}`,
      );
    if (options.worldSize >= 0 && backend.worldSize !== options.worldSize)
      throw new DistributedError(
        `initProcessGroup: asked for worldSize ${options.worldSize}, backend "${name}" has ${backend.worldSize} ranks`,
      );
    setWorld(new ProcessGroup(backend));
  },
);

const groupKind = k.opt(k.instance(ProcessGroup));

/** The group a collective runs on: the default one (`null` or `group.WORLD`); throws before `initProcessGroup`. */
export function resolveGroup(g: ProcessGroup | null | undefined, what: string): ProcessGroup {
  if (world === null)
    throw new DistributedError(
      `${what}: the default process group is not initialized; call initProcessGroup() first`,
    );
  if (g != null && g !== world)
    throw new DistributedError(
      `${what}: only the default group (null or group.WORLD) is supported, not a subgroup`,
    );
  return world;
}

/** `get_rank(group=None)`: this rank in the group. */
export const getRank = op(
  signature("distributed.getRank", [arg("group", groupKind, null)], [], {
    torch: "torch.distributed.get_rank",
  }),
  (a): number => resolveGroup(a.group, "getRank").rank(),
);

/** `get_world_size(group=None)`: the number of ranks in the group. */
export const getWorldSize = op(
  signature("distributed.getWorldSize", [arg("group", groupKind, null)], [], {
    torch: "torch.distributed.get_world_size",
  }),
  (a): number => resolveGroup(a.group, "getWorldSize").size(),
);

/** `get_backend(group=None)`: the name of the group's backend ("threads", "mpi", ...). */
export const getBackend = op(
  signature("distributed.getBackend", [arg("group", groupKind, null)], [], {
    torch: "torch.distributed.get_backend",
  }),
  (a): string => resolveGroup(a.group, "getBackend").backend.name,
);

/** `is_initialized()`: whether the default group exists. */
export const isInitialized = op(
  signature("distributed.isInitialized", [], [], { torch: "torch.distributed.is_initialized" }),
  (): boolean => world !== null,
);

/** `is_available()`: whether this build has `torch.distributed` (always true: the threads backend is built in). */
export const isAvailable = op(
  signature("distributed.isAvailable", [], [], { torch: "torch.distributed.is_available" }),
  (): boolean => true,
);

/** `destroy_process_group(group=None)`: leaves the default group (its backend is destroyed). */
export const destroyProcessGroup = op(
  signature("distributed.destroyProcessGroup", [arg("group", groupKind, null)], [], {
    torch: "torch.distributed.destroy_process_group",
  }),
  (a): void => {
    const g = resolveGroup(a.group, "destroyProcessGroup");
    setWorld(null);
    g.backend.destroy();
  },
);

export { groupKind };
