/** Loading the addon outside mpirun, and the messages for a missing Open MPI or an unbuilt addon. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
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

  it("building without Open MPI names the Debian packages (and --optional, the install script, goes on)", () => {
    const script = fileURLToPath(new URL("../scripts/build-addon.mjs", import.meta.url));
    const env = { ...process.env, PATH: "/nonexistent" }; // no mpicc
    const strict = spawnSync(process.execPath, [script], { env, encoding: "utf8" });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/`mpicc` is not installed.*apt-get install openmpi-bin libopenmpi-dev/);
    const optional = spawnSync(process.execPath, [script, "--optional"], { env, encoding: "utf8" });
    expect(optional.status).toBe(0);
    expect(optional.stderr).toMatch(/apt-get install openmpi-bin libopenmpi-dev/);
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
