import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { ArgumentError, type View } from "@cinder/tensor";
import fc from "fast-check";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { cpu, getNumThreads, setNumThreads } from "../src/index";
import { Backoff } from "../src/threads/backoff";
import {
  clearThreadError,
  defaultNumThreads,
  injectWorkerFault,
  setAdaptiveThreads,
  setThreadSpin,
  threadBackoff,
  threadInfo,
  whenThreadsReady,
} from "../src/threads/pool";
import {
  gemmStats,
  matmulWasm,
  setSharedMemoryEnabled,
  setThreadThreshold,
  wasmGemmShared,
} from "../src/wasm/gemm";
import { expectProduct, type Layout, operand, problem } from "./gemm-operands";

const DEFAULT = defaultNumThreads();

// Every product above the threshold splits, however busy the machine (the back-off has its own tests).
beforeEach(() => setAdaptiveThreads(false));
afterAll(() => setAdaptiveThreads(true));
afterEach(() => {
  injectWorkerFault("none");
  setThreadThreshold();
  setSharedMemoryEnabled(true);
  setNumThreads(DEFAULT);
  clearThreadError();
});

/** A fresh output like `out` (same layout, same fill), for a second run of the same product. */
const like = (out: View): View => ({ ...out, handle: (out.handle as Float32Array).slice() });
const bits = (v: View): Uint32Array => new Uint32Array((v.handle as Float32Array).slice().buffer);

/** Square row-major float32 operands a, b and an output for an n x n x n product. */
function square(n: number, seed = 1): [View, View, View] {
  return [
    operand(1, n, n, "row", false, 0, seed),
    operand(1, n, n, "row", false, 0, seed + 1),
    operand(1, n, n, "row", false, 0, seed + 2),
  ];
}

/** A pool of 2 threads (the calling one and a worker) that has started. */
async function twoThreads(): Promise<void> {
  setNumThreads(2);
  cpu.matmul(...square(256));
  expect(await whenThreadsReady()).toBe(1);
}

describe("setNumThreads / getNumThreads", () => {
  it("default to $CINDER_NUM_THREADS or the machine's parallelism, at most 8", () => {
    const env = process.env.CINDER_NUM_THREADS;
    expect(DEFAULT).toBe(env ? Number(env) : Math.min(8, availableParallelism()));
    expect(getNumThreads()).toBe(DEFAULT);
  });

  it("set and get the thread count, positionally or by keyword", () => {
    setNumThreads(3);
    expect(getNumThreads()).toBe(3);
    setNumThreads({ num: 1 });
    expect(getNumThreads()).toBe(1);
  });

  it("declare PyTorch's signatures", () => {
    expect(String(setNumThreads.signature)).toBe("setNumThreads(num)");
    expect(setNumThreads.signature.torchName).toBe("torch.set_num_threads");
    expect(getNumThreads.signature.torchName).toBe("torch.get_num_threads");
  });

  it("reject anything but a positive integer with an ArgumentError", () => {
    const set = setNumThreads as unknown as (...a: unknown[]) => void;
    for (const bad of [
      [0],
      [-2],
      [1.5],
      [Number.NaN],
      [Number.POSITIVE_INFINITY],
      ["2"],
      [null],
      [],
      [2, 3],
    ]) {
      expect(() => set(...bad), JSON.stringify(bad)).toThrow(ArgumentError);
    }
    expect(() => set(0)).toThrow(/setNumThreads.*num/s);
    expect(() => (getNumThreads as unknown as (...a: unknown[]) => number)(1)).toThrow(ArgumentError);
    expect(getNumThreads()).toBe(DEFAULT);
  });
});

