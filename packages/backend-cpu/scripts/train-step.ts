/**
 * Training-step timing with the WASM matmul kernel off (the JS kernel) and on, interleaved round by round so
 * that machine noise hits both alike; prints the median ms/step of each. From the repository root:
 *
 *   node --conditions=@cinder/source --import tsx packages/backend-cpu/scripts/train-step.ts [mlp|cnn] [rounds]
 *
 * mlp: seed 001's SimpleNet (Linear(784,128)-ReLU-Linear(128,10)), CrossEntropyLoss, SGD with momentum 0.9,
 * batch 64. cnn: examples/mnist-cnn's network with Adam, batch 64.
 */
import * as torch from "../../cinder/src/index";
import { setWasmGemmEnabled } from "../src/wasm/gemm";

const { nn, optim } = torch;
const which = process.argv[2] ?? "mlp";
const rounds = Number(process.argv[3] ?? 7);

class SimpleNet extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  fc2 = new nn.Linear(128, 10);
  override forward(x: torch.Tensor): torch.Tensor {
    return this.fc2(nn.F.relu(this.fc1(x)));
  }
}

function setup(): { step: () => void; steps: number } {
  torch.manualSeed(0);
  const crit = new nn.CrossEntropyLoss();
  const y = torch.randint(0, 10, [64]);
  if (which === "cnn") {
    const model = new nn.Sequential(
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
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = torch.randn(64, 1, 28, 28);
    return { step: () => stepOnce(model, opt, crit, x, y), steps: 4 };
  }
  const model = new SimpleNet();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = torch.randn(64, 784);
  return { step: () => stepOnce(model, opt, crit, x, y), steps: 60 };
}

function stepOnce(
  model: torch.nn.Module,
  opt: torch.optim.Optimizer,
  crit: torch.nn.CrossEntropyLoss,
  x: torch.Tensor,
  y: torch.Tensor,
): void {
  opt.zeroGrad();
  const loss = crit(model(x), y);
  loss.backward();
  opt.step();
  loss.item();
}

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
const { step, steps } = setup();
const times: Record<"js" | "wasm", number[]> = { js: [], wasm: [] };
for (let r = 0; r < rounds; r++) {
  for (const mode of ["js", "wasm"] as const) {
    setWasmGemmEnabled(mode === "wasm");
    for (let i = 0; i < Math.max(2, steps / 5); i++) step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    times[mode].push((performance.now() - t0) / steps);
  }
}
const js = median(times.js);
const wasm = median(times.wasm);
console.log(
  `${which} batch 64, median of ${rounds} rounds: JS kernel ${js.toFixed(2)} ms/step, WASM kernel ${wasm.toFixed(2)} ms/step (${(js / wasm).toFixed(2)}x)`,
);
for (const mode of ["js", "wasm"] as const) {
  const ts = times[mode];
  console.log(
    `  ${`${mode}:`.padEnd(5)} best ${Math.min(...ts).toFixed(2)}; ${ts.map((t) => t.toFixed(2)).join(" ")}`,
  );
}
