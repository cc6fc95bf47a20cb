/**
 * A convolutional MNIST classifier: Conv2d(1,32,3,padding=1)-ReLU-MaxPool2d(2)-Conv2d(32,64,3,padding=1)-ReLU-
 * MaxPool2d(2)-Flatten-Linear(3136,128)-ReLU-Linear(128,10), Adam with lr 1e-3, batch 64; trained, evaluated,
 * saved and reloaded like mnist-mlp, with the same flags.
 *
 *   pnpm example mnist-cnn [-- --dataset mnist|fashion-mnist|mnist-sample --epochs 2 --device cpu --gemm auto
 *                              --progress auto|bar|plain|off --dashboard --keep-dashboard]
 */
import * as torch from "cinder";
import { mnistFinish, mnistSetup, trainEpochs } from "./lib/mnist";

const { nn, optim } = torch;

const setup = await mnistSetup("mnist-cnn", 2);
const { device, log, epochs, trainLoader } = setup;

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
const trained = await trainEpochs({
  model,
  optimizer,
  criterion,
  loader: trainLoader,
  epochs,
  device,
  prepare: asImages,
  log,
  monitor: setup.monitor, // progress on stderr; --dashboard streams loss and accuracy to the live dashboard
});
log("Training done!");

await mnistFinish(setup, model, makeModel, asImages, trained);
