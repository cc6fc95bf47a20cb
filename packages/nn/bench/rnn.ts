/**
 * The recurrent layers' CPU cost, beside PyTorch's (bench/rnn.py runs the same workload): a 2-layer RNN, LSTM or
 * GRU (128 -> 256) over a sequence of 64 steps and a batch of 32, forward and backward of `output.sum()`. Prints the
 * median wall and CPU time (all threads) of 7 steps after 2 warm-up steps. No assertion: a measurement.
 *
 *   node --conditions=@cinder/source --import tsx packages/nn/bench/rnn.ts            # LSTM
 *   RNN=GRU node --conditions=@cinder/source --import tsx packages/nn/bench/rnn.ts    # or RNN, GRU
 *   RNN=LSTM OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 packages/nn/bench/rnn.py         # PyTorch, 2 threads
 */
import { cpu } from "@cinder/backend-cpu";
import { manualSeed, randn, registerBackend, type Tensor, tidy } from "@cinder/tensor";
import * as nn from "../src";

registerBackend(cpu);
manualSeed(0);
const kind = (process.env.RNN ?? "LSTM") as "RNN" | "LSTM" | "GRU";
const model = new { RNN: nn.RNN, LSTM: nn.LSTM, GRU: nn.GRU }[kind](128, 256, 2) as unknown as nn.Module &
  ((input: Tensor) => [Tensor, unknown]);
const x = randn(64, 32, 128);
const step = () =>
  tidy(() => {
    model.zeroGrad();
    const [out] = model(x);
    out.sum().backward();
    return model.parameters()[0].grad?.data()[0]; // read: everything lazy has run
  });
for (let i = 0; i < 2; i++) step();
const wall: number[] = [];
const cpuMs: number[] = [];
for (let i = 0; i < Number(process.env.N ?? 7); i++) {
  const c = process.cpuUsage();
  const t = performance.now();
  step();
  wall.push(performance.now() - t);
  const d = process.cpuUsage(c);
  cpuMs.push((d.user + d.system) / 1000);
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(
  `cinder ${kind} fwd+bwd: wall median ${median(wall).toFixed(0)} ms (min ${Math.min(...wall).toFixed(0)}), cpu median ${median(cpuMs).toFixed(0)} ms`,
);
