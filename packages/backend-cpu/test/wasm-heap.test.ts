import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Expr, View } from "@cinder/tensor";
import fc from "fast-check";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { heapFillStats } from "../src/heap-fill";
import { cpu, setNumThreads } from "../src/index";
import { setAdaptiveThreads, whenThreadsReady } from "../src/threads/pool";
import { elementwiseWasm, wasmFusedStats } from "../src/wasm/fused-wasm";
import { gemmStats, matmulWasm, setThreadThreshold } from "../src/wasm/gemm";
import {
  allocBlock,
  freeBlock,
  HEAP_MIN_BYTES,
  heapAlloc,
  heapFree,
  heapStats,
  inHeap,
  setWasmHeapEnabled,
  sharedMemory,
} from "../src/wasm/heap";
import { type Layout, operand, problem } from "./gemm-operands";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

// the heap's own tests run with it on, also when the suite runs with CINDER_WASM_HEAP=0
const initially = setWasmHeapEnabled(true);
afterEach(() => {
  setWasmHeapEnabled(true);
  setThreadThreshold();
});
afterAll(() => setWasmHeapEnabled(initially));

/** `v` with its array copied into a heap block of the same length (strides and offset kept). */
function inHeapCopy(v: View): View {
  const src = v.handle as Float32Array;
  const at = allocBlock(src.byteLength);
  const a = new Float32Array((sharedMemory() as WebAssembly.Memory).buffer, at, src.length);
  a.set(src);
  return { ...v, handle: a };
}

const bits = (v: View) => new Uint32Array(Float32Array.from(v.handle as Float32Array).buffer);

