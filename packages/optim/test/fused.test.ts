/** The backends' fused updates (`adamStep` / `sgdStep`) against the composed path, config by config. */
import { cpu } from "@cinder/backend-cpu";
import { manualSeed, randn, type Tensor, tensor } from "@cinder/tensor";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setFusedUpdates } from "../src/fused";
import { Adam, AdamW, type Optimizer, SGD } from "../src/index";
import { flat, freshParams, fx, makeOptimizer, makeScheduler, setGrads, toNested } from "./helpers";

/** |a - b| <= 1e-6 * max(|a|, |b|) (plus a denormal-sized floor for values that are ~0). */
function expectRelClose(a: number[], b: number[], what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const tol = 1e-6 * Math.max(Math.abs(a[i]), Math.abs(b[i])) + 1e-30;
    if (!(Math.abs(a[i] - b[i]) <= tol) && !(Number.isNaN(a[i]) && Number.isNaN(b[i])))
      expect.fail(`${what}[${i}]: fused ${a[i]}, composed ${b[i]}`);
  }
}

function stateOf(opt: Optimizer): number[] {
  const out: number[] = [];
  for (const s of opt.state.values())
    for (const v of Object.values(s))
      if (v && typeof v === "object") out.push(...flat(toNested(v as Tensor)));
  return out;
}

afterEach(() => {
  setFusedUpdates(true);
  vi.restoreAllMocks();
});

describe("fused optimizer updates match the composed path", () => {
  const cases = fx.optimizers.filter((c) => ["SGD", "Adam", "AdamW"].includes(c.optimizer));
  it("covers SGD, Adam and AdamW", () => {
    expect(new Set(cases.map((c) => c.optimizer))).toEqual(new Set(["SGD", "Adam", "AdamW"]));
  });

  for (const c of cases) {
    it(c.name, () => {
      const run = (fused: boolean) => {
        setFusedUpdates(fused);
        const sgd = vi.spyOn(cpu, "sgdStep");
        const adam = vi.spyOn(cpu, "adamStep");
        const params = freshParams();
        const opt = makeOptimizer(c, params);
        const sched = c.scheduler ? makeScheduler(c.scheduler.cls, opt, c.scheduler.options) : null;
        const traj: number[][] = [];
        for (let t = 0; t < c.expected.length; t++) {
          setGrads(params, t, c.drop);
          opt.step();
          sched?.step();
          traj.push(params.flatMap((p) => flat(toNested(p))));
        }
        const calls = sgd.mock.calls.length + adam.mock.calls.length;
        vi.restoreAllMocks();
        return { traj, state: stateOf(opt), calls };
      };
      const fused = run(true);
      const composed = run(false);
      expect(fused.calls, "the fast path ran").toBeGreaterThan(0);
      expect(composed.calls, "the composed run did not use it").toBe(0);
      fused.traj.forEach((v, t) => {
        expectRelClose(v, composed.traj[t], `${c.name} step ${t + 1}`);
      });
      expectRelClose(fused.state, composed.state, `${c.name} state`);
    });
  }

  const configs: [string, (ps: Tensor[]) => Optimizer][] = [
    ["sgd nesterov wd", (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
    [
      "sgd dampening maximize",
      (ps) => new SGD(ps, { lr: 0.1, momentum: 0.5, dampening: 0.3, maximize: true }),
    ],
    ["adam amsgrad wd", (ps) => new Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
    ["adamw amsgrad maximize", (ps) => new AdamW(ps, { lr: 0.01, amsgrad: true, maximize: true })],
  ];
  for (const dtype of ["float32", "float64"] as const) {
    for (const [name, make] of configs) {
      it(`${name}, ${dtype}, larger random tensors`, () => {
        const run = (fused: boolean) => {
          setFusedUpdates(fused);
          manualSeed(1);
          const ps = [randn([17, 5], { dtype }), randn([300], { dtype })];
          for (const p of ps) p.requiresGrad_();
          const opt = make(ps);
          for (let t = 0; t < 6; t++) {
            for (const p of ps) p.grad = randn(p.shape, { dtype });
            opt.step();
          }
          return [...ps.flatMap((p) => flat(toNested(p))), ...stateOf(opt)];
        };
        expectRelClose(run(true), run(false), name);
      });
    }
  }

  it("strided parameters and gradients take the composed path", () => {
    const spy = vi.spyOn(cpu, "sgdStep");
    const p = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "float32" },
    )
      .t()
      .requiresGrad_();
    p.grad = tensor(
      [
        [1, 1],
        [1, 1],
      ],
      { dtype: "float32" },
    );
    new SGD([p], { lr: 0.5, momentum: 0.9 }).step();
    expect(spy).not.toHaveBeenCalled();
    expect(toNested(p)).toEqual([
      [0.5, 2.5],
      [1.5, 3.5],
    ]);
  });
});
