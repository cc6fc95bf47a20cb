/**
 * The first seed tutorial's three-panel figure (linear regression y = 3x + 0.8), written the way a Cinder
 * example ports it: data as [N, 1] tensors, histories as JS arrays, gradient descent done by hand.
 */
import { manualSeed, randn, type Tensor } from "@cinder/tensor";
import { type Figure, figure } from "../src/index";

export interface SeedRun {
  X: Tensor;
  y: Tensor;
  line: Tensor;
  losses: number[];
  weights: number[];
  biases: number[];
}

export function seedRun(epochs = 2000): SeedRun {
  manualSeed(42);
  const n = 100;
  const X = randn(n, 1).mul(2);
  const noise = randn(n, 1).mul(0.2);
  const y = X.mul(3).add(0.8).add(noise);
  const xs = X.data();
  const ys = y.data();
  let w = 0.4801;
  let b = 0.8415;
  let lr = 0.01;
  const losses: number[] = [];
  const weights: number[] = [];
  const biases: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    let loss = 0;
    let gw = 0;
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const e = w * xs[i] + b - ys[i];
      loss += e * e;
      gw += 2 * e * xs[i];
      gb += 2 * e;
    }
    w -= (lr * gw) / n;
    b -= (lr * gb) / n;
    if ((epoch + 1) % 200 === 0) lr *= 0.9;
    losses.push(loss / n);
    weights.push(w);
    biases.push(b);
  }
  return { X, y, line: X.mul(3).add(0.8), losses, weights, biases };
}

export function seedFigure(run: SeedRun = seedRun()): Figure {
  const fig = figure({ figsize: [12, 4] });
  const ax1 = fig.subplot(1, 3, 1);
  ax1.scatter(run.X, run.y, { alpha: 0.5, label: "数据点" });
  ax1.plot(run.X, run.line, "r-", { linewidth: 3, label: "真实: y=3x+0.8" });
  ax1.setXlabel("X").setYlabel("y").setTitle("原始数据 (y=3x+0.8)").legend().grid(true, { alpha: 0.3 });

  const ax2 = fig.subplot(1, 3, 2);
  ax2.plot(run.losses);
  ax2
    .setXlabel("Epoch")
    .setYlabel("Loss (MSE)")
    .setTitle("训练损失曲线")
    .grid(true, { alpha: 0.3 })
    .setYscale("log");

  const ax3 = fig.subplot(1, 3, 3);
  ax3.plot(run.weights, { label: "权重 w" });
  ax3.plot(run.biases, { label: "偏置 b" });
  ax3.axhline(3, { color: "r", linestyle: "--", alpha: 0.5, label: "真实 w" });
  ax3.axhline(0.8, { color: "g", linestyle: "--", alpha: 0.5, label: "真实 b" });
  ax3.setXlabel("Epoch").setYlabel("参数值").setTitle("参数收敛过程").legend().grid(true, { alpha: 0.3 });
  fig.tightLayout();
  return fig;
}
