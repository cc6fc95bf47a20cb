import { type Expr, fusionStats, registerBackend, setFusion, type Tensor, tensor } from "@cinder/tensor";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cpu } from "../src/index";

// these tests count what the fused path evaluates: fusion on even under CINDER_FUSION=0
let fusionWas = true;
beforeAll(() => {
  registerBackend(cpu);
  fusionWas = setFusion(true);
});
afterAll(() => setFusion(fusionWas));

const elementwise = cpu.elementwise as NonNullable<typeof cpu.elementwise>;
afterEach(() => {
  cpu.elementwise = elementwise;
});

/** How many nodes applying unary `fn` the backend evaluates over `run` (each call's program counted once). */
function evaluations(fn: string, run: () => void): number {
  let seen = 0;
  const count = (e: Expr): number => {
    switch (e.op) {
      case "input":
      case "const":
        return 0;
      case "unary":
        return (e.fn === fn ? 1 : 0) + count(e.x);
      case "cast":
        return count(e.x);
      case "binary":
        return count(e.a) + count(e.b);
      case "where":
        return count(e.cond) + count(e.a) + count(e.b);
    }
  };
  cpu.elementwise = (expr, inputs, out, reduce) => {
    seen += count(expr);
    elementwise(expr, inputs, out, reduce);
  };
  try {
    run();
  } finally {
    cpu.elementwise = elementwise;
  }
  return seen;
}

const pending = (t: Tensor) => t.storage.pending !== null;
const data = (seed: number) => tensor(Array.from({ length: 300 }, (_, i) => Math.sin(i * seed) * 2));

/** `run` with fusion on and off: the same bits both ways. */
function sameBitsUnfused(run: () => number[][]): number[][] {
  const fused = run();
  const was = setFusion(false);
  try {
    expect(run()).toEqual(fused);
  } finally {
    setFusion(was);
  }
  return fused;
}

