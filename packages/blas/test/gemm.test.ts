/**
 * Products on OpenBLAS against Cinder's own GEMM (WASM SIMD for float32, JS for float64): every layout CBLAS can
 * read in place (odd sizes, transposed views, offsets and row strides, batches, broadcast operands, a transposed
 * out) takes the provider path (its counter moves) and agrees within the rounding tolerance; views it cannot read
 * fall back (the counter stays). Tolerance: |blas - own| <= 1e-5 * sqrt(K) * sum_k |a_ik b_kj| per element in
 * float32 (two summation orders, FMA or not), 1e-13 * sqrt(K) * the same in float64.
 */
import {
  cpu,
  gemmProvider,
  gemmProviderStats,
  getNumThreads,
  heapStats,
  setGemmProvider,
  setNumThreads,
  setWasmHeapEnabled,
} from "@cinder/backend-cpu";
import { type DType, randn, registerBackend, type Tensor, tensor, type View } from "@cinder/tensor";
import { conformanceCases } from "@cinder/tensor/testing";
import { afterEach, describe, expect, it } from "vitest";
import { blasInfo, disable, enable, isEnabled } from "../src/index";

registerBackend(cpu);
afterEach(() => enable());

type FloatArray = Float32Array | Float64Array;

/** A strided 3-d view over `data`. */
function view(data: FloatArray, shape: number[], strides: number[], offset = 0): View {
  return {
    handle: data,
    dtype: data instanceof Float32Array ? "float32" : "float64",
    shape,
    strides,
    offset,
  };
}

function random(n: number, dtype: DType): FloatArray {
  return randn([n], { dtype }).data() as FloatArray;
}

/** out = a @ b through the backend, with the provider on or off; returns out's storage and whether it was used. */
function run(a: View, b: View, out: View, on: boolean): { c: FloatArray; used: boolean } {
  if (on) enable();
  else disable();
  const before = gemmProviderStats().products;
  cpu.matmul(a, b, out);
  return { c: out.handle as FloatArray, used: gemmProviderStats().products > before };
}

/** Element [t, i, j] of a strided view. */
const at = (v: View, t: number, i: number, j: number): number =>
  (v.handle as FloatArray)[v.offset + t * v.strides[0] + i * v.strides[1] + j * v.strides[2]];

/** Runs a @ b both ways into fresh copies of `out` and compares every element of out within the tolerance. */
function check(a: View, b: View, out: View, expectProvider = true): void {
  const fresh = (): View => ({ ...out, handle: (out.handle as FloatArray).slice() });
  const own = fresh();
  const mine = fresh();
  expect(run(a, b, own, false).used).toBe(false);
  expect(run(a, b, mine, true).used).toBe(expectProvider);
  const [B, M, N] = out.shape;
  const K = a.shape[2];
  const eps = out.dtype === "float32" ? 1e-5 : 1e-13;
  for (let t = 0; t < B; t++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let scale = 0;
        for (let k = 0; k < K; k++) scale += Math.abs(at(a, t, i, k) * at(b, t, k, j));
        const x = at(mine, t, i, j);
        const y = at(own, t, i, j);
        if (!(Math.abs(x - y) <= eps * Math.sqrt(K) * scale))
          expect.fail(`[${t}, ${i}, ${j}] of ${M}x${K}x${N}: ${x} (blas) vs ${y} (own)`);
      }
  // Elements of the out storage outside the view stay as they were.
  const o = out.handle as FloatArray;
  const written = new Set<number>();
  for (let t = 0; t < B; t++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++)
        written.add(out.offset + t * out.strides[0] + i * out.strides[1] + j * out.strides[2]);
  for (let p = 0; p < o.length; p++) if (!written.has(p)) expect((mine.handle as FloatArray)[p]).toBe(o[p]);
}

/** A contiguous [B, R, C] view of fresh random data. */
function dense(B: number, R: number, C: number, dtype: DType): View {
  return view(random(B * R * C, dtype), [B, R, C], [R * C, C, 1]);
}

/** The [B, R, C] transpose of a contiguous [B, C, R] array (a `.mT` view). */
function transposed(B: number, R: number, C: number, dtype: DType): View {
  return view(random(B * R * C, dtype), [B, R, C], [R * C, 1, R]);
}

