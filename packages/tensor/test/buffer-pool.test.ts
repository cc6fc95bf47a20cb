/**
 * The buffer pool on its own (no backend): size classes, zero-filling, what it refuses to keep, its limit and its
 * controls. How storage reaches it (releases, views, pending programs, user memory) is tested with the CPU backend
 * in tests/test/buffer-pool.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bufferPoolStats, recycleBuffer, setBufferPool, takeBuffer, trimBufferPool } from "../src/index";

beforeEach(() => {
  setBufferPool(true, { maxBytes: 2 ** 30, poison: false });
  trimBufferPool();
});
afterEach(() => {
  setBufferPool(true, { maxBytes: 2 ** 30, poison: false });
  trimBufferPool();
});

/** Counter changes while `fn` runs. */
function delta(fn: () => void): { hits: number; misses: number; recycled: number; dropped: number } {
  const a = bufferPoolStats();
  fn();
  const b = bufferPoolStats();
  return {
    hits: b.hits - a.hits,
    misses: b.misses - a.misses,
    recycled: b.recycled - a.recycled,
    dropped: b.dropped - a.dropped,
  };
}

describe("buffer pool", () => {
  it("hands a released array back for the same dtype and length, zero-filled", () => {
    const a = takeBuffer("float32", 1000);
    a.fill(7);
    expect(recycleBuffer(a)).toBe(true);
    expect(bufferPoolStats().bytesHeld).toBe(4000);
    let b: Float32Array | undefined;
    expect(delta(() => (b = takeBuffer("float32", 1000) as Float32Array))).toMatchObject({
      hits: 1,
      misses: 0,
    });
    expect(b).toBe(a);
    expect(b?.every((v) => v === 0)).toBe(true);
    expect(bufferPoolStats().bytesHeld).toBe(0);
  });

  it("leaves the contents when the caller writes every element (zero = false), or poisons them", () => {
    const a = takeBuffer("int32", 100);
    a.fill(5);
    recycleBuffer(a);
    expect([...takeBuffer("int32", 100, false).subarray(0, 3)]).toEqual([5, 5, 5]);
    setBufferPool(true, { poison: true });
    const f = takeBuffer("float32", 100);
    recycleBuffer(f);
    const g = takeBuffer("float32", 100, false);
    expect(g).toBe(f);
    expect(g.every((v) => Number.isNaN(v))).toBe(true);
  });

  it("serves a smaller request of the same size class, or any request from the next class up, as a view", () => {
    const big = takeBuffer("float32", 1000); // 4000 bytes: class [3584, 4096)
    recycleBuffer(big);
    const v = takeBuffer("float64", 450, false); // 3600 bytes, same class, fits
    expect(v).toBeInstanceOf(Float64Array);
    expect(v.length).toBe(450);
    expect(v.buffer).toBe(big.buffer);
    // released again, it is kept as its whole buffer
    recycleBuffer(v);
    expect(bufferPoolStats().bytesHeld).toBe(4000);
    // 3400 bytes: class [3072, 3584); the next class up holds the 4000-byte buffer, which fits
    const w = takeBuffer("uint8", 3400);
    expect(w.buffer).toBe(big.buffer);
    // a request larger than the buffer in its own class misses
    const small = takeBuffer("float32", 900); // 3600 bytes
    recycleBuffer(small);
    expect(delta(() => takeBuffer("float32", 1020))).toMatchObject({ hits: 0, misses: 1 });
  });

  it("keeps no small on-heap array, shared memory or part of a larger buffer", () => {
    const d = delta(() => {
      expect(recycleBuffer(new Float32Array(16))).toBe(false); // 64 bytes: on V8's heap
      expect(recycleBuffer(new Float32Array(new SharedArrayBuffer(4096)))).toBe(false);
      expect(recycleBuffer(new Float32Array(1024).subarray(8))).toBe(false);
      expect(recycleBuffer([1, 2, 3])).toBe(false);
    });
    expect(d.recycled).toBe(0);
    expect(bufferPoolStats().bytesHeld).toBe(0);
    // and small requests are never counted as misses: they are not pooled
    expect(delta(() => takeBuffer("float32", 16))).toMatchObject({ hits: 0, misses: 0 });
  });

  it("holds at most maxBytes; a buffer beyond the limit is left to the garbage collector", () => {
    setBufferPool(true, { maxBytes: 10_000 });
    const arrays = Array.from({ length: 5 }, () => takeBuffer("float32", 1000));
    const d = delta(() => {
      for (const a of arrays) recycleBuffer(a);
    });
    expect(d).toMatchObject({ recycled: 2, dropped: 3 });
    expect(bufferPoolStats().bytesHeld).toBe(8000);
    expect(bufferPoolStats().limitBytes).toBe(10_000);
    // lowering the limit trims what is held
    setBufferPool(true, { maxBytes: 4000 });
    expect(bufferPoolStats().bytesHeld).toBeLessThanOrEqual(4000);
  });

  it("is trimmed on request and emptied when turned off; off, nothing is pooled", () => {
    for (let i = 0; i < 4; i++) recycleBuffer(takeBuffer("float32", 1000 + 100 * i));
    expect(bufferPoolStats().buffersHeld).toBe(4);
    expect(trimBufferPool(4500)).toBeGreaterThan(0);
    expect(bufferPoolStats().bytesHeld).toBeLessThanOrEqual(4500);
    expect(setBufferPool(false)).toBe(true);
    expect(bufferPoolStats()).toMatchObject({ enabled: false, bytesHeld: 0, buffersHeld: 0 });
    const a = takeBuffer("float32", 1000);
    expect(delta(() => recycleBuffer(a))).toMatchObject({ recycled: 0 });
    expect(setBufferPool(true)).toBe(false);
  });

  it("rejects bad arguments with errors naming them", () => {
    expect(() => setBufferPool("yes" as unknown as boolean)).toThrow(
      /setBufferPool: expected a boolean, got string/,
    );
    expect(() => setBufferPool(true, { maxByte: 1 } as never)).toThrow(/unknown option "maxByte"/);
    expect(() => setBufferPool(true, { maxBytes: -1 })).toThrow(
      /maxBytes must be a non-negative integer, got -1/,
    );
    expect(() => setBufferPool(true, { poison: 1 as unknown as boolean })).toThrow(
      /poison must be a boolean/,
    );
    expect(() => setBufferPool(true, null as never)).toThrow(/expected an options object, got null/);
    expect(() => trimBufferPool(-5)).toThrow(/keepBytes must be a non-negative number, got -5/);
  });
});
