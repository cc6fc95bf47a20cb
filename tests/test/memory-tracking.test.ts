/**
 * Tensor bookkeeping (`memory.ts`, `accounting.ts`): the FinalizationRegistry safety net is registered per tensor
 * only for storage the garbage collector does not manage; GC-managed (CPU) tensors and storages are counted in
 * cohorts of up to 64 that share one registration, so `memory()` stops counting them once they are collected.
 */
import { cpu } from "@cinder/backend-cpu";
import { memory, registerBackend, tensor, tidy, unregisterBackend, zeros } from "@cinder/tensor";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { collectGarbage } from "./support/gc";
import { NaiveBackend } from "./support/naive-backend";

const naive = new NaiveBackend({ device: "naive-memory" });
beforeAll(() => {
  registerBackend(cpu);
  registerBackend(naive);
});
afterAll(() => unregisterBackend("naive-memory"));
afterEach(() => vi.restoreAllMocks());

describe("the finaliser safety net", () => {
  it("is registered once per cohort of CPU tensors and small storages, not per tensor", () => {
    const register = vi.spyOn(FinalizationRegistry.prototype, "register");
    const before = memory();
    const a = zeros([4]);
    for (let i = 0; i < 100; i++) a.add(a).mul(2).reshape(2, 2);
    const after = memory();
    const members = after.liveTensors - before.liveTensors + after.liveStorages - before.liveStorages;
    expect(members).toBeGreaterThanOrEqual(500);
    expect(register.mock.calls.length).toBeGreaterThanOrEqual(Math.floor(members / 64));
    expect(register.mock.calls.length).toBeLessThanOrEqual(Math.ceil(members / 64) + 1);
  });

  it("is registered for every CPU storage of 16 KB or more (a cohort of its own)", () => {
    const register = vi.spyOn(FinalizationRegistry.prototype, "register");
    const a = zeros([4096]); // 16 KB
    a.add(1).reshape(64, 64);
    // two storages of their own, plus at most one new cohort for the three tensors
    expect(register.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(register.mock.calls.length).toBeLessThanOrEqual(3);
  });

  it("is registered for every tensor on a backend the GC does not manage, and unregistered by dispose()", () => {
    const register = vi.spyOn(FinalizationRegistry.prototype, "register");
    const unregister = vi.spyOn(FinalizationRegistry.prototype, "unregister");
    const t = zeros([4], { device: "naive-memory" });
    const v = t.reshape(2, 2);
    expect(register).toHaveBeenCalledTimes(2);
    expect(register.mock.calls.map((c) => c[0])).toEqual([t, v]);
    t.dispose();
    expect(unregister).toHaveBeenCalledWith(t);
    v.dispose();
  });
});

describe("memory()", () => {
  it("stops counting CPU tensors once the garbage collector has collected them", async () => {
    await collectGarbage();
    const before = memory();
    const kept: unknown[] = [];
    (() => {
      for (let i = 0; i < 500; i++) {
        const t = zeros([8]).add(i); // two tensors and storages a round, 32 B each
        if (i % 100 === 0) kept.push(t);
      }
    })();
    expect(memory().liveTensors).toBeGreaterThanOrEqual(before.liveTensors + 1000); // nothing collected yet
    await collectGarbage();
    const after = memory();
    // the 5 kept tensors remain, and the dead members of the cohorts they keep alive (at most 63 each)
    expect(after.liveTensors - before.liveTensors).toBeGreaterThanOrEqual(5);
    expect(after.liveTensors - before.liveTensors).toBeLessThanOrEqual(5 * 64);
    expect(after.bytesInUse - before.bytesInUse).toBeLessThanOrEqual(5 * 64 * 32);
    expect(kept.length).toBe(5);
  });

  it("counts a CPU tensor until it is disposed, once however often dispose() is called", () => {
    const before = memory();
    const t = tensor([1, 2, 3, 4], { dtype: "float32" });
    const v = t.reshape(2, 2); // a view: a second tensor, the same storage
    expect(memory().liveTensors).toBe(before.liveTensors + 2);
    expect(memory().liveStorages).toBe(before.liveStorages + 1);
    expect(memory().bytesInUse).toBe(before.bytesInUse + 16);
    t.dispose();
    t.dispose();
    expect(memory().liveTensors).toBe(before.liveTensors + 1);
    expect(memory().liveStorages).toBe(before.liveStorages + 1); // the view still holds it
    v.dispose();
    expect(memory()).toEqual(before);
  });

  it("tidy() disposes what a scope made and did not return, on every backend", () => {
    for (const device of ["cpu", "naive-memory"]) {
      const before = memory();
      const live = naive.liveStorages;
      const kept = tidy(() => {
        const a = zeros([3], { device });
        a.add(1).mul(2);
        return a.add(3);
      });
      expect(memory().liveTensors, device).toBe(before.liveTensors + 1);
      if (device !== "cpu") expect(naive.liveStorages).toBe(live + 1);
      kept.dispose();
      expect(memory(), device).toEqual(before);
      expect(naive.liveStorages).toBe(live);
    }
  });

  it("a device storage is freed once, when its last tensor is disposed", () => {
    const free = vi.spyOn(naive, "free");
    const t = zeros([4], { device: "naive-memory" });
    const v = t.reshape(2, 2);
    t.dispose();
    expect(free).not.toHaveBeenCalled();
    v.dispose();
    v.dispose();
    expect(free).toHaveBeenCalledTimes(1);
  });
});
