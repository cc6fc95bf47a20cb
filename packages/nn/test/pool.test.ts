/**
 * Pooling against PyTorch (test/fixtures/conv.json, written by scripts/fixtures/conv_fixtures.py): outputs,
 * max pooling indices and input gradients for a fixed upstream gradient; then float64 finite differences
 * (first and second order), errors and the layers.
 */
import { readFileSync } from "node:fs";
import { grad, gradcheck } from "@cinder/autograd";
import { arange, enableGrad, manualSeed, randn, randperm, type Tensor, zeros } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as nn from "../src";
import { type AdaptiveSize, adaptiveAvgPool2d, avgPool2d, maxPool2d } from "../src/functional/pool";
import type { Size2 } from "../src/functional/windows";
import { expectClose, fixtureDir, type T, t } from "./helpers";

interface PoolCase {
  name: string;
  op: string;
  opts: Record<string, unknown>;
  args: unknown[];
  x: T;
  grad_output: T;
  output: T;
  grad_x: T;
  indices?: T;
}

const fixture: { cases: PoolCase[] } = JSON.parse(readFileSync(new URL("conv.json", fixtureDir), "utf8"));

describe("pooling against PyTorch", () => {
  const cases = fixture.cases.filter((c) => ["maxPool2d", "avgPool2d", "adaptiveAvgPool2d"].includes(c.op));
  it("has the expected cases", () => {
    expect(cases.length).toBeGreaterThan(100);
    expect(cases.filter((c) => c.op === "maxPool2d" && c.opts.ceilMode).length).toBeGreaterThan(10);
  });
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const x = t(c.x, true);
    let y: Tensor;
    if (c.op === "maxPool2d") {
      const [out, idx] = maxPool2d(x, c.args[0] as Size2, { ...c.opts, returnIndices: true });
      expectClose(idx, c.indices!, "indices");
      expect(idx.dtype).toBe("int64");
      y = out;
    } else if (c.op === "avgPool2d") {
      y = avgPool2d(x, c.args[0] as Size2, c.opts);
    } else {
      y = adaptiveAvgPool2d(x, c.args[0] as AdaptiveSize);
    }
    expectClose(y, c.output, "output");
    y.backward(t(c.grad_output));
    expectClose(x.grad, c.grad_x, "grad x");
  });
});

/** Distinct values (no ties, so max pooling is differentiable at the point). */
function distinct(...shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return randperm(n)
    .double()
    .div(n)
    .add(randn([n], { dtype: "float64" }).mul(1e-3))
    .reshape(shape)
    .requiresGrad_();
}
const f64 = (...shape: number[]) => randn(shape, { dtype: "float64" }).requiresGrad_();

describe("gradcheck (float64)", () => {
  manualSeed(3);
  it("maxPool2d with padding, dilation, ceil mode", () => {
    const f = (x: Tensor) =>
      maxPool2d(x, [3, 2], { stride: 2, padding: 1, dilation: [1, 2], ceilMode: true });
    expect(gradcheck(f, [distinct(2, 2, 7, 6)])).toBe(true);
  });
  it("avgPool2d with ceil mode, countIncludePad false, divisorOverride", () => {
    expect(
      gradcheck(
        (x: Tensor) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
        [f64(1, 2, 6, 7)],
      ),
    ).toBe(true);
    expect(gradcheck((x: Tensor) => avgPool2d(x, [2, 3], { divisorOverride: 5 }), [f64(2, 1, 5, 6)])).toBe(
      true,
    );
  });
  it("adaptiveAvgPool2d with sizes that do not divide the input", () => {
    expect(gradcheck((x: Tensor) => adaptiveAvgPool2d(x, [4, 3]), [f64(2, 2, 7, 5)])).toBe(true);
    expect(gradcheck((x: Tensor) => adaptiveAvgPool2d(x, [9, null]), [f64(1, 2, 5, 4)])).toBe(true);
  });
  it("second-order gradients (the recorded backward ops)", () => {
    const gy = randn([1, 2, 3, 3], { dtype: "float64" });
    for (const pool of [
      (x: Tensor) => maxPool2d(x, 2, { padding: 1 }),
      (x: Tensor) => avgPool2d(x, 2, { padding: 1, countIncludePad: false }),
      (x: Tensor) => adaptiveAvgPool2d(x, 3),
    ]) {
      const g2 = (x: Tensor) =>
        enableGrad(() => {
          const [gx] = grad(pool(x.square()), [x], { gradOutputs: [gy], createGraph: true });
          return gx!.square().sum();
        });
      expect(gradcheck(g2, [distinct(1, 2, 4, 5)])).toBe(true);
    }
  });
});