describe("threaded float32 matmul", () => {
  beforeEach(() => {
    expect(wasmGemmShared()).toBe(true);
  });

  it("splits products above the threshold and not below", async () => {
    await twoThreads();
    const cases: [number, number, number, boolean][] = [
      [256, 256, 256, true],
      [64, 784, 128, true], // the MNIST MLP's first layer, forward
      [128, 64, 784, true], // and its weight gradient
      [64, 64, 64, false],
      [64, 128, 10, false], // the second layer
    ];
    for (const [M, K, N, split] of cases) {
      const before = threadInfo().dispatches;
      const a = operand(1, M, K, "row", false, 0, 1);
      const b = operand(1, K, N, "col", false, 0, 2);
      const out = operand(1, M, N, "row", false, 0, 3);
      cpu.matmul(a, b, out);
      expect(threadInfo().dispatches - before, `${M}x${K}x${N}`).toBe(split ? 1 : 0);
      expectProduct(a, b, out, 1e-5);
    }
  });

  it("has the worker run chunks", async () => {
    await twoThreads();
    const before = threadInfo().workerChunks;
    for (let i = 0; i < 50 && threadInfo().workerChunks === before; i++) cpu.matmul(...square(384, i));
    expect(threadInfo().workerChunks).toBeGreaterThan(before);
  });

  it("equals the single-threaded kernel and the unshared fallback bit for bit (property)", async () => {
    await twoThreads();
    setThreadThreshold(0); // split every product, however small
    const before = threadInfo().workerChunks;
    fc.assert(
      fc.property(problem, ({ B, M, K, N, la, lb, lo, ba, bb, off, seed }) => {
        const a = operand(B, M, K, la, ba, off, seed);
        const b = operand(B, K, N, lb, bb, off + 1, seed + 1);
        const out = operand(B, M, N, lo, false, off + 2, seed + 2);
        const one = like(out);
        const plain = like(out);
        const before = threadInfo().dispatches;
        expect(matmulWasm(a, b, out)).toBe(true);
        expect(threadInfo().dispatches).toBeGreaterThan(before);
        setThreadThreshold(Number.POSITIVE_INFINITY);
        expect(matmulWasm(a, b, one)).toBe(true);
        setSharedMemoryEnabled(false);
        expect(matmulWasm(a, b, plain)).toBe(true);
        setSharedMemoryEnabled(true);
        setThreadThreshold(0);
        expect(bits(out)).toEqual(bits(one));
        expect(bits(out)).toEqual(bits(plain));
      }),
      { numRuns: 120 },
    );
    expect(threadInfo().workerChunks).toBeGreaterThan(before);
  });

  it("equals the single-threaded kernel on larger, odd, batched and strided products", async () => {
    await twoThreads();
    const cases: [number, number, number, number, Layout, Layout, boolean][] = [
      [1, 301, 517, 263, "row", "row", false], // 3 k blocks, odd sizes
      [1, 7, 300, 999, "row", "col", false], // few rows: the chunks split columns
      [1, 999, 300, 5, "col", "row", false], // N small: computed as C^T = B^T A^T
      [3, 130, 257, 70, "row", "gap", true], // shared B: folded into one product
      [3, 130, 257, 70, "col", "row", true], // shared B, not folded: packed once for every batch
      [2, 97, 131, 250, "batchInner", "batchInner", false],
    ];
    let seed = 1;
    for (const [B, M, K, N, la, lb, bb] of cases) {
      const a = operand(B, M, K, la, false, 1, seed++);
      const b = operand(B, K, N, lb, bb, 2, seed++);
      const out = operand(B, M, N, "row", false, 0, seed++);
      const one = like(out);
      setThreadThreshold(0);
      const before = threadInfo().dispatches;
      cpu.matmul(a, b, out);
      expect(threadInfo().dispatches).toBeGreaterThan(before);
      setThreadThreshold(Number.POSITIVE_INFINITY);
      cpu.matmul(a, b, one);
      expect(bits(out)).toEqual(bits(one));
      expectProduct(a, b, out, 1e-5);
    }
  });

  it("splits batches of small products by items, bit for bit as one thread (property)", async () => {
    await twoThreads();
    const big = fc.record({ B: fc.integer({ min: 2, max: 9 }) });
    fc.assert(
      fc.property(problem, big, ({ M, K, N, la, lb, lo, ba, bb, off, seed }, { B }) => {
        const a = operand(B, M, K, la, ba, off, seed);
        const b = operand(B, K, N, lb, bb, off + 1, seed + 1);
        const out = operand(B, M, N, lo, false, off + 2, seed + 2);
        const one = like(out);
        // Each product below the threshold, the batch above it.
        setThreadThreshold(M * N * K + 1);
        const [jobs, folds] = [gemmStats.batchJobs, gemmStats.folds];
        expect(matmulWasm(a, b, out)).toBe(true);
        // Batch jobs, or (a shared B with rows that continue each other) one folded product instead.
        const batchedJobs = gemmStats.batchJobs - jobs;
        expect(gemmStats.folds - folds === 1 ? batchedJobs === 0 : batchedJobs > 0).toBe(true);
        setThreadThreshold(Number.POSITIVE_INFINITY);
        expect(matmulWasm(a, b, one)).toBe(true);
        expect(bits(out)).toEqual(bits(one));
      }),
      { numRuns: 100 },
    );
  });

  // ~2 s on a quiet machine, 17 s in CI's parallel run, near a minute when the machine is busier: its own timeout.
  it("runs a batch as several pipelined jobs, sharing either operand or none", {
    timeout: 180_000,
  }, async () => {
    await twoThreads();
    // 600 items of 64^3: 4 jobs (at least 4 groups, copies overlapping work); 300 of 256x8x256 (272 KiB
    // each): 5 jobs of at most 16 MiB; items each above the threshold, 2+ per thread: 8 in 4 jobs, 4 in 2 jobs
    // (a job has at least an item per thread), not a product each.
    for (const [B, M, K, N, jobs] of [
      [600, 64, 64, 64, 4],
      [300, 256, 8, 256, 5],
      [8, 128, 130, 128, 4],
      [4, 128, 130, 128, 2],
    ]) {
      for (const [ba, bb] of [
        [true, false],
        [false, true],
        [false, false],
      ]) {
        const a = operand(B, M, K, "col", ba, 0, 1); // not foldable into one product
        const b = operand(B, K, N, "col", bb, 0, 2);
        const out = operand(B, M, N, "row", false, 0, 3);
        const one = like(out);
        const before = gemmStats.batchJobs;
        cpu.matmul(a, b, out);
        expect(gemmStats.batchJobs - before).toBe(jobs);
        setThreadThreshold(Number.POSITIVE_INFINITY);
        cpu.matmul(a, b, one);
        setThreadThreshold();
        // Index of the first differing bit pattern (toEqual on millions of elements is slow).
        const [x, y] = [bits(out), bits(one)];
        expect(x.findIndex((v, i) => v !== y[i])).toBe(-1);
      }
    }
  });

  it("gives the same bits whether threads spin or sleep between jobs", async () => {
    const results = [];
    for (const ms of [0, 5]) {
      setThreadSpin(ms);
      await twoThreads();
      const [a, b, out] = square(256, 11);
      const before = threadInfo().dispatches;
      for (let i = 0; i < 3; i++) cpu.matmul(a, b, out);
      expect(threadInfo().dispatches - before).toBe(3);
      results.push(bits(out));
    }
    setThreadSpin();
    expect(results[0]).toEqual(results[1]);
  });

  it("runs on the calling thread alone after setNumThreads(1)", async () => {
    await twoThreads();
    setNumThreads(1);
    expect(threadInfo().workers).toBe(0);
    const before = threadInfo().dispatches;
    const [a, b, out] = square(256);
    cpu.matmul(a, b, out);
    expect(threadInfo().dispatches).toBe(before);
    expect(threadInfo().workers).toBe(0);
    expectProduct(a, b, out, 1e-5);
  });

  it("falls back to one thread on an unshared memory (no SharedArrayBuffer)", async () => {
    await twoThreads();
    const [a, b, out] = square(256, 7);
    const plain = like(out);
    cpu.matmul(a, b, out);
    setSharedMemoryEnabled(false);
    expect(wasmGemmShared()).toBe(false);
    const before = threadInfo().dispatches;
    cpu.matmul(a, b, plain);
    expect(threadInfo().dispatches).toBe(before);
    expect(bits(plain)).toEqual(bits(out));
  });
});