describe("CPU storage in WebAssembly memory: the allocator", () => {
  it("puts float storage of at least 4 KiB in the shared memory, smaller and other dtypes on the JS heap", () => {
    const big = cpu.alloc("float32", HEAP_MIN_BYTES / 4);
    const f64 = cpu.alloc("float64", 1024);
    expect(inHeap(big as Float32Array)).toBe(true);
    expect(big.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(inHeap(f64 as Float64Array)).toBe(true);
    expect(inHeap(cpu.alloc("float32", HEAP_MIN_BYTES / 4 - 1) as Float32Array)).toBe(false);
    expect(inHeap(cpu.alloc("int32", 4096) as Int32Array)).toBe(false);
    expect((big as Float32Array).byteOffset % 64).toBe(0);
    setWasmHeapEnabled(false);
    expect(inHeap(cpu.alloc("float32", 4096) as Float32Array)).toBe(false);
    cpu.free(big);
    cpu.free(f64);
  });

  it("reuses freed blocks, zero-fills them when asked and keeps live blocks apart (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1024, max: 600_000 }), { minLength: 1, maxLength: 30 }),
        (ns) => {
          const live: Float32Array[] = [];
          for (const [i, n] of ns.entries()) {
            const a = heapAlloc(Float32Array, n, i % 2 === 0) as Float32Array;
            expect(a).not.toBeNull();
            if (i % 2 === 0) expect(a.every((x) => x === 0)).toBe(true);
            a.fill(i + 1);
            live.push(a);
            // free every third so later requests reuse blocks
            if (i % 3 === 2) expect(heapFree(live.splice(i % live.length, 1)[0])).toBe(true);
          }
          // no block overlaps another: each still holds what was written into it
          for (const a of live) expect(a.every((x) => x === a[0])).toBe(true);
          for (const a of live) heapFree(a);
        },
      ),
      { numRuns: 40 },
    );
    const s = heapStats();
    expect(s.reused).toBeGreaterThan(0);
  });

  it("zero-fills a reused block with memory.fill (a TypedArray fill over shared memory goes element by element)", () => {
    const a = heapAlloc(Float32Array, 5000, false) as Float32Array;
    a.fill(7);
    heapFree(a);
    const memsets = heapFillStats.memset;
    const b = heapAlloc(Float32Array, 5000, true) as Float32Array;
    expect(b.byteOffset).toBe(a.byteOffset);
    expect(heapFillStats.memset).toBe(memsets + 1);
    expect(b.every((x) => Object.is(x, 0))).toBe(true);
    heapFree(b);
  });

  it("reads of heap storage are copies on the JS heap, bit for bit", () => {
    const a = heapAlloc(Float32Array, 3000, false) as Float32Array;
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < u.length; i++) u[i] = (i * 2654435761) >>> 0; // NaN payloads included
    const got = cpu.readSync({
      handle: a,
      dtype: "float32",
      shape: [2999],
      strides: [1],
      offset: 1,
    }) as Float32Array;
    expect(got.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(new Uint32Array(got.buffer))).toEqual(Array.from(u.subarray(1)));
    got[0] = 1;
    expect(u[1]).toBe(2654435761);
    heapFree(a);
  });

  it("copies between heap views with memory.copy, bit for bit", () => {
    const a = heapAlloc(Float32Array, 3000, false) as Float32Array;
    const b = heapAlloc(Float32Array, 3000, true) as Float32Array;
    new Uint32Array(a.buffer, a.byteOffset, 3000).forEach((_, i, u) => {
      u[i] = (i * 2654435761) >>> 0;
    });
    const copies = heapStats().copies;
    cpu.copy(
      { handle: a, dtype: "float32", shape: [2990], strides: [1], offset: 7 },
      { handle: b, dtype: "float32", shape: [2990], strides: [1], offset: 3 },
    );
    expect(heapStats().copies).toBe(copies + 1);
    const ua = new Uint32Array(a.buffer, a.byteOffset, 3000);
    const ub = new Uint32Array(b.buffer, b.byteOffset, 3000);
    expect(Array.from(ub.subarray(3, 2993))).toEqual(Array.from(ua.subarray(7, 2997)));
    expect(ub[2] === 0 && ub[2993] === 0).toBe(true);
    heapFree(a);
    heapFree(b);
  });

  it("merges freed large blocks and hands the top back", () => {
    // each larger than all the free blocks together: cut from the top, one after another
    const before = heapStats().topBytes;
    const big = heapStats().freeBytes;
    const sizes = [12 << 20, 20 << 20, 8 << 20].map((b) => Math.ceil((b + big) / 65536) * 65536);
    const blocks = sizes.map((b) => allocBlock(b));
    expect(blocks[1]).toBe(blocks[0] + sizes[0]);
    expect(heapStats().topBytes).toBe(blocks[2] + sizes[2]);
    freeBlock(blocks[0]);
    freeBlock(blocks[2]); // at the top: the top comes down
    expect(heapStats().topBytes).toBe(blocks[2]);
    freeBlock(blocks[1]); // merged with the first, and at the top
    expect(heapStats().topBytes).toBe(Math.min(before, blocks[0]));
    const again = allocBlock(sizes[0] + sizes[1] + sizes[2] - (1 << 20)); // served from the top again
    expect(again).toBe(Math.min(before, blocks[0]));
    freeBlock(again);
  });

  it("keeps views valid across memory.grow (a shared memory is never detached)", () => {
    const a = heapAlloc(Float32Array, 4096, true) as Float32Array;
    a.fill(7);
    const was = a.buffer;
    const size = heapStats().memoryBytes;
    const big = allocBlock(size + (8 << 20)); // more than the memory holds: it grows
    expect(heapStats().memoryBytes).toBeGreaterThan(size);
    expect(a.length).toBe(4096);
    expect(a.every((x) => x === 7)).toBe(true);
    const b = heapAlloc(Float32Array, 4096, true) as Float32Array;
    expect(b.buffer).not.toBe(was); // a new SharedArrayBuffer object over the same memory
    expect(inHeap(a) && inHeap(b)).toBe(true);
    freeBlock(big);
    heapFree(a);
    heapFree(b);
  });

  it("falls back to the JS heap when the heap cannot serve a request", () => {
    const before = heapStats().fallbacks;
    expect(allocBlock(2 ** 31)).toBe(-1);
    expect(heapAlloc(Float32Array, 2 ** 29, false)).toBeNull();
    expect(heapStats().fallbacks).toBe(before + 2);
  });

  it("does not take arrays it did not hand out", () => {
    expect(heapFree(new Float32Array(4096))).toBe(false);
    const a = heapAlloc(Float32Array, 4096, false) as Float32Array;
    expect(heapFree(a.subarray(8))).toBe(false);
    // a view of the same memory made by structured cloning, as another thread would receive it
    expect(heapFree(structuredClone(a))).toBe(false);
    expect(heapFree(a)).toBe(true);
    expect(heapFree(a)).toBe(false);
  });

  it("gets back the blocks of storage the garbage collector frees", async () => {
    const before = heapStats();
    (() => {
      for (let i = 0; i < 20; i++) cpu.alloc("float32", 8192);
    })();
    for (let i = 0; i < 3 && heapStats().collected < before.collected + 20; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(heapStats().collected).toBeGreaterThanOrEqual(before.collected + 20);
    expect(heapStats().liveBlocks).toBeLessThanOrEqual(before.liveBlocks);
  });
});

