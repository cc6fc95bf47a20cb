/**
 * @cinder/distributed-mpi: `@cinder/distributed`'s "mpi" backend, Open MPI's collectives through a small Node-API
 * addon, for programs launched as `mpirun -np N node train.js`.
 *
 * Importing this package loads the addon (an error names the Debian packages when Open MPI is missing, and the
 * launch line outside `mpirun`) and registers the backend, so `initProcessGroup({ backend: "mpi" })` finds it.
 * MPI itself starts at `initProcessGroup`.
 */
import { registerBackend } from "@cinder/distributed";
import { MpiBackend } from "./mpi-backend";
import { loadNative } from "./native";

export { MpiBackend } from "./mpi-backend";
export { LAUNCH_LINE, type MpiArray, OPEN_MPI_PACKAGES } from "./native";

loadNative();
registerBackend("mpi", (options) => new MpiBackend(options));

/**
 * Open MPI's version and what MPI is doing in this process: whether it is initialized or finalized, and how many
 * non-blocking collectives are still in flight.
 */
export function mpiState(): { initialized: boolean; finalized: boolean; pending: number; library: string } {
  const { initialized, finalized, pending, library } = loadNative().state();
  return { initialized, finalized, pending, library };
}
