/**
 * The benchmark entries and their inputs. Every peer gets the same inputs, made here from a seeded generator
 * (and, for the end-to-end rows, the MNIST digits shipped with @cinder/datasets-mnist), so the correctness guard
 * can compare results element by element and the timed runs do equal work.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

export type Workload = "matmul" | "elementwise" | "add" | "mlp" | "cnn" | "e2e";

export interface Task {
  /** Unique id, also used by `--only` (which matches the id or the workload). */
  readonly id: string;
  readonly workload: Workload;
  readonly title: string;
  /** Size: matrix side (matmul), element count (elementwise, add) or batch size (mlp, cnn, e2e). */
  readonly n: number;
  /** Floating-point operations per iteration, for GFLOPS. */
  readonly flops?: number;
  /** Training samples per iteration, for samples/s. */
  readonly samples?: number;
  /** Tensor operations per iteration (add: the loop's length), for ops/s. */
  readonly ops?: number;
  /** add: both inputs require grad (PyTorch `requires_grad=True`); peers without autograd tensors skip it. */
  readonly grad?: boolean;
  /** e2e: the model trained ("mlp": SGD with momentum, as `mlp`; "cnn": Adam, as `cnn`). */
  readonly model?: "mlp" | "cnn";
  /** e2e: batches of `n` per iteration; one iteration is one epoch over a dataset of `samples` images. */
  readonly batches?: number;
  /** e2e: the loader shuffles (a new order every epoch), as the examples' training loaders do. */
  readonly shuffle?: boolean;
  /** Slow: left out of --quick. */
  readonly heavy?: boolean;
  /** Only for peers that ask for it (e.g. matmul 4096 on a real GPU). */
  readonly gpuOnly?: boolean;
  /** Optimisation steps run by the correctness guard (training tasks). */
  readonly checkSteps?: number;
}

export interface Input {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}
export type Inputs = Readonly<Record<string, Input>>;

const matmul = (n: number, extra: Partial<Task> = {}): Task => ({
  id: `matmul-${n}`,
  workload: "matmul",
  title: `matmul ${n}x${n} f32`,
  n,
  flops: 2 * n ** 3,
  ...extra,
});

/** One epoch over `batches` batches of 64 MNIST images, through each framework's data loader. */
const e2e = (model: "mlp" | "cnn", batches: number, extra: Partial<Task> = {}): Task => ({
  id: `mnist-${model}-e2e`,
  workload: "e2e",
  title: `mnist-${model} end to end, ${batches}x64 samples`,
  n: 64,
  samples: 64 * batches,
  model,
  batches,
  shuffle: true,
  ...extra,
});

/** 1000 adds of two 4-element tensors per iteration (one add is too short to time on its own). */
const addSmall = (grad: boolean): Task => ({
  id: grad ? "add-small-grad" : "add-small",
  workload: "add",
  title: `1000x a.add(b), 4 f32${grad ? ", requiresGrad" : ""}`,
  n: 4,
  ops: 1000,
  grad,
});

export const TASKS: readonly Task[] = [
  matmul(256),
  matmul(1024),
  matmul(4096, { gpuOnly: true }),
  { id: "elementwise-1m", workload: "elementwise", title: "relu(x*2+1).sum(), 1M f32", n: 1 << 20 },
  addSmall(false),
  addSmall(true),
  {
    id: "mlp",
    workload: "mlp",
    title: "MLP 784-128-10 train step, b=64, SGD",
    n: 64,
    samples: 64,
    checkSteps: 3,
  },
  {
    id: "cnn",
    workload: "cnn",
    title: "MNIST CNN train step, b=64, Adam",
    n: 64,
    samples: 64,
    heavy: true,
    checkSteps: 2,
  },
  e2e("mlp", 20),
  e2e("cnn", 4, { heavy: true }),
];

/** The small instance that the correctness guard runs for `task`. */
export function checkTask(task: Task): Task {
  switch (task.workload) {
    case "matmul":
      return { ...task, id: `${task.id}-check`, n: 0 };
    case "elementwise":
      return { ...task, id: `${task.id}-check`, n: 10_001 };
    case "add":
    case "mlp":
      return task;
    case "cnn":
      return { ...task, id: `${task.id}-check`, n: 4, samples: 4 };
    case "e2e":
      // two batches in order: the losses of both steps are compared
      return { ...task, id: `${task.id}-check`, n: 8, batches: 2, samples: 16, shuffle: false };
  }
}

/** mulberry32: small, fast, seeded; the same stream on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(next: () => number, shape: readonly number[], lo: number, hi: number): Input {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = lo + (hi - lo) * next();
  return { shape, data };
}

/** A layer's weight and bias initialised as PyTorch does (U(-1/sqrt(fanIn), 1/sqrt(fanIn))). */
function layer(next: () => number, wShape: readonly number[]): [Input, Input] {
  const fanIn = wShape.slice(1).reduce((a, b) => a * b, 1);
  const bound = 1 / Math.sqrt(fanIn);
  return [uniform(next, wShape, -bound, bound), uniform(next, [wShape[0]], -bound, bound)];
}

