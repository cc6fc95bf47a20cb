/**
 * Random sampling of issue 14 (`normal`, `bernoulli`, `multinomial`, `poisson`, the in-place fills): statistical
 * properties for fixed seeds (sample means and variances within ~5 standard errors of the distribution's, so a
 * change of stream fails about once in a million seeds), determinism for a seed and a `Generator`, zero gradients
 * with PyTorch's node names, and every error case PyTorch raises (its messages paraphrased). Cinder's stream is its
 * own, so no value is compared with PyTorch's.
 */
import "cinder";
import * as torch from "@cinder/tensor";
import { Generator, manualSeed, type Tensor, tensor, zeros } from "@cinder/tensor";
import { describe, expect, it } from "vitest";

const N = 20000;
const stats = (t: Tensor) => {
  const v = (t.toArray() as number[]).flat(4) as number[];
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1);
  return { v, mean, variance };
};
/** |sample mean - mu| within 5 standard errors of a distribution with variance `sigma2`. */
const expectMean = (t: Tensor, mu: number, sigma2: number) => {
  const { mean, v } = stats(t);
  expect(Math.abs(mean - mu), `mean ${mean} vs ${mu}`).toBeLessThan(5 * Math.sqrt(sigma2 / v.length));
};
const expectVar = (t: Tensor, sigma2: number, rel = 0.05) => {
  expect(Math.abs(stats(t).variance / sigma2 - 1), `variance vs ${sigma2}`).toBeLessThan(rel);
};
const f32 = { dtype: "float32" } as const;

describe("normal", () => {
  it("tensor mean, float std: N(mean, std^2) elementwise, in mean's dtype", () => {
    manualSeed(1);
    const mean = torch.full([N], 3, { dtype: "float64" });
    const y = torch.normal(mean, 2);
    expect(y.dtype).toBe("float64");
    expectMean(y, 3, 4);
    expectVar(y, 4);
  });
  it("float mean, tensor std; tensor/tensor broadcast; float/float with a size", () => {
    manualSeed(2);
    expectVar(torch.normal(-1, torch.full([N], 0.5)), 0.25);
    const y = torch.normal(torch.zeros(N, 1), torch.tensor([1, 3], f32));
    expect([...y.shape]).toEqual([N, 2]);
    expectVar(y.select(1, 1), 9);
    const z = torch.normal(5, 0.1, [100, 200], { dtype: "float64" });
    expect([...z.shape]).toEqual([100, 200]);
    expect(z.dtype).toBe("float64");
    expectMean(z, 5, 0.01);
    expect(torch.normal(0, 1, [0, 3]).shape).toEqual([0, 3]);
  });
  it("is deterministic for a seed and a generator; std 0 gives the mean", () => {
    const g = new Generator(7);
    const a = torch.normal(0, 1, [5], { generator: g }).toArray();
    const b = torch.normal(0, 1, [5], { generator: new Generator(7) }).toArray();
    expect(a).toEqual(b);
    expect(torch.normal(0, 1, [5], { generator: g }).toArray()).not.toEqual(a);
    manualSeed(3);
    const c = torch.normal(torch.zeros(4), 1).toArray();
    manualSeed(3);
    expect(torch.normal(torch.zeros(4), 1).toArray()).toEqual(c);
    expect(torch.normal(torch.tensor([1.5, -2], f32), 0).toArray()).toEqual([1.5, -2]);
  });
  it("records zero gradients under PyTorch's node names", () => {
    const m = zeros(3, { requiresGrad: true });
    const s = torch.ones(3, { requiresGrad: true });
    const cases: [Tensor, string][] = [
      [torch.normal(m, 2), "NormalBackward1"],
      [torch.normal(0, s), "NormalBackward2"],
      [torch.normal(m, s), "NormalBackward3"],
    ];
    for (const [y, name] of cases) {
      expect(y.gradFn?.name).toBe(name);
      y.sum().backward();
    }
    expect(m.grad?.toArray()).toEqual([0, 0, 0]);
    expect(s.grad?.toArray()).toEqual([0, 0, 0]);
  });
  it("writes out=", () => {
    const out = zeros(4);
    expect(torch.normal(torch.zeros(4), 1, { out })).toBe(out);
    expect(out.eq(0).all().item()).toBe(false);
  });
  it("raises PyTorch's errors", () => {
    expect(() => torch.normal(torch.zeros(3), -1)).toThrow(/std >= 0.0, but found std -1/);
    expect(() => torch.normal(0, -1, [2])).toThrow(/std >= 0.0/);
    expect(() => torch.normal(torch.zeros(3), torch.tensor([1, -1, 1], f32))).toThrow(
      /all elements of std >= 0/,
    );
    expect(() => torch.normal(torch.zeros(3, { dtype: "int32" }), 1)).toThrow(
      /normal_kernel_cpu" not implemented for 'int32'/,
    );
    expect(() => torch.normal(0, 1, [2], { dtype: "int32" })).toThrow(/not implemented for 'int32'/);
    expect(() => torch.normal(torch.zeros(2), torch.ones(3))).toThrow(/broadcast|size/i);
    expect(() => torch.normal(0, 1, [-1])).toThrow(/non-negative/);
    // @ts-expect-error: an unknown option
    expect(() => torch.normal(0, 1, [2], { seed: 1 })).toThrow(/seed/);
  });
});

