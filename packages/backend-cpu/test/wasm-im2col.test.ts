/**
 * im2col and col2im on WebAssembly SIMD (wasm/im2col-wasm.ts) against the JS kernels of windows.ts: the same bits
 * (NaNs compared as NaNs), over padding, strides, height dilation, kernel widths around the vector width, windows
 * past the input (ceil mode), items split over several runs and views at an offset, and with planes and rows in
 * heap.ts's memory (read and written in place); the counters prove which path ran.
 */
import type { View, Window2d } from "@cinder/tensor";
import { afterEach, describe, expect, it } from "vitest";
import { setWasmFusedEnabled } from "../src/wasm/fused-wasm";
import { allocBlock, heapStats, sharedMemory } from "../src/wasm/heap";
import { im2colWasmStats } from "../src/wasm/im2col-wasm";
import { col2im, im2col } from "../src/windows";
import { sizeOf, stridesOf } from "./helpers";

afterEach(() => setWasmFusedEnabled(true));

interface Geo {
  N: number;
  C: number;
  H: number;
  W: number;
  k: [number, number];
  s: [number, number];
  p: [number, number];
  dh: number;
  /** Extra output rows/cols beyond the floor formula (windows past the input, as ceil mode makes). */
  extra?: [number, number];
}

function window(g: Geo): Window2d {
  const d = [g.dh, 1];
  const out = (n: number, i: number) =>
    Math.floor((n + 2 * g.p[i] - d[i] * (g.k[i] - 1) - 1) / g.s[i]) + 1 + (g.extra?.[i] ?? 0);
  return { kernel: g.k, stride: g.s, padding: g.p, dilation: [g.dh, 1], output: [out(g.H, 0), out(g.W, 1)] };
}

const specials = [0, -0, 1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 2.5, -3];

/**
 * `len` floats in heap.ts's memory, as CPU storage would be, holding the rows or planes up to `end`: then the
 * storage ends (im2col's overshooting last vector may write the block's unused bytes after it, never a storage's).
 */
function inHeap(len: number, end: number): Float32Array {
  const at = allocBlock(4 * len + 64);
  const a = new Float32Array((sharedMemory() as WebAssembly.Memory).buffer, at, end);
  a.fill(-7);
  return a;
}

/**
 * A float32 view of `shape` at `offset` in a larger array (in heap.ts's memory with `heap`); values with signed zeros
 * and (optionally) specials.
 */
function filled(shape: number[], seed: number, withSpecials: boolean, offset = 3, heap = false): View {
  const n = sizeOf(shape);
  const len = n + offset + 5;
  const a = heap ? inHeap(len, offset + n) : new Float32Array(len).fill(-7);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const r = s / 2147483648;
    a[offset + i] = withSpecials && i % 37 === 3 ? specials[i % specials.length] : (r - 0.5) * 8;
  }
  return { handle: a, dtype: "float32", shape, strides: stridesOf(shape), offset };
}

/** The bits of a whole array, NaNs as one pattern (their payloads are not compared). */
function bits(v: View): Uint32Array {
  const f = Float32Array.from(v.handle as Float32Array, (x) => (Number.isNaN(x) ? Number.NaN : x));
  return new Uint32Array(f.buffer);
}

function run<T>(wasm: boolean, key: "im2col" | "col2im", f: () => T): T {
  setWasmFusedEnabled(wasm);
  const before = im2colWasmStats[key];
  const r = f();
  expect(im2colWasmStats[key] - before).toBe(wasm ? 1 : 0);
  return r;
}

