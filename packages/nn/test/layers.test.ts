/**
 * Layers against PyTorch: each fixture case loads PyTorch's state dict into the matching Cinder module, runs
 * the same steps (train/eval) on the same inputs, backpropagates sum(output * grad_output), and compares the
 * output, the input and parameter gradients, and the buffers (BatchNorm running stats) after every step.
 */
import { manualSeed, noGrad, ones, randn, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as nn from "../src";
import { expectClose, fixture, type T, t } from "./helpers";

interface Step {
  mode: "train" | "eval";
  inputs: T[];
  grad_output: T;
  output: T;
  input_grads: (T | null)[];
  param_grads: Record<string, T>;
  buffers: Record<string, T>;
}
interface LayerCase {
  name: string;
  module: string;
  state: Record<string, T>;
  steps: Step[];
}

const make: Record<string, () => nn.Module> = {
  linear: () => new nn.Linear(5, 3),
  linear_nobias_3d: () => new nn.Linear(5, 3, { bias: false }),
  linear_1d_input: () => new nn.Linear(4, 2),
  identity: () => new nn.Identity(),
  flatten: () => new nn.Flatten(),
  flatten_0_1: () => new nn.Flatten(0, 1),
  unflatten: () => new nn.Unflatten(1, [2, 3]),
  dropout_eval: () => new nn.Dropout(0.3),
  relu: () => new nn.ReLU(),
  relu6: () => new nn.ReLU6(),
  leaky_relu: () => new nn.LeakyReLU(),
  leaky_relu_02: () => new nn.LeakyReLU(0.2),
  elu: () => new nn.ELU(),
  elu_alpha: () => new nn.ELU({ alpha: 0.5 }),
  gelu: () => new nn.GELU(),
  gelu_tanh: () => new nn.GELU({ approximate: "tanh" }),
  silu: () => new nn.SiLU(),
  softplus: () => new nn.Softplus(),
  sigmoid: () => new nn.Sigmoid(),
  tanh: () => new nn.Tanh(),
  softmax_1: () => new nn.Softmax(1),
  softmax_0: () => new nn.Softmax({ dim: 0 }),
  log_softmax_1: () => new nn.LogSoftmax(1),
  log_softmax_last_3d: () => new nn.LogSoftmax(-1),
  layer_norm: () => new nn.LayerNorm(6),
  layer_norm_2d: () => new nn.LayerNorm([3, 4]),
  layer_norm_noaffine: () => new nn.LayerNorm(5, { eps: 1e-3, elementwiseAffine: false }),
  group_norm: () => new nn.GroupNorm(2, 6),
  group_norm_4d: () => new nn.GroupNorm(3, 6),
  group_norm_noaffine: () => new nn.GroupNorm(1, 4, { affine: false }),
  embedding: () => new nn.Embedding(10, 4),
  embedding_padding: () => new nn.Embedding(6, 3, { paddingIdx: 0 }),
  sequential_mlp: () =>
    new nn.Sequential(
      new nn.Linear(6, 8),
      new nn.ReLU(),
      new nn.Linear(8, 8),
      new nn.Tanh(),
      new nn.Linear(8, 3),
      new nn.LogSoftmax(1),
    ),
  batchnorm1d: () => new nn.BatchNorm1d(4),
  batchnorm1d_3d: () => new nn.BatchNorm1d(3),
  batchnorm1d_cumulative: () => new nn.BatchNorm1d(4, { momentum: null }),
  batchnorm1d_noaffine: () => new nn.BatchNorm1d(4, { affine: false, eps: 1e-3 }),
  batchnorm1d_notrack: () => new nn.BatchNorm1d(4, { trackRunningStats: false }),
  batchnorm2d: () => new nn.BatchNorm2d(3, { momentum: 0.3 }),
};

const cases: LayerCase[] = fixture.layers;

describe("layers match PyTorch (forward, gradients, buffers)", () => {
  it("every fixture case has a module here", () => {
    expect(cases.map((c) => c.name).filter((n) => !make[n])).toEqual([]);
  });
  for (const c of cases) {
    it(c.name, () => {
      const m = make[c.name]();
      expect(String(m)).toBe(c.module);
      const state = new Map(Object.entries(c.state).map(([k, v]) => [k, t(v)]));
      m.loadStateDict(state);
      c.steps.forEach((s, si) => {
        const what = `${c.name} step ${si} (${s.mode})`;
        m.train(s.mode === "train");
        m.zeroGrad();
        const xs = s.inputs.map((x) => t(x, x.dtype === "float32"));
        const out = (m as unknown as (...a: Tensor[]) => Tensor)(...xs);
        expectClose(out, s.output, `${what} output`);
        out.mul(t(s.grad_output)).sum().backward();
        s.input_grads.forEach((g, i) => {
          if (g) expectClose(xs[i].grad, g, `${what} grad of input ${i}`);
        });
        const params = new Map(m.namedParameters());
        expect([...params.keys()].filter((k) => params.get(k)!.grad).sort()).toEqual(
          Object.keys(s.param_grads).sort(),
        );
        for (const [k, g] of Object.entries(s.param_grads))
          expectClose(params.get(k)!.grad, g, `${what} grad of ${k}`);
        const buffers = new Map(m.namedBuffers());
        expect([...buffers.keys()].sort()).toEqual(Object.keys(s.buffers).sort());
        for (const [k, b] of Object.entries(s.buffers)) expectClose(buffers.get(k), b, `${what} buffer ${k}`);
      });
    });
  }
});

describe("Dropout", () => {
  it("in training zeroes about p of the elements and scales the rest by 1/(1-p)", () => {
    manualSeed(0);
    const d = new nn.Dropout(0.3);
    const x = ones(200, 100);
    const y = d(x).data();
    let zeros = 0;
    for (const v of y) {
      if (v === 0) zeros++;
      else expect(v).toBeCloseTo(1 / 0.7, 6);
    }
    expect(Math.abs(zeros / y.length - 0.3)).toBeLessThan(0.01);
  });
  it("is reproducible under manualSeed and differs between draws", () => {
    const d = new nn.Dropout(0.5);
    manualSeed(5);
    const a = d(ones(50)).data();
    const b = d(ones(50)).data();
    manualSeed(5);
    expect(d(ones(50)).data()).toEqual(a);
    expect(b).not.toEqual(a);
  });
  it("is the identity in eval mode and for p = 0; p = 1 zeroes everything", () => {
    const x = randn(4, 4);
    expect(new nn.Dropout(0.9).eval()(x)).toBe(x);
    expect(nn.F.dropout(x, { p: 0.4, training: false })).toBe(x);
    expect(nn.F.dropout(x, 0)).toBe(x);
    expect(Array.from(new nn.Dropout(1)(x).data()).every((v) => v === 0)).toBe(true);
  });
  it("passes gradients through the kept elements, scaled", () => {
    manualSeed(3);
    const x = ones(1000).requiresGrad_();
    const y = nn.F.dropout(x, 0.25);
    y.sum().backward();
    expect(Array.from(x.grad!.data())).toEqual(Array.from(y.detach().data()));
  });
  it("rejects probabilities outside [0, 1]", () => {
    expect(() => new nn.Dropout(1.5)).toThrow(/between 0 and 1, but got 1.5/);
  });
});

describe("printing like print(model)", () => {
  class SimpleNet extends nn.Module {
    fc1 = new nn.Linear(784, 128);
    fc2 = new nn.Linear(128, 10);
    override forward(x: Tensor): Tensor {
      return this.fc2(nn.F.relu(this.fc1(x.view(-1, 784))));
    }
  }
  class SimpleNN extends nn.Module {
    layer1 = new nn.Linear(10, 20);
    activation = new nn.ReLU();
    layer2 = new nn.Linear(20, 1);
  }
  class Net extends nn.Module {
    features = new nn.Sequential(new nn.Linear(8, 16), new nn.BatchNorm1d(16), new nn.ReLU());
    heads = new nn.ModuleDict({ cls: new nn.Linear(16, 3), reg: new nn.Linear(16, 1) });
    blocks = new nn.ModuleList([new nn.Linear(16, 16), new nn.GELU(), new nn.Dropout(0.1)]);
    norm = new nn.LayerNorm(16);
  }
  const build: Record<string, () => nn.Module> = {
    simplenet: () => new SimpleNet(),
    simple_nn: () => new SimpleNN(),
    sequential: () =>
      new nn.Sequential(
        new nn.Linear(784, 128),
        new nn.ReLU(),
        new nn.Dropout(0.2),
        new nn.BatchNorm1d(128),
        new nn.Linear(128, 10),
      ),
    net: () => new Net(),
    linear_nobias: () => new nn.Linear(3, 4, false),
    flatten: () => new nn.Flatten(),
    flatten_args: () => new nn.Flatten({ startDim: 0, endDim: 2 }),
    unflatten: () => new nn.Unflatten(1, [2, 5]),
    dropout: () => new nn.Dropout(),
    dropout_inplace: () => new nn.Dropout({ p: 0.25, inplace: true }),
    batchnorm1d_options: () => new nn.BatchNorm1d(16, { momentum: null, affine: false }),
    batchnorm2d_options: () => new nn.BatchNorm2d(8, { eps: 1e-3, trackRunningStats: false }),
    layernorm: () => new nn.LayerNorm(10),
    layernorm_options: () => new nn.LayerNorm([4, 5], { eps: 1e-6, elementwiseAffine: false }),
    groupnorm: () => new nn.GroupNorm(2, 8),
    groupnorm_options: () => new nn.GroupNorm(4, 8, { eps: 0.001, affine: false }),
    embedding: () => new nn.Embedding(10, 3),
    embedding_padding: () => new nn.Embedding(10, 3, { paddingIdx: 0 }),
    embedding_maxnorm: () => new nn.Embedding(10, 3, { maxNorm: 1 }),
    identity: () => new nn.Identity(),
    relu: () => new nn.ReLU(),
    relu_inplace: () => new nn.ReLU(true),
    relu6: () => new nn.ReLU6(),
    leakyrelu: () => new nn.LeakyReLU(),
    leakyrelu_options: () => new nn.LeakyReLU(0.2, true),
    elu: () => new nn.ELU(),
    elu_alpha: () => new nn.ELU(0.5),
    gelu: () => new nn.GELU(),
    gelu_tanh: () => new nn.GELU("tanh"),
    silu: () => new nn.SiLU(),
    softplus: () => new nn.Softplus(),
    sigmoid: () => new nn.Sigmoid(),
    tanh: () => new nn.Tanh(),
    softmax: () => new nn.Softmax({ dim: 1 }),
    softmax_none: () => new nn.Softmax(),
    logsoftmax: () => new nn.LogSoftmax(-1),
    modulelist: () => new nn.ModuleList([new nn.Linear(2, 2), new nn.ReLU()]),
    moduledict: () =>
      new nn.ModuleDict(
        new Map<string, nn.Module>([
          ["b", new nn.ReLU()],
          ["a", new nn.Linear(1, 2)],
          ["10", new nn.Tanh()],
          ["2", new nn.Identity()],
        ]),
      ),
    nested_sequential: () =>
      new nn.Sequential(new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU()), new nn.Linear(3, 1)),
    empty_sequential: () => new nn.Sequential(),
    mseloss: () => new nn.MSELoss(),
    crossentropyloss: () => new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }),
    bcewithlogitsloss: () => new nn.BCEWithLogitsLoss({ posWeight: ones(3) }),
  };
  const reprs: Record<string, string> = fixture.reprs;
  it("every fixture repr has a module here", () => {
    expect(Object.keys(reprs).filter((k) => !build[k])).toEqual([]);
  });
  for (const [name, expected] of Object.entries(reprs)) {
    it(name, () => {
      const m = build[name]();
      expect(String(m)).toBe(expected);
      expect(`${m}`).toBe(expected);
    });
  }
  it("state dict keys and parameter names come in PyTorch's order", () => {
    for (const [name, keys] of Object.entries(fixture.state_keys as Record<string, string[]>)) {
      expect([...build[name]().stateDict().keys()], name).toEqual(keys);
    }
    for (const [name, keys] of Object.entries(fixture.param_names as Record<string, string[]>)) {
      expect(
        [...build[name]().namedParameters()].map(([k]) => k),
        name,
      ).toEqual(keys);
    }
  });
});

