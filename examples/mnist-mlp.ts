/**
 * Seed 001's handwritten-digit classifier: SimpleNet (784-128-ReLU-10), CrossEntropyLoss, SGD with momentum,
 * batch 64, 3 epochs, the loss every 300 batches, accuracy on the test set, then, as the seed, the state dict saved
 * with `torch.save(model.stateDict(), out)` (a safetensors file), loaded into a fresh model with
 * `model.loadStateDict(await torch.load(out))` and evaluated again.
 *
 *   pnpm example mnist-mlp [-- --dataset mnist|fashion-mnist|mnist-sample --root data --epochs 3
 *                              --batch-size 64 --train-size N --device cpu --gemm auto|openblas|wasm
 *                              --progress auto|bar|plain|off --dashboard --keep-dashboard --dashboard-port N]
 *
 * Without --dataset it uses full MNIST when it is in --root or can be downloaded, else the real MNIST digits
 * shipped with @cinder/datasets-mnist (8,000 train / 2,000 test).
 *
 * Progress (batches, running loss, samples/s, ETA) goes to stderr: a bar on a terminal, a plain line every tenth
 * of an epoch elsewhere. `--dashboard` serves the live dashboard (@cinder/viz) on 127.0.0.1 and prints its URL on
 * stderr; loss and accuracy stream to it during training, and it closes at the end unless `--keep-dashboard`.
 */
import * as torch from "cinder";
import { mnistFinish, mnistSetup, trainEpochs } from "./lib/mnist";

const { nn, optim } = torch;
const F = nn.F;

// 1. data: ToTensor + Normalize((0.1307,), (0.3081,)), shuffled training batches of 64
const setup = await mnistSetup("mnist-mlp", 3);
const { device, log, epochs, trainLoader } = setup;

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
const trained = await trainEpochs({
  model,
  optimizer,
  criterion,
  loader: trainLoader,
  epochs,
  device,
  prepare: flatten,
  log,
  monitor: setup.monitor, // progress on stderr; --dashboard streams loss and accuracy to the live dashboard
});
log("Training done!");

// 5. evaluate (under noGrad, predictions by argmax), save, reload, evaluate again
await mnistFinish(setup, model, () => new SimpleNet(), flatten, trained);
