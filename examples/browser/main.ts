/**
 * Seed 001's MNIST classifier in a browser, on WebGPU: the shipped MNIST sample (8,000 train / 2,000 test real
 * digits) fetched over HTTP, SimpleNet (784-128-ReLU-10), CrossEntropyLoss, SGD(lr 0.01, momentum 0.9), batches
 * of 64, the seed's five steps in `torch.tidy`, a live loss curve drawn by @cinder/viz, test accuracy at the end.
 *
 *   node examples/browser/build.mjs && node examples/browser/serve.mjs   # prints the URL
 *
 * Query string: `?steps=N` (default: one epoch), `&batch=64`, `&lr=0.01`, `&seed=0`, `&device=webgpu|cpu` (default: the
 * best available, `await bestDevice()`: WebGPU when the browser has an adapter, else the CPU).
 * The result is left on `window.__cinder`: `{ done, steps, losses, testAccuracy, device, adapter, error }`.
 */
import { bestDevice, initWebGPU } from "@cinder/backend-webgpu";
import { DataLoader } from "@cinder/data";
import {
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  isGzip,
  MNIST,
  parseIdx,
  transforms,
} from "@cinder/datasets-mnist";
import { figure } from "@cinder/viz";
import * as torch from "cinder";
import { evaluate } from "../lib/evaluate";

const { nn, optim } = torch;
const F = nn.F;

export interface CinderPageResult {
  done: boolean;
  /** Training steps taken so far. */
  steps: number;
  /** The loss of every step. */
  losses: number[];
  /** Accuracy on the 2,000 test digits, once training is done. */
  testAccuracy: number | null;
  device: string;
  /** The adapter's description, e.g. "google swiftshader ..." (empty on the cpu). */
  adapter: string;
  /** Set when the page failed (then `done` is true as well). */
  error: string | null;
  /** Tensor methods are on the prototype (`installMethods()` survived bundling). */
  methods: boolean;
  trainSeconds: number;
}

const result: CinderPageResult = {
  done: false,
  steps: 0,
  losses: [],
  testAccuracy: null,
  device: "",
  adapter: "",
  error: null,
  methods: typeof (torch.Tensor.prototype as { matmul?: unknown }).matmul === "function",
  trainSeconds: 0,
};
(window as unknown as { __cinder: CinderPageResult }).__cinder = result;

const $ = (id: string) => document.getElementById(id)!;
const status = (text: string) => {
  $("status").textContent = text;
};

const params = new URLSearchParams(location.search);
const num = (name: string, fallback: number) => {
  const v = params.get(name);
  return v === null || v === "" || !Number.isFinite(Number(v)) ? fallback : Number(v);
};

// 1. data: the gzipped IDX files shipped with @cinder/datasets-mnist, fetched and parsed here (MNIST.create reads
// files with node:fs; in a browser the bytes come from fetch and DecompressionStream, the parsing is the package's)
async function fetchIdx(file: string, magic: number) {
  const res = await fetch(new URL(`data/${file}`, document.baseURI));
  if (!res.ok || !res.body) throw new Error(`GET data/${file}: HTTP ${res.status}`);
  let bytes = new Uint8Array(await res.arrayBuffer());
  if (isGzip(bytes)) {
    const gunzipped = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    bytes = new Uint8Array(await new Response(gunzipped).arrayBuffer());
  }
  return parseIdx(bytes, file, magic);
}

async function loadSplit(train: boolean, transform: transforms.Compose) {
  const split = train ? "train" : "t10k";
  const [images, labels] = await Promise.all([
    fetchIdx(`${split}-images-idx3-ubyte.gz`, IDX_IMAGES_MAGIC),
    fetchIdx(`${split}-labels-idx1-ubyte.gz`, IDX_LABELS_MAGIC),
  ]);
  return new MNIST({
    images: images.data,
    labels: labels.data,
    rows: images.dims[1],
    cols: images.dims[2],
    train,
    transform,
    source: `MNIST sample (${train ? "train" : "test"}): ${labels.dims[0]} digits shipped with @cinder/datasets-mnist`,
  });
}