describe("the WASM GEMM on heap operands", () => {
  beforeEach(() => setAdaptiveThreads(false));
  afterAll(() => {
    setAdaptiveThreads(true);
    setNumThreads(2);
  });

  /** Runs the product on JS-heap operands and on heap copies; expects the same bits and in-place operands. */
  function same(a: View, b: View, out: View, expectInPlace: boolean): void {
    const [ha, hb, ho] = [inHeapCopy(a), inHeapCopy(b), inHeapCopy(out)];
    const before = gemmStats.inPlace;
    expect(matmulWasm(a, b, out)).toBe(true);
    expect(matmulWasm(ha, hb, ho)).toBe(true);
    if (expectInPlace) expect(gemmStats.inPlace).toBeGreaterThan(before);
    const [x, y] = [bits(out), bits(ho)];
    const i = x.findIndex((v, k) => v !== y[k]);
    expect(i, "first differing element").toBe(-1);
    for (const v of [ha, hb, ho]) freeBlock((v.handle as Float32Array).byteOffset);
  }

  for (const threads of [1, 2]) {
    it(`reads A and B and writes C in place, bit for bit as the copying path (${threads} thread(s), property)`, async () => {
      setNumThreads(threads);
      setThreadThreshold(threads > 1 ? 0 : Number.POSITIVE_INFINITY);
      fc.assert(
        fc.property(problem, ({ B, M, K, N, la, lb, lo, ba, bb, off, seed }) => {
          const a = operand(B, M, K, la, ba, off, seed);
          const b = operand(B, K, N, lb, bb, off + 1, seed + 1);
          const out = operand(B, M, N, lo, false, off + 2, seed + 2);
          same(a, b, out, true);
        }),
        { numRuns: 60 },
      );
      if (threads > 1) expect(await whenThreadsReady()).toBe(threads - 1);
    });
  }

  it("splits a batch by items with every operand in place (a convolution's products)", () => {
    setNumThreads(2);
    setThreadThreshold(1 << 12);
    const cases: [number, number, number, number, Layout, Layout, boolean][] = [
      [16, 64, 288, 196, "row", "row", true], // conv2 forward: a shared weight
      [16, 64, 196, 288, "row", "col", false], // a weight gradient's per-image products
      [8, 20, 30, 12, "col", "row", false],
    ];
    for (const [B, M, K, N, la, lb, shareA] of cases) {
      const jobs = gemmStats.batchJobs;
      const a = operand(B, M, K, la, shareA, 0, 1);
      const b = operand(B, K, N, lb, false, 0, 2);
      const out = operand(B, M, N, "row", false, 0, 3);
      same(a, b, out, true);
      expect(gemmStats.batchJobs).toBeGreaterThan(jobs);
    }
  });

  it("copies C out instead when out overlaps an operand or is not laid out as C", () => {
    const a = inHeapCopy(operand(1, 40, 40, "row", false, 0, 1));
    const b = inHeapCopy(operand(1, 40, 40, "row", false, 0, 2));
    const want = operand(1, 40, 40, "row", false, 0, 3);
    matmulWasm(a, b, want);
    const copied = gemmStats.copied;
    matmulWasm(a, b, a); // out = a: C must not be written while A is read
    expect(gemmStats.copied).toBe(copied + 1);
    expect(bits(a)).toEqual(bits(want));
    for (const v of [a, b]) freeBlock((v.handle as Float32Array).byteOffset);
  });
});