describe("the back-off", () => {
  it("runs products on one thread for a doubling window while splitting loses", () => {
    const b = new Backoff();
    for (let i = 0; i < 10; i++) b.record(1.8);
    expect(b.allow()).toBe(true);
    let losses = 0;
    while (b.skip === 0) {
      b.record(0.5);
      losses++;
    }
    expect(losses).toBe(4); // the moving average: 1.8 -> 1.48 -> 1.23 -> 1.05 -> 0.91
    const runs = (n: number) => Array.from({ length: n }, () => b.allow());
    expect(runs(9)).toEqual([...Array(8).fill(false), true]); // 8 on one thread, then a probe
    b.record(0.7); // the probe loses: 16 more
    expect(runs(17)).toEqual([...Array(16).fill(false), true]);
    b.record(1.5); // the probe wins: splitting resumes, and the window is back to 8
    expect(runs(3)).toEqual([true, true, true]);
    expect(b.window).toBe(8);
    expect(b.skipped).toBe(24);
  });

  it("caps the window and ignores nonsense gains", () => {
    const b = new Backoff();
    for (let i = 0; i < 20; i++) {
      b.record(0.1);
      while (!b.allow());
    }
    expect(b.window).toBe(1024);
    const { score, window } = b;
    for (const g of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) b.record(g);
    expect([b.score, b.window]).toEqual([score, window]);
  });

  it("keeps products above the threshold on one thread while it backs off", async () => {
    await twoThreads();
    setAdaptiveThreads(true);
    const b = threadBackoff();
    b.record(0.1);
    b.record(0.1);
    expect(b.skip).toBe(8);
    const before = threadInfo();
    const [a, x, out] = square(256, 11);
    for (let i = 0; i < 8; i++) cpu.matmul(a, x, out);
    expect(threadInfo().dispatches).toBe(before.dispatches);
    expect(threadInfo().skipped).toBe(before.skipped + 8);
    cpu.matmul(a, x, out); // the probe
    expect(threadInfo().dispatches).toBe(before.dispatches + 1);
    expectProduct(a, x, out, 1e-5);
  });
});

