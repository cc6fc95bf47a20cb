/**
 * What the MNIST examples share: picking the data (full MNIST, Fashion-MNIST or the shipped sample), the
 * seed's training loop with a progress bar, evaluation under noGrad, and the save / reload round trip.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DataLoader, Subset } from "@cinder/data";
import { FashionMNIST, MNIST, transforms } from "@cinder/datasets-mnist";
import * as torch from "cinder";
import cliProgress from "cli-progress";
import { flags, r4, report, useDevice } from "./cli";
import { type Batch, evaluate } from "./evaluate";

export { type Batch, evaluate };

export interface MnistFlags {
  dataset?: string;
  /** Train on the first N training images only (quick runs). */
  trainSize?: number;
  root: string;
  epochs: number;
  batchSize: number;
  device: string;
  log: (line: string) => void;
}

const FASHION_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist";

/** The train and test splits, with the seed's transform (ToTensor, then Normalize with MNIST's mean and std). */
export async function loadMnist(flags: MnistFlags) {
  const data = await loadSplits(flags);
  if (!flags.trainSize || flags.trainSize >= data.train.length) return { ...data, trainSet: data.train };
  const indices = Array.from({ length: flags.trainSize }, (_, i) => i);
  return { ...data, trainSet: new Subset(data.train, indices) };
}

async function loadSplits(flags: MnistFlags) {
  const transform = new transforms.Compose([
    new transforms.ToTensor(),
    new transforms.Normalize([0.1307], [0.3081]),
  ]);
  let name = flags.dataset;
  if (!name) {
    // full MNIST if it is on disk or can be downloaded, else the real digits shipped with the package
    const onDisk = existsSync(join(flags.root, "MNIST", "raw"));
    try {
      if (!onDisk) flags.log(`MNIST is not in ${flags.root}; trying to download it`);
      const train = await MNIST.create({
        root: flags.root,
        train: true,
        download: true,
        transform,
        log: false,
      });
      const test = await MNIST.create({
        root: flags.root,
        train: false,
        download: true,
        transform,
        log: false,
      });
      return { name: "mnist", train, test };
    } catch (e) {
      flags.log(`full MNIST unavailable (${(e as Error).message.split("\n")[0]}); using the shipped sample`);
      name = "mnist-sample";
    }
  }
  if (name === "mnist-sample") {
    const train = await MNIST.create({ sample: true, train: true, transform });
    const test = await MNIST.create({ sample: true, train: false, transform });
    return { name, train, test };
  }
  if (name === "fashion-mnist") {
    const root = existsSync(join(flags.root, "FashionMNIST", "raw")) ? flags.root : FASHION_SYSTEM_DIR;
    const download = root !== FASHION_SYSTEM_DIR;
    const train = await FashionMNIST.create({ root, train: true, download, transform });
    const test = await FashionMNIST.create({ root, train: false, download, transform });
    return { name, train, test };
  }
  if (name === "mnist") {
    const train = await MNIST.create({ root: flags.root, train: true, download: true, transform });
    const test = await MNIST.create({ root: flags.root, train: false, download: true, transform });
    return { name, train, test };
  }
  throw new Error(`--dataset must be mnist, fashion-mnist or mnist-sample, got "${name}"`);
}

/**
 * The seed's loop: for each batch, the five steps (zero grads, forward, loss, backward, step), and the mean loss
 * every 300 batches. Each step runs in `torch.tidy`, so its temporaries are freed at once on any device.
 */
