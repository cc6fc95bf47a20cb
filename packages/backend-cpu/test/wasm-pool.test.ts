import type { View, Window2d } from "@cinder/tensor";
import { afterEach, describe, expect, it } from "vitest";
import { setWasmFusedEnabled, wasmFusedStats } from "../src/wasm/fused-wasm";
import { maxPool2d, maxPool2dBackward } from "../src/windows";
import { empty, view } from "./helpers";

afterEach(() => setWasmFusedEnabled(true));

/** Values with ties (small integers, -0 against 0) and, optionally, NaNs. */
function values(n: number, seed: number, nans: boolean): number[] {
  let s = seed;
  return Array.from({ length: n }, (_, i) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    const r = s / 2147483648;
    if (nans && i % 97 === 5) return Number.NaN;
    if (i % 13 === 0) return i % 2 ? -0 : 0;
    return i % 3 === 0 ? Math.floor(r * 4) - 2 : (r - 0.5) * 10;
  });
}

describe("2x2 stride-2 max pooling on WebAssembly SIMD", () => {
  for (const [N, C, H, W] of [
    [4, 8, 28, 28],
    [3, 5, 14, 14],
    [4, 3, 15, 13],
    [1, 2, 90, 91],
  ]) {
    for (const nans of [false, true]) {
      it(`[${N}, ${C}, ${H}, ${W}]${nans ? " with NaNs" : ""}: the JS kernel's values (bits) and indices`, () => {
        const oh = Math.floor(H / 2);
        const ow = Math.floor(W / 2);
        const x = view("float32", values(N * C * H * W, H * W + C, nans), [N, C, H, W]);
        const p: Window2d = {
          kernel: [2, 2],
          stride: [2, 2],
          padding: [0, 0],
          dilation: [1, 1],
          output: [oh, ow],
        };
        const run = (on: boolean): [Uint32Array, Int32Array] => {
          setWasmFusedEnabled(on);
          const vals: View = empty("float32", [N, C, oh, ow]);
          const idx: View = empty("int32", [N, C, oh, ow]);
          const before = wasmFusedStats.run;
          maxPool2d(x, p, vals, idx);
          expect(wasmFusedStats.run - before).toBe(on ? 1 : 0);
          return [new Uint32Array((vals.handle as Float32Array).buffer), idx.handle as Int32Array];
        };
        const [fv, fi] = run(true);
        const [sv, si] = run(false);
        expect(fi.findIndex((k, i) => k !== si[i])).toBe(-1);
        // NaN values compare by being NaN (their bits come from the same element either way)
        expect(fv.findIndex((b, i) => b !== sv[i])).toBe(-1);
      });
    }
  }
});

describe("2x2 stride-2 max pooling backward on WebAssembly SIMD", () => {
  for (const [N, C, H, W] of [
    [4, 8, 28, 28],
    [3, 5, 14, 14],
    [4, 3, 15, 13],
    [2, 3, 17, 22],
    [1, 2, 90, 91],
  ]) {
    it(`[${N}, ${C}, ${H}, ${W}]: the JS kernel's bits (-0, NaN and infinite gradients)`, () => {
      const oh = Math.floor(H / 2);
      const ow = Math.floor(W / 2);
      const p: Window2d = {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0],
        dilation: [1, 1],
        output: [oh, ow],
      };
      const x = view("float32", values(N * C * H * W, H + W, false), [N, C, H, W]);
      const idx: View = empty("int32", [N, C, oh, ow]);
      maxPool2d(x, p, empty("float32", [N, C, oh, ow]), idx);
      const g = values(N * C * oh * ow, C, true).map((v, i) => (i % 41 === 7 ? Number.POSITIVE_INFINITY : v));
      const grad = view("float32", g, [N, C, oh, ow]);
      const run = (on: boolean): Uint32Array => {
        setWasmFusedEnabled(on);
        const out = view("float32", new Array(N * C * H * W).fill(5), [N, C, H, W]);
        const before = wasmFusedStats.run;
        maxPool2dBackward(grad, idx, p, out);
        expect(wasmFusedStats.run - before).toBe(on ? 1 : 0);
        const f = Float32Array.from(out.handle as Float32Array, (v) => (Number.isNaN(v) ? Number.NaN : v));
        return new Uint32Array(f.buffer);
      };
      const fast = run(true);
      const slow = run(false);
      expect(fast.findIndex((b, i) => b !== slow[i])).toBe(-1);
    });
  }
});
