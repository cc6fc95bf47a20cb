import { noGrad, onesLike, tensor, zeros } from "@cinder/tensor";
import { describe, expect, it, vi } from "vitest";
import { grad } from "../src/index";
import "./setup";

describe("the backward engine", () => {
  it("names nodes like PyTorch and links them", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(2).add(1).pow(2).sum();
    expect(y.gradFn?.name).toBe("SumBackward0");
    const pow = y.gradFn!.nextFunctions[0][0]!;
    expect(pow.name).toBe("PowBackward0");
    expect(pow.nextFunctions[0][0]!.name).toBe("AddBackward0");
    const mul = pow.nextFunctions[0][0]!.nextFunctions[0][0]!;
    expect(mul.name).toBe("MulBackward0");
    expect(mul.nextFunctions[0][0]!.name).toBe("AccumulateGrad");
    expect(x.mean().gradFn?.name).toBe("MeanBackward0");
    expect(x.sum({ dim: 0 }).gradFn?.name).toBe("SumBackward1");
    expect(x.reshape(3, 1).matmul(x.reshape(1, 3)).gradFn?.name).toBe("MmBackward0");
  });

  it("accumulates into leaves until zeroed", () => {
    const x = tensor(2, { requiresGrad: true });
    x.mul(x).backward();
    x.mul(x).backward();
    expect(x.grad!.item()).toBe(8);
    x.grad!.zero_();
    x.mul(3).backward();
    expect(x.grad!.item()).toBe(3);
  });

  it("gives two leaves fed by the same gradient separate buffers", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    a.add(b).sum().backward();
    a.grad!.zero_();
    expect(b.grad!.toArray()).toEqual([1, 1]);
  });

  it("reduces broadcast gradients to the input's shape", () => {
    const w = tensor([[1], [2], [3]], { requiresGrad: true });
    const b = tensor(0.5, { requiresGrad: true });
    w.mul(zeros(3, 4).add(1)).add(b).sum().backward();
    expect(w.grad!.toArray()).toEqual([[4], [4], [4]]);
    expect(b.grad!.item()).toBe(12);
  });

  it("walks a 10,000-op chain without recursion", () => {
    const x = tensor(1, { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 10_000; i++) y = y.add(1e-4);
    y.backward();
    expect(x.grad!.item()).toBe(1);
  });

  it("frees saved tensors: a second backward fails, retainGraph allows it", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    const [g0, g1] = x.grad!.toArray() as number[];
    expect(g0).toBeCloseTo(2 * Math.E, 5);
    expect(g1).toBeCloseTo(2 * Math.exp(2), 4);
    expect(() => y.backward()).toThrow(/backward through the graph a second time/);
  });

  it("releases the closures (and the tensors they hold) after backward", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.exp();
    const node = y.gradFn as unknown as { backwardFn: unknown };
    y.sum().backward();
    expect(node.backwardFn).toBeNull();
  });

  it("detects in-place changes to saved tensors", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(1);
    const z = y.exp();
    z.add_(1); // z is saved by exp's backward
    expect(() => z.sum().backward()).toThrow(/modified by an inplace operation/);
  });

  it("refuses in-place ops on leaves that require grad, and scalar-only implicit gradients", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.add_(1)).toThrow(/leaf Variable that requires grad/);
    expect(() => x.mul(2).backward()).toThrow(/implicitly created only for scalar outputs/);
    x.mul(2).backward(onesLike(x));
    expect(x.grad!.toArray()).toEqual([2, 2]);
  });

  it("rebases tensors changed in place onto the new node", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    y.mul_(3);
    expect(y.gradFn?.name).toBe("MulBackward0");
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([6, 6]);
  });

  it("retainGrad keeps a non-leaf's gradient; detach and noGrad stop recording", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(3);
    y.retainGrad();
    y.pow(2).sum().backward();
    expect(y.grad!.toArray()).toEqual([6, 12]);
    expect(x.detach().requiresGrad).toBe(false);
    expect(noGrad(() => x.mul(2)).requiresGrad).toBe(false);
    expect(x.mul(2).detach().gradFn).toBeNull();
  });

  it("grad() returns gradients without touching .grad, and supports higher order", () => {
    const x = tensor(3, { requiresGrad: true });
    const y = x.pow(3);
    const [dy] = grad(y, x, { createGraph: true });
    expect(dy!.item()).toBe(27);
    expect(x.grad).toBeNull();
    const [d2y] = grad(dy!, x);
    expect(d2y!.item()).toBe(18);
    expect(() => grad(x.mul(2), tensor(1, { requiresGrad: true }))).toThrow(/not have been used/);
  });

  it("noGrad works with async callbacks", async () => {
    const x = tensor(1, { requiresGrad: true });
    const y = await noGrad(async () => {
      await Promise.resolve();
      return x.mul(2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(x.mul(2).requiresGrad).toBe(true);
  });
});

describe("gradients of transposed matmul operands (F.linear's weight.t())", () => {
  const data = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 2);
  const setup = () => {
    const w = tensor(data(6 * 5, 1))
      .reshape(6, 5)
      .requiresGrad_(true);
    const x = tensor(data(4 * 5, 2), { dtype: "float32" }).reshape(4, 5);
    const gy = tensor(data(4 * 6, 3), { dtype: "float32" }).reshape(4, 6);
    return { w, x, gy };
  };

  it("reach .grad contiguous and without a copy, with the values of gy^T x", async () => {
    const { cpu } = await import("@cinder/backend-cpu");
    const { w, x, gy } = setup();
    const y = x.matmul(w.t());
    const copy = vi.spyOn(cpu, "copy");
    try {
      y.backward(gy);
      expect(copy.mock.calls.length, "no copy (clone) in backward or accumulation").toBe(0);
    } finally {
      copy.mockRestore();
    }
    expect(w.grad!.isContiguous()).toBe(true);
    expect(w.grad!.offset).toBe(0);
    const want = noGrad(() => gy.t().matmul(x));
    expect(w.grad!.toArray()).toEqual(want.toArray());
    // a second backward adds in place into the same (contiguous) buffer
    const storage = w.grad!.storage;
    x.matmul(w.t()).backward(gy);
    expect(w.grad!.storage).toBe(storage);
    expect(w.grad!.toArray()).toEqual(noGrad(() => want.mul(2)).toArray());
  });

  it("the input's gradient is unchanged when the input is the transposed operand", () => {
    const { w, gy } = setup();
    const xt = tensor(data(5 * 4, 4))
      .reshape(5, 4)
      .requiresGrad_(true);
    const wd = w.detach();
    xt.t().matmul(wd.t()).backward(gy);
    expect(xt.grad!.isContiguous()).toBe(true);
    expect(xt.grad!.toArray()).toEqual(noGrad(() => gy.matmul(wd).t().contiguous()).toArray());
  });
});
