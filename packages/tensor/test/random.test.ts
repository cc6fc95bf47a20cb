/**
 * The counter-based random streams, no backend needed: every value is a pure function of (key, index), so
 * streams are deterministic, reproducible after reseeding, and the same on every device. Statistical checks
 * use bounds of ~5 standard errors, so they fail by chance about once in a few million runs.
 */
import {
  defaultGenerator,
  Generator,
  hash32,
  randomBits,
  randomNormal,
  randomUniform,
  seedKey,
} from "@cinder/tensor";
import { describe, expect, it } from "vitest";

describe("hash32 and randomBits", () => {
  it("returns unsigned 32-bit integers", () => {
    for (const x of [0, 1, -1, 0x7fffffff, 0x80000000, 123456789]) {
      const h = hash32(x);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    }
  });
  it("is a bijection on a sample (no collisions among 20000 consecutive inputs)", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 20000; i++) seen.add(hash32(i));
    expect(seen.size).toBe(20000);
  });
  it("randomBits takes the index modulo 2^32", () => {
    const key = seedKey(3);
    expect(randomBits(key, 2 ** 32 + 5)).toBe(randomBits(key, 5));
    expect(randomBits(key, 5)).not.toBe(randomBits(key, 6));
  });
  it("flips about half the output bits when one input bit flips (avalanche)", () => {
    let flipped = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const a = randomBits(seedKey(1), i);
      const b = randomBits(seedKey(1), i ^ (1 << (i % 32)));
      let d = (a ^ b) >>> 0;
      while (d) {
        flipped += d & 1;
        d >>>= 1;
      }
    }
    expect(Math.abs(flipped / n - 16)).toBeLessThan(0.5);
  });
});

describe("randomUniform", () => {
  const key = seedKey(42);
  const n = 40000;
  const u = Array.from({ length: n }, (_, i) => randomUniform(key, i));

  it("is deterministic", () => {
    expect(randomUniform(key, 17)).toBe(u[17]);
    expect(randomUniform(seedKey(42), 17)).toBe(u[17]);
  });
  it("lies in [0, 1) on a grid of 2^-24, so it is exact in float32", () => {
    for (const v of u) {
      expect(v >= 0 && v < 1).toBe(true);
      expect(Number.isInteger(v * 2 ** 24)).toBe(true);
      expect(Math.fround(v)).toBe(v);
    }
  });
  it("is uniform: mean, variance and a chi-square test on 20 bins", () => {
    const mean = u.reduce((a, b) => a + b, 0) / n;
    const variance = u.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.004);
    const bins = new Array(20).fill(0);
    for (const v of u) bins[Math.floor(v * 20)]++;
    const e = n / 20;
    const chi2 = bins.reduce((a, o) => a + (o - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(50); // 19 degrees of freedom: P(chi2 > 50) ~ 1e-4
  });
  it("has no visible serial correlation", () => {
    let c = 0;
    for (let i = 1; i < n; i++) c += (u[i] - 0.5) * (u[i - 1] - 0.5);
    const r = c / (n - 1) / (1 / 12);
    expect(Math.abs(r)).toBeLessThan(5 / Math.sqrt(n));
  });
  it("gives different streams for different keys", () => {
    const other = Array.from({ length: 100 }, (_, i) => randomUniform(seedKey(43), i));
    expect(other.filter((v, i) => v === u[i]).length).toBeLessThan(3);
  });
});

describe("randomNormal", () => {
  const key = seedKey(7);
  const n = 50000;
  const g = Array.from({ length: n }, (_, i) => randomNormal(key, i));

  it("is deterministic and finite", () => {
    expect(randomNormal(seedKey(7), 123)).toBe(g[123]);
    expect(g.every(Number.isFinite)).toBe(true);
  });
  it("has the moments of a standard normal", () => {
    const mean = g.reduce((a, b) => a + b, 0) / n;
    const m2 = g.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    const m3 = g.reduce((a, b) => a + (b - mean) ** 3, 0) / n;
    const m4 = g.reduce((a, b) => a + (b - mean) ** 4, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(m3)).toBeLessThan(5 * Math.sqrt(6 / n));
    expect(Math.abs(m4 / m2 ** 2 - 3)).toBeLessThan(5 * Math.sqrt(24 / n));
  });
  it("has the tail probabilities of a standard normal", () => {
    const p1 = g.filter((v) => Math.abs(v) < 1).length / n;
    const p2 = g.filter((v) => Math.abs(v) < 2).length / n;
    expect(Math.abs(p1 - 0.682689)).toBeLessThan(0.011);
    expect(Math.abs(p2 - 0.9545)).toBeLessThan(0.005);
  });
});

describe("seedKey", () => {
  it("maps different seeds to different keys, including seeds that differ above bit 32", () => {
    const keys = new Set<number>();
    for (let s = 0; s < 5000; s++) keys.add(seedKey(s));
    expect(keys.size).toBe(5000);
    expect(seedKey(2 ** 32 + 1)).not.toBe(seedKey(1));
    expect(seedKey(Number.MAX_SAFE_INTEGER)).not.toBe(seedKey(Number.MAX_SAFE_INTEGER - 1));
  });
});

describe("Generator", () => {
  it("hands out consecutive counters and restarts on manualSeed", () => {
    const g = new Generator(100);
    expect(g.initialSeed()).toBe(100);
    const a = g.next(5);
    const b = g.next(3);
    expect(a).toEqual({ key: seedKey(100), counter: 0 });
    expect(b).toEqual({ key: seedKey(100), counter: 5 });
    g.manualSeed(100);
    expect(g.next(1)).toEqual(a);
  });
  it("two generators with one seed give one stream; other seeds another", () => {
    const g1 = new Generator(9);
    const g2 = new Generator(9);
    for (const n of [1, 10, 0, 7]) expect(g1.next(n)).toEqual(g2.next(n));
    expect(new Generator(10).next(1).key).not.toBe(new Generator(9).next(1).key);
  });
  it("saves and restores its state", () => {
    const g = new Generator(5);
    g.next(11);
    const state = g.getState();
    const after = g.next(4);
    g.next(100);
    g.setState(state);
    expect(g.next(4)).toEqual(after);
    expect(state).toEqual({ seed: 5, counter: 11 });
  });
  it("wraps its counter modulo 2^32", () => {
    const g = new Generator(1);
    g.setState({ seed: 1, counter: 2 ** 32 - 2 });
    g.next(5);
    expect(g.getState().counter).toBe(3);
  });
  it("rejects seeds that are not non-negative integers below 2^53", () => {
    const g = new Generator(0);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
      expect(() => g.manualSeed(bad)).toThrow(
        /manualSeed\(\): argument "seed" must be a non-negative integer below 2\^53, got/,
      );
    }
    expect(g.manualSeed(2 ** 53 - 1).initialSeed()).toBe(2 ** 53 - 1);
  });
  it("seeds itself when no seed is given, and the default generator exists", () => {
    const g = new Generator();
    expect(Number.isInteger(g.initialSeed())).toBe(true);
    expect(defaultGenerator).toBeInstanceOf(Generator);
  });
});
