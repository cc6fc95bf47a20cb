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
/** CPU time (ms) of each thread of this process, by thread id (Linux: /proc/self/task/<tid>/stat). */
function threadTimes(): Map<string, number> {
  const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
  const out = new Map<string, number>();
  try {
    for (const tid of fs.readdirSync("/proc/self/task")) {
      const f = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1].split(" ");
      out.set(tid, ((Number(f[11]) + Number(f[12])) * 1000) / 100); // utime + stime, in clock ticks of 10 ms
    }
  } catch {}
  return out;
}

const B = 64;
const x = torch.randn([B, 1, 28, 28]);
const y = torch.randint(0, 10, [B]);
const loss = new nn.CrossEntropyLoss();
const plain = make();
const dp = new DataParallel(make(), { deviceIds: [0, 1] });
const runs = [
  { name: "module", model: plain as nn.Module, time: 0, cpu: 0, n: 0, threads: new Map<string, number>() },
  {
    name: "DataParallel(2)",
    model: dp as nn.Module,
    time: 0,
    cpu: 0,
    n: 0,
    threads: new Map<string, number>(),
  },
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
    const th0 = threadTimes();
    for (let i = 0; i < block; i++) step(j);
    for (const [tid, ms] of threadTimes())
      r.threads.set(tid, (r.threads.get(tid) ?? 0) + ms - (th0.get(tid) ?? ms));
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
// the busiest threads: on an idle machine a step takes about as long as the busiest one's share
for (const r of runs) {
  const busy = [...r.threads.values()].sort((a, b) => b - a).slice(0, 3);
  console.log(
    `${r.name}: busiest threads' CPU ms/step ${busy.map((ms) => (ms / r.n).toFixed(2)).join(", ")}`,
  );
}
console.log(`parallel forwards: ${dp.stats.parallel}, sequential: ${dp.stats.sequential}`);
dp.close();
