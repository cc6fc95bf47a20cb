#!/usr/bin/env python3
"""The PyTorch side of the MNIST examples: the same models, hyper-parameters and data as
examples/mnist-mlp.ts and examples/mnist-cnn.ts, for comparing accuracy and samples per second on one machine.

    /usr/bin/python3 scripts/pytorch/mnist.py --model mlp --dataset fashion-mnist --epochs 3
    /usr/bin/python3 scripts/pytorch/mnist.py --model cnn --dataset fashion-mnist --epochs 2
    /usr/bin/python3 scripts/pytorch/mnist.py --model mlp --dataset mnist-sample

Needs Debian's python3-torch (and libopenblas0-pthread for a fair speed baseline). Ends with one JSON line.
"""
import argparse
import gzip
import json
import os
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))
DIRS = {
    "fashion-mnist": "/usr/share/datasets/fashion-mnist",
    "mnist-sample": os.path.join(HERE, "..", "..", "packages", "datasets-mnist", "data"),
}


def read_idx(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            with open(p, "rb") as f:
                data = f.read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            magic, n = struct.unpack(">II", data[:8])
            dims = [n] + [struct.unpack(">I", data[8 + 4 * i:12 + 4 * i])[0] for i in range((magic & 0xFF) - 1)]
            offset = 4 + 4 * len(dims)
            return torch.frombuffer(bytearray(data[offset:]), dtype=torch.uint8).reshape(dims)
    raise FileNotFoundError(path)


def load(dataset, train):
    d = DIRS[dataset]
    prefix = "train" if train else "t10k"
    x = read_idx(os.path.join(d, f"{prefix}-images-idx3-ubyte")).float().div(255).unsqueeze(1)
    x = (x - 0.1307) / 0.3081  # the seed's transform: ToTensor, Normalize((0.1307,), (0.3081,))
    y = read_idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte")).long()
    return TensorDataset(x, y)


class SimpleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.view(-1, 784))))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    ap.add_argument("--dataset", choices=list(DIRS), default="fashion-mnist")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, test = load(args.dataset, True), load(args.dataset, False)
    train_loader = DataLoader(train, batch_size=64, shuffle=True)
    test_loader = DataLoader(test, batch_size=1000)
    model = SimpleNet() if args.model == "mlp" else cnn()
    criterion = nn.CrossEntropyLoss()
    if args.model == "mlp":
        optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        optimizer = optim.Adam(model.parameters(), lr=1e-3)
    samples, start = 0, time.perf_counter()
    for _ in range(args.epochs):
        for data, target in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(data), target)
            loss.backward()
            optimizer.step()
            samples += data.shape[0]
    seconds = time.perf_counter() - start
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            correct += (model(data).argmax(1) == target).sum().item()
    print(json.dumps({
        "example": f"pytorch-mnist-{args.model}", "dataset": args.dataset, "epochs": args.epochs,
        "threads": args.threads, "torch": torch.__version__,
        "testAccuracy": round(correct / len(test), 4), "samplesPerSec": round(samples / seconds),
    }))


if __name__ == "__main__":
    main()
