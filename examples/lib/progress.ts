/**
 * Training progress for the MNIST examples, written to stderr so that stdout keeps the seed's lines and ends
 * with the closing JSON line.
 *
 * - On a terminal ("bar"): a cli-progress bar redrawn in place, in colour unless NO_COLOR is set.
 * - Elsewhere ("plain": CI logs, pipes, files): one line every `every` batches (default: a tenth of the epoch)
 *   and at the end of each epoch, with no control characters.
 * - "off": nothing.
 *
 * Both show the epoch, the batches done of the epoch's total, the loss (the mean of the batches since the last
 * plain line, or of the last 50 on the bar: a number from the first batch on), the rate in samples/s and it/s
 * (over the last 50 batches), the time elapsed in the epoch and its ETA.
 *
 *   epoch 1/3 | batch 94/938 (10%) | loss 0.8123 | 4,980 samples/s 77.8 it/s | 0:01 elapsed, ETA 0:11
 */
import * as util from "node:util";
import cliProgress from "cli-progress";

export type ProgressMode = "bar" | "plain" | "off";
export const PROGRESS_MODES = ["auto", "bar", "plain", "off"] as const;

/** What progress is written to: process.stderr, or anything with `write` (tests). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  epochs: number;
  /** Batches in one epoch (the DataLoader's length). */
  batchesPerEpoch: number;
  /** "auto" (default): a bar when `stream` is a terminal (and TERM is not "dumb"), plain lines otherwise. */
  mode?: ProgressMode | "auto";
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Plain mode: a line every so many batches (default: a tenth of an epoch, at least 1). */
  every?: number;
  /** Colour on the bar (default: unless NO_COLOR is set, FORCE_COLOR is "0" or TERM is "dumb"). */
  color?: boolean;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

/** Batches over which the rate (and so the ETA) and the bar's loss are averaged. */
const WINDOW = 50;

/** m:ss, or h:mm:ss from an hour on; "-" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Samples per second, grouped (4,980) above 100, else with one decimal. */
function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return "-";
  return rate >= 100 ? Math.round(rate).toLocaleString("en-US") : rate.toFixed(1);
}

export function resolveMode(mode: ProgressMode | "auto" | undefined, stream: ProgressStream): ProgressMode {
  if (mode && mode !== "auto") return mode;
  return stream.isTTY && process.env.TERM !== "dumb" ? "bar" : "plain";
}

function colorWanted(): boolean {
  const env = process.env;
  return env.NO_COLOR === undefined && env.FORCE_COLOR !== "0" && env.TERM !== "dumb";
}

type Style = "cyan" | "yellow" | "dim" | "bold";
type StyleText = (format: Style, text: string, options?: { validateStream?: boolean }) => string;
/** node:util's styleText (Node >= 20.12); the caller has decided already that colour is wanted. */
const styleText = (util as unknown as { styleText?: StyleText }).styleText;

/** The progress of a training run: `startEpoch`, then `step` after every batch, then `endEpoch`; `stop` at the end. */
export class TrainingProgress {
  readonly mode: ProgressMode;
  readonly every: number;
  private readonly stream: ProgressStream;
  private readonly epochs: number;
  private readonly total: number;
  private readonly now: () => number;
  private readonly paint: (style: Style, text: string) => string;
  private bar: cliProgress.SingleBar | undefined;
  private barRunning = false;
  private epoch = 0;
  private batch = 0;
  private epochStart = 0;
  /** Time and samples after each of the last WINDOW batches (and the epoch's start). */
  private marks: { t: number; batch: number; samples: number }[] = [];
  private samples = 0;
  /** Losses since the last plain line (plain) or of the last WINDOW batches (bar). */
  private losses: number[] = [];

