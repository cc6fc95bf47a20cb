/**
 * The backend conformance suite (`@cinder/tensor/testing`) against every backend this repository has:
 * "cpu" (`@cinder/backend-cpu`) and "naive" (test/support/naive-backend.ts, a reference backend written
 * against `@cinder/tensor` alone, asynchronous reads only), plus the naive backend without float64 running
 * the suite a WebGPU backend runs. One test per case per device.
 */
import { cpu } from "@cinder/backend-cpu";
import { randn, registerBackend, tidy, unregisterBackend } from "@cinder/tensor";
import { conformanceCases } from "@cinder/tensor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NaiveBackend } from "./support/naive-backend";

const cases = conformanceCases();

beforeAll(() => {
  registerBackend(cpu);
  registerBackend(new NaiveBackend());
  registerBackend(new NaiveBackend({ device: "naive-no-f64", unsupported: ["float64"] }));
});
afterAll(() => {
  unregisterBackend("naive");
  unregisterBackend("naive-no-f64");
});

describe.each(["cpu", "naive"])("conformance on %s", (device) => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    await c.run(device);
  });
});

// A device without float64 (as WebGPU) runs the suite with its dtypes; no case may touch float64 then.
const noF64 = conformanceCases({ dtypes: ["float32", "int32", "uint8", "bool"] });
describe("conformance on a device without float64", () => {
  it.each(noF64.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    await c.run("naive-no-f64");
  });
});

describe("the suite itself", () => {
  it("has unique case names", () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });
  it("leaves out only the float64 cases for a device without float64", () => {
    const left = new Set(noF64.map((c) => c.name));
    const dropped = cases.filter((c) => !left.has(c.name)).map((c) => c.name);
    expect(dropped.length).toBeGreaterThan(0);
    for (const name of dropped) expect(name).toMatch(/float64/);
  });
  it("covers every primitive of the protocol", () => {
    const names = cases.map((c) => c.name).join("\n");
    for (const word of ["cast", "fill", "unary", "binary", "where", "reduce", "argmax", "scan", "matmul"]) {
      expect(names).toContain(word);
    }
    for (const word of ["gather", "scatter", "sort", "random", "zero-size", "0-dim", "async reads"]) {
      expect(names).toContain(word);
    }
  });
});

describe("the naive backend's bookkeeping", () => {
  it("tidy() frees every intermediate storage on an async device; dispose() frees the result", async () => {
    const nb = new NaiveBackend({ device: "naive-memory" });
    registerBackend(nb);
    try {
      const x = randn([4, 5], { device: "naive-memory" });
      const before = nb.liveStorages;
      const y = tidy(() => x.mul(2).add(1).exp().sum({ dim: 1 }).softmax(0).at([0, 2]).sort().values);
      expect(nb.liveStorages).toBe(before + 1);
      expect((await y.dataAsync()).length).toBe(2);
      y.dispose();
      expect(nb.liveStorages).toBe(before);
    } finally {
      unregisterBackend("naive-memory");
    }
  });
});