describe("fusion with fan-out: a pending result read by several programs is evaluated once", () => {
  it("two elementwise consumers of one pending node", () => {
    const [a, b, c] = [data(1), data(2), data(3)];
    let out: number[][] = [];
    const n = evaluations("exp", () => {
      const h = a.mul(b).add(c).exp();
      const s = h.sigmoid();
      const t = h.tanh();
      expect(pending(s) && pending(t)).toBe(true);
      out = [s.toArray() as number[], t.toArray() as number[]];
    });
    expect(n).toBe(1);
    expect(
      sameBitsUnfused(() => {
        const h = a.mul(b).add(c).exp();
        return [h.sigmoid().toArray() as number[], h.tanh().toArray() as number[]];
      }),
    ).toEqual(out);
  });

  it("an elementwise consumer and a reduction, then the node itself", () => {
    const [a, b] = [data(4), data(5)];
    const run = () => {
      const h = a.sub(b).exp();
      const y = h.mul(a);
      const s = h.sum();
      return [y.toArray() as number[], [s.item() as number], h.toArray() as number[]];
    };
    let out: number[][] = [];
    expect(evaluations("exp", () => (out = run()))).toBe(1);
    expect(sameBitsUnfused(run)).toEqual(out);
  });

  it("a node shared through an inlined chain (consumer of a consumer)", () => {
    const [a, b] = [data(6), data(7)];
    const run = () => {
      const h = a.mul(b).tanh();
      const g = h.mul(h).neg().add(1); // tanh's derivative: inlines h (one program, h twice inside)
      const y = g.mul(a); // inlines g, so h transitively
      const z = h.add(b); // a second program reading h
      return [z.toArray() as number[], y.toArray() as number[]];
    };
    let out: number[][] = [];
    expect(evaluations("tanh", () => (out = run()))).toBe(1);
    expect(sameBitsUnfused(run)).toEqual(out);
  });

  it("a costly node inlined into a program that ran is computed with it, not again by a later reader", () => {
    const [a, b] = [data(14), data(15)];
    const run = () => {
      const h = a.mul(b).tanh();
      const y = h.add(1).toArray() as number[]; // runs with h inlined
      const z = h.mul(h).neg().add(1).toArray() as number[]; // tanh's gradient reads h afterwards
      return [y, z];
    };
    let out: number[][] = [];
    expect(evaluations("tanh", () => (out = run()))).toBe(1);
    expect(sameBitsUnfused(run)).toEqual(out);
  });

  it("an in-place write to the shared node after it was computed does not reach an earlier consumer", () => {
    const [a, b] = [data(8), data(9)];
    const run = () => {
      const h = a.add(b).exp();
      const y = h.mul(2); // inlines h
      const z = h.mul(3); // computes h, reads its buffer
      h.add_(1); // h moves on; y must see h as it was
      return [y.toArray() as number[], z.toArray() as number[], h.toArray() as number[]];
    };
    const out = run();
    expect(sameBitsUnfused(run)).toEqual(out);
  });

  it("a disposed shared node is not read: the program that inlined it computes it", () => {
    const [a, b] = [data(12), data(13)];
    const run = (dispose: boolean) => {
      const h = a.mul(b).exp();
      const y = h.mul(2);
      const z = h.mul(3).toArray() as number[];
      if (dispose) h.dispose();
      return [y.toArray() as number[], z];
    };
    expect(run(true)).toEqual(run(false));
    expect(sameBitsUnfused(() => run(true))).toEqual(run(false));
  });

  it("a reduction of a costly program another op reads later computes it once (a bias gradient and a matmul)", () => {
    // the cross-entropy gradient's shape: exp(logp) s - onehot s, summed over the batch and read by a matmul
    const logp = data(16).reshape([30, 10]).logSoftmax(1);
    const onehot = data(17).reshape([30, 10]).gt(0).float();
    const x = data(18).reshape([30, 10]);
    const run = () => {
      const g = logp.exp().mul(0.5).sub(onehot.mul(0.5));
      const gb = g.sum(0); // the bias gradient: reads g's buffer, computed first
      expect(pending(g)).toBe(false);
      const gw = g.t().matmul(x); // the weight gradient reads the same buffer
      return [gb.toArray() as number[], (gw.toArray() as number[][]).flat()];
    };
    let out: number[][] = [];
    const before = fusionStats();
    expect(evaluations("exp", () => (out = run()))).toBe(1);
    // read from buffers: exp's result by g's program (a costly node it inlined), g's by the reduction
    expect(fusionStats().reused - before.reused).toBe(2);
    expect(sameBitsUnfused(run)).toEqual(out);
  });

  it("a softmax written out (e / e.sum(1)) evaluates exp once", () => {
    const x = data(19).reshape([30, 10]);
    const run = () => {
      const e = x.exp();
      return [(e.div(e.sum({ dim: 1, keepdim: true })).toArray() as number[][]).flat()];
    };
    let out: number[][] = [];
    expect(evaluations("exp", () => (out = run()))).toBe(1);
    expect(sameBitsUnfused(run)).toEqual(out);
  });

  it("a reduction of a cheap program still inlines it and leaves it pending", () => {
    const [a, b] = [data(20), data(21)];
    const h = a.mul(b).add(1);
    const runs = fusionStats().run;
    const s = h.sum();
    expect(fusionStats().run - runs).toBe(1); // the reduction alone
    expect(pending(h)).toBe(true);
    expect(sameBitsUnfused(() => [[a.mul(b).add(1).sum().item() as number]])).toEqual([[s.item()]]);
  });

  it("counts the reused results in fusionStats", () => {
    const [a, b] = [data(10), data(11)];
    const before = fusionStats().reused;
    const h = a.mul(b).exp();
    const y = h.mul(2);
    const z = h.mul(3);
    z.toArray();
    y.toArray();
    expect(fusionStats().reused - before).toBe(1);
  });
});
