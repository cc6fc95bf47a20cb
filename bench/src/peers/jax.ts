/**
 * jax-js on its "wasm" device, used as jax-js is meant to be used: each iteration is one `jit`-compiled
 * function (the elementwise chain fuses into one kernel; a training step is one compiled graph). In Node 20
 * jax-js has neither WebGPU (no `navigator.gpu`) nor web Workers, so its wasm backend runs single-threaded.
 * Arrays are reference counted: an argument passed to a jax-js function is consumed unless passed as `.ref`.
 */
import { init, jit, lax, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { type Peer, type Prepared, timeLoop } from "../peer";
import { type Input, type Inputs, type Task, transpose2d } from "../tasks";

/** The pinned version (bench/package.json). */
export const JAX_VERSION = "0.1.25";

type Arr = np.Array;
type Params = Record<string, Arr>;

const arr = (x: Input): Arr => np.array(x.data as Float32Array).reshape([...x.shape]);
const labels = (x: Input): Arr => nn.oneHot(np.array(x.data as Int32Array, { dtype: np.int32 }), 10);

/** Mean cross-entropy of `logits` against one-hot `y` (PyTorch's CrossEntropyLoss). */
const crossEntropy = (logits: Arr, y: Arr): Arr => nn.logSoftmax(logits, -1).mul(y).sum(-1).mean().neg();

function mlpLoss(p: Params, x: Arr, y: Arr): Arr {
  const h = nn.relu(np.matmul(x, p.w1).add(p.b1));
  return crossEntropy(np.matmul(h, p.w2).add(p.b2), y);
}

const pool2 = (h: Arr): Arr => lax.reduceWindow(h, (w) => w.max(), [2, 2], [2, 2]);
const same3: [number, number][] = [
  [1, 1],
  [1, 1],
];

function cnnLoss(p: Params, x: Arr, y: Arr): Arr {
  const n = x.shape[0];
  let h = lax.conv(x, p.c1w, [1, 1], same3).add(p.c1b.reshape([1, 32, 1, 1]));
  h = pool2(nn.relu(h));
  h = lax.conv(h, p.c2w, [1, 1], same3).add(p.c2b.reshape([1, 64, 1, 1]));
  h = pool2(nn.relu(h)).reshape([n, 3136]);
  h = nn.relu(np.matmul(h, p.f1w).add(p.f1b));
  return crossEntropy(np.matmul(h, p.f2w).add(p.f2b), y);
}

/** A training loop's state and its jitted step: (params, optimizer state, x, y) -> [params', state', loss]. */
interface Trainer {
  params: Params;
  state: Params[];
  step: (p: Params, s: Params[], x: Arr, y: Arr) => [Params, Params[], Arr];
}

/** SGD with momentum as PyTorch: buf = m * buf + g (buf = g at first, the same as starting from 0); p -= lr * buf. */
function sgdTrainer(params: Params, lr: number, momentum: number): Trainer {
  const state = [tree.map((a: Arr) => np.zerosLike(a), tree.ref(params))];
  const step = jit((p: Params, s: Params[], x: Arr, y: Arr): [Params, Params[], Arr] => {
    const [loss, g] = valueAndGrad(mlpLoss)(tree.ref(p), x, y) as [Arr, Params];
    const buf = tree.map((b: Arr, gi: Arr) => b.mul(momentum).add(gi), s[0], g);
    const next = tree.map((pi: Arr, bi: Arr) => pi.sub(bi.mul(lr)), p, tree.ref(buf));
    return [next, [buf], loss];
  });
  return { params, state, step };
}

/** Adam as PyTorch (bias-corrected moments, eps outside the square root); the step count is state too. */
function adamTrainer(params: Params, lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): Trainer {
  const zeros = () => tree.map((a: Arr) => np.zerosLike(a), tree.ref(params));
  const state = [zeros(), zeros(), { t: np.array(new Float32Array([0])) }];
  const step = jit((p: Params, s: Params[], x: Arr, y: Arr): [Params, Params[], Arr] => {
    const [loss, g] = valueAndGrad(cnnLoss)(tree.ref(p), x, y) as [Arr, Params];
    const t = s[2].t.add(1);
    const c1 = np.power(b1, t.ref).neg().add(1);
    const c2 = np.power(b2, t.ref).neg().add(1);
    const m = tree.map((mi: Arr, gi: Arr) => mi.mul(b1).add(gi.mul(1 - b1)), s[0], tree.ref(g));
    const v = tree.map((vi: Arr, gi: Arr) => vi.mul(b2).add(gi.ref.mul(gi).mul(1 - b2)), s[1], g);
    const next = tree.map(
      (pi: Arr, mi: Arr, vi: Arr) =>
        pi.sub(
          mi
            .div(c1.ref)
            .mul(lr)
            .div(np.sqrt(vi.div(c2.ref)).add(eps)),
        ),
      p,
      tree.ref(m),
      tree.ref(v),
    );
    c1.dispose();
    c2.dispose();
    return [next, [m, v, { t }], loss];
  });
  return { params, state, step };
}

type Built = { dispose(): void } & (
  | { step(): Arr; read: "scalar" | "tensor" }
  /** One whole iteration, finished; resolves to what the guard compares. */
  | { step(): Promise<Float32Array>; read: "values" }
);

function mlpParams(inputs: Inputs): Params {
  return {
    w1: arr(transpose2d(inputs.w1)),
    b1: arr(inputs.b1),
    w2: arr(transpose2d(inputs.w2)),
    b2: arr(inputs.b2),
  };
}

function build(task: Task, inputs: Inputs): Built {
  switch (task.workload) {
    case "matmul": {
      const a = arr(inputs.a);
      const b = arr(inputs.b);
      const mm = jit((x: Arr, y: Arr) => np.matmul(x, y));
      return { step: () => mm(a.ref, b.ref), read: "tensor", dispose: () => tree.dispose([a, b]) };
    }
    case "elementwise": {
      const x = arr(inputs.x);
      const f = jit((v: Arr) => nn.relu(v.mul(2).add(1)).sum());
      return { step: () => f(x.ref), read: "scalar", dispose: () => x.dispose() };
    }
    case "add": {
      const a = arr(inputs.a);
      const b = arr(inputs.b);
      const ops = task.ops ?? 1;
      // jax-js is lazy: each add is realised (not read back) before it is released.
      const step = async () => {
        for (let i = 1; i < ops; i++) (await a.ref.add(b.ref).blockUntilReady()).dispose();
        return (await a.ref.add(b.ref).data()) as Float32Array;
      };
      return { step, read: "values", dispose: () => tree.dispose([a, b]) };
    }
    case "e2e":
      return epoch(task, inputs);
    case "mlp":
    case "cnn": {
      const mlp = task.workload === "mlp";
      const params: Params = mlp
        ? mlpParams(inputs)
        : {
            c1w: arr(inputs.c1w),
            c1b: arr(inputs.c1b),
            c2w: arr(inputs.c2w),
            c2b: arr(inputs.c2b),
            f1w: arr(transpose2d(inputs.f1w)),
            f1b: arr(inputs.f1b),
            f2w: arr(transpose2d(inputs.f2w)),
            f2b: arr(inputs.f2b),
          };
      const tr = mlp ? sgdTrainer(params, 0.01, 0.9) : adamTrainer(params, 1e-3);
      const x = arr(inputs.x);
      const y = labels(inputs.y);
      const step = () => {
        const [p, s, loss] = tr.step(tr.params, tr.state, x.ref, y.ref);
        tr.params = p;
        tr.state = s;
        return loss;
      };
      return { step, read: "scalar", dispose: () => tree.dispose([tr.params, tr.state, x, y]) };
    }
  }
}

/**
 * One epoch of the MLP as JAX code loads data: no loader object, the batches are sliced from host arrays (numpy
 * in JAX; typed arrays here) in a shuffled order, made into device arrays and fed to the jitted step.
 */
function epoch(task: Task, inputs: Inputs): Built {
  const tr = sgdTrainer(mlpParams(inputs), 0.01, 0.9);
  const x = inputs.x.data as Float32Array;
  const y = inputs.y.data as Int32Array;
  const count = y.length;
  const order = Array.from({ length: count }, (_, i) => i);
  const step = async () => {
    if (task.shuffle) {
      for (let i = count - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    const losses: number[] = [];
    for (let start = 0; start < count; start += task.n) {
      const idx = order.slice(start, start + task.n);
      const xb = new Float32Array(idx.length * 784);
      idx.forEach((s, i) => {
        xb.set(x.subarray(s * 784, (s + 1) * 784), i * 784);
      });
      const yb = Int32Array.from(idx, (s) => y[s]);
      const batchX = np.array(xb).reshape([idx.length, 784]);
      const batchY = labels({ shape: [idx.length], data: yb });
      const [p, st, loss] = tr.step(tr.params, tr.state, batchX, batchY);
      tr.params = p;
      tr.state = st;
      losses.push((loss.dataSync() as Float32Array)[0]);
    }
    return Float32Array.from(losses);
  };
  return { step, read: "values", dispose: () => tree.dispose([tr.params, tr.state]) };
}

export class JaxPeer implements Peer {
  readonly id = "jax_wasm";
  readonly label = "jax-wasm";
  readonly notes = [
    `jax-js ${JAX_VERSION} wasm: jit-compiled steps; single-threaded in Node 20 (no web Workers); no WebGPU in Node`,
  ];

  static async create(): Promise<JaxPeer | string> {
    const got = await init("wasm");
    return got.includes("wasm") ? new JaxPeer() : "jax-js wasm device did not initialise";
  }

  /**
   * Not the `requiresGrad` rows (jax-js has no gradient-tracking arrays; gradients come from `grad`) nor the CNN
   * end to end (one CNN step takes 4-50 s here, see the cnn row: an epoch-slice would outlast the bench).
   */
  supports(task: Task): boolean {
    return !task.gpuOnly && !task.grad && !(task.workload === "e2e" && task.model === "cnn");
  }

  async check(task: Task, inputs: Inputs): Promise<Float32Array> {
    const b = build(task, inputs);
    try {
      if (b.read === "values") return await b.step();
      const steps = b.read === "tensor" ? 1 : (task.checkSteps ?? 1);
      const out: number[] = [];
      for (let i = 0; i < steps; i++) out.push(...((await b.step().data()) as Float32Array));
      return Float32Array.from(out);
    } finally {
      b.dispose();
    }
  }

  async prepare(task: Task, inputs: Inputs): Promise<Prepared> {
    const b = build(task, inputs);
    // jax-js is lazy: every result is realised inside its own iteration (a discarded one might never run).
    const step =
      b.read === "values"
        ? b.step
        : b.read === "scalar"
          ? () => b.step().dataSync()
          : async () => (await b.step().blockUntilReady()).dispose();
    return { run: (iters) => timeLoop(iters, step), dispose: () => b.dispose() };
  }
}
