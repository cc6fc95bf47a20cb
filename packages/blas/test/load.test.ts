/**
 * Without OpenBLAS: importing the package names the Debian package, CINDER_BLAS=0 imports without opening anything,
 * a library without CBLAS is refused, and building without a C compiler says what to install. The library opens
 * once per process, so each case runs in a child process with its own environment (a bad CINDER_BLAS_LIBRARY
 * stands for a machine without OpenBLAS).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { explainLoadError, libraryPaths } from "../src/native";

const program = fileURLToPath(new URL("./programs/load.ts", import.meta.url));

function load(env: Record<string, string>): Record<string, unknown> {
  const r = spawnSync(process.execPath, ["--conditions=@cinder/source", "--import", "tsx", program], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
}

describe("loading", () => {
  it("without OpenBLAS, importing throws an error naming the Debian package", () => {
    const r = load({ CINDER_BLAS_LIBRARY: "/nonexistent/libopenblas.so.0" });
    expect(r.imported).toBe(false);
    expect(r.error).toMatch(
      /needs OpenBLAS's library, which could not be opened \(\/nonexistent\/libopenblas.so.0: cannot open shared object file.*apt-get install libopenblas0-pthread/,
    );
  });

  it("CINDER_BLAS=0 imports without opening the library; enable() then refuses a library without CBLAS", () => {
    const r = load({ CINDER_BLAS: "0", CINDER_BLAS_LIBRARY: "libc.so.6" });
    expect(r.imported).toBe(true);
    expect(r.enabled).toBe(false);
    expect(r.enable).toMatch(
      /libc.so.6: no cblas_sgemm\/cblas_dgemm symbols.*apt-get install libopenblas0-pthread/,
    );
  });

  it("the library is $CINDER_BLAS_LIBRARY when set, else OpenBLAS's soname", () => {
    expect(libraryPaths({})).toEqual(["libopenblas.so.0", "libopenblas.so"]);
    expect(libraryPaths({ CINDER_BLAS_LIBRARY: "/opt/x/libcblas.so" })).toEqual(["/opt/x/libcblas.so"]);
  });

  it("without the built addon, the error says how to build it", () => {
    const e = Object.assign(new Error("Cannot find module '/x/build/Release/cinder_blas.node'"), {
      code: "MODULE_NOT_FOUND",
    });
    expect(explainLoadError(e)).toMatch(/addon is not built.*build:addon/);
  });

  it("building without a C compiler says what to install (and --optional, the install script, goes on)", () => {
    const script = fileURLToPath(new URL("../scripts/build-addon.mjs", import.meta.url));
    const env = { ...process.env, CC: "/nonexistent/cc" };
    const strict = spawnSync(process.execPath, [script], { env, encoding: "utf8" });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/no C compiler.*apt-get install build-essential/);
    const optional = spawnSync(process.execPath, [script, "--optional"], { env, encoding: "utf8" });
    expect(optional.status).toBe(0);
    expect(optional.stderr).toMatch(/no C compiler/);
  });
});
