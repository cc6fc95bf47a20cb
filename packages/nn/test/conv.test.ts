/**
 * Convolutions and unfold/fold against PyTorch (test/fixtures/conv.json, written by
 * scripts/fixtures/conv_fixtures.py): forward values and the gradients of input, weight and bias for a fixed
 * upstream gradient. Then float64 finite-difference checks (first and second order), errors, and the layers.
 */
import { readFileSync } from "node:fs";
import { grad, gradcheck } from "@cinder/autograd";
import { enableGrad, manualSeed, randn, type Tensor, tensor, zeros } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as nn from "../src";
import { conv1d, conv2d, convTranspose1d, convTranspose2d, fold, unfold } from "../src/functional/conv";
import { pad } from "../src/functional/pad";
import { expectClose, fixtureDir, type T, t } from "./helpers";

export interface ConvCase {
  name: string;
  op: string;
  opts: Record<string, unknown>;
  args?: unknown[];
  x: T;
  weight?: T;
  bias?: T;
  grad_output: T;
  output: T;
  grad_x: T;
  grad_weight?: T;
  grad_bias?: T;
  indices?: T;
}

export const convFixture: { cases: ConvCase[] } = JSON.parse(
  readFileSync(new URL("conv.json", fixtureDir), "utf8"),
);

type Op = (x: Tensor, w: Tensor | null, b: Tensor | null, c: ConvCase) => Tensor;
const ops: Record<string, Op> = {
  conv1d: (x, w, b, c) => conv1d(x, w!, b, c.opts),
  conv2d: (x, w, b, c) => conv2d(x, w!, b, c.opts),
  convTranspose1d: (x, w, b, c) => convTranspose1d(x, w!, b, c.opts),
  convTranspose2d: (x, w, b, c) => convTranspose2d(x, w!, b, c.opts),
  unfold: (x, _w, _b, c) => unfold(x, c.args![0] as nn.F.Size2, c.opts),
  fold: (x, _w, _b, c) => fold(x, c.args![0] as nn.F.Size2, c.args![1] as nn.F.Size2, c.opts),
};

describe("convolution against PyTorch", () => {
  const cases = convFixture.cases.filter((c) => c.op in ops);
  it("has the expected cases", () => {
    expect(cases.length).toBeGreaterThan(100);
    for (const op of Object.keys(ops))
      expect(
        cases.some((c) => c.op === op),
        op,
      ).toBe(true);
  });
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const x = t(c.x, true);
    const w = c.weight ? t(c.weight, true) : null;
    const b = c.bias ? t(c.bias, true) : null;
    const y = ops[c.op](x, w, b, c);
    expectClose(y, c.output, "output");
    expect(y.isContiguous()).toBe(true);
    y.backward(t(c.grad_output));
    expectClose(x.grad, c.grad_x, "grad x");
    if (c.grad_weight) expectClose(w!.grad, c.grad_weight, "grad weight");
    if (c.grad_bias) expectClose(b!.grad, c.grad_bias, "grad bias");
  });
});

const f64 = (...shape: number[]) => randn(shape, { dtype: "float64" }).requiresGrad_();

