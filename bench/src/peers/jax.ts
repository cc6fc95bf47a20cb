/**
 * jax-js on its "wasm" device, used as jax-js is meant to be used: each iteration is one `jit`-compiled
 * function (the elementwise chain fuses into one kernel; a training step is one compiled graph). In Node 20
 * jax-js has neither WebGPU (no `navigator.gpu`) nor web Workers, so its wasm backend runs single-threaded.
 * Arrays are reference counted: an argument passed to a jax-js function is consumed unless passed as `.ref`.
 */
import { init, jit, lax, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { type Peer, type Prepared, timeLoop } from "../peer";
import { type Input, type Inputs, type Task, transpose2d } from "../tasks";

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

interface Built {
  step(): Arr;
  read: "scalar" | "tensor";
  dispose(): void;
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
    case "mlp":
    case "cnn": {
      const mlp = task.workload === "mlp";
      const params: Params = mlp
        ? {
            w1: arr(transpose2d(inputs.w1)),
            b1: arr(inputs.b1),
            w2: arr(transpose2d(inputs.w2)),
            b2: arr(inputs.b2),
          }
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

export class JaxPeer implements Peer {
  readonly id = "jax_wasm";
  readonly label = "jax-wasm";
  readonly notes = [
    "jax-js 0.1.25 wasm: jit-compiled steps; single-threaded in Node 20 (no web Workers); no WebGPU in Node",
  ];

  static async create(): Promise<JaxPeer | string> {
    const got = await init("wasm");
    return got.includes("wasm") ? new JaxPeer() : "jax-js wasm device did not initialise";
  }

  supports(task: Task): boolean {
    return !task.gpuOnly;
  }

  async check(task: Task, inputs: Inputs): Promise<Float32Array> {
    const b = build(task, inputs);
    try {
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
      b.read === "scalar"
        ? () => b.step().dataSync()
        : async () => (await b.step().blockUntilReady()).dispose();
    return { run: (iters) => timeLoop(iters, step), dispose: () => b.dispose() };
  }
}
