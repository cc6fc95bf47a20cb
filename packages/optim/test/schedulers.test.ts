/** lr schedulers against PyTorch 1.13: 30 steps of each, lrs (and OneCycleLR's momentum) to 1e-6 relative. */
import { describe, expect, it } from "vitest";
import type { Optimizer, ReduceLROnPlateau } from "../src/index";
import { expectClose, freshParams, fx, makeScheduler, OPTIMIZERS, type SchedulerCase } from "./helpers";

export function runSchedulerCase(
  c: SchedulerCase,
  from = 0,
  resume?: { optimizer: Optimizer; schedulers: unknown[] },
) {
  const [p0, p1] = freshParams();
  const optimizer =
    resume?.optimizer ??
    new OPTIMIZERS[c.optimizer](
      [
        { params: [p0], lr: 0.1 },
        { params: [p1], lr: 0.05 },
      ],
      c.opt_options,
    );
  const schedulers = (resume?.schedulers ??
    c.schedulers.map((s) => makeScheduler(s.cls, optimizer, s.options))) as {
    step(arg?: number): void;
  }[];
  const momenta = () =>
    optimizer.paramGroups.map((g) => {
      const o = g as unknown as { betas?: number[]; momentum?: number };
      return o.betas ? o.betas[0] : (o.momentum ?? null);
    });
  const lrs = [optimizer.paramGroups.map((g) => g.lr)];
  const mom = [momenta()];
  for (let t = from; t < c.lrs.length - 1; t++) {
    optimizer.step();
    for (const s of schedulers) {
      if (c.metrics) s.step(c.metrics[t]);
      else if (c.epochs) s.step(c.epochs[t]);
      else s.step();
    }
    lrs.push(optimizer.paramGroups.map((g) => g.lr));
    mom.push(momenta());
  }
  return { optimizer, schedulers, lrs, mom };
}

describe("lr schedulers match PyTorch 1.13", () => {
  it("the fixture covers every scheduler", () => {
    const classes = new Set(fx.schedulers.flatMap((c) => c.schedulers.map((s) => s.cls)));
    expect(classes).toEqual(
      new Set([
        "StepLR",
        "MultiStepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "LambdaLR",
        "OneCycleLR",
        "ReduceLROnPlateau",
      ]),
    );
  });

  for (const c of fx.schedulers) {
    it(c.name, () => {
      const { schedulers, lrs, mom } = runSchedulerCase(c);
      expect(lrs.length).toBe(31);
      for (const [t, row] of lrs.entries())
        expectClose(row, c.lrs[t], `${c.name} lr after step ${t}`, 1e-6, 1e-15);
      if (c.schedulers.some((s) => s.cls === "OneCycleLR")) {
        for (const [t, row] of mom.entries()) {
          expectClose(
            row as number[],
            c.momentum[t] as number[],
            `${c.name} momentum after step ${t}`,
            1e-6,
            1e-15,
          );
        }
      }
      const last = schedulers[schedulers.length - 1] as unknown as {
        getLastLr(): number[];
        lastEpoch: number;
      };
      expectClose(last.getLastLr(), c.last_lr, `${c.name} getLastLr()`, 1e-6, 1e-15);
      expect(last.lastEpoch).toBe(c.last_epoch);
    });
  }
});

describe("scheduler state dicts", () => {
  for (const c of fx.schedulers) {
    it(`${c.name}: save after 10 steps, load into fresh objects, 20 more steps continue the sequence`, () => {
      const first = runSchedulerCase({ ...c, lrs: c.lrs.slice(0, 11) });
      const optState = first.optimizer.stateDict();
      const schedStates = first.schedulers.map((s) =>
        (s as unknown as { stateDict(): Record<string, unknown> }).stateDict(),
      );

      const [p0, p1] = freshParams();
      const optimizer = new OPTIMIZERS[c.optimizer](
        [
          { params: [p0], lr: 0.1 },
          { params: [p1], lr: 0.05 },
        ],
        c.opt_options,
      );
      const schedulers = c.schedulers.map((s) => makeScheduler(s.cls, optimizer, s.options));
      optimizer.loadStateDict(optState);
      for (const [i, s] of schedulers.entries()) {
        (s as unknown as { loadStateDict(sd: unknown): void }).loadStateDict(schedStates[i]);
      }
      const rest = runSchedulerCase(c, 10, { optimizer, schedulers });
      for (const [k, row] of rest.lrs.entries()) {
        expectClose(row, c.lrs[10 + k], `${c.name} resumed lr after step ${10 + k}`, 1e-6, 1e-15);
      }
    });
  }

  it("the state dict holds PyTorch's fields in camelCase, without the optimizer or functions", () => {
    const c = fx.schedulers.find((s) => s.name === "lambda_lr_per_group")!;
    const { schedulers } = runSchedulerCase(c);
    const sd = (schedulers[0] as unknown as { stateDict(): Record<string, unknown> }).stateDict();
    expect(Object.keys(sd).sort()).toEqual(["_lastLr", "_stepCount", "baseLrs", "lastEpoch", "verbose"]);
    expect(sd.lastEpoch).toBe(30);
    expect(sd._stepCount).toBe(31);

    const plateau = fx.schedulers.find((s) => s.name === "plateau_min_abs_cooldown")!;
    const sd2 = (runSchedulerCase(plateau).schedulers[0] as unknown as ReduceLROnPlateau).stateDict();
    expect(Object.keys(sd2).sort()).toEqual(
      [
        "_lastLr",
        "best",
        "cooldown",
        "cooldownCounter",
        "eps",
        "factor",
        "lastEpoch",
        "minLrs",
        "mode",
        "modeWorse",
        "numBadEpochs",
        "patience",
        "threshold",
        "thresholdMode",
        "verbose",
      ].sort(),
    );
  });
});
