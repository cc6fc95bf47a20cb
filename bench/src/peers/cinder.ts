/**
 * Cinder, the library under test: on the CPU backend (the reference column) and, when it loads, on WebGPU.
 * Written as the seeds' five-step loop: zeroGrad, forward, loss, backward, step, then `loss.item()`.
 */
import * as nn from "@cinder/nn";
import { Adam, SGD } from "@cinder/optim";
import * as ct from "@cinder/tensor";
import { type Peer, type Prepared, timeLoop } from "../peer";
import type { Input, Inputs, Task } from "../tasks";

type Device = "cpu" | "webgpu";

interface Built {
  /** One iteration; returns what must be read to finish it (a tensor) or nothing. */
  step(): ct.Tensor;
  /** Reduces the step's output to a scalar read (loss, sum) or keeps the tensor (matmul). */
  read: "scalar" | "tensor";
}

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
    case "mlp": {
      const model = new nn.Sequential(
        new nn.Linear(784, 128, { device }),
        new nn.ReLU(),
        new nn.Linear(128, 10, { device }),
      );
      setParams(model, inputs, ["w1", "b1", "w2", "b2"], device);
      const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      return { step: trainStep(model, optimizer, inputs, device), read: "scalar" };
    }
    case "cnn": {
      const model = new nn.Sequential(
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
      setParams(model, inputs, ["c1w", "c1b", "c2w", "c2b", "f1w", "f1b", "f2w", "f2b"], device);
      const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
      return { step: trainStep(model, optimizer, inputs, device), read: "scalar" };
    }
  }
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
  ) {
    this.id = device === "cpu" ? "cinder" : "cinder_webgpu";
    this.label = device === "cpu" ? "cinder" : "cinder-webgpu";
  }

  supports(task: Task): boolean {
    return this.only ? this.only.has(task.id) || this.only.has(task.workload) : !task.gpuOnly;
  }

  async check(task: Task, inputs: Inputs): Promise<Float32Array> {
    const b = build(task, inputs, this.device);
    if (b.read === "tensor") return Float32Array.from((await b.step().dataAsync()) as Float32Array);
    const steps = task.checkSteps ?? 1;
    const out = new Float32Array(steps);
    for (let i = 0; i < steps; i++) out[i] = Number(await b.step().itemAsync());
    return out;
  }

  async prepare(task: Task, inputs: Inputs): Promise<Prepared> {
    const b = build(task, inputs, this.device);
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
    return { run: (iters) => timeLoop(iters, step, finish), dispose: () => undefined };
  }
}
