/**
 * A small decoder-only Transformer (GPT) on Moby-Dick's characters (examples/text): token and learned positional
 * embeddings, pre-norm blocks (causal self-attention through `F.scaledDotProductAttention`, a GELU MLP), a final
 * LayerNorm and an untied linear head; AdamW (weight decay on the matrices only), a cosine schedule with linear
 * warmup (`LambdaLR`, as PyTorch users write it) and `clipGradNorm_`; then the validation loss, a loss-curve figure
 * and text generated with temperature and top-k. `scripts/pytorch/gpt.py` trains the same model in PyTorch from the
 * same initial weights (`--save-init`) on the same batches (random windows drawn from a seeded LCG).
 *
 *   pnpm example gpt [-- --steps 600 --batch-size 16 --seq-len 128 --n-layer 4 --n-head 4 --n-embd 128
 *                        --lr 0.002 --warmup 30 --weight-decay 0.1 --clip-norm 1 --dropout 0
 *                        --eval-every 200 --eval-batches 4 --sample-len 300 --temperature 0.8 --top-k 10
 *                        --plots examples/out/gpt.svg --save-init F --losses-out F --device cpu|webgpu]
 *
 * Ends with one JSON line: example, device, trainLoss (the last step's), valLoss, samplesPerSec (characters
 * predicted per second of training), sample.
 */
import * as torch from "cinder";
import {
  evaluateLoss,
  finish,
  Lcg,
  loadCorpus,
  lossFigure,
  pickToken,
  randomBatch,
  saveInit,
  seqFlags,
  seqSetup,
  trainSteps,
  valBatches,
} from "./lib/text";

const { nn, optim } = torch;
const F = nn.F;

const opts = seqFlags(
  {
    steps: "600",
    "batch-size": "16",
    "seq-len": "128",
    lr: "0.002",
    "eval-every": "200",
    "eval-batches": "4",
    "sample-len": "300",
    "top-k": "10",
  },
  {
    "n-layer": { type: "string", default: "4" },
    "n-head": { type: "string", default: "4" },
    "n-embd": { type: "string", default: "128" },
    warmup: { type: "string", default: "30" },
    "weight-decay": { type: "string", default: "0.1" },
    dropout: { type: "string", default: "0" },
  },
);
const { values, num } = opts;
const { device, adapter } = await seqSetup(values.device, opts.seed);
const corpus = await loadCorpus();
console.log(
  `text: ${corpus.train.length + corpus.val.length} characters (${corpus.chars.length} distinct), ${corpus.train.length} train / ${corpus.val.length} validation`,
);

interface Config {
  vocab: number;
  context: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  dropout: number;
}

/** Multi-head causal self-attention: one projection to q, k, v, PyTorch 2.0's scaled_dot_product_attention, out. */
class CausalSelfAttention extends nn.Module {
  qkv: torch.nn.Linear;
  proj: torch.nn.Linear;
  constructor(readonly cfg: Config) {
    super();
    this.qkv = new nn.Linear(cfg.nEmbd, 3 * cfg.nEmbd);
    this.proj = new nn.Linear(cfg.nEmbd, cfg.nEmbd);
  }
  override forward(x: torch.Tensor): torch.Tensor {
    const [B, T, C] = x.shape;
    const { nHead } = this.cfg;
    // [B, T, 3C] -> three [B, nHead, T, C / nHead]
    const [q, k, v] = this.qkv(x)
      .split(C, 2)
      .map((t) => t.view(B, T, nHead, C / nHead).transpose(1, 2));
    const dropoutP = this.training ? this.cfg.dropout : 0;
    const y = F.scaledDotProductAttention(q, k, v, { isCausal: true, dropoutP });
    return this.proj(y.transpose(1, 2).reshape(B, T, C));
  }
}

/** A pre-norm block: x + attn(ln1(x)), then x + mlp(ln2(x)). */
class Block extends nn.Module {
  ln1: torch.nn.LayerNorm;
  attn: CausalSelfAttention;
  ln2: torch.nn.LayerNorm;
  mlp: torch.nn.Sequential;
  constructor(cfg: Config) {
    super();
    this.ln1 = new nn.LayerNorm(cfg.nEmbd);
    this.attn = new CausalSelfAttention(cfg);
    this.ln2 = new nn.LayerNorm(cfg.nEmbd);
    this.mlp = new nn.Sequential(
      new nn.Linear(cfg.nEmbd, 4 * cfg.nEmbd),
      new nn.GELU(),
      new nn.Linear(4 * cfg.nEmbd, cfg.nEmbd),
      new nn.Dropout(cfg.dropout),
    );
  }
  override forward(x: torch.Tensor): torch.Tensor {
    x = x.add(this.attn(this.ln1(x)));
    return x.add(this.mlp(this.ln2(x)));
  }
}