describe("@cinder/blas", () => {
  it("is registered on import and reports the library", () => {
    expect(isEnabled()).toBe(true);
    expect(gemmProvider()?.name).toBe("openblas");
    const info = blasInfo();
    expect(info.config).toMatch(/^OpenBLAS/);
    expect(info.enabled).toBe(true);
  });

  for (const dtype of ["float32", "float64"] as const) {
    describe(dtype, () => {
      const out = (B: number, M: number, N: number) =>
        view(random(B * M * N, dtype), [B, M, N], [M * N, N, 1]);

      it.each([
        [1, 1, 1],
        [1, 7, 1],
        [3, 5, 7],
        [17, 33, 9],
        [64, 1, 64],
        [1, 64, 64],
        [65, 130, 67],
      ])("contiguous %ix%ix%i", (M, K, N) => {
        check(dense(1, M, K, dtype), dense(1, K, N, dtype), out(1, M, N));
      });

      it("transposed operands (.t() of either, of both)", () => {
        check(transposed(1, 9, 13, dtype), dense(1, 13, 6, dtype), out(1, 9, 6));
        check(dense(1, 9, 13, dtype), transposed(1, 13, 6, dtype), out(1, 9, 6));
        check(transposed(1, 9, 13, dtype), transposed(1, 13, 6, dtype), out(1, 9, 6));
      });

      it("offsets and row strides (slices of a larger matrix)", () => {
        // a = big[2:7, 3:14] of a [10, 20] matrix, b = big2[1:12, 0:5] of [15, 8]
        const a = view(random(200, dtype), [1, 5, 11], [200, 20, 1], 2 * 20 + 3);
        const b = view(random(120, dtype), [1, 11, 5], [120, 8, 1], 8);
        check(a, b, out(1, 5, 5));
        // the transpose of a slice: column stride > rows
        const aT = view(random(240, dtype), [1, 5, 11], [240, 1, 20], 4);
        check(aT, b, out(1, 5, 5));
      });

      it("into a slice and into a transposed out; other elements untouched", () => {
        const store = random(200, dtype);
        check(dense(1, 6, 4, dtype), dense(1, 4, 7, dtype), view(store, [1, 6, 7], [200, 20, 1], 21));
        check(dense(1, 6, 4, dtype), dense(1, 4, 7, dtype), view(store, [1, 6, 7], [200, 1, 6], 3));
      });

      it("batches: own, broadcast B (folded), broadcast A, transposed", () => {
        check(dense(3, 4, 5, dtype), dense(3, 5, 6, dtype), out(3, 4, 6));
        check(dense(3, 4, 5, dtype), view(random(30, dtype), [3, 5, 6], [0, 6, 1]), out(3, 4, 6));
        check(view(random(20, dtype), [3, 4, 5], [0, 5, 1]), dense(3, 5, 6, dtype), out(3, 4, 6));
        check(transposed(4, 8, 3, dtype), transposed(4, 3, 9, dtype), out(4, 8, 9));
      });

      it("zero-size products (nothing or zeros written, provider not needed)", () => {
        const z = out(2, 3, 4);
        cpu.matmul(dense(2, 3, 0, dtype), dense(2, 0, 4, dtype), z);
        expect([...(z.handle as FloatArray)]).toEqual(new Array(24).fill(0));
        check(dense(0, 3, 5, dtype), dense(0, 5, 4, dtype), out(0, 3, 4), false);
        check(dense(1, 0, 5, dtype), dense(1, 5, 4, dtype), out(1, 0, 4), false);
      });

      it("views CBLAS cannot read in place fall back to Cinder's GEMM", () => {
        // an expanded row (row stride 0), a step slice (x[:, ::2]), an out aliasing its input
        check(view(random(5, dtype), [1, 4, 5], [20, 0, 1]), dense(1, 5, 6, dtype), out(1, 4, 6), false);
        check(view(random(40, dtype), [1, 4, 5], [40, 10, 2]), dense(1, 5, 6, dtype), out(1, 4, 6), false);
        const shared = random(16, dtype);
        const b = view(shared, [1, 4, 4], [16, 4, 1]);
        const before = gemmProviderStats().products;
        cpu.matmul(dense(1, 4, 4, dtype), b, view(shared, [1, 4, 4], [16, 4, 1]));
        // another array over the same memory
        const alias = shared.subarray(4);
        cpu.matmul(dense(1, 3, 4, dtype), b, view(alias, [1, 3, 4], [12, 4, 1]));
        expect(gemmProviderStats().products).toBe(before);
      });
    });
  }

  it("int32 products stay on Cinder's kernels", () => {
    const i32 = (n: number) => Int32Array.from({ length: n }, (_, i) => (i % 7) - 3);
    const c = new Int32Array(12);
    const before = gemmProviderStats().products;
    cpu.matmul(
      { handle: i32(6), dtype: "int32", shape: [1, 3, 2], strides: [6, 2, 1], offset: 0 },
      { handle: i32(8), dtype: "int32", shape: [1, 2, 4], strides: [8, 4, 1], offset: 0 },
      { handle: c, dtype: "int32", shape: [1, 3, 4], strides: [12, 4, 1], offset: 0 },
    );
    expect(gemmProviderStats().products).toBe(before);
  });

  it("OpenBLAS runs on getNumThreads() threads from 2^28 multiply-adds, on one below", () => {
    const was = getNumThreads();
    const small = randn([8, 8]);
    const tall = randn([1024, 256]);
    const wide = randn([256, 1024]);
    try {
      setNumThreads(2);
      tall.matmul(wide); // 1024 x 256 x 1024 = 2^28
      expect(blasInfo().threads).toBe(2);
      small.matmul(small);
      expect(blasInfo().threads).toBe(1);
      setNumThreads(1);
      tall.matmul(wide);
      expect(blasInfo().threads).toBe(1);
    } finally {
      setNumThreads(was);
    }
  });

  it("the backend conformance suite's matmul cases pass on OpenBLAS", async () => {
    const before = gemmProviderStats().products;
    for (const c of conformanceCases({ dtypes: cpu.dtypes }).filter((c) => c.name.startsWith("matmul")))
      await c.run("cpu");
    expect(gemmProviderStats().products).toBeGreaterThan(before);
  });

  it("reads and writes CPU storage in WebAssembly memory in place, as it does JS arrays", () => {
    const product = (heap: boolean) => {
      const was = setWasmHeapEnabled(heap);
      const allocs = heapStats().allocs;
      const n0 = gemmProviderStats().products;
      const a = randn([64, 784]);
      const c = a.matmul(a.t()); // 64 x 784 x 64: operands and result of 16 KiB or more
      const bits = new Uint32Array(Float32Array.from(c.data() as Float32Array).buffer);
      expect(gemmProviderStats().products).toBe(n0 + 1);
      expect(heapStats().allocs > allocs).toBe(heap);
      setWasmHeapEnabled(was);
      return { bits, values: a.data() };
    };
    const inHeap = product(true);
    const was = setWasmHeapEnabled(false);
    const a = tensor(inHeap.values as Float32Array).reshape(64, 784);
    const onJsHeap = new Uint32Array(Float32Array.from(a.matmul(a.t()).data() as Float32Array).buffer);
    setWasmHeapEnabled(was);
    expect(product(false).bits.length).toBe(64 * 64);
    expect(inHeap.bits).toEqual(onJsHeap);
  });

  it("setGemmProvider refuses what is not a provider", () => {
    const set = setGemmProvider as (p: unknown) => void;
    expect(() => set({ gemm: () => {} })).toThrow(
      /expected null or a GemmProvider \(\{ name, setThreads\(n\), gemm\(...\) \}\), got an object with keys \[gemm\]/,
    );
    expect(() => set(undefined)).toThrow(/got undefined/);
    expect(isEnabled()).toBe(true);
  });

  it("enable/disable take no arguments", () => {
    expect(() => (enable as unknown as (...a: unknown[]) => void)(true)).toThrow(/enable\(\).*1/);
    expect(() => (disable as unknown as (...a: unknown[]) => void)({ x: 1 })).toThrow(/disable/);
  });

  it("tensor-level products switch with disable()/enable()", () => {
    const a: Tensor = randn([30, 40]);
    const b: Tensor = randn([40, 20]);
    disable();
    const n0 = gemmProviderStats().products;
    a.matmul(b);
    expect(gemmProviderStats().products).toBe(n0);
    enable();
    a.matmul(b);
    expect(gemmProviderStats().products).toBe(n0 + 1);
  });
});
