/**
 * Seed 003's program: y = 2x + 1 + noise on 100 points of [0, 10], a TensorDataset and a shuffled DataLoader
 * with batches of 10, nn.Linear(1, 1), MSELoss, SGD lr 0.01, 50 epochs; then the prediction at x = 5 (close to 11).
 *
 *   pnpm example linear-regression-dataloader [-- --epochs 50]
 */
import { DataLoader, TensorDataset } from "@cinder/data";
import * as torch from "cinder";
import { flags, r4, report } from "./lib/cli";

const { nn } = torch;
const { values } = flags({ epochs: { type: "string", default: "50" } });
const device = values.device;
torch.manualSeed(Number(values.seed ?? 0));

// 1. data
const x = torch.linspace(0, 10, 100).unsqueeze(1);
const y = x.mul(2).add(1).add(torch.randn(100, 1));
const dataset = new TensorDataset(x, y);
const dataloader = new DataLoader(dataset, { batchSize: 10, shuffle: true });

// 2. model and loss
const model = new nn.Linear(1, 1).to(device);
const criterion = new nn.MSELoss();
const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01 });

// 3. training
const numEpochs = Number(values.epochs);
let loss = torch.tensor(0);
for (let epoch = 0; epoch < numEpochs; epoch++) {
  for (const [batchX, batchY] of dataloader) {
    // forward
    const pred = model(batchX.to(device));
    loss = criterion(pred, batchY.to(device));
    // backward and update
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  if ((epoch + 1) % 10 === 0)
    console.log(`Epoch ${epoch + 1}, Loss: ${((await loss.itemAsync()) as number).toFixed(4)}`);
}

// 4. prediction
const testX = torch.tensor([[5.0]], { dtype: "float32" }).to(device);
const predictedY = (await torch.noGrad(() => model(testX)).itemAsync()) as number;
console.log(`Prediction: ${predictedY.toFixed(2)}`); // should be close to 11 (2*5+1)
report({
  example: "linear-regression-dataloader",
  device,
  epochs: numEpochs,
  predictionAt5: r4(predictedY),
  w: r4((await model.weight.itemAsync()) as number),
  b: r4((await model.bias!.itemAsync()) as number),
});
