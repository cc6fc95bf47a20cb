/**
 * The default process group (PyTorch's `torch.distributed` world): `initProcessGroup`, `destroyProcessGroup`,
 * `getRank`, `getWorldSize`, `getBackend`, `isInitialized`, `isAvailable`; subgroups (`newGroup`, `getGroupRank`,
 * `getGlobalRank`, `getProcessGroupRanks`).
 *
 * One default group per thread: a "threads" rank is a worker thread with its own, an MPI rank a process with its
 * own. A subgroup is made by every rank (as PyTorch's `new_group`); on a rank outside it, it is PyTorch's
 * `GroupMember.NON_GROUP_MEMBER`: a group whose `rank()` is -1, on which collectives warn and do nothing.
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

/** A process group: the default one is `group.WORLD`, subgroups come from `newGroup`. */
export class ProcessGroup {
  /** The global ranks of the members, ascending (group rank i is `ranks[i]`). */
  readonly ranks: readonly number[];
  /** @internal */
  constructor(
    /** The backend this group runs on (null on a rank outside the subgroup). */
    readonly backendOrNull: CollectiveBackend | null,
    ranks?: readonly number[],
    root?: ProcessGroup,
  ) {
    this.ranks = ranks ?? Array.from({ length: backendOrNull?.worldSize ?? 0 }, (_, r) => r);
    this.root = root ?? this;
  }
  /** @internal The default group this one was made in (itself for the default group). */
  readonly root: ProcessGroup;
  /** The backend (throws on a rank outside the group). */
  get backend(): CollectiveBackend {
    if (this.backendOrNull === null)
      throw new DistributedError(
        `this rank is not a member of the group of ranks [${this.ranks.join(", ")}] (GroupMember.NON_GROUP_MEMBER)`,
      );
    return this.backendOrNull;
  }
  /** Whether this rank belongs to the group. */
  get isMember(): boolean {
    return this.backendOrNull !== null;
  }
  /** This rank within the group (-1 outside it). */
  rank(): number {
    return this.backendOrNull?.rank ?? -1;
  }
  /** The number of ranks in the group (-1 outside it, as PyTorch's `get_world_size`). */
  size(): number {
    return this.backendOrNull === null ? -1 : this.ranks.length;
  }
}

let world: ProcessGroup | null = null;
/** The subgroups made in the current default group (destroyed with it). */
const subgroups: ProcessGroup[] = [];

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

/**
 * The group a call runs on: the default one (`null` or `group.WORLD`) or a subgroup of it; throws before
 * `initProcessGroup` and for a group of a destroyed default group.
 */
export function resolveGroup(g: ProcessGroup | null | undefined, what: string): ProcessGroup {
  if (world === null)
    throw new DistributedError(
      `${what}: the default process group is not initialized; call initProcessGroup() first`,
    );
  if (g == null || g === world) return world;
  if (g.root !== world)
    throw new DistributedError(
      `${what}: the group belongs to a process group that was destroyed (or to another thread's); make it again with newGroup()`,
    );
  return g;
}

/**
 * PyTorch's answer for a rank outside `g`: a warning ("Running <op> on global rank <r> which does not belong to
 * the given group.") and true, so the caller returns without doing anything.
 */
