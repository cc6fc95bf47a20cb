/**
 * What the MNIST examples share: picking the data (full MNIST, Fashion-MNIST or the shipped sample), the
 * seed's training loop with a progress bar, evaluation under noGrad, and the save / reload round trip.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DataLoader, Subset } from "@cinder/data";
import { FashionMNIST, MNIST, transforms } from "@cinder/datasets-mnist";
import type { LiveDashboard, TrainingDashboard } from "@cinder/viz";
import * as torch from "cinder";
import { flags, r4, report, useDevice, useGemm } from "./cli";
import { type Batch, evaluate } from "./evaluate";
import { PROGRESS_MODES, type ProgressMode, type ProgressStream, TrainingProgress } from "./progress";

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

/** How a training run is watched: the progress display and, optionally, a live dashboard. */
export interface Monitor {
  /** "auto" (default: a bar on a terminal, plain lines elsewhere), "bar", "plain" or "off"; on stderr. */
  progress?: ProgressMode | "auto";
  /** Where progress goes (default process.stderr). */
  progressStream?: ProgressStream;
  /** Plain progress: a line every so many batches (default: a tenth of an epoch). */
  progressEvery?: number;
  /** A dashboard (`@cinder/viz`'s `dashboard()`) to stream the loss and the training accuracy to. */
  dashboard?: Pick<TrainingDashboard, "log">;
  /** With a dashboard: evaluate on this loader after each epoch and stream `test_accuracy` too. */
  testLoader?: DataLoader<any, Batch>;
}

/**
 * The seed's loop: for each batch, the five steps (zero grads, forward, loss, backward, step), and the mean loss
 * every 300 batches. Each step runs in `torch.tidy`, so its temporaries are freed at once on any device.
 * Progress (batches, loss, rate, ETA) goes to stderr; with `monitor.dashboard`, about 50 points per epoch of
 * `loss` and `train_accuracy` (means over the batches since the previous point) are streamed to it, and with
 * `monitor.testLoader` the test accuracy after each epoch (its time is not counted in `seconds`).
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
  monitor?: Monitor;
}): Promise<{ samples: number; seconds: number }> {
  const { model, optimizer, criterion, loader, epochs, device } = opts;
  const monitor = opts.monitor ?? {};
  const total = loader.length;
  const progress = new TrainingProgress({
    epochs,
    batchesPerEpoch: total,
    mode: monitor.progress,
    stream: monitor.progressStream,
    every: monitor.progressEvery,
  });
  const dash = monitor.dashboard;
  const dashEvery = Math.max(1, Math.round(total / 50));
  let samples = 0;
  let step = 0;
  let evalMs = 0;
  const start = performance.now();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      model.train();
      progress.startEpoch(epoch);
      let runningLoss = 0;
      let batchIdx = 0;
      // the dashboard's interval: summed losses, batches, correct predictions and samples since its last point
      let dLoss = 0;
      let dBatches = 0;
      let dCorrect = 0;
      let dSeen = 0;
      const point = (extra: Record<string, number> = {}) => {
        if (!dash) return;
        dash.log({
          step,
          ...(dBatches ? { loss: dLoss / dBatches, train_accuracy: dCorrect / dSeen } : {}),
          ...extra,
          epoch: `${epoch + 1}/${epochs}`,
        });
        dLoss = dBatches = dCorrect = dSeen = 0;
      };
      for await (const [rawData, rawTarget] of loader) {
        const data = opts.prepare(rawData.to(device));
        const target = rawTarget.to(device);
        const { loss, hits } = torch.tidy(() => {
          // --- the five steps ---
          optimizer.zeroGrad(); // 1. clear the gradients
          const output = model(data); // 2. forward
          const loss = criterion(output, target); // 3. loss
          loss.backward(); // 4. backward
          optimizer.step(); // 5. update
          // for the dashboard: how many of the batch's predictions (argmax) were right
          const hits = dash ? output.detach().max({ dim: 1 }).indices.eq(target).sum() : undefined;
          return { loss, hits };
        });
        const lossValue = (await loss.itemAsync()) as number;
        runningLoss += lossValue;
        loss.dispose();
        data.dispose();
        target.dispose();
        const n = rawData.shape[0];
        samples += n;
        batchIdx++;
        step++;
        progress.step(n, lossValue);
        if (hits) {
          dCorrect += (await hits.itemAsync()) as number;
          hits.dispose();
          dLoss += lossValue;
          dBatches++;
          dSeen += n;
          if (batchIdx % dashEvery === 0 && batchIdx !== total) point();
        }
        if (batchIdx % 300 === 0) {
          progress.log(
            `Epoch: ${epoch + 1}, Batch: ${batchIdx}, Loss: ${(runningLoss / 300).toFixed(4)}`,
            opts.log,
          );
          runningLoss = 0;
        }
      }
      progress.endEpoch();
      if (dash) {
        let extra: Record<string, number> = {};
        if (monitor.testLoader) {
          const t0 = performance.now();
          extra = { test_accuracy: await evaluate(model, monitor.testLoader, device, opts.prepare) };
          evalMs += performance.now() - t0;
        }
        point(extra);
      }
    }
  } finally {
    progress.stop();
  }
  return { samples, seconds: (performance.now() - start - evalMs) / 1000 };
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

/**
 * Flags, data and loaders of an MNIST example: `--dataset --root --epochs --batch-size --train-size --out --device`,
 * `--gemm auto|openblas|wasm` (the CPU's GEMM, see `useGemm`; the JSON line names the one used on the CPU),
 * and how training is watched: `--progress auto|bar|plain|off` (on stderr; `--progress-every N` batches for plain
 * lines), `--dashboard` (serve the live dashboard on 127.0.0.1, its URL on stderr, `--dashboard-port` to pick
 * the port; no browser is opened) and `--keep-dashboard` (the same, still serving after training until Ctrl-C).
 */