describe("gradcheck (float64)", () => {
  manualSeed(7);
  it("conv2d: stride, padding, dilation, groups, bias", () => {
    const x = f64(2, 4, 5, 4);
    const w = f64(6, 2, 3, 2);
    const b = f64(6);
    const f = (x: Tensor, w: Tensor, b: Tensor) =>
      conv2d(x, w, b, { stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2 });
    expect(gradcheck(f, [x, w, b])).toBe(true);
  });
  it("conv2d with padding 'same' and an even kernel", () => {
    const f = (x: Tensor, w: Tensor) => conv2d(x, w, { padding: "same" });
    expect(gradcheck(f, [f64(1, 2, 4, 5), f64(3, 2, 2, 4)])).toBe(true);
  });
  it("conv1d", () => {
    const f = (x: Tensor, w: Tensor, b: Tensor) => conv1d(x, w, b, { stride: 2, padding: 2, dilation: 2 });
    expect(gradcheck(f, [f64(2, 3, 9), f64(4, 3, 3), f64(4)])).toBe(true);
  });
  it("convTranspose2d: stride, padding, outputPadding, groups, dilation", () => {
    const f = (x: Tensor, w: Tensor, b: Tensor) =>
      convTranspose2d(x, w, b, {
        stride: 2,
        padding: [1, 0],
        outputPadding: [1, 0],
        groups: 2,
        dilation: [1, 2],
      });
    expect(gradcheck(f, [f64(2, 4, 3, 3), f64(4, 1, 3, 2), f64(2)])).toBe(true);
  });
  it("convTranspose1d", () => {
    const f = (x: Tensor, w: Tensor) => convTranspose1d(x, w, { stride: 3, padding: 1 });
    expect(gradcheck(f, [f64(1, 2, 4), f64(2, 3, 4)])).toBe(true);
  });
  it("unfold and fold", () => {
    const o = { stride: [2, 1] as [number, number], padding: 1, dilation: [1, 2] as [number, number] };
    expect(gradcheck((x: Tensor) => unfold(x, [2, 3], o), [f64(2, 2, 5, 6)])).toBe(true);
    const blocks = unfold(zeros([1, 1, 5, 6]), [2, 3], o).shape[2];
    expect(gradcheck((x: Tensor) => fold(x, [5, 6], [2, 3], o), [f64(2, 12, blocks)])).toBe(true);
  });
  it("second-order gradients of conv2d (double backward through the recorded gradient ops)", () => {
    const gy = randn([2, 4, 3, 3], { dtype: "float64" });
    // gradcheck evaluates fn under noGrad for finite differences: the inner grad needs recording on
    const g2 = (x: Tensor, w: Tensor) =>
      enableGrad(() => {
        const y = conv2d(x, w, { stride: 2, padding: 1, groups: 2 });
        const [gx, gw] = grad(y, [x, w], { gradOutputs: [gy], createGraph: true });
        return gx!.square().sum().add(gw!.mul(gw!).sum());
      });
    expect(gradcheck(g2, [f64(2, 4, 5, 5), f64(4, 2, 3, 3)])).toBe(true);
  });
});

describe("autograd nodes", () => {
  it("records one ConvolutionBackward0 node per convolution", () => {
    const x = randn([1, 2, 5, 5], { requiresGrad: true });
    const w = randn([3, 2, 3, 3], { requiresGrad: true });
    const y = conv2d(x, w, randn([3]), { padding: 1 });
    expect(y.gradFn?.name).toBe("ConvolutionBackward0");
    expect(y.gradFn?.nextFunctions.map(([n]) => n?.name ?? null)).toEqual([
      "AccumulateGrad",
      "AccumulateGrad",
      null,
    ]);
    expect(convTranspose2d(y, w).gradFn?.name).toBe("ConvolutionBackward0");
    expect(unfold(x, 2).gradFn?.name).toBe("Im2ColBackward0");
    expect(fold(unfold(x, 2), 5, 2).gradFn?.name).toBe("Col2ImBackward0");
  });
  it("skips the input gradient when the input does not require grad", () => {
    const x = randn([2, 1, 6, 6]);
    const w = randn([2, 1, 3, 3], { requiresGrad: true });
    conv2d(x, w).sum().backward();
    expect(w.grad?.shape).toEqual([2, 1, 3, 3]);
    expect(x.grad).toBeNull();
  });
  it("handles an empty batch", () => {
    const x = zeros([0, 3, 5, 5]).requiresGrad_();
    const w = randn([4, 3, 3, 3], { requiresGrad: true });
    const y = conv2d(x, w, randn([4]), { padding: 1 });
    expect(y.shape).toEqual([0, 4, 5, 5]);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([0, 3, 5, 5]);
    expect(w.grad!.abs().sum().item()).toBe(0);
    expect(convTranspose2d(zeros([0, 4, 3, 3]), w).shape).toEqual([0, 3, 5, 5]);
    expect(unfold(zeros([0, 3, 4, 4]), 2).shape).toEqual([0, 12, 9]);
  });
  it("accepts non-contiguous inputs, weights and upstream gradients", () => {
    const x = randn([2, 5, 3, 4]).permute(0, 3, 1, 2).requiresGrad_(); // [2, 4, 5, 3], strided
    const w = randn([3, 3, 2, 4]).permute(0, 3, 1, 2).requiresGrad_(); // [3, 4, 3, 2]
    const xc = x.detach().contiguous().requiresGrad_();
    const wc = w.detach().contiguous().requiresGrad_();
    const y = conv2d(x, w, { padding: 1 });
    const yc = conv2d(xc, wc, { padding: 1 });
    expect(y.allclose(yc)).toBe(true);
    const g = randn([y.shape[3], y.shape[2], y.shape[1], y.shape[0]]).permute(3, 2, 1, 0);
    y.backward(g);
    yc.backward(g.contiguous());
    expect(x.grad!.allclose(xc.grad!)).toBe(true);
    expect(w.grad!.allclose(wc.grad!)).toBe(true);
  });
});

