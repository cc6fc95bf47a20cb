#!/usr/bin/python3
"""PyTorch peer of Cinder's benchmark harness (bench/src/peers/pytorch.ts starts it).

Speaks the JSON-lines protocol described in bench/src/peers/remote.ts (check, prepare, run, dispose, quit), so
that its timings interleave with the JavaScript peers'. Timing is taken here (time.perf_counter around the
loop), so pipe latency is not counted. The first line written is {"ready": true, "notes": [...], "torch": ...}.

    /usr/bin/python3 bench/pytorch_bench.py [--threads N]    (default 2; the harness's pytorch1 column runs 1)
"""

import base64
import json
import os
import sys
import time

try:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
except Exception as e:  # noqa: BLE001 - any import failure means "no PyTorch peer"
    print(json.dumps({"error": f"cannot import torch: {e}"}), flush=True)
    sys.exit(0)

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
torch.set_num_threads(THREADS)
torch.manual_seed(0)


def blas_library():
    """The BLAS shared object actually mapped into this process (torch 1.13 on Debian reports 'generic')."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    found = set()
    try:
        with open("/proc/self/maps", encoding="utf8") as maps:
            for line in maps:
                path = line.split()[-1]
                if "blas" in path or "mkl" in path:
                    found.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(found)


def decode(spec):
    raw = base64.b64decode(spec["b64"])
    dtype = {"float32": torch.float32, "int32": torch.int32}[spec["dtype"]]
    t = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(spec["shape"])
    return t.long() if dtype == torch.int32 else t.clone()


def encode(t):
    return base64.b64encode(t.detach().contiguous().float().numpy().tobytes()).decode("ascii")


def load_(param, value):
    with torch.no_grad():
        param.copy_(value)


def mlp_model(inp):
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    for name, key in (("0.weight", "w1"), ("0.bias", "b1"), ("2.weight", "w2"), ("2.bias", "b2")):
        load_(model.get_parameter(name), inp[key])
    return model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def cnn_model(inp):
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    names = {"0": "c1", "3": "c2", "7": "f1", "9": "f2"}
    for idx, key in names.items():
        load_(model.get_parameter(f"{idx}.weight"), inp[f"{key}w"])
        load_(model.get_parameter(f"{idx}.bias"), inp[f"{key}b"])
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def train_step_fn(model, opt, x, y):
    criterion = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def epoch_fn(task, inp):
    """One epoch of scripts/pytorch/mnist.py's loop over a DataLoader, reading each loss (as Cinder's loop does)."""
    model, opt = (mlp_model if task["model"] == "mlp" else cnn_model)(inp)
    loader = DataLoader(TensorDataset(inp["x"], inp["y"]), batch_size=task["n"], shuffle=task.get("shuffle", False))
    criterion = nn.CrossEntropyLoss()
    flatten = task["model"] == "mlp"

    def epoch():
        losses = []
        for data, target in loader:
            if flatten:
                data = data.view(-1, 784)
            opt.zero_grad()
            loss = criterion(model(data), target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    return epoch


def add_fn(task, inp):
    """The plain loop `c = a + b`, task["ops"] times; each result is freed when the next replaces it."""
    a, b = inp["a"], inp["b"]
    if task.get("grad"):
        a.requires_grad_()
        b.requires_grad_()
    ops = range(task.get("ops", 1))

    def step():
        for _ in ops:
            c = a + b
        return c

    return step


def make(task, inp):
    """Returns (step, result): step() runs one iteration; result(step_outputs) is what check compares."""
    w = task["workload"]
    if w == "matmul":
        a, b = inp["a"], inp["b"]
        return lambda: torch.mm(a, b)
    if w == "elementwise":
        x = inp["x"]
        return lambda: torch.relu(x * 2 + 1).sum().item()
    if w == "add":
        return add_fn(task, inp)
    if w == "e2e":
        return epoch_fn(task, inp)
    if w in ("mlp", "cnn"):
        model, opt = (mlp_model if w == "mlp" else cnn_model)(inp)
        step = train_step_fn(model, opt, inp["x"], inp["y"])
        return lambda: step().item()
    raise ValueError(f"unknown workload {w!r}")


def check(task, inp):
    step = make(task, inp)
    if task["workload"] in ("matmul", "add"):
        return step()
    if task["workload"] in ("elementwise", "e2e"):
        return torch.tensor(step())
    return torch.tensor([step() for _ in range(task.get("checkSteps", 3))])


def main():
    blas = ", ".join("/".join(p.split("/")[-2:]) for p in blas_library()) or "none found"
    env = ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    note = (
        f"PyTorch {torch.__version__} (Python {sys.version.split()[0]}), {torch.get_num_threads()} thread(s), "
        f"{env}, BLAS: {blas}"
    )
    print(json.dumps({"ready": True, "notes": [note], "torch": torch.__version__, "threads": THREADS}), flush=True)
    prepared = None
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        try:
            if cmd == "quit":
                break
            if cmd == "check":
                inp = {k: decode(v) for k, v in msg["inputs"].items()}
                reply = {"out": encode(check(msg["task"], inp))}
            elif cmd == "prepare":
                inp = {k: decode(v) for k, v in msg["inputs"].items()}
                prepared = make(msg["task"], inp)
                reply = {"ok": True}
            elif cmd == "run":
                n = int(msg["iters"])
                t0 = time.perf_counter()
                for _ in range(n):
                    prepared()
                reply = {"ms": (time.perf_counter() - t0) * 1000 / n}
            elif cmd == "dispose":
                prepared = None
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown command {cmd!r}"}
        except Exception as e:  # noqa: BLE001 - reported to the harness, which skips the peer for this task
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