export async function mnistSetup(example: string, defaultEpochs: number) {
  const { values } = flags({
    dataset: { type: "string" },
    root: { type: "string", default: "data" },
    epochs: { type: "string", default: String(defaultEpochs) },
    "batch-size": { type: "string", default: "64" },
    "train-size": { type: "string" },
    out: { type: "string", default: `examples/out/${example}.safetensors` },
    progress: { type: "string", default: "auto" },
    "progress-every": { type: "string" },
    dashboard: { type: "boolean", default: false },
    "keep-dashboard": { type: "boolean", default: false },
    "dashboard-port": { type: "string", default: "0" },
    gemm: { type: "string", default: "auto" },
  });
  const progress = values.progress as (typeof PROGRESS_MODES)[number];
  if (!PROGRESS_MODES.includes(progress))
    throw new Error(`--progress must be ${PROGRESS_MODES.join(", ")}; got "${values.progress}"`);
  const progressEvery = values["progress-every"] ? Number(values["progress-every"]) : undefined;
  if (progressEvery !== undefined && !(Number.isInteger(progressEvery) && progressEvery > 0))
    throw new Error(
      `--progress-every must be a positive number of batches; got "${values["progress-every"]}"`,
    );
  const dashboardPort = Number(values["dashboard-port"]);
  if (!(Number.isInteger(dashboardPort) && dashboardPort >= 0 && dashboardPort < 65536))
    throw new Error(
      `--dashboard-port must be a port number (0: any free port); got "${values["dashboard-port"]}"`,
    );
  const device = values.device;
  const log = (line: string) => console.log(line);
  const adapter = await useDevice(device);
  if (adapter !== "cpu") log(`device: ${device} (${adapter})`);
  const gemm = await useGemm(values.gemm);
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
  let dashboard: LiveDashboard | undefined;
  if (values.dashboard || values["keep-dashboard"]) {
    // loaded only when asked for: the server binds 127.0.0.1 (this machine only), on a free port by default
    const viz = await import("@cinder/viz");
    dashboard = await viz.dashboard({
      title: `${example} on ${data.name}`,
      port: dashboardPort,
    });
    process.stderr.write(`dashboard: ${dashboard.url}\n`);
  }
  const monitor: Monitor = {
    progress,
    progressEvery,
    dashboard,
    testLoader: dashboard ? testLoader : undefined,
  };
  return {
    example,
    values,
    device,
    adapter,
    gemm,
    log,
    epochs: Number(values.epochs),
    ...data,
    trainLoader,
    testLoader,
    monitor,
    dashboard,
  };
}

/**
 * Evaluate, save the state dict, reload it into a fresh model, evaluate again, and print the JSON line; then close
 * the dashboard (with `--keep-dashboard` it keeps serving until the process is stopped).
 */
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
    ...(setup.adapter !== "cpu" ? { adapter: setup.adapter } : { gemm: setup.gemm }),
    epochs: setup.epochs,
    testAccuracy: r4(testAccuracy),
    reloadedAccuracy: r4(reloadedAccuracy),
    trainSamples: setup.trainSet.length,
    samplesPerSec: Math.round(trained.samples / trained.seconds),
  });
  if (setup.dashboard) {
    if (values["keep-dashboard"])
      process.stderr.write(
        `dashboard: training done; still serving ${setup.dashboard.url} (Ctrl-C to stop)\n`,
      );
    else await setup.dashboard.close();
  }
}