describe("Sequential, ModuleList, ModuleDict", () => {
  it("Sequential is indexable, iterable, sliceable and appendable", () => {
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1));
    expect(seq.length).toBe(3);
    const first: nn.Linear = seq.at(0);
    expect(first).toBeInstanceOf(nn.Linear);
    expect(seq.get(-1)).toBeInstanceOf(nn.Linear);
    expect(seq.at(-2)).toBeInstanceOf(nn.ReLU);
    expect(() => seq.at(3)).toThrow(/out of range/);
    expect([...seq].map((m) => m.constructor.name)).toEqual(["Linear", "ReLU", "Linear"]);
    const tail = seq.slice(1);
    expect([...tail.namedChildren()].map(([k]) => k)).toEqual(["1", "2"]);
    seq.append(new nn.Sigmoid());
    expect(seq.length).toBe(4);
    expect([...seq.stateDict().keys()]).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
    seq.insert(1, new nn.Tanh());
    expect([...seq.namedChildren()].map(([k, m]) => `${k}:${m.constructor.name}`)).toEqual([
      "0:Linear",
      "1:Tanh",
      "2:ReLU",
      "3:Linear",
      "4:Sigmoid",
    ]);
    expect(seq.pop(1)).toBeInstanceOf(nn.Tanh);
    expect(seq.length).toBe(4);
    const y = seq(randn(5, 2));
    expect(y.shape).toEqual([5, 1]);
    expect(seq.parameters().length).toBe(4);
  });
  it("Sequential accepts named children", () => {
    const seq = new nn.Sequential(
      new Map<string, nn.Module>([
        ["fc", new nn.Linear(2, 2)],
        ["act", new nn.ReLU()],
      ]),
    );
    expect([...seq.stateDict().keys()]).toEqual(["fc.weight", "fc.bias"]);
    expect(String(seq)).toBe(
      "Sequential(\n  (fc): Linear(in_features=2, out_features=2, bias=True)\n  (act): ReLU()\n)",
    );
  });
  it("ModuleList registers its modules", () => {
    const list = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2)]);
    list.append(new nn.Linear(2, 1));
    expect(list.length).toBe(3);
    expect(list.parameters().length).toBe(6);
    expect([...list.stateDict().keys()]).toContain("2.weight");
    let x = randn(3, 2);
    for (const m of list) x = m(x);
    expect(x.shape).toEqual([3, 1]);
    list.set(0, new nn.Linear(2, 2, false));
    expect(list.at(0).bias).toBeNull();
    expect(() => (list as unknown as () => void)()).toThrow(/no forward/);
  });
  it("ModuleDict keeps insertion order and rejects clashing names", () => {
    const d = new nn.ModuleDict<nn.Module>({ enc: new nn.Linear(2, 3), dec: new nn.Linear(3, 2) });
    d.set("act", new nn.ReLU());
    expect(d.keys()).toEqual(["enc", "dec", "act"]);
    expect([...d]).toEqual(["enc", "dec", "act"]);
    expect(d.get("dec")).toBeInstanceOf(nn.Linear);
    expect(d.has("nope")).toBe(false);
    expect(d.pop("act")).toBeInstanceOf(nn.ReLU);
    expect(d.length).toBe(2);
    expect(() => d.set("forward", new nn.ReLU())).toThrow(/already exists/);
    expect(() => d.set("a.b", new nn.ReLU())).toThrow(/contain "."/);
  });
});

