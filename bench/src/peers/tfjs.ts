/**
 * TensorFlow.js 4 on its pure-JS "cpu" backend and its "wasm" backend (XNNPACK, SIMD; the .wasm files ship in
 * the npm package and load from node_modules, offline). One module instance serves both: each peer selects its
 * backend before it runs, and its tensors stay on that backend. Layers use tfjs's fused matMul/conv2d (bias +
 * relu in one op, as tf.layers does), NHWC, and weights transposed from PyTorch's layouts at load time.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { type Peer, type Prepared, timeLoop } from "../peer";
import { type Input, type Inputs, type Task, transpose2d } from "../tasks";

type Backend = "cpu" | "wasm";

export const TFJS_VERSION = tf.version.tfjs;

/** Conv2d weight [out, in, kh, kw] -> tfjs [kh, kw, in, out]. */
function convWeight(w: Input): tf.Tensor4D {
  const [o, i, kh, kw] = w.shape;
  return tf.tidy(() => tf.tensor4d(w.data as Float32Array, [o, i, kh, kw]).transpose([2, 3, 1, 0]));
}

/**
 * The first Linear after Flatten: PyTorch flattens NCHW as (c, h, w), tfjs NHWC as (h, w, c). Reorder the
 * weight's input rows so both compute the same function: [out, c*h*w] -> [h*w*c, out].
 */
function flattenedLinear(w: Input, c: number, hw: number): tf.Tensor2D {
  const out = w.shape[0];
  const data = new Float32Array(out * c * hw);
  for (let o = 0; o < out; o++) {
    for (let ch = 0; ch < c; ch++) {
      for (let s = 0; s < hw; s++) data[(s * c + ch) * out + o] = w.data[o * c * hw + ch * hw + s];
    }
  }
  return tf.tensor2d(data, [c * hw, out]);
}

const vec = (x: Input) => tf.tensor1d(x.data as Float32Array);
const mat = (x: Input) => tf.tensor2d(x.data as Float32Array, x.shape as [number, number]);

/** A model of the `mlp` or `cnn` task with the task's weights: the loss of a batch, its variables, its optimizer. */
interface Trainer {
  /** x [b, 784] (mlp) or [b, 28, 28, 1] (cnn), y one-hot [b, 10]. */
  loss(x: tf.Tensor, y: tf.Tensor): tf.Scalar;
  vars: tf.Variable[];
  optimizer: tf.Optimizer;
}

function trainer(kind: "mlp" | "cnn", inputs: Inputs): Trainer {
  if (kind === "mlp") {
    const vars = [transpose2d(inputs.w1), inputs.b1, transpose2d(inputs.w2), inputs.b2].map((p) =>
      tf.variable(p.shape.length === 2 ? mat(p) : vec(p)),
    );
    const [w1, b1, w2, b2] = vars;
    const loss = (x: tf.Tensor, y: tf.Tensor) => {
      const h = tf.fused.matMul({ a: x as tf.Tensor2D, b: w1 as tf.Tensor2D, bias: b1, activation: "relu" });
      const logits = tf.fused.matMul({ a: h, b: w2 as tf.Tensor2D, bias: b2 });
      return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    };
    return { loss, vars, optimizer: tf.train.momentum(0.01, 0.9) };
  }
  const c1w = tf.variable(convWeight(inputs.c1w));
  const c2w = tf.variable(convWeight(inputs.c2w));
  const f1w = tf.variable(flattenedLinear(inputs.f1w, 64, 49));
  const f2w = tf.variable(mat(transpose2d(inputs.f2w)));
  const [c1b, c2b, f1b, f2b] = [inputs.c1b, inputs.c2b, inputs.f1b, inputs.f2b].map((b) =>
    tf.variable(vec(b)),
  );
  const conv = (x: tf.Tensor4D, filter: tf.Variable, bias: tf.Variable) =>
    tf.fused.conv2d({ x, filter: filter as tf.Tensor4D, strides: 1, pad: "same", bias, activation: "relu" });
  const loss = (x: tf.Tensor, y: tf.Tensor) => {
    let h = tf.maxPool(conv(x as tf.Tensor4D, c1w, c1b), 2, 2, "valid");
    h = tf.maxPool(conv(h, c2w, c2b), 2, 2, "valid");
    const flat = h.reshape([x.shape[0], 3136]) as tf.Tensor2D;
    const z = tf.fused.matMul({ a: flat, b: f1w as tf.Tensor2D, bias: f1b, activation: "relu" });
    const logits = tf.fused.matMul({ a: z, b: f2w as tf.Tensor2D, bias: f2b });
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  };
  return {
    loss,
    vars: [c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b],
    optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-8),
  };
}

