/**
 * The backend window fast paths (Backend.im2col, col2im, maxPool2d, maxPool2dBackward) against the composed
 * path (strided copies, argmax + gather, scatter-add): forward values, max pooling indices and gradients.
 */
import { cpu } from "@cinder/backend-cpu";
import { manualSeed, randn, type Tensor } from "@cinder/tensor";
import { afterEach, describe, expect, it, vi } from "vitest";
import { conv1d, conv2d, convTranspose2d } from "../src/functional/conv";
import { avgPool2d, type MaxPool2dOptions, maxPool2d } from "../src/functional/pool";
import { setWindowFastPaths } from "../src/functional/windows";
import "@cinder/autograd";
import "./helpers";

afterEach(() => setWindowFastPaths(true));

function grad(x: Tensor): number[] {
  if (!x.grad) throw new Error("no gradient");
  return Array.from(x.grad.data() as ArrayLike<number>);
}

function flat(t: Tensor): number[] {
  return Array.from(t.data() as ArrayLike<number>);
}

function compare(inputs: () => Tensor[], f: (...xs: Tensor[]) => Tensor | Tensor[], exact = false): void {
  const a = runFlat(true, inputs, f);
  const b = runFlat(false, inputs, f);
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    expect(a[i].length).toBe(b[i].length);
    if (exact) expect(a[i]).toEqual(b[i]);
    else
      for (let j = 0; j < a[i].length; j++)
        expect(Math.abs(a[i][j] - b[i][j])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(b[i][j])));
  }
}

function runFlat(
  fast: boolean,
  inputs: () => Tensor[],
  f: (...xs: Tensor[]) => Tensor | Tensor[],
): number[][] {
  setWindowFastPaths(fast);
  manualSeed(7);
  const xs = inputs().map((x) => x.requiresGrad_(true));
  const r = f(...xs);
  const outs = Array.isArray(r) ? r : [r];
  const g = randn(outs[0].shape, { dtype: outs[0].dtype });
  outs[0].backward(g);
  return [...outs.map(flat), ...xs.map(grad)];
}

describe("window fast paths match the composed path", () => {
  it("the switch turns them on and off", () => {
    const spies = (["im2col", "col2im", "maxPool2d", "maxPool2dBackward"] as const).map((m) =>
      vi.spyOn(cpu, m),
    );
    const once = () =>
      runFlat(
        true,
        () => [randn([1, 2, 6, 6]), randn([3, 2, 3, 3])],
        (x, w) => maxPool2d(conv2d(x, w, { padding: 1 }), 2),
      );
    once();
    for (const s of spies) expect(s).toHaveBeenCalled();
    for (const s of spies) s.mockClear();
    setWindowFastPaths(false);
    const x = randn([1, 2, 6, 6]).requiresGrad_(true);
    maxPool2d(conv2d(x, randn([3, 2, 3, 3]), { padding: 1 }), 2)
      .sum()
      .backward();
    for (const s of spies) expect(s).not.toHaveBeenCalled();
    for (const s of spies) s.mockRestore();
  });

  const convCases: [string, Record<string, unknown>, number[], number[]][] = [
    ["padding 1", { padding: 1 }, [2, 3, 7, 6], [4, 3, 3, 3]],
    ["stride 2, padding (1, 2)", { stride: 2, padding: [1, 2] }, [2, 3, 9, 8], [5, 3, 3, 2]],
    ["dilation 2", { dilation: 2, padding: 2 }, [1, 2, 8, 8], [3, 2, 3, 3]],
    ["groups 2", { groups: 2, padding: 1 }, [2, 4, 5, 5], [6, 2, 3, 3]],
    ["same", { padding: "same" }, [2, 2, 6, 5], [3, 2, 4, 2]],
  ];
  for (const [name, opts, xs, ws] of convCases) {
    it(`conv2d ${name}`, () => {
      compare(
        () => [randn(xs), randn(ws), randn([ws[0]])],
        (x, w, b) => conv2d(x, w, b, opts),
      );
    });
  }

  it("conv2d on a non-contiguous input, float64", () => {
    compare(
      () => [randn([2, 6, 5, 3], { dtype: "float64" }), randn([4, 3, 3, 3], { dtype: "float64" })],
      (x, w) => conv2d(x.permute(0, 3, 1, 2), w, { padding: 1 }),
    );
  });

  it("conv1d and convTranspose2d", () => {
    compare(
      () => [randn([2, 3, 10]), randn([4, 3, 3])],
      (x, w) => conv1d(x, w, { padding: 1, stride: 2 }),
    );
    compare(
      () => [randn([2, 4, 5, 5]), randn([4, 3, 3, 3])],
      (x, w) => convTranspose2d(x, w, { stride: 2, padding: 1 }),
    );
  });

  const poolCases: [string, number | [number, number], MaxPool2dOptions, number[]][] = [
    ["2x2", 2, {}, [2, 3, 8, 8]],
    ["3x3 stride 2 padding 1", 3, { stride: 2, padding: 1 }, [2, 2, 9, 7]],
    ["ceilMode", [3, 2], { stride: 2, ceilMode: true }, [1, 2, 8, 7]],
    ["dilation 2, padding 1", 3, { dilation: 2, padding: 1 }, [2, 1, 9, 9]],
    ["unbatched, overlapping", 3, { stride: 1 }, [3, 6, 6]],
  ];
  for (const [name, k, opts, xs] of poolCases) {
    it(`maxPool2d ${name}`, () => {
      compare(
        () => [randn(xs)],
        (x) => maxPool2d(x, k, { ...opts, returnIndices: true }),
        true,
      );
    });
  }

  it("maxPool2d on a non-contiguous input, and avgPool2d", () => {
    compare(
      () => [randn([4, 4, 2, 3])],
      (x) => maxPool2d(x.permute(2, 3, 0, 1), 2),
      true,
    );
    compare(
      () => [randn([2, 3, 7, 7])],
      (x) => avgPool2d(x, 3, { stride: 2, padding: 1 }),
    );
  });

  it("maxPool2d under a product", () => {
    compare(
      () => [randn([2, 2, 6, 6])],
      (x) => {
        const y = maxPool2d(x, 2);
        return y.mul(y).sum();
      },
    );
  });
});
