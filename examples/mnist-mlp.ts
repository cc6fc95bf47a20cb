/**
 * Seed 001's handwritten-digit classifier: SimpleNet (784-128-ReLU-10), CrossEntropyLoss, SGD with momentum,
 * batch 64, 3 epochs, the loss every 300 batches, accuracy on the test set, then the state dict saved to a
 * safetensors file, loaded into a fresh model and evaluated again.
 *
 *   pnpm example mnist-mlp [-- --dataset mnist|fashion-mnist|mnist-sample --root data --epochs 3
 *                              --batch-size 64 --device cpu]
 *
 * Without --dataset it uses full MNIST when it is in --root or can be downloaded, else the real MNIST digits
 * shipped with @cinder/datasets-mnist (8,000 train / 2,000 test).
 */
import { DataLoader } from "@cinder/data";
import * as torch from "cinder";
import { flags, r4, report } from "./lib/cli";
import { evaluate, loadMnist, reload, trainEpochs } from "./lib/mnist";

const { nn, optim } = torch;
const F = nn.F;
const { values } = flags({
  dataset: { type: "string" },
  root: { type: "string", default: "data" },
  epochs: { type: "string", default: "3" },
  "batch-size": { type: "string", default: "64" },
  "train-size": { type: "string" },
  out: { type: "string", default: "examples/out/mnist-mlp.safetensors" },
});
const device = values.device;
const log = (line: string) => console.log(line);
torch.manualSeed(Number(values.seed ?? 0));

// 1. data: ToTensor + Normalize((0.1307,), (0.3081,)), shuffled training batches of 64
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

// 2. the model
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
const model = new SimpleNet().to(device);
log(String(model));

// 3. loss and optimizer
const criterion = new nn.CrossEntropyLoss();
const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });

// 4. train: MNIST images are [64, 1, 28, 28]; flatten them to [64, 784]
const flatten = (data: torch.Tensor) => data.view(-1, 28 * 28);
const epochs = Number(values.epochs);
const { samples, seconds } = await trainEpochs({
  model,
  optimizer,
  criterion,
  loader: trainLoader,
  epochs,
  device,
  prepare: flatten,
  log,
});
log("Training done!");

// 5. evaluate, save, reload, evaluate again
const testAccuracy = await evaluate(model, testLoader, device, flatten);
log(`Accuracy on the ${test.length} test images: ${(100 * testAccuracy).toFixed(2)}%`);
const reloaded = await reload(model, () => new SimpleNet(), values.out, device);
const reloadedAccuracy = await evaluate(reloaded, testLoader, device, flatten);
log(`Reloaded from ${values.out}: ${(100 * reloadedAccuracy).toFixed(2)}%`);

report({
  example: "mnist-mlp",
  dataset: name,
  device,
  epochs,
  testAccuracy: r4(testAccuracy),
  reloadedAccuracy: r4(reloadedAccuracy),
  trainSamples: trainSet.length,
  samplesPerSec: Math.round(samples / seconds),
});
