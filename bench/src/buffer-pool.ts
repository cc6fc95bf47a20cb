/**
 * The CPU buffer pool (issue 11): the MNIST-shaped MLP (784-128-10, SGD with momentum) and CNN (two conv + max-pool
 * blocks, Adam) train steps at batch 64, the seeds' verbatim loop (no tidy, no dispose), with the pool on and off
 * (`setBufferPool`) in blocks interleaved in one process after a warm-up. Prints per variant the median ms per step,
 * the garbage collector's ms per step (PerformanceObserver "gc" entries) and the pool's hits and misses per step.
 *
 *   node --conditions=@cinder/source --import tsx bench/src/buffer-pool.ts [mlp|cnn] [rounds]
 */
import "@cinder/autograd";
import { PerformanceObserver } from "node:perf_hooks";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { mnistModel, mnistOptimizer } from "./peers/cinder";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

const which = process.argv[2] ?? "mlp";
if (which !== "mlp" && which !== "cnn")
  throw new Error(`expected "mlp" or "cnn", got ${JSON.stringify(which)}`);
const rounds = Number(process.argv[3] ?? 8);
// small models need a long warm-up before V8 settles (>= 1000 steps); blocks long enough to span collections
const [warmup, block] = which === "mlp" ? [2000, 500] : [30, 15];

torch.manualSeed(0);
const model = mnistModel(which);
const opt = mnistOptimizer(which, model);
const x = which === "mlp" ? torch.randn(64, 784) : torch.randn(64, 1, 28, 28);
const y = torch.randint(0, 10, [64]);
const criterion = new nn.CrossEntropyLoss();
const step = () => {
  opt.zeroGrad();
  const loss = criterion(model(x), y);
  loss.backward();
  opt.step();
  return loss.item();
};

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ["gc"] });
// gc entries arrive between tasks
const tick = () => new Promise((r) => setTimeout(r, 0));

for (let i = 0; i < warmup; i++) step();
type Samples = { ms: number[]; gc: number[]; hits: number[]; misses: number[] };
const res: Record<"on" | "off", Samples> = {
  on: { ms: [], gc: [], hits: [], misses: [] },
  off: { ms: [], gc: [], hits: [], misses: [] },
};
for (let r = 0; r < rounds; r++) {
  for (const mode of r % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
    torch.setBufferPool(mode === "on");
    for (let i = 0; i < 20; i++) step(); // refill the pool after it was off
    await tick();
    const s0 = torch.bufferPoolStats();
    const g0 = gcMs;
    const t0 = performance.now();
    for (let i = 0; i < block; i++) step();
    const ms = (performance.now() - t0) / block;
    await tick();
    const s1 = torch.bufferPoolStats();
    res[mode].ms.push(ms);
    res[mode].gc.push((gcMs - g0) / block);
    res[mode].hits.push((s1.hits - s0.hits) / block);
    res[mode].misses.push((s1.misses - s0.misses) / block);
  }
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
for (const mode of ["off", "on"] as const) {
  const v = res[mode];
  console.log(
    `${which} pool ${mode.padEnd(3)}: ${median(v.ms).toFixed(3)} ms/step (blocks ${v.ms.map((t) => t.toFixed(2)).join(" ")}), ` +
      `gc ${median(v.gc).toFixed(3)} ms/step, hits ${median(v.hits).toFixed(1)}/step, misses ${median(v.misses).toFixed(1)}/step`,
  );
}