describe("errors", () => {
  const w = zeros([32, 3, 3, 3]);
  it("names expected and given shapes for wrong channels or rank", () => {
    expect(() => conv2d(zeros([64, 1, 28, 28]), w)).toThrow(
      "conv2d: expected input with 4 dims [N, C, H, W] and 3 channels (weight [32, 3, 3, 3]), got [64, 1, 28, 28]",
    );
    expect(() => conv2d(zeros([28, 28]), w)).toThrow(
      "conv2d: expected input with 4 dims [N, C, H, W] (or 3 dims [C, H, W] unbatched) and 3 channels (weight [32, 3, 3, 3]), got [28, 28]",
    );
    expect(() => conv2d(zeros([2, 4, 8, 8]), zeros([4, 2, 3, 3]), { groups: 3 })).toThrow(
      "conv2d: out_channels (weight.shape[0] = 4) must be divisible by groups (3)",
    );
    expect(() => conv2d(zeros([2, 4, 8, 8]), zeros([4, 3, 3, 3]), { groups: 2 })).toThrow(
      "conv2d: expected input with 4 dims [N, C, H, W] and 6 channels (weight [4, 3, 3, 3], groups=2), got [2, 4, 8, 8]",
    );
    expect(() => conv2d(zeros([1, 3, 8, 8]), zeros([3, 3, 3]))).toThrow(
      "conv2d: expected weight to be 4-dimensional [out_channels, in_channels/groups, kH, kW], got [3, 3, 3]",
    );
    expect(() => conv1d(zeros([2, 3, 8, 8]), zeros([4, 3, 3]))).toThrow(
      "conv1d: expected input with 3 dims [N, C, L]",
    );
  });
  it("rejects a kernel larger than the padded input", () => {
    expect(() => conv2d(zeros([1, 3, 2, 2]), w)).toThrow(
      "conv2d: kernel size (3, 3) can't be greater than the padded input size (2, 2) (input [1, 3, 2, 2], padding (0, 0))",
    );
    expect(() => conv2d(zeros([1, 3, 4, 4]), w, { dilation: 2 })).toThrow("(dilated (5, 5))");
    expect(() => conv2d(zeros([1, 3, 2, 2]), w, { padding: 1 })).not.toThrow();
  });
  it("checks bias, dtypes, options", () => {
    const x = zeros([1, 3, 5, 5]);
    expect(() => conv2d(x, w, zeros([16]))).toThrow("conv2d: expected bias of shape [32], got [16]");
    expect(() => conv2d(x, w.double())).toThrow(
      "conv2d: expected input and weight to have the same dtype, got input float32 and weight float64",
    );
    expect(() => conv2d(x.int(), w.int())).toThrow("conv2d: expected a floating point input, got int32");
    expect(() => conv2d(x, w, { stride: 2, padding: "same" })).toThrow(
      'conv2d: padding="same" is not supported for strided convolutions',
    );
    expect(() => conv2d(x, w, { stride: 0 })).toThrow("conv2d: stride must be at least 1, got 0");
    expect(() => conv2d(x, w, { padding: -1 })).toThrow("conv2d: padding must be non-negative, got -1");
    expect(() => conv2d(x, w, { padding: [1, 2, 3] as unknown as [number, number] })).toThrow(
      "conv2d: padding must be an integer or a list of 2 integers, got [1,2,3]",
    );
    expect(() =>
      convTranspose2d(zeros([1, 2, 3, 3]), zeros([2, 2, 3, 3]), { stride: 2, outputPadding: 2 }),
    ).toThrow(
      "convTranspose2d: output padding must be smaller than either stride or dilation, got outputPadding (2, 2), stride (2, 2) and dilation (1, 1)",
    );
    expect(() => convTranspose2d(zeros([1, 3, 3, 3]), zeros([2, 2, 3, 3]))).toThrow(
      "convTranspose2d: expected input with 4 dims [N, C, H, W] and 2 channels (weight [2, 2, 3, 3]), got [1, 3, 3, 3]",
    );
    expect(() => fold(zeros([1, 12, 5]), [4, 5], [2, 3])).toThrow(
      "fold: expected input's dimension 2 to match the calculated number of sliding blocks 3 * 3 = 9, got input [1, 12, 5]",
    );
    expect(() => fold(zeros([1, 10, 9]), [4, 5], [2, 3])).toThrow(
      "fold: expected size of input's dimension 1 to be divisible",
    );
    expect(() => unfold(zeros([4, 4]), 2)).toThrow(
      "unfold: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got [4, 4]",
    );
  });
});