/** The images of `x` ([n, 1, 28, 28]) in the layout of `kind`'s first layer: [n, 784] or NHWC [n, 28, 28, 1]. */
const images = (kind: "mlp" | "cnn", x: tf.Tensor): tf.Tensor =>
  kind === "mlp" ? x.reshape([-1, 784]) : x.reshape([-1, 28, 28, 1]); // one channel: NCHW == NHWC

const oneHot = (y: tf.Tensor) => tf.tidy(() => tf.oneHot(y.toInt(), 10).toFloat());

type Built = {
  tensors: tf.Tensor[];
  optimizer?: tf.Optimizer;
} & (
  | {
      /** One iteration; returns the tensor to read (a scalar is read at once, the rest only at the end). */
      step(): tf.Tensor;
      read: "scalar" | "tensor";
    }
  | {
      /** One whole iteration, finished; resolves to what the guard compares. */
      step(): Promise<Float32Array>;
      read: "values";
    }
);

function build(task: Task, inputs: Inputs): Built {
  switch (task.workload) {
    case "matmul": {
      const a = mat(inputs.a);
      const b = mat(inputs.b);
      return { step: () => tf.matMul(a, b), read: "tensor", tensors: [a, b] };
    }
    case "elementwise": {
      const x = vec(inputs.x);
      return { step: () => tf.tidy(() => tf.relu(x.mul(2).add(1)).sum()), read: "scalar", tensors: [x] };
    }
    case "add": {
      const a = vec(inputs.a);
      const b = vec(inputs.b);
      const ops = task.ops ?? 1;
      // tfjs frees a tensor only when told: each result is disposed as the next replaces it.
      const step = async () => {
        for (let i = 1; i < ops; i++) a.add(b).dispose();
        const c = a.add(b);
        const out = (await c.data()) as Float32Array;
        c.dispose();
        return out;
      };
      return { step, read: "values", tensors: [a, b] };
    }
    case "mlp":
    case "cnn": {
      const t = trainer(task.workload, inputs);
      const kind = task.workload;
      const x = tf.tidy(() => images(kind, tf.tensor(inputs.x.data as Float32Array, [...inputs.x.shape])));
      const y = tf.tidy(() => oneHot(tf.tensor1d(inputs.y.data as Int32Array, "int32")));
      const step = () => t.optimizer.minimize(() => t.loss(x, y), true, t.vars) as tf.Scalar;
      return { step, read: "scalar", tensors: [...t.vars, x, y], optimizer: t.optimizer };
    }
    case "e2e":
      return epoch(task, inputs);
  }
}

/**
 * One epoch through tf.data, TensorFlow.js's input pipeline: a dataset of {xs, ys} samples, shuffled (a buffer
 * as large as the dataset: a new order every epoch) and batched, one `minimize` per batch, each loss read.
 */
