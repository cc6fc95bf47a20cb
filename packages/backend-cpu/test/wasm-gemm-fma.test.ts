/**
 * The fused multiply-add micro-kernel (relaxed SIMD's f32x4.relaxed_madd). Node 20 validates it only with
 * --experimental-wasm-relaxed-simd, so its products are checked in a child process started with that flag.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { setFmaEnabled, wasmGemmKernel } from "../src/wasm/gemm";
import { GEMM_WASM_FMA_PLAIN_BASE64 } from "../src/wasm/kernel.generated";

afterEach(() => setFmaEnabled(true));

const validates = WebAssembly.validate(Buffer.from(GEMM_WASM_FMA_PLAIN_BASE64, "base64"));

describe("the fused multiply-add GEMM kernel", () => {
  it("is chosen exactly where the engine validates relaxed SIMD, and can be turned off", () => {
    expect(wasmGemmKernel()).toBe(validates ? "fma" : "simd");
    setFmaEnabled(false);
    expect(wasmGemmKernel()).toBe("simd");
    setFmaEnabled(true);
    expect(wasmGemmKernel()).toBe(validates ? "fma" : "simd");
  });

  it("runs under --experimental-wasm-relaxed-simd: bit-identical across threads, within float32 rounding of the plain kernel", () => {
    const url = (p: string) => JSON.stringify(fileURLToPath(new URL(p, import.meta.url)));
    // Products split over 2 threads, then on one; then the plain kernel; each checked against float64 sums.
    const script = `
      const { setNumThreads } = await import(${url("../src/index.ts")});
      const { setAdaptiveThreads, threadInfo } = await import(${url("../src/threads/pool.ts")});
      const g = await import(${url("../src/wasm/gemm.ts")});
      const { operand } = await import(${url("./gemm-operands.ts")});
      setNumThreads(2);
      setAdaptiveThreads(false);
      const out = { kernel: g.wasmGemmKernel(), threadedEqualsOne: true, maxErr: 0, maxErrPlain: 0, differs: 0,
        unsplit: 0 };
      const cases = [[1, 256, 256, 256], [1, 64, 784, 128], [1, 131, 300, 5], [8, 32, 9, 784]];
      let seed = 1;
      for (const [B, M, K, N] of cases) {
        const a = operand(B, M, K, "row", false, 0, seed++);
        const b = operand(B, K, N, "col", false, 0, seed++);
        const run = () => {
          const o = operand(B, M, N, "row", false, 0, 0);
          if (!g.matmulWasm(a, b, o)) throw new Error("not on the WASM kernel");
          return o.handle;
        };
        const d0 = threadInfo().dispatches;
        g.setThreadThreshold(B > 1 ? M * N * K + 1 : 0);
        const threaded = run();
        if (threadInfo().dispatches === d0) out.unsplit++;
        g.setThreadThreshold(Number.POSITIVE_INFINITY);
        const one = run();
        g.setFmaEnabled(false);
        const plain = run();
        g.setFmaEnabled(true);
        g.setThreadThreshold();
        const A = a.handle, Bh = b.handle;
        for (let t = 0; t < B; t++)
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) {
              let s = 0, mag = 0;
              for (let k = 0; k < K; k++) {
                const p = A[t * a.strides[0] + i * a.strides[1] + k * a.strides[2]] *
                  Bh[t * b.strides[0] + k * b.strides[1] + j * b.strides[2]];
                s += p;
                mag += Math.abs(p);
              }
              const x = (t * M + i) * N + j;
              if (!Object.is(threaded[x], one[x])) out.threadedEqualsOne = false;
              if (one[x] !== plain[x]) out.differs++;
              out.maxErr = Math.max(out.maxErr, Math.abs(one[x] - s) / mag);
              out.maxErrPlain = Math.max(out.maxErrPlain, Math.abs(plain[x] - s) / mag);
            }
      }
      console.log(JSON.stringify(out));
    `;
    const r = spawnSync(
      process.execPath,
      [
        "--experimental-wasm-relaxed-simd",
        "--conditions=@cinder/source",
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        script,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(r.error ?? null).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.kernel).toBe("fma");
    expect(res.unsplit).toBe(0); // every threaded product did split
    expect(res.threadedEqualsOne).toBe(true);
    // One rounding per multiply-add instead of two: some results differ from the plain kernel's, and both stay
    // within float32 accumulation error (K * 2^-24 relative to sum |a b|, far below 1e-5 here).
    expect(res.differs).toBeGreaterThan(0);
    expect(res.maxErr).toBeLessThan(1e-5);
    expect(res.maxErrPlain).toBeLessThan(1e-5);
  });
});
