/**
 * Runs under `mpirun -np 2` (see ../mpi.test.ts): DistributedDataParallel on the "mpi" backend trains like one
 * process on the whole batch. Each rank first trains the single-process reference itself (batch 2B, rank 0's initial
 * parameters, no communication), then 50 steps of DDP with batch B per rank on its half of every global batch, and
 * compares. Prints one JSON line per rank: `{ rank, steps, maxDiff, maxParam, ranksAgree }`.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as dist from "@cinder/distributed";
import * as nn from "@cinder/nn";
import { SGD } from "@cinder/optim";
import * as torch from "@cinder/tensor";
import "../../src/index";

torch.registerBackend(cpu);
const STEPS = 50;
const B = 8;

function makeNet(seed: number): nn.Module {
  torch.manualSeed(seed);
  return new nn.Sequential(new nn.Linear(12, 16), new nn.ReLU(), new nn.Linear(16, 4));
}

const g = new torch.Generator().manualSeed(7);
const X = torch.randn([STEPS * 2 * B, 12], { generator: g });
const Y = torch.randint(0, 4, [STEPS * 2 * B], { generator: g });

/** Trains `net` (through `model`) on rows [start, start + n) of each global batch of 2B. */
function train(net: nn.Module, model: nn.Module, start: number, n: number): number[][] {
  const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
  for (let s = 0; s < STEPS; s++) {
    opt.zeroGrad();
    const at = s * 2 * B + start;
    nn.F.crossEntropy(model(X.narrow(0, at, n)), Y.narrow(0, at, n)).backward();
    opt.step();
  }
  return net.parameters().map((p) => Array.from(p.data() as Float32Array));
}

const reference = (() => {
  const net = makeNet(1000); // rank 0's seed: DDP broadcasts rank 0's parameters
  return train(net, net, 0, 2 * B);
})();

await dist.initProcessGroup("mpi", { timeout: 60_000 });
const rank = dist.getRank();
const net = makeNet(1000 + rank); // ranks start different: DDP's construction makes them equal
const ddp = new dist.DistributedDataParallel(net);
const params = train(net, ddp, rank * B, B);

let maxDiff = 0;
let maxParam = 0;
for (const [i, p] of params.entries()) {
  for (const [j, v] of p.entries()) {
    maxDiff = Math.max(maxDiff, Math.abs(v - reference[i][j]));
    maxParam = Math.max(maxParam, Math.abs(v));
  }
}
// every rank holds the same parameters: compare rank 0's with each rank's through a MAX and MIN all-reduce
const flat = torch.tensor(params.flat(), { dtype: "float32" });
const hi = flat.clone();
const lo = flat.clone();
dist.allReduce(hi, dist.ReduceOp.MAX);
dist.allReduce(lo, dist.ReduceOp.MIN);
const ranksAgree = hi.equal(lo);
dist.destroyProcessGroup();
console.log(JSON.stringify({ rank, steps: STEPS, maxDiff, maxParam, ranksAgree }));
