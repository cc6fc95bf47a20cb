/**
 * The `mnist-mlp` program trained data-parallel: `DistributedDataParallel` averages the gradients of N ranks, each
 * reading its own part of every epoch through a `DistributedSampler`; the ranks' test accuracies are summed with
 * `allReduce`. Rank 0 logs and prints the closing JSON line.
 *
 *   pnpm example mnist-ddp [-- --backend threads --nproc 2 --dataset mnist|fashion-mnist|mnist-sample --root data
 *                              --epochs 3 --batch-size 64 --train-size N --lr 0.01 --seed 0]
 *   cinder-run --nproc 2 examples/mnist-ddp.ts          (the same: ranks started by the launcher)
 *   mpirun -np 2 node --conditions=@cinder/source --import tsx examples/mnist-ddp.ts --backend mpi
 *
 * With `--backend threads` and no `RANK` in the environment this program is its own launcher: it starts `--nproc`
 * ranks (worker threads) running this same file. `--batch-size` is per rank, as in PyTorch's DDP examples, so N
 * ranks step on N times as many samples with the same learning rate and averaged gradients.
 */
import { fileURLToPath } from "node:url";
import { DataLoader, DistributedSampler } from "@cinder/data";
import * as torch from "cinder";
import { flags, r4, report } from "./lib/cli";
import { loadMnist } from "./lib/mnist";

const dist = torch.distributed;
const { nn, optim } = torch;
const F = nn.F;

const { values } = flags({
  backend: { type: "string", default: "threads" },
  nproc: { type: "string", default: "2" },
  dataset: { type: "string" },
  root: { type: "string", default: "data" },
  epochs: { type: "string", default: "3" },
  "batch-size": { type: "string", default: "64" },
  "train-size": { type: "string" },
  lr: { type: "string", default: "0.01" },
});
const backend = values.backend;
if (backend !== "threads" && backend !== "mpi")
  throw new Error(`--backend must be threads or mpi, got "${backend}"`);

class SimpleNet extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  fc2 = new nn.Linear(128, 10);
  override forward(x: torch.Tensor): torch.Tensor {
    return this.fc2(F.relu(this.fc1(x)));
  }
}
const flatten = (data: torch.Tensor) => data.view(-1, 28 * 28);

/** One rank: join the group, train with DDP on this rank's part of the data, evaluate this rank's part of the test set. */
async function trainRank(): Promise<void> {
  if (backend === "mpi") {
    await import("@cinder/distributed-mpi"); // registers the "mpi" backend
    // ranks on one machine share its cores (cinder-run does this for the threads backend; torchrun sets OMP_NUM_THREADS)
    const local = Number(process.env.OMPI_COMM_WORLD_LOCAL_SIZE ?? 1);
    if (!process.env.CINDER_NUM_THREADS)
      torch.setNumThreads(Math.max(1, Math.floor(torch.cpu.deviceCount() / local)));
  }
  await dist.initProcessGroup(backend);
  const rank = dist.getRank();
  const worldSize = dist.getWorldSize();
  const log = (line: string) => {
    if (rank === 0) console.log(line);
  };
  torch.manualSeed(Number(values.seed ?? 0)); // every rank builds the same model (DDP broadcasts rank 0's anyway)
  const data = await loadMnist({
    dataset: values.dataset,
    root: values.root,
    trainSize: values["train-size"] ? Number(values["train-size"]) : undefined,
    epochs: 0,
    batchSize: 0,
    device: "cpu",
    log,
  });
  log(`data: ${data.train.source}; ${worldSize} ranks (${backend})`);
  const sampler = new DistributedSampler(data.trainSet, { seed: Number(values.seed ?? 0) });
  const loader = new DataLoader(data.trainSet, { batchSize: Number(values["batch-size"]), sampler });

  const model = new SimpleNet();
  const ddp = new nn.parallel.DistributedDataParallel(model);
  log(String(ddp));
  const criterion = new nn.CrossEntropyLoss();
  const optimizer = new optim.SGD(ddp.parameters(), { lr: Number(values.lr), momentum: 0.9 });

  const epochs = Number(values.epochs);
  let samples = 0;
  const start = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    sampler.setEpoch(epoch); // a new shuffle each epoch, the same on every rank
    ddp.train();
    let lossSum = 0;
    let batches = 0;
    for (const [images, labels] of loader) {
      const loss = torch.tidy(() => {
        optimizer.zeroGrad();
        const loss = criterion(ddp(flatten(images)), labels);
        loss.backward(); // gradients are averaged over the ranks while backward runs
        optimizer.step();
        return loss;
      });
      lossSum += loss.item() as number;
      batches++;
      samples += images.shape[0];
    }
    log(`epoch ${epoch + 1}/${epochs}: mean loss ${(lossSum / batches).toFixed(4)} (rank 0)`);
  }
  const seconds = (performance.now() - start) / 1000;

  // evaluation: each rank counts its part of the test set; allReduce sums the counts
  const testSampler = new DistributedSampler(data.test, { shuffle: false });
  const testLoader = new DataLoader(data.test, { batchSize: 1000, sampler: testSampler });
  const counts = torch.zeros([2], { dtype: "float64" });
  ddp.eval();
  torch.noGrad(() => {
    for (const [images, labels] of testLoader) {
      const correct = ddp(flatten(images)).argmax(1).eq(labels).sum().item() as number;
      counts.add_(torch.tensor([correct, labels.shape[0]], { dtype: "float64" }));
    }
  });
  dist.allReduce(counts, dist.ReduceOp.SUM);
  const [correct, total] = counts.toArray() as number[];
  const testAccuracy = correct / total;
  log(`Accuracy on the ${total} test images: ${(100 * testAccuracy).toFixed(2)}%`);
  if (rank === 0)
    report({
      example: "mnist-ddp",
      backend,
      worldSize,
      dataset: data.name,
      epochs,
      batchSizePerRank: Number(values["batch-size"]),
      testAccuracy: r4(testAccuracy),
      trainSamples: data.trainSet.length,
      // every rank trains on as many samples as rank 0 (DistributedSampler pads to equal parts)
      samplesPerSec: Math.round((samples * worldSize) / seconds),
    });
  dist.destroyProcessGroup();
}

if (backend === "threads" && process.env.RANK === undefined) {
  // the launcher: --nproc ranks, each a worker thread running this file (with RANK, WORLD_SIZE, ... set)
  const nproc = Number(values.nproc);
  await dist.spawnRanks(nproc, {
    kind: "script",
    path: fileURLToPath(import.meta.url),
    args: process.argv.slice(2),
  });
} else await trainRank();