const geos: [string, Geo][] = [
  [
    "MNIST conv1: 1 channel 28x28, 3x3 padding 1",
    { N: 12, C: 1, H: 28, W: 28, k: [3, 3], s: [1, 1], p: [1, 1], dh: 1 },
  ],
  [
    "MNIST conv2: 32 channels 14x14 (one item per run)",
    { N: 3, C: 32, H: 14, W: 14, k: [3, 3], s: [1, 1], p: [1, 1], dh: 1 },
  ],
  [
    "5x5 padding 2 (two vectors per tap row)",
    { N: 4, C: 3, H: 13, W: 11, k: [5, 5], s: [1, 1], p: [2, 2], dh: 1 },
  ],
  ["4x4 stride 2 (a full last vector)", { N: 5, C: 4, H: 16, W: 17, k: [4, 4], s: [2, 2], p: [1, 1], dh: 1 }],
  ["1x1 (one lane per tap row)", { N: 4, C: 16, H: 9, W: 10, k: [1, 1], s: [1, 1], p: [0, 0], dh: 1 }],
  [
    "3x7 stride (2, 3), height dilation 2",
    { N: 3, C: 5, H: 19, W: 23, k: [3, 7], s: [2, 3], p: [2, 3], dh: 2 },
  ],
  [
    "windows past the input",
    { N: 6, C: 7, H: 12, W: 9, k: [2, 3], s: [2, 2], p: [0, 1], dh: 1, extra: [1, 1] },
  ],
  ["kernel larger than the input", { N: 64, C: 3, H: 2, W: 2, k: [3, 3], s: [1, 1], p: [1, 1], dh: 1 }],
  [
    "width not a multiple of 4, no padding",
    { N: 2, C: 9, H: 11, W: 13, k: [3, 3], s: [1, 1], p: [0, 0], dh: 1 },
  ],
  [
    "an item larger than the first memory (it grows)",
    { N: 1, C: 5, H: 48, W: 48, k: [5, 5], s: [1, 1], p: [2, 2], dh: 1 },
  ],
  ["3x3 again after the memory grew", { N: 12, C: 1, H: 28, W: 28, k: [3, 3], s: [1, 1], p: [1, 1], dh: 1 }],
];

describe("im2col and col2im on WebAssembly SIMD", () => {
  for (const [name, g] of geos) {
    for (const sp of [false, true]) {
      it(`${name}${sp ? " (signed zeros, infinities, NaN)" : ""}: the JS kernels' bits`, () => {
        const w = window(g);
        const L = w.output[0] * w.output[1];
        const K = g.C * g.k[0] * g.k[1];
        const x = filled([g.N, g.C, g.H, g.W], g.H * 31 + g.C, sp);
        const xh = filled([g.N, g.C, g.H, g.W], g.H * 31 + g.C, sp, 3, true);
        const rows = (wasm: boolean, heap = false) =>
          run(wasm, "im2col", () => {
            const out = filled([g.N, L, K], 5, false, 2, heap);
            im2col(heap ? xh : x, w, out);
            return bits(out);
          });
        const inPlace = heapStats().im2colInPlace;
        const a = rows(true);
        const b = rows(false);
        const r = rows(true, true);
        expect(a.findIndex((v, i) => v !== b[i])).toBe(-1);
        expect(r.findIndex((v, i) => v !== b[i])).toBe(-1);
        const cols = filled([g.N, L, K], g.W * 17 + g.N, sp);
        const colsH = filled([g.N, L, K], g.W * 17 + g.N, sp, 3, true);
        const planes = (wasm: boolean, heap = false) =>
          run(wasm, "col2im", () => {
            const out = filled([g.N, g.C, g.H, g.W], 9, false, 4, heap);
            col2im(heap ? colsH : cols, w, out);
            return bits(out);
          });
        const c = planes(true);
        const d = planes(false);
        const e = planes(true, true);
        expect(c.findIndex((v, i) => v !== d[i])).toBe(-1);
        expect(e.findIndex((v, i) => v !== d[i])).toBe(-1);
        expect(heapStats().im2colInPlace).toBe(inPlace + 2);
      });
    }
  }

  it("small calls and width dilation stay in JS", () => {
    const g: Geo = { N: 1, C: 1, H: 5, W: 5, k: [3, 3], s: [1, 1], p: [1, 1], dh: 1 };
    const w = window(g);
    const before = im2colWasmStats.im2col;
    im2col(filled([1, 1, 5, 5], 1, false), w, filled([1, 25, 9], 2, false));
    const x = filled([4, 8, 20, 20], 1, false);
    const dil: Window2d = { ...w, dilation: [1, 2], output: [20, 18] };
    im2col(x, dil, filled([4, 20 * 18, 72], 2, false));
    expect(im2colWasmStats.im2col).toBe(before);
  });
});