export async function trainEpochs(opts: {
  model: torch.nn.Module;
  optimizer: torch.optim.Optimizer;
  criterion: torch.nn.Module;
  loader: DataLoader<any, Batch>;
  epochs: number;
  device: string;
  prepare: (data: torch.Tensor) => torch.Tensor;
  log: (line: string) => void;
}): Promise<{ samples: number; seconds: number }> {
  const { model, optimizer, criterion, loader, epochs, device } = opts;
  const bar = new cliProgress.SingleBar(
    {
      format: "epoch {epoch} [{bar}] {value}/{total} batches | loss {loss}",
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let samples = 0;
  const start = performance.now();
  model.train();
  for (let epoch = 0; epoch < epochs; epoch++) {
    let runningLoss = 0;
    let batchIdx = 0;
    bar.start(loader.length, 0, { epoch: epoch + 1, loss: "-" });
    for await (const [rawData, rawTarget] of loader) {
      const data = opts.prepare(rawData.to(device));
      const target = rawTarget.to(device);
      const loss = torch.tidy(() => {
        // --- the five steps ---
        optimizer.zeroGrad(); // 1. clear the gradients
        const output = model(data); // 2. forward
        const loss = criterion(output, target); // 3. loss
        loss.backward(); // 4. backward
        optimizer.step(); // 5. update
        return loss;
      });
      runningLoss += (await loss.itemAsync()) as number;
      loss.dispose();
      data.dispose();
      target.dispose();
      samples += rawData.shape[0];
      batchIdx++;
      if (batchIdx % 300 === 299 || batchIdx % 300 === 0)
        bar.update(batchIdx, { loss: (runningLoss / (batchIdx % 300 || 300)).toFixed(4) });
      else bar.update(batchIdx);
      if (batchIdx % 300 === 0) {
        bar.stop();
        opts.log(`Epoch: ${epoch + 1}, Batch: ${batchIdx}, Loss: ${(runningLoss / 300).toFixed(4)}`);
        runningLoss = 0;
        bar.start(loader.length, batchIdx, { epoch: epoch + 1, loss: "-" });
      }
    }
    bar.stop();
  }
  return { samples, seconds: (performance.now() - start) / 1000 };
}

/**
 * Save the state dict, load it into a fresh model, and return that model, as the seeds do:
 * `torch.save(model.state_dict(), 'mnist.pth')`, then `model.load_state_dict(torch.load('mnist.pth'))`
 * (the file is safetensors: Python reads it with `safetensors.torch.load_file`).
 */
export async function reload<M extends torch.nn.Module>(
  model: M,
  fresh: () => M,
  file: string,
  device: string,
): Promise<M> {
  await mkdir(dirname(file), { recursive: true });
  await torch.save(model.stateDict(), file);
  const copy = fresh().to(device);
  copy.loadStateDict(await torch.load(file, { mapLocation: device }));
  return copy;
}

/** Flags, data and loaders of an MNIST example: `--dataset --root --epochs --batch-size --train-size --out --device`. */
export async function mnistSetup(example: string, defaultEpochs: number) {
  const { values } = flags({
    dataset: { type: "string" },
    root: { type: "string", default: "data" },
    epochs: { type: "string", default: String(defaultEpochs) },
    "batch-size": { type: "string", default: "64" },
    "train-size": { type: "string" },
    out: { type: "string", default: `examples/out/${example}.safetensors` },
  });
  const device = values.device;
  const log = (line: string) => console.log(line);
  const adapter = await useDevice(device);
  if (adapter !== "cpu") log(`device: ${device} (${adapter})`);
  torch.manualSeed(Number(values.seed ?? 0));
  const data = await loadMnist({
    dataset: values.dataset,
    root: values.root,
    trainSize: values["train-size"] ? Number(values["train-size"]) : undefined,
    epochs: 0,
    batchSize: 0,
    device,
    log,
  });
  log(`data: ${data.train.source}`);
  // shuffled training batches, and the test set in batches of 1000, as in the seed
  const trainLoader = new DataLoader(data.trainSet, {
    batchSize: Number(values["batch-size"]),
    shuffle: true,
  });
  const testLoader = new DataLoader(data.test, { batchSize: 1000, shuffle: false });
  return {
    example,
    values,
    device,
    adapter,
    log,
    epochs: Number(values.epochs),
    ...data,
    trainLoader,
    testLoader,
  };
}

/** Evaluate, save the state dict, reload it into a fresh model, evaluate again, and print the JSON line. */
export async function mnistFinish<M extends torch.nn.Module>(
  setup: Awaited<ReturnType<typeof mnistSetup>>,
  model: M,
  fresh: () => M,
  prepare: (data: torch.Tensor) => torch.Tensor,
  trained: { samples: number; seconds: number },
): Promise<void> {
  const { log, device, testLoader, test, values } = setup;
  const testAccuracy = await evaluate(model, testLoader, device, prepare);
  log(`Accuracy on the ${test.length} test images: ${(100 * testAccuracy).toFixed(2)}%`);
  const reloaded = await reload(model, fresh, values.out, device);
  const reloadedAccuracy = await evaluate(reloaded, testLoader, device, prepare);
  log(`Reloaded from ${values.out}: ${(100 * reloadedAccuracy).toFixed(2)}%`);
  report({
    example: setup.example,
    dataset: setup.name,
    device,
    ...(setup.adapter !== "cpu" ? { adapter: setup.adapter } : {}),
    epochs: setup.epochs,
    testAccuracy: r4(testAccuracy),
    reloadedAccuracy: r4(reloadedAccuracy),
    trainSamples: setup.trainSet.length,
    samplesPerSec: Math.round(trained.samples / trained.seconds),
  });
}