function epoch(task: Task, inputs: Inputs): Built {
  const kind = task.model ?? "mlp";
  const t = trainer(kind, inputs);
  const count = inputs.y.shape[0];
  const xs = Array.from({ length: count }, (_, i) => inputs.x.data.subarray(i * 784, (i + 1) * 784));
  let data = tf.data.zip({ xs: tf.data.array(xs as Float32Array[]), ys: tf.data.array([...inputs.y.data]) });
  if (task.shuffle) data = data.shuffle(count);
  const batches = data.batch(task.n) as tf.data.Dataset<{ xs: tf.Tensor; ys: tf.Tensor }>;
  const step = async () => {
    const losses: number[] = [];
    const it = await batches.iterator();
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const x = images(kind, r.value.xs);
      const y = oneHot(r.value.ys);
      const loss = t.optimizer.minimize(() => t.loss(x, y), true, t.vars) as tf.Scalar;
      losses.push(loss.dataSync()[0]);
      tf.dispose([loss, x, y, r.value.xs, r.value.ys]);
    }
    return Float32Array.from(losses);
  };
  return { step, read: "values", tensors: t.vars, optimizer: t.optimizer };
}

function dispose(b: Built): void {
  tf.dispose(b.tensors);
  b.optimizer?.dispose();
}

/** Runs `fn` with console.log/warn silenced. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const { log, warn } = console;
  console.log = console.warn = () => undefined;
  try {
    return await fn();
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

export class TfjsPeer implements Peer {
  readonly id: string;
  readonly label: string;
  readonly notes: string[] = [];

  private constructor(readonly backend: Backend) {
    this.id = `tfjs_${backend}`;
    this.label = `tfjs-${backend}`;
  }

  /** The peer on `backend`, or an error message when that backend does not initialise. */
  static async create(backend: Backend): Promise<TfjsPeer | string> {
    // A first write on the cpu backend prints a banner advising tfjs-node: done here, silenced.
    const ok = await quietly(async () => {
      const set = await tf.setBackend(backend);
      if (set) tf.tensor([0]).dispose();
      return set;
    }).catch((e: unknown) => String(e));
    if (ok !== true)
      return `tfjs ${backend} backend did not initialise${typeof ok === "string" ? `: ${ok}` : ""}`;
    const peer = new TfjsPeer(backend);
    if (backend === "wasm") {
      const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
      const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
      peer.notes.push(
        `tfjs ${tf.version.tfjs} wasm: SIMD ${simd ? "on" : "off"}, threads ${threads ? "on" : "off (single-threaded in Node)"}`,
      );
    } else {
      peer.notes.push(`tfjs ${tf.version.tfjs} cpu: pure JavaScript kernels, single-threaded`);
    }
    return peer;
  }

  /**
   * Not the `requiresGrad` rows (tfjs has no gradient-tracking tensors; gradients come from tf.grads), nor, on
   * the cpu backend, the CNN end to end (~30 s a step there: see the cnn row).
   */
  supports(task: Task): boolean {
    const slow = this.backend === "cpu" && task.workload === "e2e" && task.model === "cnn";
    return !task.gpuOnly && !task.grad && !slow;
  }

  private async use(): Promise<void> {
    if (tf.getBackend() !== this.backend) await tf.setBackend(this.backend);
  }

  async check(task: Task, inputs: Inputs): Promise<Float32Array> {
    await this.use();
    const b = build(task, inputs);
    try {
      if (b.read === "values") return await b.step();
      if (b.read === "tensor") {
        const t = b.step();
        const out = Float32Array.from(await t.data());
        t.dispose();
        return out;
      }
      const steps = task.checkSteps ?? 1;
      const out = new Float32Array(steps);
      for (let i = 0; i < steps; i++) {
        const t = b.step();
        out[i] = (await t.data())[0];
        t.dispose();
      }
      return out;
    } finally {
      dispose(b);
    }
  }

  async prepare(task: Task, inputs: Inputs): Promise<Prepared> {
    await this.use();
    const b = build(task, inputs);
    let last: tf.Tensor | undefined;
    const step =
      b.read === "values"
        ? b.step
        : b.read === "scalar"
          ? () => {
              const t = b.step();
              t.dataSync();
              t.dispose();
            }
          : () => {
              last?.dispose();
              last = b.step();
            };
    return {
      run: async (iters) => {
        await this.use();
        return timeLoop(iters, step, () => last?.dataSync());
      },
      dispose: () => {
        last?.dispose();
        dispose(b);
      },
    };
  }
}
