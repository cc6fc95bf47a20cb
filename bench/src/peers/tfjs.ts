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

interface Built {
  /** One iteration; returns the tensor to read (a scalar is read at once, the rest only at the end). */
  step(): tf.Tensor;
  read: "scalar" | "tensor";
  tensors: tf.Tensor[];
  optimizer?: tf.Optimizer;
}

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
    case "mlp": {
      const v = [transpose2d(inputs.w1), inputs.b1, transpose2d(inputs.w2), inputs.b2].map((p) =>
        tf.variable(p.shape.length === 2 ? mat(p) : vec(p)),
      );
      const [w1, b1, w2, b2] = v;
      const x = mat(inputs.x);
      const y = tf.oneHot(tf.tensor1d(inputs.y.data as Int32Array, "int32"), 10).toFloat();
      const forward = () => {
        const h = tf.fused.matMul({ a: x, b: w1 as tf.Tensor2D, bias: b1, activation: "relu" });
        const logits = tf.fused.matMul({ a: h, b: w2 as tf.Tensor2D, bias: b2 });
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      const optimizer = tf.train.momentum(0.01, 0.9);
      const step = () => optimizer.minimize(forward, true, v) as tf.Scalar;
      return { step, read: "scalar", tensors: [...v, x, y], optimizer };
    }
    case "cnn": {
      const n = task.n;
      const c1w = tf.variable(convWeight(inputs.c1w));
      const c2w = tf.variable(convWeight(inputs.c2w));
      const f1w = tf.variable(flattenedLinear(inputs.f1w, 64, 49));
      const f2w = tf.variable(mat(transpose2d(inputs.f2w)));
      const [c1b, c2b, f1b, f2b] = [inputs.c1b, inputs.c2b, inputs.f1b, inputs.f2b].map((b) =>
        tf.variable(vec(b)),
      );
      const vars = [c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b];
      // NCHW with one channel has the same memory layout as NHWC.
      const x = tf.tensor4d(inputs.x.data as Float32Array, [n, 28, 28, 1]);
      const y = tf.oneHot(tf.tensor1d(inputs.y.data as Int32Array, "int32"), 10).toFloat();
      const forward = () => {
        let h: tf.Tensor4D = tf.fused.conv2d({
          x,
          filter: c1w as tf.Tensor4D,
          strides: 1,
          pad: "same",
          bias: c1b,
          activation: "relu",
        });
        h = tf.maxPool(h, 2, 2, "valid");
        h = tf.fused.conv2d({
          x: h,
          filter: c2w as tf.Tensor4D,
          strides: 1,
          pad: "same",
          bias: c2b,
          activation: "relu",
        });
        h = tf.maxPool(h, 2, 2, "valid");
        const flat = h.reshape([n, 3136]) as tf.Tensor2D;
        const z = tf.fused.matMul({ a: flat, b: f1w as tf.Tensor2D, bias: f1b, activation: "relu" });
        const logits = tf.fused.matMul({ a: z, b: f2w as tf.Tensor2D, bias: f2b });
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
      const step = () => optimizer.minimize(forward, true, vars) as tf.Scalar;
      return { step, read: "scalar", tensors: [...vars, x, y], optimizer };
    }
  }
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

  supports(task: Task): boolean {
    return !task.gpuOnly;
  }

  private async use(): Promise<void> {
    if (tf.getBackend() !== this.backend) await tf.setBackend(this.backend);
  }

  async check(task: Task, inputs: Inputs): Promise<Float32Array> {
    await this.use();
    const b = build(task, inputs);
    try {
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
      b.read === "scalar"
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