describe("bernoulli", () => {
  it("draws 1 with probability p (a tensor of p, or a float p), in the input's dtype", () => {
    manualSeed(4);
    const y = torch.bernoulli(torch.full([N], 0.3));
    expect(y.dtype).toBe("float32");
    expectMean(y, 0.3, 0.21);
    const z = torch.bernoulli(torch.zeros(N, { dtype: "int32" }), 0.8);
    expect(z.dtype).toBe("int32");
    expectMean(z, 0.8, 0.16);
    expect(torch.bernoulli(torch.tensor([0, 1, 0, 1], f32)).toArray()).toEqual([0, 1, 0, 1]);
    expect(torch.full([N], 0.5).bernoulli().dtype).toBe("float32");
    expect(torch.full([3], 0.5).bernoulli(1).toArray()).toEqual([1, 1, 1]);
  });
  it("bernoulli_ fills in place from a float or a broadcast tensor of p", () => {
    manualSeed(5);
    const x = zeros(N, 2, { dtype: "uint8" });
    expect(x.bernoulli_(torch.tensor([0.1, 0.9], f32))).toBe(x);
    expectMean(x.select(1, 0).to("float32"), 0.1, 0.09);
    expectMean(x.select(1, 1).to("float32"), 0.9, 0.09);
    expectMean(zeros(N).bernoulli_(), 0.5, 0.25);
  });
  it("records a zero gradient (BernoulliBackward0) and is deterministic for a generator", () => {
    const p = torch.full([3], 0.5, { requiresGrad: true });
    const y = torch.bernoulli(p);
    expect(y.gradFn?.name).toBe("BernoulliBackward0");
    y.sum().backward();
    expect(p.grad?.toArray()).toEqual([0, 0, 0]);
    expect(torch.bernoulli(p, 0.5).requiresGrad).toBe(false); // PyTorch records nothing for a float p
    const a = torch.bernoulli(torch.full([20], 0.5), { generator: new Generator(9) }).toArray();
    expect(torch.bernoulli(torch.full([20], 0.5), { generator: new Generator(9) }).toArray()).toEqual(a);
  });
  it("raises PyTorch's errors", () => {
    expect(() => torch.bernoulli(torch.full([3], 1.5))).toThrow(/p in \[0, 1\]/);
    expect(() => torch.bernoulli(torch.zeros(3), 1.5)).toThrow(/expects p to be in \[0, 1\], but got p=1.5/);
    expect(() => torch.bernoulli(torch.zeros(3, { dtype: "int32" }))).toThrow(/not implemented for 'int32'/);
    expect(() => zeros(3).bernoulli_(-0.1)).toThrow(/\[0, 1\]/);
    expect(() => zeros(3).bernoulli_(torch.full([2, 3], 0.5))).toThrow(/expand|shape|size/i);
    expect(() => zeros(3, { requiresGrad: true }).bernoulli_(0.5)).toThrow(/leaf Variable/);
  });
});

