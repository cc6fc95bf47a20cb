"""PyTorch's side of packages/nn/bench/rnn.ts: the same workload (a 2-layer RNN/LSTM/GRU, 128 -> 256, sequence 64,
batch 32, forward and backward of output.sum()) on 2 threads; median wall and CPU time of 7 steps after 2 warm-up.

    RNN=LSTM OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 packages/nn/bench/rnn.py
"""
import os
import time

import torch

torch.set_num_threads(2)
torch.manual_seed(0)
kind = os.environ.get("RNN", "LSTM")
model = getattr(torch.nn, kind)(128, 256, 2)
x = torch.randn(64, 32, 128)


def step():
    model.zero_grad()
    out, _ = model(x)
    out.sum().backward()


for _ in range(2):
    step()
wall, cpu = [], []
for _ in range(int(os.environ.get("N", 7))):
    t, c = time.perf_counter(), time.process_time()
    step()
    wall.append((time.perf_counter() - t) * 1000)
    cpu.append((time.process_time() - c) * 1000)
median = lambda a: sorted(a)[len(a) // 2]  # noqa: E731
print(f"pytorch {kind} fwd+bwd: wall median {median(wall):.0f} ms (min {min(wall):.0f}), cpu median {median(cpu):.0f} ms")