  constructor(opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.mode = resolveMode(opts.mode, this.stream);
    this.epochs = opts.epochs;
    this.total = opts.batchesPerEpoch;
    this.every = Math.max(1, Math.floor(opts.every ?? Math.round(this.total / 10)));
    this.now = opts.now ?? (() => performance.now());
    const color = this.mode === "bar" && (opts.color ?? colorWanted()) && styleText !== undefined;
    this.paint = color
      ? (style, text) => styleText!(style, text, { validateStream: false })
      : (_, text) => text;
    if (this.mode === "bar") {
      const paint = this.paint;
      this.bar = new cliProgress.SingleBar(
        {
          // fits 80 columns: the bar takes what the figures leave (10 to 30 characters)
          format: `${paint("bold", "epoch {epoch}")} {bar} {value}/{total} | loss ${paint("yellow", "{loss}")} | {rate} | ETA {remaining}`,
          formatBar: (progress, options) => paint("cyan", cliProgress.Format.BarFormat(progress, options)),
          stream: this.stream as NodeJS.WritableStream,
          barsize: Math.max(10, Math.min(30, (this.stream.columns || 80) - 64)),
          // restore the cursor on every stop: no escape sequence may outlive the bar
          hideCursor: false,
          // the bar is cleared (not left behind) when stopped; endEpoch prints the epoch's summary line
          clearOnComplete: true,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  /** Begin epoch `epoch` (0-based). */
  startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.batch = 0;
    this.samples = 0;
    this.losses = [];
    this.epochStart = this.now();
    this.marks = [{ t: this.epochStart, batch: 0, samples: 0 }];
    this.startBar();
  }

  /** After each batch: its number of samples and its loss. */
  step(samples: number, loss: number): void {
    this.batch++;
    this.samples += samples;
    this.losses.push(loss);
    this.marks.push({ t: this.now(), batch: this.batch, samples: this.samples });
    if (this.marks.length > WINDOW + 1) this.marks.shift();
    if (this.mode === "bar") {
      if (this.losses.length > WINDOW) this.losses.shift();
      this.bar?.update(this.batch, this.payload());
    } else if (this.mode === "plain" && (this.batch % this.every === 0 || this.batch === this.total)) {
      this.stream.write(`${this.line()}\n`);
      this.losses = [];
    }
  }

  /** End the epoch: the bar gives way to a one-line summary (plain mode printed its last line already). */
  endEpoch(): void {
    if (this.mode !== "bar") return;
    this.stopBar();
    this.stream.write(`${this.line()}\n`);
  }

  /** Print a line (on stdout by default) without tearing the bar: it is cleared, the line printed, the bar redrawn. */
  log(line: string, print: (line: string) => void = (l) => console.log(l)): void {
    if (!this.barRunning) {
      print(line);
      return;
    }
    this.stopBar();
    print(line);
    this.startBar();
  }

  /** Stop for good (idempotent; call in `finally` so no timer or bar outlives an error). */
  stop(): void {
    this.stopBar();
  }

  /** The current figures, as text. */
  stats(): {
    loss: string;
    samplesPerSec: string;
    itPerSec: string;
    elapsed: string;
    eta: string;
    percent: number;
  } {
    const first = this.marks[0];
    const last = this.marks[this.marks.length - 1];
    const dt = (last.t - first.t) / 1000;
    const itPerSec = dt > 0 ? (last.batch - first.batch) / dt : Number.NaN;
    const samplesPerSec = dt > 0 ? (last.samples - first.samples) / dt : Number.NaN;
    const loss = this.losses.length
      ? this.losses.reduce((a, b) => a + b, 0) / this.losses.length
      : Number.NaN;
    return {
      loss: Number.isFinite(loss) ? loss.toFixed(4) : this.losses.length ? String(loss) : "-",
      samplesPerSec: `${formatRate(samplesPerSec)} samples/s`,
      itPerSec: `${formatRate(itPerSec)} it/s`,
      elapsed: formatDuration((this.now() - this.epochStart) / 1000),
      eta: formatDuration(itPerSec > 0 ? (this.total - this.batch) / itPerSec : Number.NaN),
      percent: this.total > 0 ? Math.floor((100 * this.batch) / this.total) : 100,
    };
  }

  /** The plain line (also the bar's closing summary). */
  line(): string {
    const s = this.stats();
    return (
      `epoch ${this.epoch + 1}/${this.epochs} | batch ${this.batch}/${this.total} (${s.percent}%) | ` +
      `loss ${s.loss} | ${s.samplesPerSec} ${s.itPerSec} | ${s.elapsed} elapsed, ETA ${s.eta}`
    );
  }

  private payload() {
    const s = this.stats();
    return {
      epoch: `${this.epoch + 1}/${this.epochs}`,
      loss: s.loss,
      rate: s.samplesPerSec,
      remaining: s.eta,
    };
  }

  private startBar(): void {
    if (!this.bar || this.barRunning) return;
    this.bar.start(this.total, this.batch, this.payload());
    this.barRunning = true;
  }

  private stopBar(): void {
    if (!this.bar || !this.barRunning) return;
    this.barRunning = false;
    this.bar.stop();
  }
}