describe("max pooling", () => {
  it("records MaxPool2DWithIndicesBackward0, AvgPool2DBackward0, AdaptiveAvgPool2DBackward0", () => {
    const x = randn([1, 1, 4, 4], { requiresGrad: true });
    expect(maxPool2d(x, 2).gradFn?.name).toBe("MaxPool2DWithIndicesBackward0");
    expect(avgPool2d(x, 2).gradFn?.name).toBe("AvgPool2DBackward0");
    expect(adaptiveAvgPool2d(x, 3).gradFn?.name).toBe("AdaptiveAvgPool2DBackward0");
  });
  it("returns flat per-plane indices and propagates NaN and -inf", () => {
    const x = arange(0, 16).float().reshape(1, 1, 4, 4);
    const [y, idx] = maxPool2d(x, 2, { returnIndices: true });
    expect(y.toArray()).toEqual([
      [
        [
          [5, 7],
          [13, 15],
        ],
      ],
    ]);
    expect(idx.toArray()).toEqual([
      [
        [
          [5, 7],
          [13, 15],
        ],
      ],
    ]);
    const z = x.clone();
    z.set([0, 0, 0, 0], Number.NaN);
    z.set([0, 0, 3, 3], Number.NEGATIVE_INFINITY);
    const r = maxPool2d(z, 2).toArray() as number[][][][];
    expect(Number.isNaN(r[0][0][0][0])).toBe(true);
    expect(r[0][0][1][1]).toBe(14);
  });
  it("accepts strided inputs", () => {
    const x = randn([2, 6, 5, 3]).permute(0, 3, 1, 2);
    expect(
      maxPool2d(x, 2, { ceilMode: true }).allclose(maxPool2d(x.contiguous(), 2, { ceilMode: true })),
    ).toBe(true);
    expect(avgPool2d(x, 3, { padding: 1 }).allclose(avgPool2d(x.contiguous(), 3, { padding: 1 }))).toBe(true);
  });
});

describe("errors", () => {
  it("name the expected and given shapes and options", () => {
    expect(() => maxPool2d(zeros([4, 4]), 2)).toThrow(
      "maxPool2d: expected a non-empty 3-D [C, H, W] or 4-D [N, C, H, W] input (dims other than the batch non-zero), got [4, 4]",
    );
    expect(() => maxPool2d(zeros([1, 1, 4, 4]), 2, { padding: 2 })).toThrow(
      "maxPool2d: padding should be at most half of the kernel size, got padding (2, 2) and kernelSize (2, 2)",
    );
    expect(() => maxPool2d(zeros([1, 1, 2, 2]), 3)).toThrow(
      "maxPool2d: the calculated output size (0, 0) is too small for input [1, 1, 2, 2] with kernelSize (3, 3), stride (3, 3), padding (0, 0) and dilation (1, 1)",
    );
    expect(() => avgPool2d(zeros([1, 1, 4, 4]), 2, { divisorOverride: 0 })).toThrow(
      "avgPool2d: divisorOverride must be a non-zero number, got 0",
    );
    expect(() => avgPool2d(zeros([1, 1, 4, 4]), 0)).toThrow(
      "avgPool2d: kernelSize must be at least 1, got 0",
    );
    expect(() => maxPool2d(zeros([1, 4, 4]).int(), 2)).toThrow(
      "maxPool2d: expected a floating point input, got int32",
    );
    expect(() => maxPool2d(zeros([0, 4, 4]), 2)).toThrow("maxPool2d: expected a non-empty");
    expect(maxPool2d(zeros([0, 2, 4, 4]), 2).shape).toEqual([0, 2, 2, 2]);
    expect(() => adaptiveAvgPool2d(zeros([1, 1, 4, 4]), 0)).toThrow(
      "adaptiveAvgPool2d: outputSize must be positive integers, got 0",
    );
  });
});

describe("layers", () => {
  it("print like PyTorch", () => {
    expect(String(new nn.MaxPool2d(2))).toBe(
      "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
    );
    expect(String(new nn.MaxPool2d([3, 2], { stride: 1, padding: [1, 0], ceilMode: true }))).toBe(
      "MaxPool2d(kernel_size=(3, 2), stride=1, padding=(1, 0), dilation=1, ceil_mode=True)",
    );
    expect(String(new nn.AvgPool2d(3, { stride: 2 }))).toBe("AvgPool2d(kernel_size=3, stride=2, padding=0)");
    expect(String(new nn.AdaptiveAvgPool2d([5, 7]))).toBe("AdaptiveAvgPool2d(output_size=(5, 7))");
    expect(String(new nn.AdaptiveAvgPool2d([null, 7]))).toBe("AdaptiveAvgPool2d(output_size=(None, 7))");
    expect(String(new nn.AdaptiveAvgPool2d(1))).toBe("AdaptiveAvgPool2d(output_size=1)");
  });
  it("run the functional ops", () => {
    const x = randn([2, 3, 9, 8]);
    expect(new nn.MaxPool2d(2)(x).allclose(maxPool2d(x, 2))).toBe(true);
    const [out, idx] = new nn.MaxPool2d(3, { stride: 2, returnIndices: true })(x);
    expect(out.shape).toEqual([2, 3, 4, 3]);
    expect(idx.shape).toEqual([2, 3, 4, 3]);
    expect(new nn.AvgPool2d(2, { ceilMode: true })(x).shape).toEqual([2, 3, 5, 4]);
    expect(
      new nn.AdaptiveAvgPool2d(1)(x)
        .reshape(2, 3)
        .allclose(x.mean({ dim: [2, 3] }), { atol: 1e-6 }),
    ).toBe(true);
    expect(new nn.MaxPool2d(2).parameters()).toEqual([]);
  });
});