/** Token + learned positional embeddings, the blocks, a final LayerNorm and the head over the characters. */
class GPT extends nn.Module {
  tokEmb: torch.nn.Embedding;
  posEmb: torch.nn.Embedding;
  drop: torch.nn.Dropout;
  blocks: torch.nn.ModuleList;
  lnF: torch.nn.LayerNorm;
  head: torch.nn.Linear;
  static override stateNames = { tokEmb: "tok_emb", posEmb: "pos_emb", lnF: "ln_f" };
  constructor(readonly cfg: Config) {
    super();
    this.tokEmb = new nn.Embedding(cfg.vocab, cfg.nEmbd);
    this.posEmb = new nn.Embedding(cfg.context, cfg.nEmbd);
    this.drop = new nn.Dropout(cfg.dropout);
    this.blocks = new nn.ModuleList(Array.from({ length: cfg.nLayer }, () => new Block(cfg)));
    this.lnF = new nn.LayerNorm(cfg.nEmbd);
    this.head = new nn.Linear(cfg.nEmbd, cfg.vocab, { bias: false });
    // GPT-2's initialisation: N(0, 0.02) weights, zero biases
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith(".bias")) nn.init.zeros_(p);
      else if (p.ndim === 2) nn.init.normal_(p, 0, 0.02);
    }
  }
  /** idx [B, T] character ids (T <= context) -> logits [B, T, vocab]. */
  override forward(idx: torch.Tensor): torch.Tensor {
    const T = idx.shape[1];
    if (T > this.cfg.context)
      throw new RangeError(`GPT: sequence of ${T} characters, but the context is ${this.cfg.context}`);
    const pos = torch.arange(T, { dtype: "int32", device: idx.device });
    let x = this.drop(this.tokEmb(idx).add(this.posEmb(pos)));
    for (const block of this.blocks) x = block(x);
    return this.head(this.lnF(x));
  }
}

const cfg: Config = {
  vocab: corpus.chars.length,
  context: opts.seqLen,
  nLayer: num("n-layer", values["n-layer"], true, 1),
  nHead: num("n-head", values["n-head"], true, 1),
  nEmbd: num("n-embd", values["n-embd"], true, 1),
  dropout: num("dropout", values.dropout, false),
};
if (cfg.nEmbd % cfg.nHead !== 0)
  throw new Error(`--n-embd (${cfg.nEmbd}) must be a multiple of --n-head (${cfg.nHead})`);
const model = new GPT(cfg).to(device);
console.log(`GPT: ${cfg.nLayer} layers, ${cfg.nHead} heads, ${cfg.nEmbd} dims, context ${cfg.context}`);
await saveInit(model, values["save-init"]);

// AdamW: weight decay on the matrices (linear weights, embeddings), none on biases and LayerNorm
const params = [...model.parameters()];
const optimizer = new optim.AdamW(
  [
    {
      params: params.filter((p) => p.ndim >= 2),
      weightDecay: num("weight-decay", values["weight-decay"], false),
    },
    { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
  ],
  { lr: opts.lr, betas: [0.9, 0.95] },
);
// linear warmup to lr, then a cosine down to lr / 10 at the last step
const warmup = num("warmup", values.warmup, true);
const cosineWithWarmup = (step: number) => {
  if (step < warmup) return (step + 1) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, opts.steps - warmup));
  return 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress));
};
const scheduler = new optim.LambdaLR(optimizer, cosineWithWarmup);

const lossOf = (logits: torch.Tensor, y: torch.Tensor) =>
  F.crossEntropy(logits.reshape(-1, cfg.vocab), y.reshape(-1));
const lcg = new Lcg(opts.seed);
const val = valBatches(corpus.val, opts.batchSize, opts.seqLen, opts.evalBatches, device);
const result = await trainSteps({
  steps: opts.steps,
  batch: () => randomBatch(corpus.train, opts.batchSize, opts.seqLen, lcg, device),
  step: ({ x, y }) => {
    optimizer.zeroGrad();
    const loss = lossOf(model(x), y);
    loss.backward();
    nn.utils.clipGradNorm_(model.parameters(), opts.clipNorm);
    optimizer.step();
    scheduler.step();
    return loss;
  },
  evaluate: () => evaluateLoss(model, val, (b) => lossOf(model(b.x), b.y)),
  evalEvery: opts.evalEvery,
  progress: opts.progress,
});

/** Generate `n` characters after the prime, each from the logits of the last `context` characters. */
async function generate(prime: string, n: number): Promise<string> {
  const draw = new Lcg(opts.seed + 1);
  const ids = Array.from(corpus.encode(prime));
  model.eval();
  for (let i = 0; i < n; i++) {
    const window = ids.slice(-cfg.context);
    const last = torch.noGrad(() =>
      torch.tidy(() => {
        const idx = torch.tensor([window], { dtype: "int32", device });
        return model(idx).at(0, -1);
      }),
    );
    ids.push(pickToken(await last.dataAsync(), opts.temperature, opts.topK, draw.uniform()));
    last.dispose();
  }
  model.train();
  return corpus.decode(ids);
}

const text = await generate(values.prime, opts.sampleLen);
await lossFigure(values.plots || "examples/out/gpt.svg", "gpt: a small Transformer on Moby-Dick", result);
finish({ example: "gpt", device, adapter, steps: opts.steps, lossesOut: values["losses-out"] }, result, text);
