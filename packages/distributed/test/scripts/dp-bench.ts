/**
 * Samples/s of MNIST training steps (forward, cross-entropy, backward, plain SGD) with and without DataParallel over
 * cores 0 and 1: `node --conditions=@cinder/source --import tsx test/scripts/dp-bench.ts [mlp|cnn] [steps] [warmup]`.
 * CPU time counts every thread of the process (a measure of work that a busy machine does not inflate as much).
 * Random batches of 64; the two models alternate in blocks so that a change of machine load hits both.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { DataParallel } from "../../src/index";

torch.registerBackend(cpu);
const which = process.argv[2] ?? "mlp";
const steps = Number(process.argv[3] ?? 400);
const warmup = Number(process.argv[4] ?? 200);
const make = () =>
  which === "mlp"
    ? new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10))
    : new nn.Sequential(
        new nn.Conv2d(1, 32, 3, { padding: 1 }),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(32, 64, 3, { padding: 1 }),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(3136, 128),
        new nn.ReLU(),
        new nn.Linear(128, 10),
      );
const B = 64;
const x = torch.randn([B, 1, 28, 28]);
const y = torch.randint(0, 10, [B]);
const loss = new nn.CrossEntropyLoss();
const plain = make();
const dp = new DataParallel(make(), { deviceIds: [0, 1] });
const runs = [
  { name: "module", model: plain as nn.Module, time: 0, cpu: 0, n: 0 },
  { name: "DataParallel(2)", model: dp as nn.Module, time: 0, cpu: 0, n: 0 },
];
for (const r of runs) r.model.train();
// plain SGD (this package does not depend on @cinder/optim): the same update cost on both sides
const step = (i: number) => {
  const params = runs[i].model.parameters();
  for (const p of params) p.grad = null;
  loss(runs[i].model(x) as torch.Tensor, y).backward();
  torch.noGrad(() => {
    for (const p of params) p.sub_((p.grad as torch.Tensor).mul(0.01));
  });
};
for (let i = 0; i < warmup; i++) for (const j of [0, 1]) step(j);
const block = 20;
for (let done = 0; done < steps; done += block)
  for (const [j, r] of runs.entries()) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < block; i++) step(j);
    r.time += performance.now() - t0;
    const c = process.cpuUsage(c0);
    r.cpu += (c.user + c.system) / 1000;
    r.n += block;
  }
const load = (await import("node:os")).loadavg()[0].toFixed(1);
for (const r of runs)
  console.log(
    `${which} ${r.name}: ${((r.n * B) / (r.time / 1000)).toFixed(0)} samples/s (${(r.time / r.n).toFixed(2)} ms/step, ` +
      `CPU time of every thread ${(r.cpu / r.n).toFixed(2)} ms/step, load ${load})`,
  );
console.log(`parallel forwards: ${dp.stats.parallel}, sequential: ${dp.stats.sequential}`);
dp.close();
