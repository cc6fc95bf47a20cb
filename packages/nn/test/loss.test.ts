/**
 * Losses against PyTorch: every fixture case runs through the loss module (built from the case's options)
 * and, separately, through the functional form; output and gradients (input, and float targets where
 * PyTorch differentiates them) are compared.
 */
import { randn, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as nn from "../src";
import { expectClose, fixture, type T, t } from "./helpers";

interface Options {
  reduction?: "mean" | "sum" | "none" | "batchmean";
  beta?: number;
  delta?: number;
  ignore_index?: number;
  label_smoothing?: number;
  weight?: T | null;
  pos_weight?: T | null;
  log_target?: boolean;
}
interface LossCase {
  name: string;
  torch: string;
  options: Options;
  input: T;
  target: T;
  grad_output: T;
  output: T;
  input_grad: T;
  target_grad: T | null;
}

type Fn = (x: Tensor, y: Tensor) => Tensor;
type Builder = (o: Options) => { module: Fn; functional: Fn };

const opt = (e: T | null | undefined) => (e ? t(e) : null);
const red = (o: Options) => (o.reduction ?? "mean") as "mean" | "sum" | "none";

/** The loss for a case name's prefix: the module (built from the options) and the functional form. */
const builders: [string, Builder][] = [
  [
    "mse_",
    (o) => ({
      module: new nn.MSELoss({ reduction: red(o) }),
      functional: (x, y) => nn.F.mseLoss(x, y, { reduction: red(o) }),
    }),
  ],
  [
    "l1_",
    (o) => ({
      module: new nn.L1Loss({ reduction: red(o) }),
      functional: (x, y) => nn.F.l1Loss(x, y, { reduction: red(o) }),
    }),
  ],
  [
    "smooth_l1_",
    (o) => ({
      module: new nn.SmoothL1Loss({ reduction: red(o), beta: o.beta }),
      functional: (x, y) => nn.F.smoothL1Loss(x, y, { reduction: red(o), beta: o.beta }),
    }),
  ],
  [
    "huber_",
    (o) => ({
      module: new nn.HuberLoss({ reduction: red(o), delta: o.delta }),
      functional: (x, y) => nn.F.huberLoss(x, y, { reduction: red(o), delta: o.delta }),
    }),
  ],
  [
    "ce_",
    (o) => {
      const opts = {
        reduction: red(o),
        weight: opt(o.weight),
        ignoreIndex: o.ignore_index,
        labelSmoothing: o.label_smoothing,
      };
      return { module: new nn.CrossEntropyLoss(opts), functional: (x, y) => nn.F.crossEntropy(x, y, opts) };
    },
  ],
  [
    "nll_",
    (o) => {
      const opts = { reduction: red(o), weight: opt(o.weight), ignoreIndex: o.ignore_index };
      return { module: new nn.NLLLoss(opts), functional: (x, y) => nn.F.nllLoss(x, y, opts) };
    },
  ],
  [
    "bcel_",
    (o) => {
      const opts = { reduction: red(o), weight: opt(o.weight), posWeight: opt(o.pos_weight) };
      return {
        module: new nn.BCEWithLogitsLoss(opts),
        functional: (x, y) => nn.F.binaryCrossEntropyWithLogits(x, y, opts),
      };
    },
  ],
  [
    "bce_",
    (o) => {
      const opts = { reduction: red(o), weight: opt(o.weight) };
      return { module: new nn.BCELoss(opts), functional: (x, y) => nn.F.binaryCrossEntropy(x, y, opts) };
    },
  ],
  [
    "kl_",
    (o) => {
      const opts = { reduction: o.reduction, logTarget: o.log_target };
      return { module: new nn.KLDivLoss(opts), functional: (x, y) => nn.F.klDiv(x, y, opts) };
    },
  ],
];

function builderFor(name: string): Builder | undefined {
  return builders.find(([p]) => name.startsWith(p))?.[1];
}

const cases: LossCase[] = fixture.losses;

function check(c: LossCase, fn: Fn, what: string): void {
  const x = t(c.input, true);
  const y = t(c.target, c.target_grad !== null);
  const out = fn(x, y);
  expectClose(out, c.output, `${what} output`);
  out.mul(t(c.grad_output)).sum().backward();
  expectClose(x.grad, c.input_grad, `${what} input grad`);
  if (c.target_grad) expectClose(y.grad, c.target_grad, `${what} target grad`);
}

describe("losses match PyTorch", () => {
  it("every fixture case has a loss here", () => {
    expect(cases.map((c) => c.name).filter((n) => !builderFor(n))).toEqual([]);
  });
  it("cross entropy covers every option combination", () => {
    const names = new Set(cases.map((c) => c.name));
    for (const w of [0, 1]) {
      for (const ii of [-100, 2]) {
        for (const ls of ["0.0", "0.1"])
          for (const r of ["mean", "sum", "none"])
            expect(names.has(`ce_idx_w${w}_ii${ii}_ls${ls}_${r}`)).toBe(true);
      }
      for (const ls of ["0.0", "0.2"])
        for (const r of ["mean", "sum", "none"]) expect(names.has(`ce_prob_w${w}_ls${ls}_${r}`)).toBe(true);
    }
  });
  for (const c of cases) {
    it(`${c.name}: ${c.torch}`, () => {
      const b = builderFor(c.name)!(c.options);
      check(c, b.module, `${c.name} (module)`);
      check(c, b.functional, `${c.name} (functional)`);
    });
  }
});

describe("loss details", () => {
  it("CrossEntropyLoss reports bad targets clearly", () => {
    const ce = new nn.CrossEntropyLoss();
    expect(() => ce(randn(3, 4), tensor([0, 1, 4]))).toThrow(/Target 4 is out of bounds/);
    expect(() => ce(randn(3, 4), tensor([0, 1]))).toThrow(
      /Expected input batch_size \(3\) to match target batch_size \(2\)/,
    );
    expect(() => ce(randn(3, 4), tensor([0.5, 1, 2]))).toThrow(/integer \(int32\) class-index target/);
    expect(() => new nn.CrossEntropyLoss({ labelSmoothing: 1.5 })(randn(2, 2), tensor([0, 1]))).toThrow(
      /between 0.0 and 1.0/,
    );
    expect(() => nn.F.crossEntropy(randn(2, 2), randn(2, 2).softmax(1), { ignoreIndex: 0 })).toThrow(
      /not supported for floating point/,
    );
    // a bad reduction is refused by the constructor, naming the parameter, the expected values and the given one
    expect(() => new nn.CrossEntropyLoss({ reduction: "avg" as "mean" })).toThrow(
      'CrossEntropyLoss(): argument "reduction" must be "mean" | "sum" | "none", got str "avg"',
    );
  });
  it("a weighted mean divides by the summed weights of the targets", () => {
    const x = tensor(
      [
        [2, 0],
        [0, 2],
        [1, 1],
      ],
      { dtype: "float32" },
    );
    const y = tensor([0, 1, 1]);
    const w = tensor([1, 3], { dtype: "float32" });
    const none = nn.F.crossEntropy(x, y, { weight: w, reduction: "none" });
    const mean = nn.F.crossEntropy(x, y, { weight: w }).item() as number;
    expect(mean).toBeCloseTo((none.sum().item() as number) / 7, 6);
  });
  it("BCELoss checks its input range and sizes; BCEWithLogits checks sizes", () => {
    expect(() => new nn.BCELoss()(tensor([0.5, 1.5]), tensor([0, 1], { dtype: "float32" }))).toThrow(
      /between 0 and 1/,
    );
    expect(() => new nn.BCELoss()(tensor([0.5, 0.5]), tensor([[0, 1]], { dtype: "float32" }))).toThrow(
      /same size/,
    );
    expect(() => new nn.BCEWithLogitsLoss()(randn(2), randn(3))).toThrow(/must be the same as input size/);
  });
  it("BCE gradients at exactly 0 and 1 are finite (PyTorch's clamped derivative)", () => {
    const x = tensor([0, 1, 0, 1], { dtype: "float32" }).requiresGrad_();
    const loss = nn.F.binaryCrossEntropy(x, tensor([0, 1, 1, 0], { dtype: "float32" }), { reduction: "sum" });
    expect(loss.item()).toBe(200);
    loss.backward();
    expect(Array.from(x.grad!.data())).toEqual([0, 0, -1e12, 1e12].map(Math.fround));
  });
  it("loss modules hold tensor options as buffers (moved by to(), saved in the state dict)", () => {
    const l = new nn.BCEWithLogitsLoss({ posWeight: tensor([2, 3], { dtype: "float32" }) });
    expect([...l.stateDict().keys()]).toEqual(["pos_weight"]);
    l.to("float64");
    expect(l.posWeight!.dtype).toBe("float64");
    expect(String(new nn.CrossEntropyLoss({ weight: tensor([1, 2], { dtype: "float32" }) }))).toBe(
      "CrossEntropyLoss()",
    );
  });
  it("KLDivLoss 'batchmean' divides the sum by the batch size", () => {
    const x = randn(4, 3).logSoftmax(1);
    const y = randn(4, 3).softmax(1);
    const sum = nn.F.klDiv(x, y, { reduction: "sum" }).item() as number;
    expect(new nn.KLDivLoss({ reduction: "batchmean" })(x, y).item() as number).toBeCloseTo(sum / 4, 6);
  });
});
