/**
 * Seed 000's homework: replace nn.Linear(1, 1) with a network with a hidden layer,
 * nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 1)), and fit a nonlinear function, y = x^2 + noise
 * (here on x in [-2, 2]). The same loop fits a plain linear model for comparison.
 *
 *   pnpm example nonlinear-regression [-- --device cpu --epochs 2000 --hidden 10]
 */
import * as torch from "cinder";
import { flags, r4, report } from "./lib/cli";

const { nn, optim } = torch;
const { values } = flags({
  epochs: { type: "string", default: "2000" },
  hidden: { type: "string", default: "10" },
});
const device = values.device;
const epochs = Number(values.epochs);
const hidden = Number(values.hidden);

torch.manualSeed(Number(values.seed ?? 42));
const X = torch.rand(200, 1).mul(4).sub(2);
const y = X.pow(2).add(torch.randn(200, 1).mul(0.1));
const Xd = X.to(device);
const yd = y.to(device);

async function fit(model: torch.nn.Module, name: string): Promise<number> {
  model.to(device);
  const criterion = new nn.MSELoss();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 500, gamma: 0.5 });
  let loss = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    optimizer.zeroGrad();
    const l = criterion(model(Xd), yd);
    l.backward();
    optimizer.step();
    scheduler.step();
    if ((epoch + 1) % 500 === 0 || epoch === epochs - 1) {
      loss = (await l.itemAsync()) as number;
      console.log(`[${name}] Epoch [${String(epoch + 1).padStart(4)}/${epochs}], Loss: ${loss.toFixed(6)}`);
    }
  }
  return torch.noGrad(async () => (await criterion(model.eval()(Xd), yd).itemAsync()) as number);
}

const net = new nn.Sequential(new nn.Linear(1, hidden), new nn.ReLU(), new nn.Linear(hidden, 1));
console.log(String(net));
const mse = await fit(net, "hidden layer");
const linearMse = await fit(new nn.Linear(1, 1), "linear");

console.log("\n     x | network | x^2");
const probe = torch.tensor([[-1.5], [-0.5], [0], [0.5], [1.5]]).to(device);
const pred = (await torch.noGrad(() => net(probe)).toArrayAsync()) as number[][];
for (const [i, [x]] of ((await probe.toArrayAsync()) as number[][]).entries()) {
  console.log(`${x.toFixed(2).padStart(6)} | ${pred[i][0].toFixed(4).padStart(7)} | ${(x * x).toFixed(4)}`);
}
console.log(`\nMSE with a hidden layer: ${mse.toFixed(5)}; a straight line: ${linearMse.toFixed(5)}`);
report({
  example: "nonlinear-regression",
  device,
  epochs,
  hidden,
  finalMSE: r4(mse),
  linearMSE: r4(linearMse),
});
