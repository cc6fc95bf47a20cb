/**
 * Tensor bookkeeping (`memory.ts`): the FinalizationRegistry safety net is registered only for storage the garbage
 * collector does not manage (a registration costs more than a small op and keeps the tensor out of V8's young
 * generation); on a GC-managed backend (CPU) `memory()` counts a tensor until it is disposed.
 */
import { cpu } from "@cinder/backend-cpu";
import { memory, registerBackend, tensor, tidy, unregisterBackend, zeros } from "@cinder/tensor";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { NaiveBackend } from "./support/naive-backend";

const naive = new NaiveBackend({ device: "naive-memory" });
beforeAll(() => {
  registerBackend(cpu);
  registerBackend(naive);
});
afterAll(() => unregisterBackend("naive-memory"));
afterEach(() => vi.restoreAllMocks());

describe("the finaliser safety net", () => {
  it("is not registered for CPU tensors (their storage is garbage collected)", () => {
    const register = vi.spyOn(FinalizationRegistry.prototype, "register");
    const a = zeros([4]);
    a.add(a).mul(2).reshape(2, 2);
    expect(register).not.toHaveBeenCalled();
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
