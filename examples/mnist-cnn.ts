/**
 * A convolutional MNIST classifier: Conv2d(1,32,3,padding=1)-ReLU-MaxPool2d(2)-Conv2d(32,64,3,padding=1)-ReLU-
 * MaxPool2d(2)-Flatten-Linear(3136,128)-ReLU-Linear(128,10), Adam with lr 1e-3, batch 64; trained, evaluated,
 * saved and reloaded like mnist-mlp, with the same flags.
 *
 *   pnpm example mnist-cnn [-- --dataset mnist|fashion-mnist|mnist-sample --epochs 2 --device cpu]
 */
import { DataLoader } from "@cinder/data";
import * as torch from "cinder";
import { flags, r4, report } from "./lib/cli";
import { evaluate, loadMnist, reload, trainEpochs } from "./lib/mnist";

const { nn, optim } = torch;
const { values } = flags({
  dataset: { type: "string" },
  root: { type: "string", default: "data" },
  epochs: { type: "string", default: "2" },
  "batch-size": { type: "string", default: "64" },
  "train-size": { type: "string" },
  out: { type: "string", default: "examples/out/mnist-cnn.safetensors" },
});
const device = values.device;
const log = (line: string) => console.log(line);
torch.manualSeed(Number(values.seed ?? 0));

const { name, train, trainSet, test } = await loadMnist({
  dataset: values.dataset,
  root: values.root,
  trainSize: values["train-size"] ? Number(values["train-size"]) : undefined,
  epochs: 0,
  batchSize: 0,
  device,
  log,
});
log(`data: ${train.source}`);
const trainLoader = new DataLoader(trainSet, {
  batchSize: Number(values["batch-size"]),
  shuffle: true,
});
const testLoader = new DataLoader(test, { batchSize: 1000, shuffle: false });

const makeModel = () =>
  new nn.Sequential(
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
const model = makeModel().to(device);
log(String(model));

const criterion = new nn.CrossEntropyLoss();
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
const asImages = (data: torch.Tensor) => data; // already [B, 1, 28, 28]
const epochs = Number(values.epochs);
const { samples, seconds } = await trainEpochs({
  model,
  optimizer,
  criterion,
  loader: trainLoader,
  epochs,
  device,
  prepare: asImages,
  log,
});
log("Training done!");

const testAccuracy = await evaluate(model, testLoader, device, asImages);
log(`Accuracy on the ${test.length} test images: ${(100 * testAccuracy).toFixed(2)}%`);
const reloaded = await reload(model, makeModel, values.out, device);
const reloadedAccuracy = await evaluate(reloaded, testLoader, device, asImages);
log(`Reloaded from ${values.out}: ${(100 * reloadedAccuracy).toFixed(2)}%`);

report({
  example: "mnist-cnn",
  dataset: name,
  device,
  epochs,
  testAccuracy: r4(testAccuracy),
  reloadedAccuracy: r4(reloadedAccuracy),
  trainSamples: trainSet.length,
  samplesPerSec: Math.round(samples / seconds),
});
