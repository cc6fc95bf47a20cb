import type { AdamStepOptions, SgdStepOptions, TypedArray, View } from "@cinder/tensor";
import { afterEach, describe, expect, it } from "vitest";
import { cpu } from "../src/index";
import { setWasmFusedEnabled, wasmFusedStats } from "../src/wasm/fused-wasm";
import { heapAlloc, heapStats, setWasmHeapEnabled } from "../src/wasm/heap";
import { view } from "./helpers";

afterEach(() => setWasmFusedEnabled(true));

const N = 8192 * 2 + 5;
function values(seed: number, positive = false): number[] {
  let s = seed;
  return Array.from({ length: N }, (_, i) => {
    if (i === 3) return positive ? 0 : -0;
    s = (s * 1103515245 + 12345) % 2147483648;
    const r = s / 2147483648 - 0.5;
    return positive ? r * r : i % 11 === 0 ? r * 1e-6 : r * 4;
  });
}

/**
 * Runs `step` on fresh copies of the operands with and without WebAssembly, and with them in heap.ts's memory
 * (updated in place); expects the same bits.
 */
function same(names: string[], positive: boolean[], step: (vs: View[]) => boolean): void {
  const run = (wasm: boolean, inHeap = false) => {
    setWasmFusedEnabled(wasm);
    const vs = names.map((_, k) => {
      const v = view("float32", values(k + 1, positive[k]));
      if (!inHeap) return v;
      const a = heapAlloc(Float32Array, N, false) as Float32Array;
      a.set(v.handle as Float32Array);
      return { ...v, handle: a };
    });
    const before = wasmFusedStats.run;
    for (let t = 0; t < 3; t++) expect(step(vs)).toBe(true);
    return {
      arrays: vs.map((v) => new Uint32Array(Float32Array.from(v.handle as Float32Array).buffer)),
      ran: wasmFusedStats.run - before,
    };
  };
  const fast = run(true);
  const slow = run(false);
  const before = heapStats().optimInPlace;
  // (also when the suite runs with CINDER_WASM_HEAP=0)
  const was = setWasmHeapEnabled(true);
  const resident = run(true, true);
  setWasmHeapEnabled(was);
  expect(fast.ran).toBe(3);
  expect(slow.ran).toBe(0);
  expect(resident.ran).toBe(3);
  expect(heapStats().optimInPlace).toBe(before + 3);
  names.forEach((name, k) => {
    const b = slow.arrays[k];
    for (const a of [fast.arrays[k], resident.arrays[k]]) {
      const i = a.findIndex((x, j) => x !== b[j]);
      expect(i, `${name}: first differing element`).toBe(-1);
    }
  });
}

describe("optimizer updates on WebAssembly SIMD", () => {
  const flags = [false, true];
  it("SGD gives the JS loop's bits for every option setting", () => {
    // (without dampening the kernel adds the momentum term in float32 lanes: see sgdStepWasm)
    for (const maximize of flags)
      for (const wd of flags)
        for (const momentum of flags)
          for (const nesterov of momentum ? flags : [false])
            for (const first of momentum ? flags : [false])
              for (const dampening of momentum ? [0.1, 0] : [0]) {
                const o: SgdStepOptions = {
                  lr: 0.013,
                  momentum: momentum ? 0.9 : 0,
                  dampening,
                  nesterov,
                  weightDecay: wd ? 0.003 : 0,
                  maximize,
                  first,
                };
                const names = momentum ? ["p", "grad", "buf"] : ["p", "grad"];
                same(names, [false, false, false], ([p, g, b]) => cpu.sgdStep(p, g, b ?? null, o));
              }
  });

  it("Adam and AdamW give the JS loop's bits for every option setting", () => {
    for (const maximize of flags)
      for (const wd of flags)
        for (const decoupled of flags)
          for (const ams of flags) {
            const o: AdamStepOptions = {
              lr: 0.001,
              beta1: 0.9,
              beta2: 0.999,
              eps: 1e-8,
              weightDecay: wd ? 0.01 : 0,
              decoupled,
              maximize,
              step: 3,
            };
            const names = ams ? ["p", "grad", "m", "v", "vmax"] : ["p", "grad", "m", "v"];
            same(names, [false, false, false, true, true], ([p, g, m, v, vm]) =>
              cpu.adamStep(p, g, m, v, vm ?? null, o),
            );
          }
  });
});
