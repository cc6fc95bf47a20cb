/** Optimizer trajectories against PyTorch 1.13 (scripts/fixtures/optim_fixtures.py). */
import { Tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import {
  camel,
  expectClose,
  freshParams,
  fx,
  makeOptimizer,
  makeScheduler,
  setGrads,
  TORCH_ONLY_GROUP_KEYS,
  toNested,
} from "./helpers";

describe("optimizers match PyTorch 1.13 step by step", () => {
  it("the fixture comes from PyTorch 1.13 and covers every optimizer", () => {
    expect(fx.torch.startsWith("1.13")).toBe(true);
    expect(new Set(fx.optimizers.map((c) => c.optimizer))).toEqual(
      new Set(["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]),
    );
  });

  for (const c of fx.optimizers) {
    it(c.name, () => {
      const params = freshParams();
      const opt = makeOptimizer(c, params);
      const sched = c.scheduler ? makeScheduler(c.scheduler.cls, opt, c.scheduler.options) : null;
      for (let t = 0; t < c.expected.length; t++) {
        setGrads(params, t, c.drop);
        opt.step();
        sched?.step();
        for (const [i, p] of params.entries()) {
          expectClose(toNested(p), c.expected[t][i], `${c.name} step ${t + 1} param ${i}`);
        }
      }

      // the state dict has PyTorch's structure and values
      const sd = opt.stateDict();
      expect(Object.keys(sd.state).sort()).toEqual(Object.keys(c.state).sort());
      for (const [idx, torchState] of Object.entries(c.state)) {
        const mine = (sd.state as Record<string, Record<string, unknown>>)[idx];
        expect(Object.keys(mine).sort(), `${c.name} state ${idx} keys`).toEqual(
          Object.keys(torchState).map(camel).sort(),
        );
        for (const [k, v] of Object.entries(torchState)) {
          const got = mine[camel(k)];
          if (v === null) expect(got).toBeNull();
          else if (typeof v === "number" && !(got instanceof Tensor)) expect(got).toBe(v);
          else expectClose(toNested(got as Tensor), v, `${c.name} state ${idx}.${k}`);
        }
      }
      expect(sd.paramGroups.length).toBe(c.param_groups.length);
      sd.paramGroups.forEach((g, i) => {
        const torchGroup = Object.fromEntries(
          Object.entries(c.param_groups[i])
            .filter(([k]) => !TORCH_ONLY_GROUP_KEYS.has(k))
            .map(([k, v]) => [camel(k), v]),
        );
        expect(Object.keys(g).sort(), `${c.name} group ${i} keys`).toEqual(Object.keys(torchGroup).sort());
        for (const [k, v] of Object.entries(torchGroup)) {
          if (typeof v === "number") expect(g[k] as number, `${c.name} group ${i}.${k}`).toBeCloseTo(v, 12);
          else expect(g[k], `${c.name} group ${i}.${k}`).toEqual(v);
        }
      });
    });
  }
});
