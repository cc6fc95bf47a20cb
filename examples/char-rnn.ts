/**
 * A character-level LSTM language model on Moby-Dick (examples/text): embedding -> 2-layer LSTM -> linear, trained
 * with truncated backpropagation through time (32 contiguous streams read 64 characters at a time, the hidden state
 * carried from one chunk to the next and detached), Adam and gradient clipping; then the validation loss, a
 * loss-curve figure and text sampled with a temperature. `scripts/pytorch/char_rnn.py` trains the same model in
 * PyTorch from the same initial weights (`--save-init`) on the same batches.
 *
 *   pnpm example char-rnn [-- --steps 300 --batch-size 32 --seq-len 64 --embed 64 --hidden 256 --layers 2
 *                             --lr 0.002 --clip-norm 1 --dropout 0 --eval-every 100 --eval-batches 8
 *                             --sample-len 300 --temperature 0.8 --top-k 0 --prime "Call me "
 *                             --plots examples/out/char-rnn.svg --save-init F --losses-out F --device cpu]
 *
 * Ends with one JSON line: example, device, trainLoss (the last step's), valLoss, samplesPerSec (characters
 * predicted per second of training), sample.
 */
import * as torch from "cinder";
import {
  type Batch,
  bpttBatch,
  evaluateLoss,
  finish,
  Lcg,
  loadCorpus,
  lossFigure,
  pickToken,
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
    steps: "300",
    "batch-size": "32",
    "seq-len": "64",
    lr: "0.002",
    "eval-every": "100",
    "eval-batches": "8",
    "sample-len": "300",
    "top-k": "0",
  },
  {
    embed: { type: "string", default: "64" },
    hidden: { type: "string", default: "256" },
    layers: { type: "string", default: "2" },
    dropout: { type: "string", default: "0" },
  },
);
const { values, num } = opts;
const { device, adapter } = await seqSetup(values.device, opts.seed);
const corpus = await loadCorpus();
console.log(
  `text: ${corpus.train.length + corpus.val.length} characters (${corpus.chars.length} distinct), ${corpus.train.length} train / ${corpus.val.length} validation`,
);

type State = [torch.Tensor, torch.Tensor];

/** Embedding -> LSTM (batch first) -> linear over the characters. */
class CharRNN extends nn.Module {
  embed: torch.nn.Embedding;
  lstm: torch.nn.LSTM;
  head: torch.nn.Linear;
  constructor(vocab: number, embedDim: number, hidden: number, layers: number, dropout: number) {
    super();
    this.embed = new nn.Embedding(vocab, embedDim);
    this.lstm = new nn.LSTM(embedDim, hidden, layers, { batchFirst: true, dropout });
    this.head = new nn.Linear(hidden, vocab);
  }
  /** x [B, T] character ids -> logits [B, T, vocab] and the LSTM's final [h, c]. */
  override forward(x: torch.Tensor, state?: State | null): [torch.Tensor, State] {
    const [out, next] = this.lstm(this.embed(x), state);
    return [this.head(out), next];
  }
}

const vocab = corpus.chars.length;
const model = new CharRNN(
  vocab,
  num("embed", values.embed, true, 1),
  num("hidden", values.hidden, true, 1),
  num("layers", values.layers, true, 1),
  num("dropout", values.dropout, false),
).to(device);
console.log(String(model));
await saveInit(model, values["save-init"]);

const optimizer = new optim.Adam(model.parameters(), { lr: opts.lr });
const lossOf = (logits: torch.Tensor, y: torch.Tensor) =>
  F.crossEntropy(logits.reshape(-1, vocab), y.reshape(-1));

let state: State | null = null;
const dropState = () => {
  for (const t of state ?? []) t.dispose();
  state = null;
};
const val = valBatches(corpus.val, opts.batchSize, opts.seqLen, opts.evalBatches, device);
const result = await trainSteps({
  steps: opts.steps,
  batch: (s) => bpttBatch(corpus.train, opts.batchSize, opts.seqLen, s, device),
  step: ({ x, y, reset }: Batch) => {
    if (reset) dropState();
    optimizer.zeroGrad();
    const [logits, [h, c]] = model(x, state);
    const loss = lossOf(logits, y);
    loss.backward();
    nn.utils.clipGradNorm_(model.parameters(), opts.clipNorm);
    optimizer.step();
    dropState();
    state = [torch.keep(h.detach()), torch.keep(c.detach())]; // truncated BPTT: carry the state, not its graph
    return loss;
  },
  evaluate: () => evaluateLoss(model, val, (b) => lossOf(model(b.x)[0], b.y)),
  evalEvery: opts.evalEvery,
  progress: opts.progress,
});
dropState();

/** Feed the prime, then draw `n` characters one at a time, carrying the LSTM's state. */
async function sample(prime: string, n: number): Promise<string> {
  const lcg = new Lcg(opts.seed + 1);
  const out: number[] = [];
  let input = torch.fromTypedArray(corpus.encode(prime), [1, prime.length]).to(device);
  let s: State | null = null;
  model.eval();
  for (let i = 0; i < n; i++) {
    const [last, next] = torch.noGrad(() =>
      torch.tidy(() => {
        const [logits, st] = model(input, s);
        return [logits.at(0, -1), st] as const;
      }),
    );
    const id = pickToken(await last.dataAsync(), opts.temperature, opts.topK, lcg.uniform());
    for (const t of [last, input, ...(s ?? [])]) t.dispose();
    s = next;
    out.push(id);
    input = torch.tensor([[id]], { dtype: "int32", device });
  }
  for (const t of [input, ...(s ?? [])]) t.dispose();
  model.train();
  return prime + corpus.decode(out);
}

const text = await sample(values.prime, opts.sampleLen);
const plots = values.plots || "examples/out/char-rnn.svg";
await lossFigure(plots, "char-rnn: LSTM on Moby-Dick", result);
finish(
  { example: "char-rnn", device, adapter, steps: opts.steps, lossesOut: values["losses-out"] },
  result,
  text,
);
