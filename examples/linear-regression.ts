/**
 * Seed 000, method two ("automatic transmission"): nn.Linear, MSELoss, SGD and a StepLR schedule fit
 * y = 3x + 0.8 over 2000 epochs, then print the parameter analysis and the test-prediction table.
 *
 *   pnpm example linear-regression [-- --device cpu --epochs 2000]
 */
import { figure } from "@cinder/viz";
import * as torch from "cinder";
import { flags, r4, report } from "./lib/cli";

const { nn, optim } = torch;
const { values } = flags({
  epochs: { type: "string", default: "2000" },
  plots: { type: "string", default: "examples/out/linear-regression" },
});
const device = values.device;
const epochs = Number(values.epochs);
const item = async (t: torch.Tensor) => (await t.itemAsync()) as number;
const line = "=".repeat(60);

// ==================== seed and data: y = 3x + 0.8 ====================
torch.manualSeed(Number(values.seed ?? 42));
const nSamples = 100;
const X = torch.randn(nSamples, 1).mul(2);
const trueW = 3.0;
const trueB = 0.8;
const noise = torch.randn(nSamples, 1).mul(0.2);
const y = X.mul(trueW).add(trueB).add(noise);

console.log(line);
console.log("Data:");
console.log(line);
console.log(`Samples: ${nSamples}`);
console.log(`True relation: y = ${trueW.toFixed(1)}x + ${trueB.toFixed(1)}`);
console.log(`X range: [${(await item(X.min())).toFixed(2)}, ${(await item(X.max())).toFixed(2)}]`);
console.log(`y range: [${(await item(y.min())).toFixed(2)}, ${(await item(y.max())).toFixed(2)}]`);
console.log(`Noise std: ${(await item(noise.std())).toFixed(3)}`);
console.log(`\nDevice: ${device}`);

// ==================== 1. the model ====================
class LinearRegressionModel extends nn.Module {
  linear = new nn.Linear(1, 1);
  override forward(x: torch.Tensor): torch.Tensor {
    return this.linear(x);
  }
}
const model = new LinearRegressionModel().to(device);
console.log("\nInitial parameters:");
console.log(`weight: ${(await item(model.linear.weight)).toFixed(4)}`);
console.log(`bias: ${(await item(model.linear.bias!)).toFixed(4)}`);

const Xd = X.to(device);
const yd = y.to(device);

// ==================== 2. loss, optimizer, schedule ====================
const criterion = new nn.MSELoss();
const optimizer = new optim.SGD(model.parameters(), { lr: 0.01 });
const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 200, gamma: 0.9 });

// ==================== 3. training: the five steps ====================
console.log(`\n${line}\nTraining...\n${line}`);
const losses: number[] = [];
const weights: number[] = [];
const biases: number[] = [];
for (let epoch = 0; epoch < epochs; epoch++) {
  optimizer.zeroGrad();
  const outputs = model(Xd);
  const loss = criterion(outputs, yd);
  loss.backward();
  optimizer.step();
  scheduler.step();
  losses.push(await item(loss));
  weights.push(await item(model.linear.weight));
  biases.push(await item(model.linear.bias!));
  if ((epoch + 1) % 200 === 0) {
    const lr = scheduler.getLastLr()[0];
    console.log(
      `Epoch [${String(epoch + 1).padStart(4)}/${epochs}], Loss: ${losses[epoch].toFixed(6)}, LR: ${lr.toFixed(5)}, ` +
        `w: ${weights[epoch].toFixed(4)}, b: ${biases[epoch].toFixed(4)}`,
    );
  }
}

// ==================== 4. results ====================
const finalW = weights[weights.length - 1];
const finalB = biases[biases.length - 1];
console.log(`\n${line}\nDone\n${line}`);
console.log(`\nTrue:    y = ${trueW.toFixed(4)}x + ${trueB.toFixed(4)}`);
console.log(`Learned: y = ${finalW.toFixed(4)}x + ${finalB.toFixed(4)}`);
console.log(`Weight error: ${Math.abs(finalW - trueW).toFixed(4)}`);
console.log(`Bias error: ${Math.abs(finalB - trueB).toFixed(4)}`);

