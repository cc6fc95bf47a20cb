/**
 * `--gemm` of the MNIST examples: `auto` (the default) runs on OpenBLAS through @cinder/blas when it loads and on
 * Cinder's WASM GEMM otherwise, and the JSON line says which; `openblas` insists, `wasm` never loads it. A bad
 * CINDER_BLAS_LIBRARY stands for a machine without OpenBLAS.
 */
import { describe, expect, it } from "vitest";
import { runExample } from "./run";

const args = (out: string) => [
  "--dataset",
  "mnist-sample",
  "--epochs",
  "1",
  "--train-size",
  "640",
  "--progress",
  "off",
  "--out",
  `.cache/test-gemm-${out}.safetensors`,
];
const noOpenBlas = { CINDER_BLAS_LIBRARY: "/nonexistent/libopenblas.so.0" };
const openBlasHere = await import("@cinder/blas").then(
  () => true,
  () => false,
);

describe("--gemm", () => {
  it("auto takes OpenBLAS when it loads, and the JSON line says so", () => {
    const { json } = runExample("mnist-mlp", args("auto"));
    expect(json.gemm).toBe(openBlasHere ? "openblas" : "wasm");
    expect(json.testAccuracy).toBeGreaterThan(0.3);
  }, 120_000);

  it("auto without OpenBLAS trains on Cinder's WASM GEMM, says why on stderr and gemm: wasm", () => {
    const { json, stderr } = runExample("mnist-mlp", args("fallback"), noOpenBlas);
    expect(json.gemm).toBe("wasm");
    expect(stderr).toMatch(/gemm: Cinder's WASM GEMM \(.*apt-get install libopenblas0-pthread/);
  }, 120_000);

  it("openblas without OpenBLAS fails naming the Debian package; an unknown choice names the choices", () => {
    expect(() => runExample("mnist-mlp", [...args("strict"), "--gemm", "openblas"], noOpenBlas)).toThrow(
      /apt-get install libopenblas0-pthread/,
    );
    expect(() => runExample("mnist-mlp", [...args("bad"), "--gemm", "mkl"])).toThrow(
      /--gemm must be auto, openblas, wasm; got "mkl"/,
    );
  }, 120_000);
});
