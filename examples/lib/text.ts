/**
 * What the sequence-model examples (`char-rnn`, `gpt`) share: the text and its characters, a train/validation
 * split, deterministic batches (a seeded LCG that `scripts/pytorch/seq_common.py` computes identically, so both
 * frameworks see the same batches in the same order), the training loop with progress, validation, sampling with
 * temperature and top-k, the loss-curve figure and the closing JSON line.
 */
import { writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { figure } from "@cinder/viz";
import * as torch from "cinder";
import { flags, r4, report, useDevice } from "./cli";
import { PROGRESS_MODES, type ProgressMode, TrainingProgress } from "./progress";

/** Moby-Dick, chapters 1-41 (see examples/text/README.md). */
export const TEXT_FILE = "examples/text/moby-dick.txt";

/** The text as character ids: the vocabulary is its distinct characters in code-point order (as Python's sorted(set(text))). */
export interface Corpus {
  chars: string[];
  train: Int32Array;
  val: Int32Array;
  encode(s: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
}

/** Read the text and split it: the first 90 % trains, the last 10 % validates. */
export async function loadCorpus(path = TEXT_FILE, valFraction = 0.1): Promise<Corpus> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(path, "utf8");
  const chars = [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const index = new Map(chars.map((c, i) => [c, i]));
  const encode = (s: string) =>
    Int32Array.from(s, (c) => {
      const i = index.get(c);
      if (i === undefined) throw new Error(`character ${JSON.stringify(c)} is not in the text's vocabulary`);
      return i;
    });
  const ids = encode(text);
  const nVal = Math.floor(ids.length * valFraction);
  return {
    chars,
    train: ids.subarray(0, ids.length - nVal),
    val: ids.subarray(ids.length - nVal),
    encode,
    decode: (ids) => Array.from(ids, (i) => chars[i]).join(""),
  };
}

/** A 32-bit linear congruential generator (Numerical Recipes' constants), written the same way in Python. */
export class Lcg {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** The next state, an integer in [0, 2^32). */
  next(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state;
  }
  /** An integer in [0, n): floor(state * n / 2^32) (exact: n < 2^21). */
  below(n: number): number {
    return Math.floor((this.next() * n) / 4294967296);
  }
  /** A float in [0, 1). */
  uniform(): number {
    return this.next() / 4294967296;
  }
}

/** A batch of B windows of T characters: inputs x [B, T] and targets y [B, T] (x shifted by one). */
export interface Batch {
  x: torch.Tensor;
  y: torch.Tensor;
  /** BPTT batches: the streams start over here, so the carried hidden state is reset. */
  reset: boolean;
}

function windows(data: Int32Array, starts: number[], T: number, device: string, reset = false): Batch {
  const B = starts.length;
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  starts.forEach((s, b) => {
    x.set(data.subarray(s, s + T), b * T);
    y.set(data.subarray(s + 1, s + T + 1), b * T);
  });
  return {
    x: torch.fromTypedArray(x, [B, T]).to(device),
    y: torch.fromTypedArray(y, [B, T]).to(device),
    reset,
  };
}

/** B windows at random starts drawn from `lcg` (the GPT's batches). */
export function randomBatch(data: Int32Array, B: number, T: number, lcg: Lcg, device: string): Batch {
  const starts = Array.from({ length: B }, () => lcg.below(data.length - T));
  return windows(data, starts, T, device);
}

/**
 * Truncated-BPTT batches (the LSTM's): the data cut into B contiguous streams, read T characters at a time, so that
 * row b of step s + 1 continues row b of step s and the hidden state carries over; `reset` when the streams wrap.
 */
export function bpttBatch(data: Int32Array, B: number, T: number, step: number, device: string): Batch {
  const streamLen = Math.floor((data.length - 1) / B);
  const chunks = Math.floor(streamLen / T);
  if (chunks < 1) throw new Error(`the text is too short for ${B} streams of ${T} characters`);
  const c = step % chunks;
  const starts = Array.from({ length: B }, (_, b) => b * streamLen + c * T);
  return windows(data, starts, T, device, c === 0);
}

/** Validation batches: consecutive non-overlapping windows from the start of the split, at most `max` batches. */
export function valBatches(data: Int32Array, B: number, T: number, max: number, device: string): Batch[] {
  const n = Math.min(max, Math.floor((data.length - 1) / (B * T)));
  if (n < 1) throw new Error(`the validation text is too short for one batch of ${B} x ${T} characters`);
  return Array.from({ length: n }, (_, i) =>
    windows(
      data,
      Array.from({ length: B }, (_, b) => (i * B + b) * T),
      T,
      device,
    ),
  );
}

/**
 * Pick a character from a row of logits: divided by `temperature`, cut to the `topK` largest (0: all), softmax,
 * then the inverse of the cumulative distribution at `u` in [0, 1).
 */
export function pickToken(logits: ArrayLike<number>, temperature: number, topK: number, u: number): number {
  const order = Array.from(logits, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
  const kept = topK > 0 ? order.slice(0, topK) : order;
  const top = logits[kept[0]] / temperature;
  const weights = kept.map((i) => Math.exp(logits[i] / temperature - top));
  let target = u * weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < kept.length; j++) {
    target -= weights[j];
    if (target < 0) return kept[j];
  }
  return kept[kept.length - 1];
}

type SeqFlag =
  | "steps"
  | "batch-size"
  | "seq-len"
  | "lr"
  | "clip-norm"
  | "eval-every"
  | "eval-batches"
  | "sample-len"
  | "temperature"
  | "top-k"
  | "prime"
  | "plots"
  | "save-init"
  | "losses-out"
  | "progress";

/** The flags both examples take, their defaults given by the example, plus its own. */
export function seqFlags<T extends Record<string, { type: "string"; default: string }>>(
  defaults: Record<
    "steps" | "batch-size" | "seq-len" | "lr" | "eval-every" | "eval-batches" | "sample-len" | "top-k",
    string
  >,
  extra: T,
) {
  const parsed = flags({
    steps: { type: "string", default: defaults.steps },
    "batch-size": { type: "string", default: defaults["batch-size"] },
    "seq-len": { type: "string", default: defaults["seq-len"] },
    lr: { type: "string", default: defaults.lr },
    "clip-norm": { type: "string", default: "1" },
    "eval-every": { type: "string", default: defaults["eval-every"] },
    "eval-batches": { type: "string", default: defaults["eval-batches"] },
    "sample-len": { type: "string", default: defaults["sample-len"] },
    temperature: { type: "string", default: "0.8" },
    "top-k": { type: "string", default: defaults["top-k"] },
    prime: { type: "string", default: "Call me " },
    plots: { type: "string", default: "" },
    "save-init": { type: "string", default: "" },
    "losses-out": { type: "string", default: "" },
    progress: { type: "string", default: "auto" },
    ...extra,
  });
  // every flag here is a string (the mapped type cannot see that through the spread of T)
  const values = parsed.values as unknown as Record<SeqFlag | keyof T, string> & {
    device: string;
    seed?: string;
  };
  /** A flag's number: an integer or any number, at least `min` (above it when `open`). */
  const num = (name: string, v: string, integer: boolean, min = 0, open = false) => {
    const x = Number(v);
    if (!Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < min || (open && x === min)) {
      const what = integer ? "an integer" : "a number";
      throw new Error(`--${name} must be ${what} ${open ? ">" : ">="} ${min}; got "${v}"`);
    }
    return x;
  };
  const progress = values.progress as ProgressMode | "auto";
  if (!PROGRESS_MODES.includes(progress))
    throw new Error(`--progress must be ${PROGRESS_MODES.join(", ")}; got "${values.progress}"`);
  return {
    values,
    num,
    steps: num("steps", values.steps, true),
    batchSize: num("batch-size", values["batch-size"], true, 1),
    seqLen: num("seq-len", values["seq-len"], true, 1),
    lr: num("lr", values.lr, false),
    clipNorm: num("clip-norm", values["clip-norm"], false),
    evalEvery: num("eval-every", values["eval-every"], true),
    evalBatches: num("eval-batches", values["eval-batches"], true, 1),
    sampleLen: num("sample-len", values["sample-len"], true),
    temperature: num("temperature", values.temperature, false, 0, true),
    topK: num("top-k", values["top-k"], true),
    seed: Number(values.seed ?? 0),
    progress,
  };
}

/** Pick the device, seed the generator and print what runs where. */
export async function seqSetup(device: string, seed: number): Promise<{ device: string; adapter: string }> {
  const adapter = await useDevice(device);
  if (adapter !== "cpu") console.log(`device: ${device} (${adapter})`);
  torch.manualSeed(seed);
  return { device: adapter === "cpu" ? "cpu" : device, adapter };
}

/** Write the model's initial state dict (for the PyTorch twin, `--save-init`). */
export async function saveInit(model: torch.nn.Module, path: string): Promise<void> {
  if (!path) return;
  await mkdir(dirname(path), { recursive: true });
  const tensors: Record<string, torch.Tensor> = {};
  for (const [name, t] of model.stateDict()) tensors[name] = await t.toAsync("cpu");
  await torch.nn.saveSafetensors(tensors, path);
}

/** The mean loss of `lossOf` over the validation batches, in evaluation mode without gradients. */
export async function evaluateLoss(
  model: torch.nn.Module,
  batches: Batch[],
  lossOf: (b: Batch) => torch.Tensor,
): Promise<number> {
  model.eval();
  let total = 0;
  for (const b of batches) {
    const loss = torch.noGrad(() => torch.tidy(() => lossOf(b)));
    total += (await loss.itemAsync()) as number;
    loss.dispose();
  }
  model.train();
  return total / batches.length;
}

/** What a training run gives: the loss of each step, the validation curve, and its characters per second. */
export interface TrainResult {
  losses: number[];
  val: [step: number, loss: number][];
  charsPerSec: number;
}

/**
 * `steps` training steps: `batch(step)` then `step(batch)` inside `torch.tidy` (it returns the loss; state it
 * carries to the next step it must `keep`), the loss read with `itemAsync`, the batch disposed. The validation
 * loss every `evalEvery` steps and at the end (its time is not counted in the rate). Progress on stderr.
 */
export async function trainSteps(opts: {
  steps: number;
  batch: (step: number) => Batch;
  step: (b: Batch, step: number) => torch.Tensor;
  evaluate: () => Promise<number>;
  evalEvery: number;
  progress: ProgressMode | "auto";
}): Promise<TrainResult> {
  const { steps } = opts;
  const progress = new TrainingProgress({
    epochs: 1,
    batchesPerEpoch: Math.max(1, steps),
    mode: opts.progress,
    every: Math.max(1, Math.round(steps / 10)),
  });
  const losses: number[] = [];
  const val: [number, number][] = [];
  let chars = 0;
  let ms = 0;
  progress.startEpoch(0);
  try {
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      const b = opts.batch(s);
      const loss = torch.tidy(() => opts.step(b, s));
      const value = (await loss.itemAsync()) as number;
      loss.dispose();
      b.x.dispose();
      b.y.dispose();
      ms += performance.now() - t0;
      chars += b.x.numel();
      losses.push(value);
      progress.step(b.x.shape[0], value);
      if ((opts.evalEvery > 0 && (s + 1) % opts.evalEvery === 0) || s + 1 === steps) {
        const v = await opts.evaluate();
        val.push([s + 1, v]);
        progress.log(`step ${s + 1}/${steps}: train loss ${value.toFixed(4)}, val loss ${v.toFixed(4)}`);
      }
    }
    progress.endEpoch();
  } finally {
    progress.stop();
  }
  if (steps === 0) val.push([0, await opts.evaluate()]);
  return { losses, val, charsPerSec: ms > 0 ? (chars / ms) * 1000 : 0 };
}

/** The loss curves (training loss per step, validation loss at its steps) as an SVG figure. */
export async function lossFigure(path: string, title: string, result: TrainResult): Promise<void> {
  const fig = figure({ figsize: [8, 4.5] });
  const ax = fig.subplot(1, 1, 1);
  const steps = result.losses.map((_, i) => i + 1);
  ax.plot(steps, result.losses, { label: "train", alpha: 0.7 });
  ax.plot(
    result.val.map(([s]) => s),
    result.val.map(([, v]) => v),
    { label: "validation", color: "red", marker: "o" },
  );
  ax.setTitle(title).setXlabel("step").setYlabel("cross-entropy (nats / character)").legend().grid(true);
  fig.tightLayout();
  await fig.save(path);
  console.log(`Figure: ${path}`);
}

/**
 * Print the sample and the closing JSON line (`samplesPerSec` counts characters predicted per second of training:
 * batch x sequence length per step); with `--losses-out`, write every step's loss and the final validation loss
 * as JSON too (for the comparison with PyTorch).
 */
export function finish(
  fields: { example: string; device: string; adapter: string; steps: number; lossesOut: string },
  result: TrainResult,
  sample: string,
): void {
  const trainLoss = result.losses.length ? result.losses[result.losses.length - 1] : Number.NaN;
  const valLoss = result.val[result.val.length - 1][1];
  console.log(`--- sample ---\n${sample}\n--------------`);
  if (fields.lossesOut) {
    writeFileSync(fields.lossesOut, JSON.stringify({ losses: result.losses, val: result.val }));
  }
  report({
    example: fields.example,
    device: fields.device,
    ...(fields.adapter !== "cpu" ? { adapter: fields.adapter } : {}),
    steps: fields.steps,
    trainLoss: r4(trainLoss),
    valLoss: r4(valLoss),
    samplesPerSec: Math.round(result.charsPerSec),
    samplesUnit: "characters",
    sample,
  });
}