// ==================== 5-6. the training figure and the fit ====================
const fig = figure({ figsize: [12, 4] });
const ax1 = fig.subplot(1, 3, 1);
ax1.scatter(X, y, { alpha: 0.5, label: "数据点" });
ax1.plot(X.squeeze(1).sort().values, X.squeeze(1).sort().values.mul(trueW).add(trueB), "r-", {
  linewidth: 3,
  label: `真实: y=${trueW}x+${trueB}`,
});
ax1.setXlabel("X").setYlabel("y").setTitle("原始数据 (y=3x+0.8)").legend().grid(true, { alpha: 0.3 });
const ax2 = fig.subplot(1, 3, 2);
ax2
  .plot(losses)
  .setXlabel("Epoch")
  .setYlabel("Loss (MSE)")
  .setTitle("训练损失曲线")
  .grid(true, { alpha: 0.3 })
  .setYscale("log");
const ax3 = fig.subplot(1, 3, 3);
ax3.plot(weights, { label: "权重 w" }).plot(biases, { label: "偏置 b" });
ax3.axhline(trueW, { color: "r", linestyle: "--", alpha: 0.5, label: "真实 w" });
ax3.axhline(trueB, { color: "g", linestyle: "--", alpha: 0.5, label: "真实 b" });
ax3.setXlabel("Epoch").setYlabel("参数值").setTitle("参数收敛过程").legend().grid(true, { alpha: 0.3 });
fig.tightLayout();
await fig.save(`${values.plots}-training.svg`);

const xRange = torch.linspace(await item(X.min()), await item(X.max()), 100).reshape(-1, 1);
model.eval();
const yFit = await torch.noGrad(() => model(xRange.to(device))).toAsync("cpu");
const fit = figure({ figsize: [10, 6] });
const ax = fit.subplot(1, 1, 1);
ax.scatter(X, y, { alpha: 0.5, label: "数据点" });
ax.plot(xRange, xRange.mul(trueW).add(trueB), "r-", {
  linewidth: 3,
  label: `真实: y=${trueW.toFixed(2)}x+${trueB.toFixed(2)}`,
});
ax.plot(xRange, yFit, "b--", { linewidth: 3, label: `拟合: y=${finalW.toFixed(2)}x+${finalB.toFixed(2)}` });
ax.setXlabel("X")
  .setYlabel("y")
  .setTitle(`线性回归拟合结果 (y=${trueW}x+${trueB})`)
  .legend()
  .grid(true, { alpha: 0.3 });
await fit.save(`${values.plots}-fit.svg`);
console.log(`\nFigures: ${values.plots}-training.svg, ${values.plots}-fit.svg`);

// ==================== 7. parameter analysis ====================
console.log(`\n${line}\nParameters\n${line}`);
model.train();
const dummyLoss = criterion(model(Xd), yd);
dummyLoss.backward();
for (const [name, param] of model.namedParameters()) {
  console.log(`\n${name}:`);
  console.log(`  value: [${Array.from(await param.dataAsync()).join(", ")}]`);
  console.log(`  grad: ${param.grad ? `[${Array.from(await param.grad.dataAsync()).join(", ")}]` : "None"}`);
  console.log(`  requires grad: ${param.requiresGrad}`);
}

// ==================== 8. test predictions ====================
console.log(`\n${line}\nTest predictions\n${line}`);
const testX = torch.tensor([[0.5], [1.0], [1.5], [2.0], [2.5]]).to(device);
model.eval();
const predictions = torch.noGrad(() => model(testX));
const pad = (s: string) => s.padStart(10);
console.log(`${pad("x")} | ${pad("predicted")} | ${pad("true")} | ${pad("error")}`);
console.log("-".repeat(50));
const xs = (await testX.toArrayAsync()) as number[][];
const ps = (await predictions.toArrayAsync()) as number[][];
xs.forEach(([x], i) => {
  const pred = ps[i][0];
  const truth = trueW * x + trueB;
  console.log(
    `${pad(x.toFixed(2))} | ${pad(pred.toFixed(4))} | ${pad(truth.toFixed(4))} | ${pad(Math.abs(pred - truth).toFixed(4))}`,
  );
});
console.log(`\n${line}\nFinal loss: ${losses[losses.length - 1].toFixed(6)}\n${line}`);

report({
  example: "linear-regression",
  device,
  epochs,
  w: r4(finalW),
  b: r4(finalB),
  finalLoss: Math.round(losses[losses.length - 1] * 1e6) / 1e6,
  lr: Math.round(scheduler.getLastLr()[0] * 1e6) / 1e6,
});
