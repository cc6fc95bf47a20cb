/** The models the export and load tests share: the MNIST examples' networks (examples/mnist-mlp.ts, mnist-cnn.ts). */
import * as nn from "@cinder/nn";
import type { Tensor } from "@cinder/tensor";

/** Seed 001's MLP (examples/mnist-mlp.ts): the ReLU is functional, as there. */
export class SimpleNet extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  fc2 = new nn.Linear(128, 10);
  override forward(x: Tensor): Tensor {
    x = x.view(-1, 784);
    x = this.fc1(x);
    x = nn.F.relu(x);
    x = this.fc2(x);
    return nn.F.logSoftmax(x, 1);
  }
}

/** examples/mnist-cnn.ts's network, with a Dropout and a softmax head. */
export const cnn = () =>
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
    new nn.Dropout(0.5),
    new nn.Linear(128, 10),
    new nn.Softmax(1),
  );

/** A dynamic batch dimension on the input and the output. */
export const dynamicAxes = { input: { 0: "batch" }, output: { 0: "batch" } };
