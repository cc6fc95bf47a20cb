/**
 * Seed 000, method one ("manual transmission"): fit y = 3x + 0.8 with hand-made w and b, the loss written
 * out, gradients from backward(), the update under noGrad, and gradients zeroed by hand.
 *
 *   pnpm example linear-regression-manual [-- --device cpu --epochs 1000]
 */
import * as torch from "cinder";
import { flags, r4, report } from "./lib/cli";

const { values } = flags({ epochs: { type: "string", default: "1000" } });
const device = values.device;
const epochs = Number(values.epochs);
torch.manualSeed(Number(values.seed ?? 0));

// 1. data
const X = torch.rand(100, 1, { device });
const y = X.mul(3)
  .add(0.8)
  .add(torch.randn(100, 1, { device }).mul(0.05));

// 2. parameters, randomly initialised
const w = torch.randn(1, 1, { requiresGrad: true, device });
const b = torch.randn(1, 1, { requiresGrad: true, device });
const learningRate = 0.1;

let loss = torch.tensor(0);
for (let epoch = 0; epoch < epochs; epoch++) {
  // forward
  const yPred = X.matmul(w).add(b);
  // loss (MSE)
  loss = yPred.sub(y).pow(2).mean();
  // backward: fills w.grad and b.grad
  loss.backward();
  // update outside the graph
  torch.noGrad(() => {
    w.sub_(w.grad!.mul(learningRate));
    b.sub_(b.grad!.mul(learningRate));
  });
  // gradients accumulate: zero them before the next step
  w.grad!.zero_();
  b.grad!.zero_();
  if (epoch % 100 === 0) {
    console.log(
      `Epoch ${epoch}: w=${((await w.itemAsync()) as number).toFixed(2)}, b=${((await b.itemAsync()) as number).toFixed(2)}`,
    );
  }
}

const wv = (await w.itemAsync()) as number;
const bv = (await b.itemAsync()) as number;
report({
  example: "linear-regression-manual",
  device,
  epochs,
  w: r4(wv),
  b: r4(bv),
  finalLoss: r4((await loss.itemAsync()) as number),
});
