/**
 * DistributedDataParallel programs the tests run on every rank (`spawnRanks`): a small MLP trained with plain SGD
 * (momentum), on a fixed dataset where rank r of W takes its own part of each global batch.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import * as dist from "../src/index";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

class Net extends nn.Module {
  fc1 = new nn.Linear(12, 16);
  fc2 = new nn.Linear(16, 4);
  spare = new nn.Linear(3, 3); // used only when `useSpare`
  useSpare = false;
  override forward(x: torch.Tensor): torch.Tensor {
    const h = this.fc2(nn.F.relu(this.fc1(x)));
    return this.useSpare ? h.add(this.spare(x.narrow(1, 0, 3)).sum()) : h;
  }
}

/** SGD with momentum 0.9 by hand (the test does not need @cinder/optim). */
function sgd(params: nn.Parameter[], lr: number): () => void {
  const bufs = params.map(() => null as torch.Tensor | null);
  return () =>
    torch.noGrad(() => {
      params.forEach((p, i) => {
        if (p.grad === null) return;
        const b = bufs[i] === null ? p.grad.clone() : (bufs[i] as torch.Tensor).mul(0.9).add(p.grad);
        bufs[i] = b;
        p.sub_(b.mul(lr));
      });
    });
}

export interface TrainArgs {
  steps: number;
  /** The global batch: each of W ranks takes batch / W rows of it. */
  batch: number;
  /** Micro-batches per step: all but the last run under noSync. */
  accumulate?: number;
  bucketCapMb?: number;
}

/** Trains `steps` steps and returns the final parameters (and bucket layout) of this rank. */
export async function train(
  a: TrainArgs,
): Promise<{ params: number[][]; spareGrad: boolean; buckets: string[][]; keys: string[] }> {
  await dist.initProcessGroup("threads", { timeout: 30_000 });
  const rank = dist.getRank();
  const w = dist.getWorldSize();
  torch.manualSeed(1000 + rank); // ranks start different: the constructor's broadcast makes them equal
  const net = new Net();
  // the spare layer is never used: findUnusedParameters reduces around it (and its .grad stays null)
  const model = new dist.DistributedDataParallel(net, {
    bucketCapMb: a.bucketCapMb ?? 25,
    findUnusedParameters: true,
  });
  const step = sgd(net.parameters(), 0.05);
  const g = new torch.Generator().manualSeed(7);
  const X = torch.randn([a.steps * a.batch, 12], { generator: g });
  const Y = torch.randint(0, 4, [a.steps * a.batch], { generator: g });
  const per = a.batch / w;
  const micro = a.accumulate ?? 1;
  for (let s = 0; s < a.steps; s++) {
    net.zeroGrad();
    const start = s * a.batch + rank * per;
    for (let m = 0; m < micro; m++) {
      const len = per / micro;
      const x = X.narrow(0, start + m * len, len);
      const y = Y.narrow(0, start + m * len, len);
      const run = () => nn.F.crossEntropy(model(x), y).div(micro).backward();
      if (m < micro - 1) model.noSync(run);
      else run();
    }
    step();
  }
  const out = {
    params: net.parameters().map((p) => Array.from(p.data() as Float32Array)),
    spareGrad: net.spare.weight.grad !== null,
    buckets: model.bucketNames(),
    keys: [...model.stateDict().keys()],
  };
  dist.destroyProcessGroup();
  return out;
}

/** A parameter no forward uses: without findUnusedParameters the next forward fails naming it; with it, it works. */
export async function unused(a: { find: boolean }): Promise<{ spareGrad: boolean; error: string | null }> {
  await dist.initProcessGroup("threads", { timeout: 30_000 });
  torch.manualSeed(0);
  const net = new Net();
  const model = new dist.DistributedDataParallel(net, { findUnusedParameters: a.find });
  const x = torch.randn([4, 12]);
  let error: string | null = null;
  try {
    for (let i = 0; i < 2; i++) model(x).sum().backward();
  } catch (e) {
    error = (e as Error).message;
  }
  // rank 1 uses the spare layer once: its averaged gradient reaches rank 0 too
  net.zeroGrad();
  net.useSpare = dist.getRank() === 1;
  let spareGrad = false;
  if (a.find) {
    model(x).sum().backward();
    spareGrad = net.spare.weight.grad !== null;
  }
  dist.destroyProcessGroup();
  return { spareGrad, error };
}

/** BatchNorm's running statistics: rank 0's after construction, and again at the start of every forward. */
export async function buffers(): Promise<{
  afterInit: number[];
  afterStep: number[];
  beforeSecond: number[];
}> {
  await dist.initProcessGroup("threads", { timeout: 30_000 });
  const rank = dist.getRank();
  torch.manualSeed(rank);
  const net = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
  const bn = net.at(1) as nn.BatchNorm1d;
  torch.noGrad(() => (bn.runningMean as torch.Tensor).fill_(rank + 1)); // ranks start different
  const model = new dist.DistributedDataParallel(net);
  const mean = () => Array.from((bn.runningMean as torch.Tensor).data() as Float32Array);
  const afterInit = mean();
  model(torch.randn([8, 3]).add(rank * 10))
    .sum()
    .backward(); // each rank updates its own statistics
  const afterStep = mean();
  let beforeSecond: number[] = [];
  const hook = net.registerForwardPreHook(() => {
    beforeSecond = mean();
    return undefined;
  });
  model(torch.randn([8, 3]))
    .sum()
    .backward();
  hook();
  dist.destroyProcessGroup();
  return { afterInit, afterStep, beforeSecond };
}