function labels(next: () => number, n: number): Input {
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.floor(next() * 10);
  return { shape: [n], data };
}

const mlpWeights = (next: () => number): Record<string, Input> => {
  const [w1, b1] = layer(next, [128, 784]);
  const [w2, b2] = layer(next, [10, 128]);
  return { w1, b1, w2, b2 };
};

const cnnWeights = (next: () => number): Record<string, Input> => {
  const [c1w, c1b] = layer(next, [32, 1, 3, 3]);
  const [c2w, c2b] = layer(next, [64, 32, 3, 3]);
  const [f1w, f1b] = layer(next, [128, 3136]);
  const [f2w, f2b] = layer(next, [10, 128]);
  return { c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b };
};

/** The parameter names of each model, in PyTorch's `parameters()` order. */
export const PARAMS = {
  mlp: ["w1", "b1", "w2", "b2"],
  cnn: ["c1w", "c1b", "c2w", "c2b", "f1w", "f1b", "f2w", "f2b"],
} as const;

const MNIST_DIR = new URL("../../packages/datasets-mnist/data/", import.meta.url);

/** The payload of a gzipped IDX file (after its magic number and dimensions). */
function idx(file: string): Uint8Array {
  const raw = gunzipSync(readFileSync(new URL(file, MNIST_DIR)));
  return raw.subarray(4 + 4 * raw[3]);
}

/**
 * The first `count` training digits of the MNIST sample shipped with @cinder/datasets-mnist (8,000), as the
 * examples' transform leaves them (ToTensor, Normalize((0.1307,), (0.3081,))): x [count, 1, 28, 28], y [count].
 */
function mnistSample(count: number): { x: Input; y: Input } {
  const images = idx("train-images-idx3-ubyte.gz");
  const labels = idx("train-labels-idx1-ubyte.gz");
  if (count > labels.length) throw new Error(`the MNIST sample has ${labels.length} images, not ${count}`);
  const x = new Float32Array(count * 784);
  for (let i = 0; i < x.length; i++) x[i] = (images[i] / 255 - 0.1307) / 0.3081;
  return {
    x: { shape: [count, 1, 28, 28], data: x },
    y: { shape: [count], data: Int32Array.from(labels.subarray(0, count)) },
  };
}

/** Inputs of `task`, in PyTorch layouts (Linear weight [out, in], Conv2d weight [out, in, kh, kw], NCHW). */
export function makeInputs(task: Task): Inputs {
  const next = rng(0x5eed + task.n);
  switch (task.workload) {
    case "matmul": {
      // n = 0 is the guard's instance: odd sizes that exercise the kernels' edge paths.
      const [m, k, n] = task.n === 0 ? [67, 45, 33] : [task.n, task.n, task.n];
      return { a: uniform(next, [m, k], -1, 1), b: uniform(next, [k, n], -1, 1) };
    }
    case "elementwise":
      return { x: uniform(next, [task.n], -1, 1) };
    case "add":
      return { a: uniform(next, [task.n], -1, 1), b: uniform(next, [task.n], -1, 1) };
    case "mlp": {
      const w = mlpWeights(next);
      return { ...w, x: uniform(next, [task.n, 784], 0, 1), y: labels(next, task.n) };
    }
    case "cnn": {
      const w = cnnWeights(next);
      return { ...w, x: uniform(next, [task.n, 1, 28, 28], 0, 1), y: labels(next, task.n) };
    }
    case "e2e": {
      const w = task.model === "cnn" ? cnnWeights(next) : mlpWeights(next);
      return { ...w, ...mnistSample(task.samples ?? task.n) };
    }
  }
}

/** `x` [rows, cols] row-major, transposed (PyTorch Linear [out, in] -> [in, out] for tfjs and jax-js). */
export function transpose2d(x: Input): Input {
  const [r, c] = x.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x.data[i * c + j];
  return { shape: [c, r], data: out };
}

/**
 * Largest difference between `got` and the reference, scaled as |a - b| / (atol/rtol + |b|): the guard passes
 * when it is <= 1. Lengths must agree.
 */
export function mismatch(got: Float32Array, want: Float32Array, atol: number, rtol: number): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    const r = d / (atol + rtol * Math.abs(want[i]));
    if (!(r <= worst)) worst = Number.isNaN(r) ? Number.POSITIVE_INFINITY : r;
  }
  return worst;
}

/** Tolerances of the guard: (atol, rtol). */
export function tolerance(task: Task): [number, number] {
  switch (task.workload) {
    case "matmul":
      return [1e-4, 1e-4];
    case "elementwise":
      return [1e-3, 1e-4];
    case "add":
      return [1e-6, 1e-6];
    default:
      return [1e-4, 0];
  }
}
