import { randn, registerBackend, type Tensor, zeros } from "@cinder/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heapFillStats } from "../src/heap-fill";
import { cpu } from "../src/index";
import { inHeap, setWasmHeapEnabled } from "../src/wasm/heap";

// zero fills of storage in the heap's shared memory run as memory.fill (a memset) instead of TypedArray.fill;
// the bits must be those of the TypedArray fill, and nothing outside the view may change
let heapWas = true;
beforeAll(() => {
  registerBackend(cpu);
  heapWas = setWasmHeapEnabled(true);
});
afterAll(() => setWasmHeapEnabled(heapWas));

const bits = (t: Tensor) => Array.from(new Uint32Array((t.data() as Float32Array).slice().buffer));
const handle = (t: Tensor) => t.storage.handle as Float32Array;

/** `f` run on a copy of `x` in the heap and on a copy outside it (the TypedArray fill), with memsets counted. */
function both(x: Tensor, f: (t: Tensor) => void): { heap: number[]; plain: number[]; memsets: number } {
  const h = x.clone();
  expect(inHeap(handle(h))).toBe(true);
  const before = heapFillStats.memset;
  f(h);
  const memsets = heapFillStats.memset - before;
  setWasmHeapEnabled(false);
  try {
    const p = x.clone();
    expect(inHeap(handle(p))).toBe(false);
    f(p);
    return { heap: bits(h), plain: bits(p), memsets };
  } finally {
    setWasmHeapEnabled(true);
  }
}

describe("zero fill in the heap", () => {
  it("zero_() of a gradient-sized tensor is one memset, the same bits as TypedArray.fill", () => {
    const r = both(randn(128, 784), (t) => void t.zero_());
    expect(r.memsets).toBe(1);
    expect(r.heap).toEqual(r.plain);
    expect(r.heap.every((b) => b === 0)).toBe(true);
  });

  it("zeroes only the view: a row in the middle, an offset slice", () => {
    const x = randn(8, 1024);
    const row = both(x, (t) => void t.select(0, 3).zero_());
    expect(row.memsets).toBe(1);
    expect(row.heap).toEqual(row.plain);
    const tail = both(x, (t) => void t.view(-1).narrow(0, 5, 3001).fill_(0));
    expect(tail.memsets).toBe(1);
    expect(tail.heap).toEqual(tail.plain);
  });

  it("-0 and other values keep the TypedArray fill (not zero bits)", () => {
    const neg = both(randn(4, 1024), (t) => void t.fill_(-0));
    expect(neg.memsets).toBe(0);
    expect(neg.heap).toEqual(neg.plain);
    expect(neg.heap[0]).toBe(0x80000000);
    const seven = both(randn(4, 1024), (t) => void t.fill_(7.5));
    expect(seven.memsets).toBe(0);
    expect(seven.heap).toEqual(seven.plain);
  });

  it("storage outside the heap (small tensors) keeps the TypedArray fill", () => {
    const before = heapFillStats.memset;
    const t = randn(4, 4).zero_();
    expect(heapFillStats.memset).toBe(before);
    expect(Array.from(t.data() as Float32Array)).toEqual(new Array(16).fill(0));
    expect(zeros(3).sum().item()).toBe(0);
  });
});