describe("layers", () => {
  it("print like PyTorch", () => {
    expect(String(new nn.Conv2d(1, 32, 3, { padding: 1 }))).toBe(
      "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))",
    );
    expect(String(new nn.Conv2d(32, 64, 3))).toBe("Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1))");
    expect(
      String(
        new nn.Conv2d(4, 8, [3, 5], {
          stride: [2, 1],
          padding: [4, 2],
          dilation: [3, 1],
          groups: 2,
          bias: false,
          paddingMode: "reflect",
        }),
      ),
    ).toBe(
      "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1), groups=2, bias=False, padding_mode=reflect)",
    );
    expect(String(new nn.Conv2d(2, 2, 3, { padding: "same" }))).toBe(
      "Conv2d(2, 2, kernel_size=(3, 3), stride=(1, 1), padding=same)",
    );
    expect(String(new nn.Conv1d(16, 33, 3, { stride: 2 }))).toBe(
      "Conv1d(16, 33, kernel_size=(3,), stride=(2,))",
    );
    expect(String(new nn.ConvTranspose2d(16, 33, 3, { stride: 2, outputPadding: 1 }))).toBe(
      "ConvTranspose2d(16, 33, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))",
    );
    expect(String(new nn.ConvTranspose1d(4, 2, 3))).toBe(
      "ConvTranspose1d(4, 2, kernel_size=(3,), stride=(1,))",
    );
    expect(String(new nn.Unfold([2, 3], { stride: 2 }))).toBe(
      "Unfold(kernel_size=(2, 3), dilation=1, padding=0, stride=2)",
    );
    expect(String(new nn.Fold([4, 5], 2))).toBe(
      "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)",
    );
  });

  it("initialise like PyTorch: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))", () => {
    manualSeed(0);
    const conv = new nn.Conv2d(32, 64, 3);
    const bound = 1 / Math.sqrt(32 * 9);
    const w = Array.from(conv.weight.data());
    expect(conv.weight.shape).toEqual([64, 32, 3, 3]);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.99 * bound);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.02 * bound);
    expect(std / (bound / Math.sqrt(3))).toBeCloseTo(1, 1);
    const b = Array.from(conv.bias!.data());
    expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(bound);
    // grouped and transposed: fan_in = weight.shape[1] * kernel elements
    const t2 = new nn.ConvTranspose2d(8, 6, 2, { groups: 2 });
    expect(t2.weight.shape).toEqual([8, 3, 2, 2]);
    expect(Math.max(...Array.from(t2.bias!.data()).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(12));
    expect(new nn.Conv2d(4, 6, 3, { groups: 2 }).weight.shape).toEqual([6, 2, 3, 3]);
  });

  it("register weight then bias, with PyTorch's state dict names", () => {
    const conv = new nn.Conv2d(1, 2, 3);
    expect([...conv.namedParameters()].map(([k]) => k)).toEqual(["weight", "bias"]);
    expect(new nn.Conv2d(1, 2, 3, { bias: false }).parameters().length).toBe(1);
    expect([...conv.stateDict().keys()]).toEqual(["weight", "bias"]);
  });

  it("match the functional ops, including padding modes and outputSize", () => {
    const x = randn([2, 3, 6, 5]);
    const conv = new nn.Conv2d(3, 4, 3, { padding: 1, paddingMode: "reflect" });
    const want = conv2d(pad(x, [1, 1, 1, 1], { mode: "reflect" }), conv.weight, conv.bias);
    expect(conv(x).allclose(want)).toBe(true);
    const same = new nn.Conv1d(3, 2, 4, { padding: "same", paddingMode: "circular" });
    expect(same(randn([1, 3, 7])).shape).toEqual([1, 2, 7]);
    const up = new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1 });
    expect(up(x).shape).toEqual([2, 2, 11, 9]);
    expect(up(x, [12, 10]).shape).toEqual([2, 2, 12, 10]);
    expect(() => up(x, [14, 10])).toThrow(
      "requested an output size of (14, 10), but valid sizes range from 11 to 12",
    );
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(
      "Conv2d: in_channels (3) must be divisible by groups (2)",
    );
    expect(() => new nn.Conv2d(3, 4, 3, { stride: 2, padding: "same" })).toThrow(
      "not supported for strided convolutions",
    );
  });

  it("train the MNIST CNN's layers (shapes and a decreasing loss)", () => {
    manualSeed(1);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 8, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(8, 16, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(16 * 7 * 7, 10),
    );
    const x = randn([8, 1, 28, 28]);
    const y = tensor([0, 1, 2, 3, 4, 5, 6, 7]);
    const lossFn = new nn.CrossEntropyLoss();
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      const loss = lossFn(model(x), y);
      losses.push(loss.item() as number);
      model.zeroGrad();
      loss.backward();
      for (const p of model.parameters()) p.detach().sub_(p.grad!.mul(0.05));
    }
    expect(losses[4]).toBeLessThan(losses[0]);
  });
});