export function notInGroup(g: ProcessGroup, what: string): boolean {
  if (g.isMember) return false;
  const message = `Running ${what} on global rank ${world?.rank() ?? -1} which does not belong to the given group.`;
  const proc = (globalThis as { process?: { emitWarning?: (m: string) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(message);
  else console.warn(message);
  return true;
}

const rankKind = k.where(k.int, (r) => r >= 0, "rank >= 0");

/**
 * `new_group(ranks=None, timeout=default_pg_timeout, backend=None, pg_options=None)`: a subgroup of the default
 * group's ranks `ranks` (global ranks, any order; all ranks when null), on the default group's backend. Every rank
 * calls it, in the same order with the same ranks (a collective); on a rank outside `ranks` it returns a group
 * whose `rank()` is -1 (PyTorch's `NON_GROUP_MEMBER`). `timeout` (ms) bounds the subgroup's waits; by default the
 * default group's timeout (PyTorch's default unless `initProcessGroup` was given another).
 */
export const newGroup = op(
  signature(
    "distributed.newGroup",
    [
      arg.opt("ranks", k.ints),
      arg.opt("timeout", positiveMs),
      arg.opt("backend", k.str),
      arg.unsupported("pgOptions", null, "no backend takes options"),
    ],
    [],
    { torch: "torch.distributed.new_group" },
  ),
  (a): ProcessGroup => {
    const w = resolveGroup(null, "newGroup");
    const size = w.size();
    const ranks = [...(a.ranks ?? Array.from({ length: size }, (_, r) => r))].sort((x, y) => x - y);
    if (ranks.length > size)
      throw new RangeError(
        `newGroup: the new group's ${ranks.length} ranks are more than the world size ${size}`,
      );
    for (const [i, r] of ranks.entries()) {
      if (!Number.isInteger(r) || r < 0 || r >= size)
        throw new RangeError(`newGroup: the new group's ranks must be in [0, ${size}), got ${r}`);
      if (i > 0 && ranks[i - 1] === r) throw new RangeError(`newGroup: rank ${r} is given twice`);
    }
    if (a.backend !== null && a.backend.toLowerCase() !== w.backend.name)
      throw new DistributedError(
        `newGroup: subgroups run on the default group's backend "${w.backend.name}", got backend "${a.backend}"`,
      );
    const make = w.backend.newGroup;
    if (typeof make !== "function")
      throw new DistributedError(
        `newGroup: backend "${w.backend.name}" does not support subgroups (no newGroup method)`,
      );
    const sub = make.call(w.backend, ranks, a.timeout ?? undefined);
    const g = new ProcessGroup(sub, ranks, w);
    subgroups.push(g);
    return g;
  },
);

/** `get_group_rank(group, global_rank)`: the rank in `group` of global rank `globalRank`. */
export const getGroupRank = op(
  signature(
    "distributed.getGroupRank",
    [arg("group", k.instance(ProcessGroup)), arg("globalRank", rankKind)],
    [],
    { torch: "torch.distributed.get_group_rank" },
  ),
  (a): number => {
    const g = resolveGroup(a.group, "getGroupRank");
    const i = g.ranks.indexOf(a.globalRank);
    if (i < 0)
      throw new DistributedError(
        `getGroupRank: global rank ${a.globalRank} is not part of the group of ranks [${g.ranks.join(", ")}]`,
      );
    return i;
  },
);

/** `get_global_rank(group, group_rank)`: the global rank of rank `groupRank` of `group`. */
export const getGlobalRank = op(
  signature(
    "distributed.getGlobalRank",
    [arg("group", k.instance(ProcessGroup)), arg("groupRank", rankKind)],
    [],
    { torch: "torch.distributed.get_global_rank" },
  ),
  (a): number => {
    const g = resolveGroup(a.group, "getGlobalRank");
    if (a.groupRank >= g.ranks.length)
      throw new DistributedError(
        `getGlobalRank: group rank ${a.groupRank} is not part of the group of ranks [${g.ranks.join(", ")}] (it has ${g.ranks.length})`,
      );
    return g.ranks[a.groupRank];
  },
);

/** `get_process_group_ranks(group)`: the global ranks of the group's members, ascending. */
export const getProcessGroupRanks = op(
  signature("distributed.getProcessGroupRanks", [arg("group", k.instance(ProcessGroup))], [], {
    torch: "torch.distributed.get_process_group_ranks",
  }),
  (a): number[] => [...resolveGroup(a.group, "getProcessGroupRanks").ranks],
);

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
    if (g === world) {
      // the subgroups go with the default group
      for (const s of subgroups.splice(0)) s.backendOrNull?.destroy();
      setWorld(null);
    } else {
      subgroups.splice(subgroups.indexOf(g), 1);
    }
    g.backendOrNull?.destroy();
  },
);

export { groupKind };