describe("multinomial", () => {
  const w = tensor([1, 2, 3, 0, 4], f32);
  it("with replacement: frequencies follow the weights, zero weights are never drawn", () => {
    manualSeed(6);
    const y = torch.multinomial(w, N, true);
    expect(y.dtype).toBe("int64");
    const v = y.toArray() as number[];
    for (let j = 0; j < 5; j++) {
      const p = [0.1, 0.2, 0.3, 0, 0.4][j];
      const freq = v.filter((i) => i === j).length / N;
      expect(Math.abs(freq - p), `category ${j}`).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / N));
    }
  });
  it("without replacement: distinct categories, the first draw distributed as the weights", () => {
    manualSeed(7);
    const rows = torch.multinomial(w.expand(4000, 5), 4);
    expect([...rows.shape]).toEqual([4000, 4]);
    const v = rows.toArray() as number[][];
    for (const r of v) expect(new Set(r).size).toBe(4);
    expect(v.some((r) => r.includes(3))).toBe(false);
    const first = v.filter((r) => r[0] === 4).length / v.length;
    expect(Math.abs(first - 0.4)).toBeLessThan(5 * Math.sqrt(0.24 / 4000));
    // the second draw: sum over the first i of p_i * p_4 / (1 - p_i), as sequential sampling without replacement
    const second = v.filter((r) => r[1] === 4).length / v.length;
    const p2 = (0.1 * 0.4) / 0.9 + (0.2 * 0.4) / 0.8 + (0.3 * 0.4) / 0.7;
    expect(Math.abs(second - p2)).toBeLessThan(5 * Math.sqrt((p2 * (1 - p2)) / 4000));
    expect([...torch.multinomial(torch.ones(0, 3), 2).shape]).toEqual([0, 2]);
    expect(torch.multinomial(tensor([0, 0, 5], f32), 1).toArray()).toEqual([2]);
  });
  it("is deterministic for a generator; method form", () => {
    const a = w.multinomial(3, { generator: new Generator(1) }).toArray();
    expect(torch.multinomial(w, 3, false, { generator: new Generator(1) }).toArray()).toEqual(a);
  });
  it("raises PyTorch's errors", () => {
    expect(() => torch.multinomial(tensor([1, -1], f32), 1)).toThrow(/`inf`, `nan` or element < 0/);
    expect(() => torch.multinomial(tensor([1, Number.NaN], f32), 1)).toThrow(/`inf`, `nan` or element < 0/);
    expect(() => torch.multinomial(tensor([1, Number.POSITIVE_INFINITY], f32), 1)).toThrow(/`inf`/);
    expect(() => torch.multinomial(tensor([0, 0], f32), 1)).toThrow(/sum of probabilities <= 0/);
    expect(() => torch.multinomial(tensor([1, 1], f32), 3)).toThrow(/n_sample > prob_dist.size\(-1\)/);
    expect(() => torch.multinomial(tensor([1, 0], f32), 2)).toThrow(/not enough non-negative category/);
    expect(() => torch.multinomial(torch.ones(2, 3, 4), 1)).toThrow(/1 or 2 dim/);
    expect(() => torch.multinomial(torch.ones(3), 0)).toThrow(/n_sample <= 0/);
    expect(() => torch.multinomial(torch.ones(3, { dtype: "int32" }), 1)).toThrow(/floating-point dtypes/);
    // @ts-expect-error: too many arguments
    expect(() => torch.multinomial(torch.ones(3), 1, true, 4)).toThrow(/argument/i);
  });
});

