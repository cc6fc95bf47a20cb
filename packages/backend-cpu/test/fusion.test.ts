import {
  type Backend,
  fromTypedArray,
  fusionStats,
  registerBackend,
  setFusion,
  type Tensor,
  tensor,
  tidy,
} from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { cpu } from "../src/index";

beforeAll(() => registerBackend(cpu));

/** The change in the fusion counters over `fn`. */
function delta(fn: () => void): { built: number; run: number; copies: number } {
  const a = fusionStats();
  fn();
  const b = fusionStats();
  return { built: b.built - a.built, run: b.run - a.run, copies: b.copies - a.copies };
}

const pending = (t: Tensor) => t.storage.pending !== null;

/** `values` repeated 32 times: ops on fewer than 64 elements run eagerly (FUSE_MIN_NUMEL). */
const big = (values: number[], dtype: "float32" | "float64" = "float32") =>
  tensor(Array.from({ length: 32 }, () => values).flat(), { dtype });
const rep = (values: number[]) => Array.from({ length: 32 }, () => values).flat();

describe("lazy elementwise fusion on the CPU", () => {
  it("runs a chain as one program when it is read, and never runs what nobody reads", () => {
    const x = big([-2, -1, 0, 1, 2]);
    let a!: Tensor;
    let y!: Tensor;
    const d = delta(() => {
      a = x.mul(2);
      y = a.add(1).relu();
      expect(pending(y)).toBe(true);
      expect(y.toArray()).toEqual(rep([0, 0, 1, 3, 5]));
    });
    expect(d.run).toBe(1);
    expect(pending(a)).toBe(true); // inlined into y, never computed
    expect(pending(y)).toBe(false);
  });

  it("fuses a reduction at the end of a chain without computing the chain's result", () => {
    const x = big([1, 2, 3, 4, 5, 6]).reshape(64, 3);
    let y!: Tensor;
    let s!: Tensor;
    const d = delta(() => {
      y = x.mul(x).sub(1);
      s = y.sum(1);
    });
    expect(d.run).toBe(1);
    expect(pending(y)).toBe(true);
    expect(s.toArray()).toEqual(rep([11, 74]));
    // y is still right when read afterwards (computed then)
    expect(y.reshape(-1).toArray()).toEqual(rep([0, 3, 8, 15, 24, 35]));
  });

  it("gives the same bits with fusion off, and setFusion checks its argument", () => {
    const run = () => {
      const x = big([0.1, 0.2, 0.3, 1e-8, 3.5]);
      return x.sigmoid().mul(x.exp()).add(x.sqrt()).div(3).toArray() as number[];
    };
    const fused = run();
    const was = setFusion(false);
    try {
      const d = delta(() => expect(run()).toEqual(fused));
      expect(d.built).toBe(0);
    } finally {
      setFusion(was);
    }
    expect(() => setFusion("no" as unknown as boolean)).toThrow(/expected a boolean/);
  });

  it("copies a buffer a pending op reads before writing it in place", () => {
    const x = big([1, 2, 3]);
    const y = x.add(1);
    const d = delta(() => x.mul_(10));
    expect(d.copies).toBe(1);
    expect(y.toArray()).toEqual(rep([2, 3, 4]));
    expect(x.toArray()).toEqual(rep([10, 20, 30]));
    // a storage no pending op reads is written in place, without a copy
    expect(delta(() => x.mul_(2)).copies).toBe(0);
  });

  it("an in-place op on a pending tensor computes it first", () => {
    const x = big([1, 2, 3]);
    const y = x.mul(2);
    expect(pending(y)).toBe(true);
    y.add_(1);
    expect(y.toArray()).toEqual(rep([3, 5, 7]));
    expect(x.toArray()).toEqual(rep([1, 2, 3]));
  });

  it("never defers reading a user's own array (fromTypedArray)", () => {
    const data = new Float32Array(rep([1, 2, 3]));
    const t = fromTypedArray(data);
    const y = t.mul(2);
    expect(pending(y)).toBe(false);
    data[0] = 100;
    expect(y.toArray()).toEqual(rep([2, 4, 6]));
  });

  it("drops pending programs disposed by tidy and keeps returned ones", () => {
    const x = big([1, 2, 3]);
    let inner!: Tensor;
    const out = tidy(() => {
      inner = x.mul(3);
      return inner.add(1);
    });
    expect(inner.isDisposed).toBe(true);
    expect(out.toArray()).toEqual(rep([4, 7, 10]));
  });

  it("checks shapes and dtypes when the op is called, not when it runs", () => {
    const x = tensor([1, 2, 3], { dtype: "float32" });
    expect(() => x.add(tensor([1, 2]))).toThrow(/shape|size/i);
  });

  it("keeps growth bounded: a long chain runs in pieces of at most 48 nodes", () => {
    let t = big([1, 2], "float64");
    const d = delta(() => {
      for (let i = 0; i < 200; i++) t = t.mul(1.5).add(-0.25);
      t.toArray();
    });
    expect(d.run).toBeGreaterThan(4);
    expect(d.run).toBeLessThan(40);
    let r = [1, 2];
    for (let i = 0; i < 200; i++) r = r.map((v) => v * 1.5 - 0.25);
    expect(t.toArray()).toEqual(rep(r));
  });

  it("runs small results when called (below FUSE_MIN_NUMEL) and keeps scalars lazy", () => {
    const x = tensor([1, 2, 3], { dtype: "float32" });
    const y = x.mul(2);
    expect(pending(y)).toBe(false);
    expect(y.toArray()).toEqual([2, 4, 6]);
  });

  it("a version 2 backend must have elementwise", () => {
    const broken = {
      ...cpu,
      device: "broken",
      specificationVersion: 2,
      elementwise: undefined,
    } as unknown as Backend;
    expect(() => registerBackend(broken)).toThrow(/version 2 but has no elementwise/);
  });
});
