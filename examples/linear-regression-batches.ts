/**
 * Seed 002's linear regression: data like sklearn's make_regression (100 samples, 1 feature, noise 10,
 * bias 1.5), a TensorDataset and a shuffled DataLoader with batches of 16, nn.Linear(1, 1), MSELoss, SGD lr 0.01,
 * 100 epochs with the mean loss every 10, and the seed's two-panel figure (loss curve, fit against truth).
 *
 *   pnpm example linear-regression-batches [-- --epochs 100]
 */
import { DataLoader, TensorDataset } from "@cinder/data";
import { figure } from "@cinder/viz";
import * as torch from "cinder";
import { flags, r4, report } from "./lib/cli";

const { nn, optim } = torch;
const { values } = flags({
  epochs: { type: "string", default: "100" },
  plots: { type: "string", default: "examples/out/linear-regression-batches.svg" },
});
torch.manualSeed(Number(values.seed ?? 0));

/** sklearn.datasets.make_regression for one feature: y = coef * x + bias + noise * N(0, 1), coef ~ 100 * U(0, 1). */
function makeRegression(nSamples: number, noise: number, bias: number) {
  const x = torch.randn(nSamples, 1);
  const coef = (torch.rand(1).item() as number) * 100;
  const y = x.squeeze(1).mul(coef).add(bias).add(torch.randn(nSamples).mul(noise));
  return { x, y, coef };
}

// 1. the dataset
const { x, y, coef } = makeRegression(100, 10, 1.5);
// 2. the loader: batches of 16, shuffled each epoch
const dataset = new TensorDataset(x, y);
const dataloader = new DataLoader(dataset, { batchSize: 16, shuffle: true });
// 3. the model: y = wx + b
const model = new nn.Linear(1, 1);
// 4. loss and optimizer
const criterion = new nn.MSELoss();
const optimizer = new optim.SGD(model.parameters(), { lr: 1e-2 });

// 5. training
const epochs = Number(values.epochs);
const lossHistory: number[] = [];
for (let epoch = 0; epoch < epochs; epoch++) {
  let totalLoss = 0;
  let totalSamples = 0;
  for (const [trainX, trainY] of dataloader) {
    const yPred = model(trainX);
    // trainY is [16]; the prediction is [16, 1]
    const loss = criterion(yPred, trainY.reshape(-1, 1));
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    totalLoss += (loss.item() as number) * trainX.size(0);
    totalSamples += trainX.size(0);
  }
  const avgLoss = totalLoss / totalSamples;
  lossHistory.push(avgLoss);
  if ((epoch + 1) % 10 === 0) console.log(`Epoch [${epoch + 1}/${epochs}], Loss: ${avgLoss.toFixed(4)}`);
}

// 6. the figure: the loss curve, and the fitted line against the data and the true line
const fig = figure({ figsize: [12, 4] });
const ax1 = fig.subplot(1, 2, 1);
ax1.plot(lossHistory).setTitle("损失变化曲线").setXlabel("训练轮数").setYlabel("MSE损失").grid(true);
const ax2 = fig.subplot(1, 2, 2);
ax2.scatter(x, y, { label: "真实数据", alpha: 0.6 });
const xPred = torch.linspace(x.min().item() as number, x.max().item() as number, 1000).reshape(-1, 1);
const yPred = model(xPred).detach();
ax2.plot(xPred, yPred, { label: "模型拟合", color: "orange", linewidth: 2 });
ax2.plot(xPred, xPred.mul(coef).add(1.5), { label: "真实关系", color: "red", linestyle: "--" });
ax2.setTitle("线性回归拟合效果").setXlabel("x").setYlabel("y").legend().grid(true);
fig.tightLayout();
await fig.save(values.plots);

const w = model.weight.item() as number;
const b = model.bias!.item() as number;
console.log(`True weight: ${coef.toFixed(4)}, trained weight: ${w.toFixed(4)}`);
console.log(`True bias: 1.5, trained bias: ${b.toFixed(4)}`);
console.log(`Figure: ${values.plots}`);
report({
  example: "linear-regression-batches",
  device: "cpu",
  epochs,
  trueW: r4(coef),
  w: r4(w),
  b: r4(b),
  finalLoss: r4(lossHistory[lossHistory.length - 1]),
});
