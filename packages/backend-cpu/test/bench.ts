/**
 * Quick kernel timings (not a test): `npx tsx --conditions=@cinder/source test/bench.ts` from
 * packages/backend-cpu (BENCH_ROUNDS=n sets the rounds). Prints matmul GFLOPS of the JS and WASM kernels and
 * elementwise/reduction throughput.
 */
import type { DType, View } from "@cinder/tensor";
import { cpu } from "../src/index";
import { setWasmGemmEnabled } from "../src/wasm/gemm";

function make(dtype: DType, shape: number[], fillRandom = true): View {
  const n = shape.reduce((a, b) => a * b, 1);
  const h = cpu.alloc(dtype, n) as Float32Array;
  if (fillRandom) for (let i = 0; i < n; i++) h[i] = Math.random() - 0.5;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { handle: h, dtype, shape, strides, offset: 0 };
}

function time(fn: () => void, minMs = 300): number {
  fn();
  let reps = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    fn();
    reps++;
    t = performance.now();
  }
  return (t - t0) / reps;
}

function transposed(v: View): View {
  const [b, r, c] = v.shape;
  return { ...v, shape: [b, c, r], strides: [v.strides[0], v.strides[2], v.strides[1]] };
}

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

console.log(
  `matmul (float32): GFLOPS, JS kernel vs WASM SIMD kernel, median of ${rounds} interleaved rounds`,
);
const cases: [string, number, number, number, number, boolean, boolean][] = [
  ["1x1x1", 1, 1, 1, 1, false, false],
  ["16x16 @ 16x16", 1, 16, 16, 16, false, false],
  ["32x32 @ 32x32", 1, 32, 32, 32, false, false],
  ["64x64 @ 64x64", 1, 64, 64, 64, false, false],
  ["256x256 @ 256x256", 1, 256, 256, 256, false, false],
  ["1024x1024 @ 1024x1024", 1, 1024, 1024, 1024, false, false],
  ["MLP 64x784 @ 784x128", 1, 64, 784, 128, false, false],
  ["MLP 64x784 @ (128x784)^T", 1, 64, 784, 128, false, true],
  ["MLP 64x128 @ 128x10", 1, 64, 128, 10, false, false],
  ["MLP 64x128 @ (10x128)^T", 1, 64, 128, 10, false, true],
  ["MLP bwd 784x64 @ 64x128", 1, 784, 64, 128, false, false],
  ["MLP bwd (64x784)^T @ 64x128", 1, 784, 64, 128, true, false],
  ["MLP bwd 64x128 @ 128x784", 1, 64, 128, 784, false, false],
  ["MLP bwd 64x10 @ 10x128", 1, 64, 10, 128, false, false],
  ["MLP bwd (64x128)^T @ 64x10", 1, 128, 64, 10, true, false],
  ["vec 1x784 @ 784x128", 1, 1, 784, 128, false, false],
  ["vec 4x784 @ 784x128", 1, 4, 784, 128, false, false],
  ["batched 32x(64x64 @ 64x64)", 32, 64, 64, 64, false, false],
  ["conv 50176x9 @ 9x32", 1, 50176, 9, 32, false, false],
];
for (const [name, B, M, K, N, ta, tb] of cases) {
  const a = ta ? transposed(make("float32", [B, K, M])) : make("float32", [B, M, K]);
  const b = tb ? transposed(make("float32", [B, N, K])) : make("float32", [B, K, N]);
  const out = make("float32", [B, M, N], false);
  const gf = { js: [] as number[], wasm: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of ["js", "wasm"] as const) {
      setWasmGemmEnabled(mode === "wasm");
      gf[mode].push((2 * B * M * N * K) / (time(() => cpu.matmul(a, b, out), 100) * 1e6));
    }
  }
  setWasmGemmEnabled(true);
  const js = median(gf.js);
  const wasm = median(gf.wasm);
  console.log(
    `  ${name.padEnd(30)} JS ${js.toFixed(2).padStart(6)}  WASM ${wasm.toFixed(2).padStart(6)} GFLOPS  ${(wasm / js).toFixed(2).padStart(5)}x`,
  );
}

console.log("elementwise / reduce (float32, 1M elements)");
const n = 1 << 20;
const x = make("float32", [1024, 1024]);
const y = make("float32", [1024, 1024]);
const row = make("float32", [1024]);
const o = make("float32", [1024, 1024], false);
const bRow: View = { ...row, shape: [1024, 1024], strides: [0, 1] };
const xT: View = { ...x, strides: [1, 1024] };
const sumRows = make("float32", [1024, 1], false);
const sumCols = make("float32", [1, 1024], false);
const benches: [string, () => void][] = [
  ["add contiguous", () => cpu.binary("add", x, y, o)],
  ["add row-broadcast", () => cpu.binary("add", x, bRow, o)],
  ["add transposed input", () => cpu.binary("add", xT, y, o)],
  [
    "mul by scalar (stride 0)",
    () => cpu.binary("mul", x, { ...row, shape: [1024, 1024], strides: [0, 0] }, o),
  ],
  ["exp", () => cpu.unary("exp", x, o)],
  ["relu", () => cpu.unary("relu", x, o)],
  ["erf", () => cpu.unary("erf", x, o)],
  ["copy transposed", () => cpu.copy(xT, o)],
  ["sum last axis", () => cpu.reduce("sum", x, [1], sumRows)],
  ["sum first axis", () => cpu.reduce("sum", x, [0], sumCols)],
  ["max last axis", () => cpu.reduce("max", x, [1], sumRows)],
  ["softmax rows", () => cpu.softmax?.(x, false, o)],
];
for (const [name, fn] of benches) {
  const ms = time(fn);
  console.log(
    `  ${name.padEnd(28)} ${ms.toFixed(3).padStart(9)} ms  ${(n / ms / 1e6).toFixed(2).padStart(6)} Gelem/s`,
  );
}
