import * as torch from "cinder";

const { nn, optim } = torch;
class SimpleNet extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  fc2 = new nn.Linear(128, 10);
  override forward(x: torch.Tensor) {
    return this.fc2(nn.F.relu(this.fc1(x)));
  }
}
const model = new SimpleNet();
const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const crit = new nn.CrossEntropyLoss();
const x = torch.randn(64, 784);
const y = torch.randint(0, 10, [64]);
for (let w = 0; w < 50; w++) {
  opt.zeroGrad();
  const l = crit(model(x), y);
  l.backward();
  opt.step();
}
const t0 = performance.now();
const N = 300;
for (let i = 0; i < N; i++) {
  opt.zeroGrad();
  const l = crit(model(x), y);
  l.backward();
  opt.step();
  if (i % 100 === 0) l.item();
}
const dt = (performance.now() - t0) / N;
console.log(`step ${dt.toFixed(2)} ms, ${((64 / dt) * 1000).toFixed(0)} samples/s`, torch.memory());
