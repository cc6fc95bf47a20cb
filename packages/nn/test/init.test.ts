/** nn.init: bounds and statistics of the initialisers (not PyTorch's random stream), gains, fans, seeding. */
import { empty, manualSeed, type Tensor, zeros } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { init } from "../src";
import "./helpers";

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const d = Array.from(t.double().data());
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  return { mean, std, min: Math.min(...d), max: Math.max(...d) };
}

describe("nn.init", () => {
  it("calculateGain matches torch.nn.init.calculate_gain", () => {
    expect(init.calculateGain("linear")).toBe(1);
    expect(init.calculateGain("conv2d")).toBe(1);
    expect(init.calculateGain("sigmoid")).toBe(1);
    expect(init.calculateGain("tanh")).toBeCloseTo(5 / 3, 12);
    expect(init.calculateGain("relu")).toBeCloseTo(Math.SQRT2, 12);
    expect(init.calculateGain("leaky_relu")).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 12);
    expect(init.calculateGain("leakyRelu", Math.sqrt(5))).toBeCloseTo(Math.sqrt(2 / 6), 12);
    expect(init.calculateGain("selu")).toBe(0.75);
    expect(() => init.calculateGain("swish" as "relu")).toThrow(
      /calculateGain\(\): argument "nonlinearity" must be "linear" \| .*, got str "swish"/,
    );
  });
  it("fans: fan_in = size(1) * receptive field, fan_out = size(0) * receptive field", () => {
    expect(init.calculateFanInAndFanOut(empty(16, 8, 3, 3))).toEqual({ fanIn: 72, fanOut: 144 });
    expect(() => init.calculateFanInAndFanOut(empty(5))).toThrow(/fewer than 2 dimensions/);
  });
  it("uniform_, normal_, constant_, zeros_, ones_, eye_", () => {
    manualSeed(0);
    const u = stats(init.uniform_(empty(100, 100), -2, 3));
    expect(u.min).toBeGreaterThanOrEqual(-2);
    expect(u.max).toBeLessThan(3);
    expect(u.mean).toBeCloseTo(0.5, 1);
    expect(u.std).toBeCloseTo(5 / Math.sqrt(12), 1);
    const n = stats(init.normal_(empty(100, 100), 1, 2));
    expect(n.mean).toBeCloseTo(1, 1);
    expect(Math.abs(n.std - 2)).toBeLessThan(0.05);
    expect(Array.from(init.constant_(empty(3), 0.25).data())).toEqual([0.25, 0.25, 0.25]);
    expect(Array.from(init.ones_(zeros(2)).data())).toEqual([1, 1]);
    expect(Array.from(init.zeros_(init.ones_(empty(2))).data())).toEqual([0, 0]);
    expect(init.eye_(empty(2, 3)).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });
  it("xavierUniform_ is bounded by gain * sqrt(6 / (fan_in + fan_out)); xavierNormal_ has that std / sqrt(3)", () => {
    manualSeed(1);
    const w = init.xavierUniform_(empty(200, 300), { gain: 2 });
    const a = 2 * Math.sqrt(6 / 500);
    const s = stats(w);
    expect(Math.max(-s.min, s.max)).toBeLessThanOrEqual(a);
    expect(Math.max(-s.min, s.max)).toBeGreaterThan(a * 0.99);
    expect(Math.abs(s.std / (a / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
    const n = stats(init.xavierNormal_(empty(200, 300)));
    expect(Math.abs(n.std / Math.sqrt(2 / 500) - 1)).toBeLessThan(0.02);
    expect(Math.abs(n.mean)).toBeLessThan(0.005);
  });
  it("kaimingUniform_ and kaimingNormal_: std = gain / sqrt(fan), both modes", () => {
    manualSeed(2);
    const w = empty(256, 128);
    init.kaimingUniform_(w, { mode: "fan_in", nonlinearity: "relu" });
    const bound = Math.sqrt(2) * Math.sqrt(3 / 128);
    const s = stats(w);
    expect(Math.max(-s.min, s.max)).toBeLessThanOrEqual(bound);
    expect(Math.abs(s.std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
    init.kaimingNormal_(w, { mode: "fanOut" });
    expect(Math.abs(stats(w).std / (init.calculateGain("leakyRelu", 0) / Math.sqrt(256)) - 1)).toBeLessThan(
      0.02,
    );
    init.kaimingNormal_(w, { a: 0.2, nonlinearity: "leaky_relu" });
    expect(Math.abs(stats(w).std / (Math.sqrt(2 / 1.04) / Math.sqrt(128)) - 1)).toBeLessThan(0.02);
    expect(() => init.kaimingUniform_(w, { mode: "fanAvg" as "fanIn" })).toThrow(
      /kaimingUniform_\(\): argument "mode" must be "fan_in" \| "fan_out" \| "fanIn" \| "fanOut", got str "fanAvg"/,
    );
  });
  it("truncNormal_ stays within [a, b]", () => {
    manualSeed(3);
    const s = stats(init.truncNormal_(empty(100, 100), { std: 1, a: -1, b: 1.5 }));
    expect(s.min).toBeGreaterThanOrEqual(-1);
    expect(s.max).toBeLessThanOrEqual(1.5);
  });
  it("fills parameters that require grad, in place, without recording", () => {
    const w = empty(4, 4).requiresGrad_();
    const same = init.kaimingUniform_(w);
    expect(same).toBe(w);
    expect(w.isLeaf).toBe(true);
    expect(w.gradFn).toBeNull();
    init.zeros_(w);
    expect(w.isLeaf).toBe(true);
  });
  it("draws from the seeded generator", () => {
    manualSeed(9);
    const a = Array.from(init.xavierUniform_(empty(3, 3)).data());
    manualSeed(9);
    expect(Array.from(init.xavierUniform_(empty(3, 3)).data())).toEqual(a);
  });
});