// 2. the model, as in examples/mnist-mlp.ts
class SimpleNet extends nn.Module {
  fc1 = new nn.Linear(784, 128); // first layer: 784 in, 128 out
  fc2 = new nn.Linear(128, 10); // second layer: 128 in, 10 out (the classes)
  override forward(x: torch.Tensor): torch.Tensor {
    x = this.fc1(x);
    x = F.relu(x);
    x = this.fc2(x);
    return x;
  }
}

function drawLosses(losses: number[]): void {
  const fig = figure({ figsize: [6, 2.6] });
  const ax = fig.subplot(1, 1, 1);
  ax.plot(losses, { linewidth: 1.5 });
  ax.setXlabel("step").setYlabel("loss").setTitle("training loss").grid(true, { alpha: 0.3 });
  $("curve").innerHTML = fig.toSVG();
}

async function main(): Promise<void> {
  // `?device=` forces one; otherwise the best available: WebGPU when the browser has an adapter, else the CPU
  status("choosing a device…");
  const device = params.get("device") ?? (await bestDevice());
  const batchSize = num("batch", 64);
  const lr = num("lr", 0.01);
  result.device = device;
  if (device.startsWith("webgpu")) {
    status("initialising WebGPU…");
    const gpu = await initWebGPU();
    result.adapter = gpu.runtime.label;
  }
  $("device").textContent = `${device}${result.adapter ? ` (${result.adapter})` : ""}`;
  torch.manualSeed(num("seed", 0));

  status("loading MNIST…");
  // ToTensor + Normalize((0.1307,), (0.3081,)), as in the seed
  const transform = new transforms.Compose([
    new transforms.ToTensor(),
    new transforms.Normalize([0.1307], [0.3081]),
  ]);
  const [train, test] = await Promise.all([loadSplit(true, transform), loadSplit(false, transform)]);
  const trainLoader = new DataLoader(train, { batchSize, shuffle: true });
  const testLoader = new DataLoader(test, { batchSize: 1000, shuffle: false });
  const steps = Math.max(0, Math.floor(num("steps", trainLoader.length))); // default: one epoch
  $("data").textContent = `${train.source}; ${test.source}`;

  const model = new SimpleNet().to(device);
  const criterion = new nn.CrossEntropyLoss();
  const optimizer = new optim.SGD(model.parameters(), { lr, momentum: 0.9 });
  $("model").textContent = String(model);

  // 3. train: the seed's five steps, each in torch.tidy; images [64, 1, 28, 28] flattened to [64, 784]
  const flatten = (data: torch.Tensor) => data.view(-1, 28 * 28);
  const start = performance.now();
  model.train();
  while (result.steps < steps) {
    for await (const [rawData, rawTarget] of trainLoader) {
      if (result.steps >= steps) break;
      const data = flatten(rawData.to(device));
      const target = rawTarget.to(device);
      const loss = torch.tidy(() => {
        optimizer.zeroGrad(); // 1. clear the gradients
        const output = model(data); // 2. forward
        const loss = criterion(output, target); // 3. loss
        loss.backward(); // 4. backward
        optimizer.step(); // 5. update
        return loss;
      });
      const value = (await loss.itemAsync()) as number;
      loss.dispose();
      data.dispose();
      target.dispose();
      result.losses.push(value);
      result.steps++;
      status(`training: step ${result.steps}/${steps}, loss ${value.toFixed(4)}`);
      if (result.steps % 10 === 0 || result.steps === steps) drawLosses(result.losses);
    }
  }
  result.trainSeconds = (performance.now() - start) / 1000;

  // 4. evaluate under noGrad, predictions by argmax
  status("evaluating on the test set…");
  result.testAccuracy = await evaluate(model, testLoader, device, flatten);
  status(
    `done: ${result.steps} steps in ${result.trainSeconds.toFixed(1)} s, ` +
      `accuracy on the ${test.length} test images ${(100 * result.testAccuracy).toFixed(2)}%`,
  );
}

main()
  .catch((e: unknown) => {
    result.error = e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e);
    status(`failed: ${result.error}`);
  })
  .finally(() => {
    result.done = true;
  });