describe("poisson", () => {
  it("has mean and variance equal to the rate, small and large rates", () => {
    manualSeed(8);
    for (const rate of [0.5, 4, 30, 1000]) {
      const y = torch.poisson(torch.full([N], rate, { dtype: "float64" }));
      expect(y.dtype).toBe("float64");
      expectMean(y, rate, rate);
      expectVar(y, rate, 0.1);
      expect(stats(y).v.every((k) => Number.isInteger(k) && k >= 0)).toBe(true);
    }
    expect(torch.poisson(torch.zeros(3)).toArray()).toEqual([0, 0, 0]);
  });
  it("records a zero gradient (PoissonBackward0); deterministic for a generator", () => {
    const r = torch.full([2], 3, { requiresGrad: true });
    const y = torch.poisson(r);
    expect(y.gradFn?.name).toBe("PoissonBackward0");
    y.sum().backward();
    expect(r.grad?.toArray()).toEqual([0, 0]);
    const a = torch.poisson(torch.full([9], 20, f32), new Generator(2)).toArray();
    expect(torch.poisson(torch.full([9], 20, f32), { generator: new Generator(2) }).toArray()).toEqual(a);
  });
  it("raises PyTorch's errors", () => {
    expect(() => torch.poisson(tensor([-1], f32))).toThrow(/expected rate to be non-negative/);
    expect(() => torch.poisson(tensor([Number.NaN], f32))).toThrow(/non-negative/);
    expect(() => torch.poisson(tensor([1], { dtype: "int32" }))).toThrow(/poisson_cpu" not implemented/);
  });
});

describe("in-place fills", () => {
  it("exponential_, geometric_, logNormal_, cauchy_ have their distributions' moments / median", () => {
    manualSeed(10);
    expectMean(zeros(N, { dtype: "float64" }).exponential_(2), 0.5, 0.25);
    const g = zeros(N, { dtype: "int32" }).geometric_(0.25);
    expect(g.dtype).toBe("int32");
    expect(g.min().item()).toBeGreaterThanOrEqual(1);
    expectMean(g.to("float64"), 4, 0.75 / 0.0625);
    const ln = zeros(N, { dtype: "float64" }).logNormal_(0.5, 0.3);
    expectMean(ln.log(), 0.5, 0.09);
    expectVar(ln.log(), 0.09);
    const c = zeros(N, { dtype: "float64" }).cauchy_(2, 0.5);
    const sorted = (c.sort()[0].toArray() as number[]).slice();
    expect(Math.abs(sorted[N / 2] - 2)).toBeLessThan(0.05);
    // the quartiles of Cauchy(2, 0.5) are 2 -/+ 0.5
    expect(Math.abs(sorted[N / 4] - 1.5)).toBeLessThan(0.05);
  });
  it("random_ draws integers on [from, to), the dtype's range by default", () => {
    manualSeed(11);
    const a = zeros(N, { dtype: "int32" }).random_(3, 7);
    expect(a.min().item()).toBe(3);
    expect(a.max().item()).toBe(6);
    expectMean(a.to("float64"), 4.5, 1.25);
    expect(zeros(N).random_(5).max().item()).toBe(4);
    const u8 = zeros(N, { dtype: "uint8" }).random_();
    expect(u8.max().item()).toBe(255);
    const b = zeros(N, { dtype: "bool" }).random_();
    expectMean(b.to("float32"), 0.5, 0.25);
    const f = zeros(N).random_();
    expect(f.max().item()).toBeLessThanOrEqual(2 ** 24);
    expect(f.eq(f.floor()).all().item()).toBe(true);
    expect(zeros(4).random_(2, null).min().item()).toBeGreaterThanOrEqual(2);
    // wide ranges use every bit: the low bits of int32 and float64 draws are uniform too
    const i32 = zeros(N, { dtype: "int32" }).random_();
    expect(i32.min().item()).toBeGreaterThanOrEqual(0);
    expectMean(i32.remainder(2).to("float64"), 0.5, 0.25);
    expectMean(i32.to("float64").div(2 ** 31), 0.5, 1 / 12);
    const f64 = zeros(N, { dtype: "float64" }).random_();
    expectMean(f64.remainder(2), 0.5, 0.25);
    expect(f64.max().item()).toBeLessThanOrEqual(2 ** 53);
    const wide = zeros(N, { dtype: "int32" }).random_(-(2 ** 30), 2 ** 30);
    expectMean(wide.remainder(2).to("float64"), 0.5, 0.25);
    expect(wide.min().item()).toBeGreaterThanOrEqual(-(2 ** 30));
    // int64 (the default integer): ranges past 2^31 take 53 random bits, and `from` may lie outside int32
    const i64 = zeros(N, { dtype: "int64" }).random_(0, 2 ** 40);
    expect(i64.dtype).toBe("int64");
    expect(i64.max().item()).toBeLessThan(2 ** 40);
    expect(i64.max().item()).toBeGreaterThan(2 ** 39);
    expectMean(i64.remainder(2).to("float64"), 0.5, 0.25);
    const far = zeros(N, { dtype: "int64" }).random_(2 ** 40, 2 ** 40 + 3);
    expect([far.min().item(), far.max().item()]).toEqual([2 ** 40, 2 ** 40 + 2]);
    const mid = zeros(N, { dtype: "int64" }).random_(2 ** 40, 2 ** 40 + 2 ** 30);
    expect(mid.min().item()).toBeGreaterThanOrEqual(2 ** 40);
    expect(mid.max().item()).toBeGreaterThan(2 ** 40 + 2 ** 29);
  });
  it("is deterministic for a generator and keeps the tensor's identity", () => {
    const x = zeros(5);
    expect(x.exponential_(1, { generator: new Generator(3) })).toBe(x);
    expect(
      zeros(5)
        .exponential_({ generator: new Generator(3) })
        .toArray(),
    ).toEqual(x.toArray());
  });
  it("raises PyTorch's errors", () => {
    expect(() => zeros(3).exponential_(-1)).toThrow(/lambda >= 0.0, but found lambda=-1/);
    expect(() => zeros(3, { dtype: "int32" }).exponential_()).toThrow(/exponential_cpu" not implemented/);
    for (const p of [0, 1, 1.5]) expect(() => zeros(3).geometric_(p)).toThrow(/p to be in \(0, 1\)/);
    expect(() => zeros(3).logNormal_(0, 0)).toThrow(/std > 0.0, but found std=0/);
    expect(() => zeros(3, { dtype: "int32" }).logNormal_()).toThrow(/log_normal_cpu/);
    expect(() => zeros(3, { dtype: "int32" }).cauchy_()).toThrow(/cauchy_cpu/);
    expect(() => zeros(3).random_(5, 2)).toThrow(/'from' to be less than 'to', but got from=5 >= to=2/);
    expect(() => zeros(3).random_(0)).toThrow(/from=0 >= to=0/);
    expect(() => zeros(3, { dtype: "uint8" }).random_(300)).toThrow(/out of bounds for uint8/);
    expect(() => zeros(3, { requiresGrad: true }).exponential_()).toThrow(/leaf Variable/);
  });
});
