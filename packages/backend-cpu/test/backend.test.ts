import { type Backend, randomNormal, randomUniform, seedKey } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { CpuBackend, cpu } from "../src/index";
import { elements, empty, permutedView, view } from "./helpers";

describe("CpuBackend storage", () => {
  it("identifies itself", () => {
    const b: Backend = cpu;
    expect(b.device).toBe("cpu");
    expect(b.specificationVersion).toBe(2);
    expect(cpu).toBeInstanceOf(CpuBackend);
  });

  it("allocates zeroed typed arrays per dtype and wraps without copying", () => {
    expect(cpu.alloc("float32", 3)).toEqual(new Float32Array(3));
    expect(cpu.alloc("float64", 2)).toBeInstanceOf(Float64Array);
    expect(cpu.alloc("int32", 2)).toBeInstanceOf(Int32Array);
    expect(cpu.alloc("uint8", 2)).toBeInstanceOf(Uint8Array);
    expect(cpu.alloc("bool", 2)).toBeInstanceOf(Uint8Array);
    const data = new Float32Array([1, 2]);
    expect(cpu.wrap(data)).toBe(data);
    cpu.free(data);
  });

  it("writes at an offset and reads views in logical order", async () => {
    const h = cpu.alloc("int32", 6);
    cpu.write(h, "int32", new Int32Array([7, 8, 9]), 2);
    expect([...h]).toEqual([0, 0, 7, 8, 9, 0]);
    const t = permutedView("float32", [1, 2, 3, 4, 5, 6], [2, 3], [1, 0], 1);
    const r = cpu.readSync(t);
    expect(r).toBeInstanceOf(Float32Array);
    expect([...r]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.buffer).not.toBe((t.handle as Float32Array).buffer);
    expect([...(await cpu.read(t))]).toEqual([1, 2, 3, 4, 5, 6]);
    const c = view("float64", [1, 2, 3]);
    const rc = cpu.readSync(c);
    rc[0] = 99;
    expect(elements(c)[0]).toBe(1); // a fresh array, even for contiguous views
    expect([...cpu.readSync({ ...c, shape: [], strides: [], offset: 2 })]).toEqual([3]);
    expect([...cpu.readSync({ ...c, shape: [0], strides: [1] })]).toEqual([]);
    await cpu.sync();
  });
});

describe("random", () => {
  it("is the counter-based stream of @cinder/tensor", () => {
    const key = seedKey(42);
    const u = empty("float32", [5]);
    cpu.random("uniform", key, 100, u);
    expect(elements(u)).toEqual([0, 1, 2, 3, 4].map((i) => Math.fround(randomUniform(key, 100 + i))));
    const n = empty("float64", [2, 2]);
    cpu.random("normal", key, 7, n);
    expect(elements(n)).toEqual([0, 1, 2, 3].map((i) => randomNormal(key, 7 + i)));
  });

  it("is reproducible and fills strided outputs in row-major order", () => {
    const key = seedKey(1);
    const a = empty("float32", [3, 4]);
    const b = permutedView("float32", new Array(12).fill(0), [3, 4], [1, 0], 2);
    cpu.random("normal", key, 0, a);
    cpu.random("normal", key, 0, b);
    expect(elements(b)).toEqual(elements(a));
    const c = empty("float32", [3, 4]);
    cpu.random("normal", key, 1, c);
    expect(elements(c).slice(0, 11)).toEqual(elements(a).slice(1));
  });

  it("has the right moments", () => {
    const key = seedKey(123);
    const n = 100_000;
    const x = empty("float64", [n]);
    cpu.random("normal", key, 0, x);
    const v = x.handle as Float64Array;
    let mean = 0;
    for (const e of v) mean += e;
    mean /= n;
    let varc = 0;
    for (const e of v) varc += (e - mean) ** 2;
    const std = Math.sqrt(varc / (n - 1));
    expect(Math.abs(mean)).toBeLessThan(0.015);
    expect(Math.abs(std - 1)).toBeLessThan(0.015);
    cpu.random("uniform", key, 0, x);
    let umean = 0;
    let lo = 1;
    let hi = 0;
    for (const e of v) {
      umean += e;
      lo = Math.min(lo, e);
      hi = Math.max(hi, e);
    }
    expect(Math.abs(umean / n - 0.5)).toBeLessThan(0.01);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
  });
});
