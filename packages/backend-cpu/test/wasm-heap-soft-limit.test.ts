/**
 * The WASM heap's soft limit on storage (its own file: the heap never shrinks, so the 256 MiB it fills stay with this
 * test's worker only). Dropped heap tensors come back only when the collector finds their small views, which put no
 * pressure on V8; past HEAP_STORAGE_SOFT_BYTES new storage is ordinary ArrayBuffers again, so an untidied loop cannot
 * fill the heap and starve the kernels' scratch (the WASM GEMM then fell from ~90 to ~8 GFLOPS).
 */
import type { TypedArray } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { cpu } from "../src/index";
import { HEAP_STORAGE_SOFT_BYTES, heapStats, inHeap } from "../src/wasm/heap";

const MB16 = 4 * 1024 * 1024; // float32 elements in 16 MiB

describe("WASM heap soft limit", () => {
  it("storage past the limit goes to the JS heap, and the heap serves again once storage is freed", () => {
    if (!heapStats().enabled) return; // no SharedArrayBuffer: nothing to check
    const held: TypedArray[] = [];
    for (;;) {
      const a = cpu.alloc("float32", MB16, false);
      if (!inHeap(a)) {
        cpu.free(a);
        break;
      }
      held.push(a);
      expect(held.length).toBeLessThanOrEqual(HEAP_STORAGE_SOFT_BYTES / (4 * MB16));
    }
    const stats = heapStats();
    expect(stats.storageBytes).toBeLessThanOrEqual(HEAP_STORAGE_SOFT_BYTES);
    expect(stats.storageBytes + 4 * MB16).toBeGreaterThan(HEAP_STORAGE_SOFT_BYTES);
    expect(stats.fallbacks).toBeGreaterThan(0);

    // a product past the limit (JS-heap operands and output now) still computes
    const n = 256;
    const a = cpu.alloc("float32", n * n, false);
    const b = cpu.alloc("float32", n * n, false);
    for (let i = 0; i < n * n; i++) {
      a[i] = ((i * 7) % 13) - 6;
      b[i] = ((i * 5) % 11) - 5;
    }
    const out = cpu.alloc("float32", n * n);
    const view = (handle: TypedArray) => ({
      handle,
      dtype: "float32" as const,
      shape: [1, n, n],
      strides: [n * n, n, 1],
      offset: 0,
    });
    cpu.matmul(view(a), view(b), view(out));
    let c00 = 0;
    for (let k = 0; k < n; k++) c00 += a[k] * b[k * n];
    expect(out[0]).toBe(c00); // small integers: exact in float32

    for (const h of held) cpu.free(h);
    const again = cpu.alloc("float32", MB16, false);
    expect(inHeap(again)).toBe(true);
  });
});
