/**
 * Cinder, the library under test: on the CPU backend (the reference column, Cinder's portable WASM GEMM), on the
 * CPU backend with `@cinder/blas` (column cinder-blas: products on the system's OpenBLAS) and, when it loads, on
 * WebGPU.
 * Written as the seeds' five-step loop: zeroGrad, forward, loss, backward, step, then `loss.item()`; the
 * end-to-end rows are the mnist examples' loop (examples/lib/mnist.ts) over a DataLoader.
 */
import { type GemmProvider, gemmProvider, setGemmProvider } from "@cinder/backend-cpu";
import { DataLoader, TensorDataset } from "@cinder/data";
import * as nn from "@cinder/nn";
import { Adam, SGD } from "@cinder/optim";
import * as ct from "@cinder/tensor";
import { type Peer, type Prepared, timeLoop } from "../peer";
import { type Input, type Inputs, PARAMS, type Task } from "../tasks";

type Device = "cpu" | "webgpu";

type Built =
  | {
      /** One iteration; returns what must be read to finish it. */
      step(): ct.Tensor;
      /** Reduces the step's output to a scalar read (loss, sum) or keeps the tensor (matmul). */
      read: "scalar" | "tensor";
    }
  | {
      /** One whole iteration, finished; resolves to what the guard compares (an epoch's losses, a sum). */
      step(): Promise<Float32Array>;
      read: "values";
    };

function load(x: Input, device: Device): ct.Tensor {
  return ct.tensor(x.data, { device }).reshape([...x.shape]);
}

function setParams(model: nn.Module, inputs: Inputs, keys: readonly string[], device: Device): void {
  const params = [...model.parameters()];
  if (params.length !== keys.length)
    throw new Error(`model has ${params.length} parameters, expected ${keys.length}`);
  ct.noGrad(() => {
    params.forEach((p, i) => {
      p.copy_(load(inputs[keys[i]], device));
    });
  });
}

function build(task: Task, inputs: Inputs, device: Device): Built {
  switch (task.workload) {
    case "matmul": {
      const a = load(inputs.a, device);
      const b = load(inputs.b, device);
      return { step: () => a.matmul(b), read: "tensor" };
    }
    case "elementwise": {
      const x = load(inputs.x, device);
      return { step: () => x.mul(2).add(1).relu().sum(), read: "scalar" };
    }
    case "add": {
      const opts = { device, requiresGrad: !!task.grad };
      const a = ct.tensor(inputs.a.data, opts);
      const b = ct.tensor(inputs.b.data, opts);
      const ops = task.ops ?? 1;
      // PyTorch's plain loop `c = a + b`, each result dropped at the next add and left to the garbage collector.
      // Each result is read: Cinder's lazy elementwise path never runs a pending result nobody reads, and
      // PyTorch computes every one. `data()` (4 values) is the cheapest public call that makes it run.
      const step = async () => {
        let c = a.add(b);
        for (let i = 1; i < ops; i++) {
          c.data();
          c = a.add(b);
        }
        return (await c.dataAsync()) as Float32Array;
      };
      return { step, read: "values" };
    }
    case "mlp":
    case "cnn": {
      const { model, optimizer } = makeModel(task.workload, inputs, device);
      return { step: trainStep(model, optimizer, inputs, device), read: "scalar" };
    }
    case "e2e":
      return { step: epoch(task, inputs, device), read: "values" };
  }
}

/** The bench's MNIST-shaped model, freshly initialised: the MLP 784-128-10 or the CNN of `examples/mnist-cnn.ts`. */
export function mnistModel(kind: "mlp" | "cnn", device: Device = "cpu"): nn.Sequential {
  if (kind === "mlp") {
    return new nn.Sequential(
      new nn.Linear(784, 128, { device }),
      new nn.ReLU(),
      new nn.Linear(128, 10, { device }),
    );
  }
  return new nn.Sequential(
    new nn.Conv2d(1, 32, 3, { padding: 1, device }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(32, 64, 3, { padding: 1, device }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(3136, 128, { device }),
    new nn.ReLU(),
    new nn.Linear(128, 10, { device }),
  );
}

/** The optimizer each model trains with: SGD with momentum (MLP), Adam (CNN). */
export function mnistOptimizer(kind: "mlp" | "cnn", model: nn.Module): SGD | Adam {
  return kind === "mlp"
    ? new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 })
    : new Adam(model.parameters(), { lr: 1e-3 });
}

/** The model of `mlp` or `cnn` with the task's weights, and its optimizer. */
function makeModel(
  kind: "mlp" | "cnn",
  inputs: Inputs,
  device: Device,
): { model: nn.Module; optimizer: SGD | Adam } {
  const model = mnistModel(kind, device);
  setParams(model, inputs, PARAMS[kind], device);
  return { model, optimizer: mnistOptimizer(kind, model) };
}

/**
 * One epoch of the mnist examples' loop: a DataLoader over a TensorDataset (kept on the CPU, as the datasets
 * are), each batch moved to the device, the five steps in `tidy`, `await loss.itemAsync()`, the batch disposed.
 */
