/** Loading the addon outside mpirun, and the messages for a missing Open MPI or an unbuilt addon. */
import { describe, expect, it } from "vitest";
import { explainLoadError, launchedByMpirun } from "../src/native";
import { buildAddon, hasMpirun } from "./mpirun";

describe("loading", () => {
  it("without Open MPI's library, the error names the Debian packages", () => {
    const e = Object.assign(
      new Error("libmpi.so.40: cannot open shared object file: No such file or directory"),
      {
        code: "ERR_DLOPEN_FAILED",
      },
    );
    expect(explainLoadError(e)).toMatch(
      /Open MPI's library, which is not installed.*apt-get install openmpi-bin libopenmpi-dev/,
    );
  });

  it("without the built addon, the error says how to build it", () => {
    const e = Object.assign(new Error("Cannot find module '/x/build/Release/cinder_mpi.node'"), {
      code: "MODULE_NOT_FOUND",
    });
    expect(explainLoadError(e)).toMatch(
      /addon is not built.*apt-get install openmpi-bin libopenmpi-dev.*build/,
    );
  });

  it("mpirun's environment is recognised", () => {
    expect(launchedByMpirun({})).toBe(false);
    expect(launchedByMpirun({ OMPI_COMM_WORLD_SIZE: "2" })).toBe(true);
  });

  it.skipIf(!hasMpirun())("importing the package outside mpirun names the launch line", async () => {
    buildAddon();
    await expect(import("../src/index")).rejects.toThrow(
      /runs under Open MPI's launcher: start the program as `mpirun -np 2 node train.js`/,
    );
  });
});
