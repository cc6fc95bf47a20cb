/**
 * Loading the Open MPI addon (`build/Release/cinder_mpi.node`, built by `scripts/build-addon.mjs`), with errors that
 * say what to install or how to launch instead of a bare `dlopen` message.
 */
import { createRequire } from "node:module";

/** The typed arrays MPI moves (bool travels as its `Uint8Array` storage). */
export type MpiArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** The reductions the addon runs (avg is a sum divided in JS). */
export type MpiOp = "sum" | "product" | "min" | "max";

/**
 * The addon's functions. Each collective starts MPI's non-blocking form (`MPI_I*`) on the arrays' own memory and
 * returns a request id; the addon keeps the arrays alive until the request completes. The last argument of every
 * communicating call is a communicator id: 0 is `MPI_COMM_WORLD`, `commCreate` makes subgroups.
 */
export interface NativeMpi {
  /** `MPI_Init_thread` (once per process; later calls return the same answer). */
  init(): { rank: number; size: number; threadLevel: number };
  /** `MPI_Finalize`; throws while requests are pending. */
  finalize(): void;
  /** `MPI_Abort(MPI_COMM_WORLD, code)`: ends every rank of the job. */
  abort(code: number): never;
  /** Whether MPI is up, how many requests are pending, and the library's version. */
  state(): { initialized: boolean; finalized: boolean; pending: number; version: number; library: string };
  allreduce(send: MpiArray | null, recv: MpiArray, op: MpiOp, comm: number): number;
  bcast(buf: MpiArray, root: number, comm: number): number;
  allgather(send: MpiArray | null, recv: MpiArray, comm: number): number;
  reduceScatterBlock(send: MpiArray, recv: MpiArray, op: MpiOp, comm: number): number;
  gather(send: MpiArray, recv: MpiArray | null, root: number, comm: number): number;
  scatter(send: MpiArray | null, recv: MpiArray, root: number, comm: number): number;
  barrier(comm: number): number;
  /** `MPI_Isend` of `buf` to `dst` with `tag`. */
  isend(buf: MpiArray, dst: number, tag: number, comm: number): number;
  /** `MPI_Irecv` into `buf` from `src` (-1: any source); on completion `status` is [source, element count]. */
  irecv(buf: MpiArray, src: number, tag: number, status: Int32Array, comm: number): number;
  /** `MPI_Cancel` of a pending receive (then completed): true when cancelled, false when it had arrived. */
  cancel(id: number): boolean;
  /** `MPI_Comm_create` of the parent's `ranks` (collective over the parent): the new id, or -1 outside it. */
  commCreate(ranks: readonly number[], parent: number): number;
  /** One `MPI_Test`: true once the request completed (it is then forgotten). */
  test(id: number): boolean;
  /** Polls until the request completes (true) or `timeoutMs` passes (false; the request stays pending). */
  wait(id: number, timeoutMs: number): boolean;
}

/** The Debian/Ubuntu packages that provide Open MPI. */
export const OPEN_MPI_PACKAGES = "apt-get install openmpi-bin libopenmpi-dev";

/** How a program using the MPI backend is started. */
export const LAUNCH_LINE = "mpirun -np 2 node train.js";

const ADDON = new URL("../build/Release/cinder_mpi.node", import.meta.url);

/** Why loading the addon failed, as a message saying what to do (exported for tests). */
export function explainLoadError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string } | null)?.code;
  if (/libmpi[^:]*: cannot open shared object file|libmpi.*not found/i.test(text))
    return `@cinder/distributed-mpi needs Open MPI's library, which is not installed (${text.split("\n")[0]}); install it with \`${OPEN_MPI_PACKAGES}\``;
  if (code === "MODULE_NOT_FOUND" || /Cannot find module/.test(text))
    return (
      "@cinder/distributed-mpi: its Open MPI addon is not built (build/Release/cinder_mpi.node is missing); " +
      `install Open MPI (\`${OPEN_MPI_PACKAGES}\`), then run \`npm run build:addon\` in the package ` +
      "(in the Cinder repository: `pnpm --filter @cinder/distributed-mpi build`)"
    );
  return `@cinder/distributed-mpi: loading its Open MPI addon failed: ${text} (is Open MPI installed? \`${OPEN_MPI_PACKAGES}\`)`;
}

/** Whether this process was started by Open MPI's `mpirun`/`mpiexec` (which sets `OMPI_COMM_WORLD_SIZE`). */
export function launchedByMpirun(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OMPI_COMM_WORLD_SIZE !== undefined || env.PMIX_RANK !== undefined;
}

let native: NativeMpi | null = null;

/**
 * The addon, loaded on first use. Throws an error naming the Debian packages when Open MPI or the addon is missing,
 * and the launch line when the process was not started by `mpirun`.
 */
export function loadNative(): NativeMpi {
  if (native) return native;
  let loaded: NativeMpi;
  try {
    loaded = createRequire(import.meta.url)(ADDON.pathname) as NativeMpi;
  } catch (error) {
    throw new Error(explainLoadError(error), { cause: error });
  }
  if (!launchedByMpirun())
    throw new Error(
      `@cinder/distributed-mpi runs under Open MPI's launcher: start the program as \`${LAUNCH_LINE}\` ` +
        "(one process per rank; add --oversubscribe for more ranks than cores)",
    );
  native = loaded;
  return loaded;
}
