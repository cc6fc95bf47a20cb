"""What scripts/pytorch/char_rnn.py and gpt.py share, written after examples/lib/text.ts so both frameworks see the
same text split, the same batches in the same order (a seeded LCG, not a framework RNG) and sample the same way;
Cinder's initial weights read with scripts/fixtures/safetensors_spec.py; the training loop; and the `--compare` mode, which runs the
Cinder example with the same flags, trains here from its initial weights, and reports both.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
from safetensors_spec import load_file  # noqa: E402
TEXT_FILE = os.path.join(ROOT, "examples", "text", "moby-dick.txt")


class Corpus:
    """The text as character ids (vocabulary: its distinct characters in code-point order); 90 % train, 10 % val."""

    def __init__(self, path=TEXT_FILE, val_fraction=0.1):
        with open(path, encoding="utf8") as f:
            text = f.read()
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}
        ids = self.encode(text)
        n_val = int(len(ids) * val_fraction)
        self.train, self.val = ids[: len(ids) - n_val], ids[len(ids) - n_val :]

    def encode(self, s):
        return np.array([self.index[c] for c in s], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


class Lcg:
    """The 32-bit LCG of examples/lib/text.ts (Numerical Recipes' constants)."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next(self):
        self.state = (self.state * 1664525 + 1013904223) & 0xFFFFFFFF
        return self.state

    def below(self, n):
        return (self.next() * n) >> 32

    def uniform(self):
        return self.next() / 4294967296


def windows(data, starts, T, reset=False):
    x = np.stack([data[s : s + T] for s in starts])
    y = np.stack([data[s + 1 : s + T + 1] for s in starts])
    return torch.from_numpy(x), torch.from_numpy(y), reset


def random_batch(data, B, T, lcg):
    return windows(data, [lcg.below(len(data) - T) for _ in range(B)], T)


def bptt_batch(data, B, T, step):
    stream_len = (len(data) - 1) // B
    chunks = stream_len // T
    c = step % chunks
    return windows(data, [b * stream_len + c * T for b in range(B)], T, c == 0)


def val_batches(data, B, T, max_batches):
    n = min(max_batches, (len(data) - 1) // (B * T))
    return [windows(data, [(i * B + b) * T for b in range(B)], T) for i in range(n)]


def pick_token(logits, temperature, top_k, u):
    """examples/lib/text.ts's pickToken: top-k of logits / temperature, softmax, inverse CDF at u."""
    logits = [float(v) for v in logits]
    order = sorted(range(len(logits)), key=lambda i: -logits[i])
    kept = order[:top_k] if top_k > 0 else order
    top = logits[kept[0]] / temperature
    weights = [math.exp(logits[i] / temperature - top) for i in kept]
    target = u * sum(weights)
    for j, w in enumerate(weights):
        target -= w
        if target < 0:
            return kept[j]
    return kept[-1]


def parser(example, defaults, extra):
    """The flags of examples/lib/text.ts's seqFlags with the example's defaults, plus its own and --compare."""
    ap = argparse.ArgumentParser(description=f"PyTorch twin of examples/{example}.ts")
    for name, value in {**defaults, **extra}.items():
        ap.add_argument(f"--{name}", default=value)
    for name, value in {"clip-norm": "1", "temperature": "0.8", "prime": "Call me ", "seed": "0"}.items():
        ap.add_argument(f"--{name}", default=value)
    ap.add_argument("--init", default="", help="initial weights: a safetensors file Cinder wrote (--save-init)")
    ap.add_argument("--losses-out", default="")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compare", action="store_true", help="run the Cinder example too and compare")
    return ap


def load_init(model, path):
    if path:
        model.load_state_dict(load_file(path), strict=True)


def evaluate_loss(model, batches, loss_of):
    model.eval()
    with torch.no_grad():
        total = sum(loss_of(x, y).item() for x, y, _ in batches)
    model.train()
    return total / len(batches)


def train_steps(steps, batch, step, evaluate, eval_every):
    """examples/lib/text.ts's trainSteps: losses per step, validation curve, characters per second of training."""
    losses, val, chars, seconds = [], [], 0, 0.0
    for s in range(steps):
        t0 = time.perf_counter()
        b = batch(s)
        loss = step(b, s).item()
        seconds += time.perf_counter() - t0
        chars += b[0].numel()
        losses.append(loss)
        if (eval_every > 0 and (s + 1) % eval_every == 0) or s + 1 == steps:
            v = evaluate()
            val.append([s + 1, v])
            print(f"step {s + 1}/{steps}: train loss {loss:.4f}, val loss {v:.4f}", file=sys.stderr)
    if steps == 0:
        val.append([0, evaluate()])
    return {"losses": losses, "val": val, "charsPerSec": chars / seconds if seconds else 0}


def finish(example, args, result, sample):
    if args.losses_out:
        with open(args.losses_out, "w") as f:
            json.dump({"losses": result["losses"], "val": result["val"]}, f)
    return {
        "example": f"pytorch-{example}", "device": "cpu", "threads": args.threads, "torch": torch.__version__,
        "steps": int(args.steps), "trainLoss": round(result["losses"][-1], 4) if result["losses"] else None,
        "valLoss": round(result["val"][-1][1], 4), "samplesPerSec": round(result["charsPerSec"]),
        "samplesUnit": "characters", "sample": sample,
    }


def cinder_flags(args, names):
    out = []
    for name in names:
        out += [f"--{name}", str(getattr(args, name.replace("-", "_")))]
    return out


def main(example, ap, run, flag_names):
    """Parse, then either train here (`run(args)` returns the JSON fields) or, with --compare, run both and compare."""
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(int(args.seed))
    if not args.compare:
        print(json.dumps(run(args)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        init, cinder_losses = os.path.join(tmp, "init.safetensors"), os.path.join(tmp, "cinder.json")
        cmd = ["node", os.path.join(ROOT, "scripts", "example.mjs"), example, "--"]
        cmd += cinder_flags(args, flag_names) + ["--save-init", init, "--losses-out", cinder_losses]
        cmd += ["--progress", "off", "--plots", os.path.join(tmp, f"{example}.svg")]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"the Cinder example failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        cinder = json.loads(proc.stdout.strip().split("\n")[-1])
        args.init, args.losses_out = init, os.path.join(tmp, "pytorch.json")
        pytorch = run(args)
        with open(cinder_losses) as f:
            c = json.load(f)
        with open(args.losses_out) as f:
            p = json.load(f)
    n = min(50, len(c["losses"]))
    diffs = [abs(a - b) / abs(b) for a, b in zip(c["losses"][:n], p["losses"][:n])]
    val_rel = abs(c["val"][-1][1] - p["val"][-1][1]) / p["val"][-1][1]
    print(json.dumps({
        "example": f"compare-{example}", "steps": int(args.steps), "comparedSteps": n,
        "maxRelDiffFirstSteps": max(diffs) if diffs else 0.0,
        "cinderLosses": c["losses"][:n], "pytorchLosses": p["losses"][:n],
        "cinderValLoss": c["val"][-1][1], "pytorchValLoss": p["val"][-1][1], "valRelDiff": val_rel,
        "cinderSamplesPerSec": cinder["samplesPerSec"], "pytorchSamplesPerSec": pytorch["samplesPerSec"],
        "samplesUnit": "characters", "cinderSample": cinder["sample"], "pytorchSample": pytorch["sample"],
    }))
