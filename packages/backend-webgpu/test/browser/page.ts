/** The browser test's page: a few ops on navigator.gpu, results left on `window.__cinder`. */
import { manualSeed, rand, tensor } from "@cinder/tensor";
import { initWebGPU, webgpuMemory } from "../../src/index";

const w = window as unknown as { __cinder?: unknown };

async function main() {
  const gpu = await initWebGPU();
  const x = tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { device: "webgpu" },
  );
  manualSeed(7);
  const r = rand(4, { device: "webgpu" });
  w.__cinder = {
    ok: true,
    adapter: gpu.runtime.label,
    matmul: await x.matmul(x).sub(10).relu().toArrayAsync(),
    sum: await x.sum().itemAsync(),
    softmax: await tensor([1, 2, 3], { device: "webgpu" }).softmax(0).toArrayAsync(),
    argsort: await tensor([3, 1, 2], { device: "webgpu" }).argsort().toArrayAsync(),
    rand: Array.from(await r.dataAsync()),
    buffersLive: webgpuMemory().buffersLive,
  };
}

main().catch((e: unknown) => {
  w.__cinder = { ok: false, error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) };
});
