/**
 * Seeds 001 and 003: a small network built from nn.Module "Lego bricks" (Linear 10 -> 20, ReLU, Linear 20 -> 1),
 * printed like PyTorch's print(model), run on a batch, with its parameters listed.
 *
 *   pnpm example simple-nn
 */
import * as torch from "cinder";
import { report } from "./lib/cli";

const { nn } = torch;

class SimpleNN extends nn.Module {
  layer1 = new nn.Linear(10, 20); // 10 inputs, 20 outputs
  activation = new nn.ReLU(); // the nonlinearity
  layer2 = new nn.Linear(20, 1); // one output
  override forward(x: torch.Tensor): torch.Tensor {
    x = this.layer1(x);
    x = this.activation(x);
    x = this.layer2(x);
    return x;
  }
}

torch.manualSeed(0);
const model = new SimpleNN();
console.log(String(model)); // the model's structure

const x = torch.randn(4, 10);
const y = model(x);
console.log(`input ${JSON.stringify(x.shape)} -> output ${JSON.stringify(y.shape)}`);
let count = 0;
for (const [name, p] of model.namedParameters()) {
  console.log(`${name}: shape ${JSON.stringify(p.shape)}, requires grad ${p.requiresGrad}`);
  count += p.numel();
}
console.log(`parameters: ${count}`);
report({ example: "simple-nn", device: "cpu", parameters: count, outputShape: y.shape });
