/**
 * Fused elementwise chains on WebGPU (issue 11): each chain, and an MNIST MLP training step (784-128-10, batch 64,
 * SGD with momentum, the seeds' five steps in `tidy`), with fusion on and off (`setFusion`), interleaved in one
 * process, ms per call (median of rounds) and dispatches per call. A call ends with `sync()` (or the read of a
 * scalar), so the time is the GPU's work, not just recording it. On a machine without a GPU this is SwiftShader, a
 * CPU Vulkan driver: its numbers say how much work a chain does, not what a real GPU would take.
 *
 *   node --conditions=@cinder/source --import tsx bench/src/webgpu-fusion.ts [rounds] [elements]
 */
import { cpu } from "@cinder/backend-cpu";
import { initWebGPU } from "@cinder/backend-webgpu";
import * as nn from "@cinder/nn";
import { randint, randn, registerBackend, setFusion, type Tensor, tidy } from "@cinder/tensor";
import { mnistModel, mnistOptimizer } from "./peers/cinder";

registerBackend(cpu);
const gpu = await initWebGPU();
const rounds = Number(process.argv[2] ?? 7);
const n = Number(process.argv[3] ?? 1 << 20);

const k = Math.sqrt(2 / Math.PI);
const chains: Record<string, (x: Tensor) => Tensor> = {
  "relu(x*2+1).sum()": (x) => x.mul(2).add(1).relu().sum(),
  "relu(x*2+1)": (x) => x.mul(2).add(1).relu(),
  "gelu(x) (tanh form)": (x) => x.mul(0.5).mul(x.mul(x).mul(x).mul(0.044715).add(x).mul(k).tanh().add(1)),
  "(x-1)^2 mean": (x) => x.sub(1).square().mean(),
};

const x = randn([n], { device: "webgpu" });

// the MLP step: its loss is the chain's result (a scalar read ends the call)
const model = mnistModel("mlp", "webgpu");
const opt = mnistOptimizer("mlp", model);
const batch = randn([64, 784], { device: "webgpu" });
const labels = randint(0, 10, [64], { device: "webgpu" });
const criterion = new nn.CrossEntropyLoss();
chains["MLP 784-128-10 train step, batch 64"] = () => {
  opt.zeroGrad();
  const loss = criterion(model(batch), labels);
  loss.backward();
  opt.step();
  return loss;
};

async function once(chain: (x: Tensor) => Tensor): Promise<void> {
  const y = tidy(() => chain(x));
  if (y.numel() === 1) await y.itemAsync();
  else {
    void y.storage.handle; // a pending result runs its program now
    await gpu.sync();
  }
  y.dispose();
}

async function time(chain: (x: Tensor) => Tensor, fused: boolean, reps: number) {
  setFusion(fused);
  const d0 = gpu.memory().dispatches;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await once(chain);
  const ms = (performance.now() - t0) / reps;
  return { ms, dispatches: (gpu.memory().dispatches - d0) / reps };
}

console.log(`${gpu.adapter.description}; ${n} float32 elements; ${rounds} rounds`);
for (const [name, chain] of Object.entries(chains)) {
  for (const f of [true, false]) await time(chain, f, 3); // warm-up: pipelines compiled
  const res: Record<string, { ms: number[]; dispatches: number }> = {};
  for (let r = 0; r < rounds; r++) {
    for (const f of [true, false]) {
      const t = await time(chain, f, 5);
      const key = f ? "fused" : "unfused";
      res[key] ??= { ms: [], dispatches: t.dispatches };
      res[key].ms.push(t.ms);
    }
  }
  const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1];
  const row = Object.entries(res)
    .map(([key, v]) => `${key} ${med(v.ms).toFixed(2)} ms (${v.dispatches} dispatches)`)
    .join(", ");
  console.log(`${name}: ${row}`);
}
setFusion(true);
