#!/usr/bin/env python3
"""The PyTorch twin of examples/gpt.ts: the same small decoder-only Transformer (token + learned positional
embeddings, pre-norm blocks with causal self-attention and a GELU MLP, final LayerNorm, untied head), random training
windows from the same LCG, AdamW (decay on matrices only), the cosine schedule with warmup through LambdaLR, gradient
clipping, validation batches and top-k sampling, with the same flags and defaults. PyTorch 1.13 has no
scaled_dot_product_attention, so the attention is written out as PyTorch 2.0 defines it.

    /usr/bin/python3 scripts/pytorch/gpt.py [--steps 600 ... --init F]   # trains here; one JSON line
    /usr/bin/python3 scripts/pytorch/gpt.py --compare [--steps 600 ...]  # runs `pnpm example gpt` with the same
        flags, trains here from its initial weights (--save-init), and reports the first 50 steps' losses, both
        validation losses and both frameworks' characters per second (OMP_WAIT_POLICY=PASSIVE, 2 threads)
"""
import seq_common as sc  # first: it sets OMP_WAIT_POLICY=PASSIVE before torch loads
import math  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DEFAULTS = {"steps": "600", "batch-size": "16", "seq-len": "128", "lr": "0.002", "eval-every": "200",
            "eval-batches": "4", "sample-len": "300", "top-k": "10"}
EXTRA = {"n-layer": "4", "n-head": "4", "n-embd": "128", "warmup": "30", "weight-decay": "0.1", "dropout": "0"}


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        self.n_head, self.dropout = n_head, dropout
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in self.qkv(x).split(C, 2))
        # scaled_dot_product_attention(q, k, v, is_causal=True) as PyTorch 2.0 computes it
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        causal = torch.ones(T, T, dtype=torch.bool).triu(1)
        weights = F.dropout(scores.masked_fill(causal, float("-inf")).softmax(-1), self.dropout, self.training)
        return self.proj((weights @ v).transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd),
                                 nn.Dropout(dropout))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab, context, n_layer, n_head, n_embd, dropout):
        super().__init__()
        self.context = context
        self.tok_emb = nn.Embedding(vocab, n_embd)
        self.pos_emb = nn.Embedding(context, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab, bias=False)
        for name, p in self.named_parameters():  # GPT-2's initialisation: N(0, 0.02) weights, zero biases
            if name.endswith(".bias"):
                nn.init.zeros_(p)
            elif p.ndim == 2:
                nn.init.normal_(p, 0, 0.02)

    def forward(self, idx):
        x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1])))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def run(args):
    corpus = sc.Corpus()
    vocab, steps = len(corpus.chars), int(args.steps)
    B, T = int(args.batch_size), int(args.seq_len)
    model = GPT(vocab, T, int(args.n_layer), int(args.n_head), int(args.n_embd), float(args.dropout))
    sc.load_init(model, args.init)
    params = list(model.parameters())
    optimizer = torch.optim.AdamW([
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": float(args.weight_decay)},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ], lr=float(args.lr), betas=(0.9, 0.95))
    warmup = int(args.warmup)

    def cosine_with_warmup(step):  # linear warmup to lr, then a cosine down to lr / 10 at the last step
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1, (step - warmup) / max(1, steps - warmup))
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup)

    def loss_of(logits, y):
        return F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))

    def step(batch, _s):
        x, y, _ = batch
        optimizer.zero_grad()
        loss = loss_of(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), float(args.clip_norm))
        optimizer.step()
        scheduler.step()
        return loss

    lcg = sc.Lcg(int(args.seed))
    val = sc.val_batches(corpus.val, B, T, int(args.eval_batches))
    result = sc.train_steps(
        steps, lambda s: sc.random_batch(corpus.train, B, T, lcg), step,
        lambda: sc.evaluate_loss(model, val, lambda x, y: loss_of(model(x), y)), int(args.eval_every))

    draw, ids = sc.Lcg(int(args.seed) + 1), list(corpus.encode(args.prime))
    model.eval()
    with torch.no_grad():
        for _ in range(int(args.sample_len)):
            logits = model(torch.tensor([ids[-T:]]))[0, -1]
            ids.append(sc.pick_token(logits.tolist(), float(args.temperature), int(args.top_k), draw.uniform()))
    return sc.finish("gpt", args, result, corpus.decode(ids))


if __name__ == "__main__":
    sc.main("gpt", sc.parser("gpt", DEFAULTS, EXTRA), run,
            [*DEFAULTS, *EXTRA, "clip-norm", "temperature", "prime", "seed"])
