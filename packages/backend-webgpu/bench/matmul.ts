/**
 * Throwaway benchmark: matmul GFLOPS of the WebGPU backend (on whatever adapter is found; SwiftShader on a
 * machine without a GPU, whose numbers say nothing about real GPUs) against the CPU backend, side by side.
 *
 *   cd packages/backend-webgpu && node ../../scripts/webgpu/run.mjs npx tsx --conditions=@cinder/source bench/matmul.ts [sizes...]
 */
import { cpu } from "@cinder/backend-cpu";
import { initWebGPU } from "@cinder/backend-webgpu";
import { randn, registerBackend, tidy } from "@cinder/tensor";

registerBackend(cpu);
const gpu = await initWebGPU();
const sizes = process.argv.slice(2).map(Number).filter(Boolean);

async function time(device: "cpu" | "webgpu", n: number): Promise<number> {
  const a = randn([n, n], { device });
  const b = randn([n, n], { device });
  const run = async (reps: number) => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) tidy(() => void a.matmul(b));
    if (device === "webgpu") await gpu.sync();
    return (performance.now() - t0) / reps;
  };
  await run(1); // warm-up: pipeline compilation, JIT
  let reps = 1;
  let ms = await run(reps);
  while (ms * reps < 1000 && reps < 256) {
    reps *= 2;
    ms = await run(reps);
  }
  a.dispose();
  b.dispose();
  return (2 * n * n * n) / (ms * 1e6);
}

console.log(`webgpu adapter: ${gpu.runtime.label}`);
console.log("   n   webgpu GFLOPS   cpu GFLOPS   webgpu/cpu");
for (const n of sizes.length ? sizes : [256, 1024]) {
  const g = await time("webgpu", n);
  const c = await time("cpu", n);
  console.log(
    `${String(n).padStart(5)}  ${g.toFixed(2).padStart(14)}  ${c.toFixed(2).padStart(11)}  ${(g / c).toFixed(2).padStart(11)}`,
  );
}
