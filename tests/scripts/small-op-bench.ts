/**
 * Per-op overhead: ops/s of `a.add(b)` on two 4-element float32 tensors, without and with requiresGrad, of
 * `a.mul(2)`, of `a.add(b).sum().backward()`, and of one MLP 784-128-10 training step (batch 64, SGD with
 * momentum, the bench's `mlp` row). Run from tests/:
 *   node --conditions=@cinder/source --import tsx --expose-gc scripts/small-op-bench.ts [--only a,b] [--ms 1000]
 * (add --cpu-prof to profile it). Prints the best of several rounds per case.
 * Note: tsx compiles with esbuild's keepNames, which wraps every named closure in a `__name()` call (a
 * defineProperty per closure created); a bundle without it (as tsup builds) measures what users run.
 */
import { manualSeed, nn, optim, randint, randn, tensor } from "cinder";

const argv = process.argv.slice(2);
const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1].split(",") : null;
const ms = argv.includes("--ms") ? Number(argv[argv.indexOf("--ms") + 1]) : 1000;
const rounds = argv.includes("--rounds") ? Number(argv[argv.indexOf("--rounds") + 1]) : 5;

const a = tensor([1, 2, 3, 4], { dtype: "float32" });
const b = tensor([5, 6, 7, 8], { dtype: "float32" });
const ag = tensor([1, 2, 3, 4], { dtype: "float32", requiresGrad: true });
const bg = tensor([5, 6, 7, 8], { dtype: "float32", requiresGrad: true });

manualSeed(0);
const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const criterion = new nn.CrossEntropyLoss();
const x = randn([64, 784]);
const y = randint(0, 10, [64]);

const cases: Record<string, () => unknown> = {
  add: () => a.add(b),
  "add-grad": () => ag.add(bg),
  "mul-scalar": () => a.mul(2),
  "add-grad-backward": () => {
    ag.grad = null;
    bg.grad = null;
    ag.add(bg).sum().backward();
  },
  "mlp-step": () => {
    opt.zeroGrad();
    const loss = criterion(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  },
};

function time(fn: () => unknown): number {
  // calibrate a batch of ~10 ms, then count batches for `ms`
  let n = 100;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    if (performance.now() - t0 > 10) break;
    n *= 2;
  }
  let count = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < n; i++) fn();
    count += n;
    t = performance.now();
  }
  return count / ((t - t0) / 1000);
}

const best: Record<string, number> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    if (only && !only.includes(name)) continue;
    (globalThis as { gc?: () => void }).gc?.();
    best[name] = Math.max(best[name] ?? 0, time(fn));
  }
}
for (const [name, v] of Object.entries(best)) {
  console.log(`${name.padEnd(20)} ${v >= 1e4 ? `${(v / 1000).toFixed(0)}k` : v.toFixed(0)} ops/s`);
}
process.exit(0); // a backend's worker pool, if one started, does not hold the process open