describe("worker failures", () => {
  it("surface as an error of the product, then products run on one thread", async () => {
    await twoThreads();
    injectWorkerFault("chunk");
    let error: unknown = null;
    for (let i = 0; i < 50 && error === null; i++) {
      try {
        cpu.matmul(...square(384, i));
      } catch (e) {
        error = e;
      }
    }
    expect(String(error)).toMatch(/matmul worker thread 1 failed: injected fault/);
    expect(threadInfo().disabled).toMatch(/injected fault/);
    expect(threadInfo().workers).toBe(0);
    const before = threadInfo().dispatches;
    const [a, b, out] = square(256, 3);
    cpu.matmul(a, b, out);
    expect(threadInfo().dispatches).toBe(before);
    expectProduct(a, b, out, 1e-5);
    setNumThreads(2); // re-enables
    expect(threadInfo().disabled).toBeNull();
    cpu.matmul(a, b, out);
    expect(threadInfo().dispatches).toBe(before + 1);
  });

  it("that stop responding mid-product make it throw after a while, not hang", async () => {
    await twoThreads();
    injectWorkerFault("stall", 300);
    let error: unknown = null;
    for (let i = 0; i < 50 && error === null; i++) {
      try {
        cpu.matmul(...square(384, i));
      } catch (e) {
        error = e;
      }
    }
    expect(String(error)).toMatch(/made no progress for 0.3 s/);
    expect(threadInfo().workers).toBe(0); // terminated
    const [a, b, out] = square(256, 4);
    cpu.matmul(a, b, out);
    expectProduct(a, b, out, 1e-5);
  });

  it("that fail to start cost nothing but their share", async () => {
    setNumThreads(1);
    setNumThreads(2);
    injectWorkerFault("init");
    const [a, b, out] = square(256, 5);
    cpu.matmul(a, b, out); // the worker starts failing: this thread runs every chunk
    expectProduct(a, b, out, 1e-5);
    expect(await whenThreadsReady()).toBe(0);
    expect(threadInfo().error).toMatch(/injected initialisation failure/);
    expect(threadInfo().workers).toBe(0);
    const before = threadInfo().dispatches;
    cpu.matmul(a, b, out);
    expect(threadInfo().dispatches).toBe(before);
    expectProduct(a, b, out, 1e-5);
  });

  it("that cannot be created leave products on one thread", () => {
    setNumThreads(1);
    setNumThreads(2);
    injectWorkerFault("spawn");
    const [a, b, out] = square(256, 9);
    cpu.matmul(a, b, out);
    expectProduct(a, b, out, 1e-5);
    expect(threadInfo().error).toMatch(/injected spawn failure/);
    expect(threadInfo().disabled).not.toBeNull();
  });
});

describe("a Node process", () => {
  const src = fileURLToPath(new URL("../src/index.ts", import.meta.url));
  const pool = fileURLToPath(new URL("../src/threads/pool.ts", import.meta.url));
  const node = (script: string, env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      ["--conditions=@cinder/source", "--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } },
    );

  it("takes its default thread count from $CINDER_NUM_THREADS", () => {
    const script = `
      const { getNumThreads } = await import(${JSON.stringify(src)});
      console.log(getNumThreads());
    `;
    expect(node(script, { CINDER_NUM_THREADS: "3" }).stdout.trim()).toBe("3");
    expect(node(script, { CINDER_NUM_THREADS: "0" }).stdout.trim()).toBe(
      String(Math.min(8, availableParallelism())),
    );
  });

  it("exits without waiting for the workers", () => {
    const script = `
      const { cpu, setNumThreads } = await import(${JSON.stringify(src)});
      setNumThreads(2);
      const { threadInfo } = await import(${JSON.stringify(pool)});
      const n = 512;
      const m = () => ({ handle: new Float32Array(n * n).fill(1), dtype: "float32", shape: [1, n, n], strides: [n * n, n, 1], offset: 0 });
      const c = m();
      cpu.matmul(m(), m(), c);
      console.log(JSON.stringify({ c: c.handle[0], dispatches: threadInfo().dispatches, workers: threadInfo().workers }));
    `;
    const r = node(script);
    expect(r.error ?? null).toBeNull(); // a timeout would be an ETIMEDOUT error here
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ c: 512, dispatches: 1, workers: 1 });
  });
});