describe("fused elementwise programs on heap operands", () => {
  const input = (index: number): Expr => ({ op: "input", index, dtype: "float32" });
  const bin = (fn: "add" | "mul" | "maximum", a: Expr, b: Expr): Expr => ({
    op: "binary",
    fn,
    a,
    b,
    dtype: "float32",
  });
  // relu(x * 2 + y) with a scalar operand: max(x * s + y, 0)
  const expr = bin("maximum", bin("add", bin("mul", input(0), input(2)), input(1)), {
    op: "const",
    value: 0,
    dtype: "float32",
  });
  const flat = (a: Float32Array, offset = 0): View => ({
    handle: a,
    dtype: "float32",
    shape: [a.length - offset],
    strides: [1],
    offset,
  });

  it("run in place, stored or summed, bit for bit as the streamed kernel (lengths with a tail of 0-3)", () => {
    for (const n of [1024, 1027, 8193, 20002, 40003]) {
      const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
      const y = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));
      const scalar: View = {
        handle: new Float32Array([1.7]),
        dtype: "float32",
        shape: [n],
        strides: [0],
        offset: 0,
      };
      const heap = (a: Float32Array) => {
        const h = heapAlloc(Float32Array, a.length, false) as Float32Array;
        h.set(a);
        return h;
      };
      const streamed = flat(new Float32Array(n));
      const before = wasmFusedStats.resident;
      expect(elementwiseWasm(expr, [flat(x), flat(y), scalar], streamed)).toBe(true);
      expect(wasmFusedStats.resident).toBe(before);
      // the output block exactly as long as the result, with a sentinel after it that must survive
      const block = heapAlloc(Float32Array, n + 1, false) as Float32Array;
      block[n] = 12345;
      const out = { ...flat(block), shape: [n] };
      expect(elementwiseWasm(expr, [flat(heap(x)), flat(heap(y)), scalar], out)).toBe(true);
      expect(wasmFusedStats.resident).toBe(before + 1);
      expect(block[n]).toBe(12345);
      expect(bits({ ...out, handle: block.subarray(0, n) })).toEqual(bits(streamed));
      // the whole sum of the program
      const s1 = flat(new Float32Array(1));
      const s2 = flat(new Float32Array(1));
      const sum = { op: "sum" as const, axes: [0], shape: [n] };
      expect(elementwiseWasm(expr, [flat(x), flat(y), scalar], s1, sum)).toBe(true);
      expect(elementwiseWasm(expr, [flat(heap(x)), flat(heap(y)), scalar], s2, sum)).toBe(true);
      expect(wasmFusedStats.resident).toBe(before + 2);
      expect(bits(s2)).toEqual(bits(s1));
    }
  });

  it("read a per-channel operand (a bias) from a table of its values, bit for bit as streamed", () => {
    const [B, C, HW] = [3, 5, 196];
    const n = B * C * HW;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
    const bias = Float32Array.from({ length: C }, (_, c) => c - 2.5);
    const shape = [B, C, HW];
    const xv = (a: Float32Array): View => ({
      handle: a,
      dtype: "float32",
      shape,
      strides: [C * HW, HW, 1],
      offset: 0,
    });
    const bv: View = { handle: bias, dtype: "float32", shape, strides: [0, 1, 0], offset: 0 };
    const prog = bin("add", input(0), input(1));
    const streamed = xv(new Float32Array(n));
    const before = wasmFusedStats.resident;
    expect(elementwiseWasm(prog, [xv(x), bv], streamed)).toBe(true);
    const hx = heapAlloc(Float32Array, n, false) as Float32Array;
    hx.set(x);
    const out = xv(heapAlloc(Float32Array, n, false) as Float32Array);
    expect(elementwiseWasm(prog, [xv(hx), bv], out)).toBe(true);
    expect(wasmFusedStats.resident).toBe(before + 1);
    expect(bits(out)).toEqual(bits(streamed));
  });

  it("read a bias over rows from the heap through a table of its runs, bit for bit as streamed", () => {
    const [B, N] = [37, 132];
    const x = Float32Array.from({ length: B * N }, (_, i) => Math.cos(i) * 2);
    const shape = [B, N];
    const xv = (a: Float32Array): View => ({
      handle: a,
      dtype: "float32",
      shape,
      strides: [N, 1],
      offset: 0,
    });
    const bias = new Float32Array(
      (sharedMemory() as WebAssembly.Memory).buffer,
      allocBlock(4 * N + 8),
      N + 2,
    );
    bias.set(Float32Array.from({ length: N + 2 }, (_, j) => j * 0.25 - 3));
    const bv = (a: Float32Array): View => ({
      handle: a,
      dtype: "float32",
      shape,
      strides: [0, 1],
      offset: 2,
    });
    const prog = bin("mul", input(0), input(1));
    const streamed = xv(new Float32Array(B * N));
    expect(elementwiseWasm(prog, [xv(x), bv(Float32Array.from(bias))], streamed)).toBe(true);
    const before = wasmFusedStats.resident;
    const hx = heapAlloc(Float32Array, B * N, false) as Float32Array;
    hx.set(x);
    const out = xv(heapAlloc(Float32Array, B * N, false) as Float32Array);
    expect(elementwiseWasm(prog, [xv(hx), bv(bias)], out)).toBe(true);
    expect(wasmFusedStats.resident).toBe(before + 1);
    expect(bits(out)).toEqual(bits(streamed));
  });

  it("sum per channel (a bias gradient) in place, in the streamed loop's pieces and bits", () => {
    const [B, C, HW] = [7, 6, 1500]; // runs cut by 8192-element blocks too
    const n = B * C * HW;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 5 + 1e-3 * i);
    const shape = [B, C, HW];
    const xv = (a: Float32Array): View => ({
      handle: a,
      dtype: "float32",
      shape,
      strides: [C * HW, HW, 1],
      offset: 0,
    });
    const outv = (): View => ({
      handle: new Float32Array(C),
      dtype: "float32",
      shape: [1, C, 1],
      strides: [C, 1, 1],
      offset: 0,
    });
    const sum = { op: "sum" as const, axes: [0, 2], shape };
    const prog = bin("mul", input(0), input(0));
    const streamed = outv();
    expect(elementwiseWasm(prog, [xv(x)], streamed, sum)).toBe(true);
    const hx = heapAlloc(Float32Array, n, false) as Float32Array;
    hx.set(x);
    const before = wasmFusedStats.resident;
    const got = outv();
    expect(elementwiseWasm(prog, [xv(hx)], got, sum)).toBe(true);
    expect(wasmFusedStats.resident).toBe(before + 1);
    expect(bits(got)).toEqual(bits(streamed));
  });

  it("streams operands that are not all in the heap, as before", () => {
    const n = 4096;
    const x = heapAlloc(Float32Array, n, true) as Float32Array;
    const before = wasmFusedStats.resident;
    const scalar: View = {
      handle: new Float32Array([2]),
      dtype: "float32",
      shape: [n],
      strides: [0],
      offset: 0,
    };
    expect(
      elementwiseWasm(expr, [flat(x), flat(new Float32Array(n)), scalar], flat(new Float32Array(n))),
    ).toBe(true);
    expect(wasmFusedStats.resident).toBe(before);
  });
});
