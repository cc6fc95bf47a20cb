#!/usr/bin/env python3
"""The PyTorch twin of examples/char-rnn.ts: the same character-level LSTM (embedding -> LSTM -> linear), text split,
truncated-BPTT batches, Adam, gradient clipping, validation batches and sampling, with the same flags and defaults.

    /usr/bin/python3 scripts/pytorch/char_rnn.py [--steps 300 ... --init F]   # trains here; one JSON line
    /usr/bin/python3 scripts/pytorch/char_rnn.py --compare [--steps 300 ...]  # runs `pnpm example char-rnn` with
        the same flags, trains here from its initial weights (--save-init), and reports the first 50 steps' losses,
        both validation losses and both frameworks' characters per second (OMP_WAIT_POLICY=PASSIVE, 2 threads)
"""
import seq_common as sc  # first: it sets OMP_WAIT_POLICY=PASSIVE before torch loads
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DEFAULTS = {"steps": "300", "batch-size": "32", "seq-len": "64", "lr": "0.002", "eval-every": "100",
            "eval-batches": "8", "sample-len": "300", "top-k": "0"}
EXTRA = {"embed": "64", "hidden": "256", "layers": "2", "dropout": "0"}


class CharRNN(nn.Module):
    def __init__(self, vocab, embed_dim, hidden, layers, dropout):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def run(args):
    corpus = sc.Corpus()
    vocab = len(corpus.chars)
    B, T = int(args.batch_size), int(args.seq_len)
    model = CharRNN(vocab, int(args.embed), int(args.hidden), int(args.layers), float(args.dropout))
    sc.load_init(model, args.init)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(args.lr))

    def loss_of(logits, y):
        return F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))

    carried = {"state": None}

    def step(batch, _s):
        x, y, reset = batch
        if reset:
            carried["state"] = None
        optimizer.zero_grad()
        logits, (h, c) = model(x, carried["state"])
        loss = loss_of(logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), float(args.clip_norm))
        optimizer.step()
        carried["state"] = (h.detach(), c.detach())  # truncated BPTT: carry the state, not its graph
        return loss

    val = sc.val_batches(corpus.val, B, T, int(args.eval_batches))
    result = sc.train_steps(
        int(args.steps), lambda s: sc.bptt_batch(corpus.train, B, T, s), step,
        lambda: sc.evaluate_loss(model, val, lambda x, y: loss_of(model(x)[0], y)), int(args.eval_every))

    lcg, out, state = sc.Lcg(int(args.seed) + 1), [], None
    inp = torch.from_numpy(corpus.encode(args.prime)).unsqueeze(0)
    model.eval()
    with torch.no_grad():
        for _ in range(int(args.sample_len)):
            logits, state = model(inp, state)
            i = sc.pick_token(logits[0, -1].tolist(), float(args.temperature), int(args.top_k), lcg.uniform())
            out.append(i)
            inp = torch.tensor([[i]])
    return sc.finish("char-rnn", args, result, args.prime + corpus.decode(out))


if __name__ == "__main__":
    sc.main("char-rnn", sc.parser("char-rnn", DEFAULTS, EXTRA), run,
            [*DEFAULTS, *EXTRA, "clip-norm", "temperature", "prime", "seed"])