describe("layer details", () => {
  it("Linear's default init is PyTorch's: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias", () => {
    manualSeed(1);
    const l = new nn.Linear(400, 300);
    const bound = 1 / Math.sqrt(400);
    for (const p of [l.weight, l.bias!]) {
      const max = Array.from(p.data()).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(max).toBeLessThanOrEqual(bound);
      expect(max).toBeGreaterThan(bound * 0.98);
    }
    // uniform on [-b, b] has std b / sqrt(3)
    expect(l.weight.std().item() as number).toBeCloseTo(bound / Math.sqrt(3), 3);
    expect(l.weight.requiresGrad).toBe(true);
  });
  it("Linear takes dtype and device options", () => {
    const l = new nn.Linear(3, 2, { dtype: "float64" });
    expect(l.weight.dtype).toBe("float64");
    expect(l(randn(4, 3, { dtype: "float64" })).dtype).toBe("float64");
  });
  it("Linear names the shapes when they do not fit", () => {
    expect(() => new nn.Linear(3, 2)(randn(4, 5))).toThrow(/4x5 and 3x2/);
  });
  it("BatchNorm checks input rank and batch size", () => {
    expect(() => new nn.BatchNorm1d(3)(randn(2, 3, 4, 5))).toThrow(/expected 2D or 3D input \(got 4D/);
    expect(() => new nn.BatchNorm2d(3)(randn(2, 3, 4))).toThrow(/expected 4D input/);
    expect(() => new nn.BatchNorm1d(3)(randn(1, 3))).toThrow(
      /Expected more than 1 value per channel when training/,
    );
    expect(new nn.BatchNorm1d(3).eval()(randn(1, 3)).shape).toEqual([1, 3]);
  });
  it("BatchNorm's buffers are int64 num_batches_tracked and float running stats, named like PyTorch", () => {
    const bn = new nn.BatchNorm1d(2);
    bn(randn(4, 2));
    bn(randn(4, 2));
    expect(bn.numBatchesTracked!.dtype).toBe("int64");
    expect(bn.numBatchesTracked!.item()).toBe(2);
    expect([...bn.stateDict().keys()]).toEqual([
      "weight",
      "bias",
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
    bn.resetRunningStats();
    expect(Array.from(bn.runningVar!.data())).toEqual([1, 1]);
  });
  it("Embedding: paddingIdx row starts at zero and gets no gradient; out-of-range indices fail", () => {
    const e = new nn.Embedding(5, 3, { paddingIdx: -1 });
    expect(e.paddingIdx).toBe(4);
    expect(Array.from(e.weight.select(0, 4).data())).toEqual([0, 0, 0]);
    e(tensor([4, 1, 4]))
      .sum()
      .backward();
    expect(Array.from(e.weight.grad!.select(0, 4).data())).toEqual([0, 0, 0]);
    expect(Array.from(e.weight.grad!.select(0, 1).data())).toEqual([1, 1, 1]);
    expect(() => e(tensor([5]))).toThrow(/index 5 is out of range/);
    expect(() => e(tensor([1.5]))).toThrow(/integer index tensor/);
  });
  it("Embedding.fromPretrained freezes by default; maxNorm renormalises looked-up rows", () => {
    const w = tensor([
      [3, 4],
      [0.3, 0.4],
    ]);
    const e = nn.Embedding.fromPretrained(w);
    expect(e.weight.requiresGrad).toBe(false);
    const m = new nn.Embedding(2, 2, { maxNorm: 1 });
    noGrad(() => m.weight.copy_(w));
    const out = m(tensor([0, 1]));
    expect(Array.from(out.data()).map((v) => +v.toFixed(5))).toEqual([0.6, 0.8, 0.3, 0.4]);
    expect(Array.from(m.weight.select(0, 0).data()).map((v) => +v.toFixed(5))).toEqual([0.6, 0.8]);
  });
  it("in-place activations overwrite their input", () => {
    const x = tensor([-1, 2]);
    const y = new nn.ReLU(true)(x);
    expect(y).toBe(x);
    expect(Array.from(x.data())).toEqual([0, 2]);
  });
  it("Module.to moves parameters and buffers to a dtype", () => {
    const bn = new nn.BatchNorm1d(3).to("float64");
    expect(bn.weight!.dtype).toBe("float64");
    expect(bn.runningMean!.dtype).toBe("float64");
    expect(bn.numBatchesTracked!.dtype).toBe("int64");
    expect(bn(randn(4, 3, { dtype: "float64" })).dtype).toBe("float64");
  });
});