function epoch(task: Task, inputs: Inputs, device: Device): () => Promise<Float32Array> {
  const kind = task.model ?? "mlp";
  const { model, optimizer } = makeModel(kind, inputs, device);
  const dataset = new TensorDataset(load(inputs.x, "cpu"), load(inputs.y, "cpu"));
  const loader = new DataLoader(dataset, { batchSize: task.n, shuffle: !!task.shuffle });
  const criterion = new nn.CrossEntropyLoss();
  const prepare = kind === "mlp" ? (t: ct.Tensor) => t.view(-1, 28 * 28) : (t: ct.Tensor) => t;
  return async () => {
    const losses: number[] = [];
    model.train();
    for await (const [rawData, rawTarget] of loader) {
      const data = prepare(rawData.to(device));
      const target = rawTarget.to(device);
      const loss = ct.tidy(() => {
        optimizer.zeroGrad();
        const l = criterion(model(data), target);
        l.backward();
        optimizer.step();
        return l;
      });
      losses.push(Number(await loss.itemAsync()));
      loss.dispose();
      data.dispose();
      target.dispose();
    }
    return Float32Array.from(losses);
  };
}

function trainStep(model: nn.Module, optimizer: SGD | Adam, inputs: Inputs, device: Device): () => ct.Tensor {
  const x = load(inputs.x, device);
  const y = load(inputs.y, device);
  const criterion = new nn.CrossEntropyLoss();
  return () => {
    optimizer.zeroGrad();
    const loss = criterion(model(x), y);
    loss.backward();
    optimizer.step();
    return loss;
  };
}

export class CinderPeer implements Peer {
  readonly id: string;
  readonly label: string;
  readonly notes: string[] = [];

  constructor(
    readonly device: Device,
    /** Tasks this device runs (the WebGPU column runs only some), or every non-GPU-only task. */
    private readonly only?: ReadonlySet<string>,
    /**
     * The CPU backend's GEMM provider for this column's products (null: Cinder's own GEMM). Both CPU columns
     * share the process, so each sets its own before every check and sample.
     */
    private readonly gemm: GemmProvider | null = null,
  ) {
    this.id = device === "cpu" ? (gemm ? "cinder_blas" : "cinder") : "cinder_webgpu";
    this.label = device === "cpu" ? (gemm ? "cinder-blas" : "cinder") : "cinder-webgpu";
  }

  private useGemm(): void {
    if (this.device === "cpu") setGemmProvider(this.gemm);
  }

  supports(task: Task): boolean {
    return this.only ? this.only.has(task.id) || this.only.has(task.workload) : !task.gpuOnly;
  }

  async check(task: Task, inputs: Inputs): Promise<Float32Array> {
    this.useGemm();
    const b = build(task, inputs, this.device);
    if (b.read === "values") return b.step();
    if (b.read === "tensor") return Float32Array.from((await b.step().dataAsync()) as Float32Array);
    const steps = task.checkSteps ?? 1;
    const out = new Float32Array(steps);
    for (let i = 0; i < steps; i++) out[i] = Number(await b.step().itemAsync());
    return out;
  }

  async prepare(task: Task, inputs: Inputs): Promise<Prepared> {
    const b = build(task, inputs, this.device);
    const timed = async (iters: number, step: () => unknown, finish?: () => unknown): Promise<number> => {
      this.useGemm();
      const ms = await timeLoop(iters, step, finish);
      // OpenBLAS's idle workers spin ~0.1 s after a call (as in the pytorch column): let them stop before the
      // next peer's sample.
      if (this.gemm) await new Promise((r) => setTimeout(r, BLAS_COOLDOWN_MS));
      return ms;
    };
    if (b.read === "values") return { run: (iters) => timed(iters, b.step), dispose: () => undefined };
    const cpu = this.device === "cpu";
    let last: ct.Tensor | undefined;
    // Scalars are read every iteration (the seeds' `running_loss += loss.item()`). A matmul product is already
    // computed on the CPU; on WebGPU the batch of products is read once at the end (a read flushes the queue).
    const step =
      b.read === "scalar"
        ? cpu
          ? () => b.step().item()
          : () => b.step().itemAsync()
        : () => {
            if (!cpu) last?.dispose();
            last = b.step();
          };
    const finish = async () => {
      if (!cpu && last) await last.dataAsync();
    };
    return { run: (iters) => timed(iters, step, finish), dispose: () => undefined };
  }
}

const BLAS_COOLDOWN_MS = 150;

/**
 * The cinder-blas column: Cinder's CPU backend with `@cinder/blas`'s OpenBLAS GEMM, or why it cannot run (the
 * package's error names the Debian package). The provider is taken from the package and set per column, so the
 * cinder column keeps Cinder's own GEMM.
 */
export async function createBlasPeer(): Promise<CinderPeer | string> {
  try {
    const blas = await import("@cinder/blas");
    blas.enable();
    const provider = gemmProvider();
    const info = blas.blasInfo();
    setGemmProvider(null);
    const peer = new CinderPeer("cpu", undefined, provider);
    peer.notes.push(
      `cinder-blas: Cinder's CPU backend with @cinder/blas, float products on ${info.library} (${info.config}), on getNumThreads() threads from 2^28 multiply-adds per product, on one below`,
    );
    return peer;
  } catch (e) {
    return (e instanceof Error ? e.message : String(e)).split("\n")[0];
  }
}
