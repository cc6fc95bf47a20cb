/** nn.functional against PyTorch (fixture "functional": output and input gradients), plus API details. */
import { randn, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { F } from "../src";
import { expectClose, fixture, type T, t } from "./helpers";

interface FnCase {
  name: string;
  torch: string;
  inputs: T[];
  output: T;
  grad_output?: T;
  input_grads?: (T | null)[];
}

const run: Record<string, (...xs: Tensor[]) => Tensor> = {
  pad_constant: (x) => F.pad(x, [1, 2]),
  pad_constant_2d_value: (x) => F.pad(x, [1, 0, 2, 1], { value: -1.5 }),
  pad_constant_negative: (x) => F.pad(x, [-1, 1, 0, -1]),
  pad_reflect: (x) => F.pad(x, [2, 3], { mode: "reflect" }),
  pad_reflect_2d: (x) => F.pad(x, [1, 2, 2, 1], "reflect"),
  pad_replicate: (x) => F.pad(x, [2, 1], { mode: "replicate" }),
  pad_replicate_2d: (x) => F.pad(x, [1, 1, 2, 0], { mode: "replicate" }),
  pad_circular: (x) => F.pad(x, [1, 2], { mode: "circular" }),
  one_hot: (x) => F.oneHot(x),
  one_hot_n: (x) => F.oneHot(x, 5),
  linear_fn: (x, w, b) => F.linear(x, w, b),
  embedding_fn: (i, w) => F.embedding(i, w, { paddingIdx: 1 }),
  normalize: (x) => F.normalize(x),
  normalize_p1_dim0: (x) => F.normalize(x, { p: 1, dim: 0 }),
  softmax_implicit_2d: (x) => F.softmax(x),
  softmax_implicit_3d: (x) => F.softmax(x),
  layer_norm_fn: (x, w, b) => F.layerNorm(x, [4], { weight: w, bias: b, eps: 1e-4 }),
  group_norm_fn: (x, w, b) => F.groupNorm(x, 2, { weight: w, bias: b }),
  batch_norm_fn_eval: (x, rm, rv, w, b) =>
    F.batchNorm(x, rm.detach(), rv.detach(), { weight: w, bias: b, training: false, eps: 1e-3 }),
  hardtanh: (x) => F.hardtanh(x, { minVal: -0.5, maxVal: 0.75 }),
  mish: (x) => F.mish(x),
  selu: (x) => F.selu(x),
};

const cases: FnCase[] = fixture.functional;

describe("functional ops match PyTorch", () => {
  it("every fixture case has an implementation here", () => {
    expect(cases.map((c) => c.name).filter((n) => !run[n])).toEqual([]);
  });
  for (const c of cases) {
    it(`${c.name}: ${c.torch}`, () => {
      const xs = c.inputs.map((x) => t(x, x.dtype === "float32"));
      const out = run[c.name](...xs);
      expectClose(out, c.output, `${c.name} output`);
      if (c.output.dtype === "int32") expect(out.dtype).toBe("int32");
      if (!c.grad_output) return;
      out.mul(t(c.grad_output)).sum().backward();
      c.input_grads!.forEach((g, i) => {
        if (g) expectClose(xs[i].grad, g, `${c.name} grad of input ${i}`);
      });
    });
  }
});

describe("functional details", () => {
  it("pad validates its arguments", () => {
    const x = randn(2, 3);
    expect(() => F.pad(x, [1])).toThrow(/divisible by 2/);
    expect(() => F.pad(x, [1, 1, 1, 1, 1, 1])).toThrow(/too large/);
    expect(() => F.pad(x, [3, 0], "reflect")).toThrow(/less than the corresponding input dimension/);
    // negative amounts crop in every mode, as PyTorch 1.13
    expect(F.pad(x, [-1, 0], "replicate").shape).toEqual([2, 2]);
  });
  it("oneHot checks its classes", () => {
    expect(() => F.oneHot(tensor([0, 3]), 3)).toThrow(/smaller than num_classes/);
    expect(() => F.oneHot(tensor([-1, 0]))).toThrow(/non-negative/);
    expect(() => F.oneHot(tensor([0.5]))).toThrow(/integer tensor/);
  });
  it("activations accept positional or options arguments", () => {
    const x = tensor([-2, 0.5]);
    expect(Array.from(F.leakyRelu(x, 0.1).data())).toEqual(
      Array.from(F.leakyRelu(x, { negativeSlope: 0.1 }).data()),
    );
    expect(Array.from(F.elu(x, 2).data())).toEqual(Array.from(F.elu(x, { alpha: 2 }).data()));
    expect(Array.from(F.softmax(x, 0).data())).toEqual(Array.from(F.softmax(x, { dim: 0 }).data()));
    expect(() => F.gelu(x, { approximate: "erf" as "none" })).toThrow(/approximate/);
  });
  it("ELU and softplus keep gradients finite for large inputs", () => {
    const x = tensor([200, -200, 0], { dtype: "float32" }).requiresGrad_();
    F.elu(x).sum().backward();
    expect(Array.from(x.grad!.data()).every(Number.isFinite)).toBe(true);
    const y = tensor([200, -200], { dtype: "float32" }).requiresGrad_();
    F.softplus(y).sum().backward();
    expect(Array.from(y.grad!.data())).toEqual([1, 0]);
  });
  it("layerNorm and groupNorm name the shapes they expect", () => {
    expect(() => F.layerNorm(randn(2, 3), [4])).toThrow(
      /expected input with shape \[\*, 4\], but got input of size \[2, 3\]/,
    );
    expect(() => F.groupNorm(randn(2, 5, 3), 2)).toThrow(/divisible by num_groups/);
    expect(() => F.batchNorm(randn(2, 3), null, null)).toThrow(/runningMean and runningVar are required/);
  });
  it("embedding gives EmbeddingBackward0 and linear checks shapes", () => {
    const w = randn(4, 2).requiresGrad_();
    expect(F.embedding(tensor([1, 2]), w).gradFn?.name).toBe("EmbeddingBackward0");
    expect(() => F.linear(randn(2, 3), randn(4, 5))).toThrow(/2x3 and 5x4/);
  });
});
