/** Optimizer behaviour beyond the golden trajectories: autograd integration, closures, groups, memory. */
import "./setup";
import { memory, noGrad, type Tensor, tensor, tidy } from "@cinder/tensor";
import { describe, expect, it, vi } from "vitest";
import {
  Adagrad,
  Adam,
  AdamW,
  ExponentialLR,
  LambdaLR,
  lrScheduler,
  ReduceLROnPlateau,
  RMSprop,
  SGD,
  StepLR,
} from "../src/index";

const leaf = (v: number[] = [1, -2, 3]) => tensor(v, { dtype: "float32", requiresGrad: true });
const f32 = (v: number[]) => tensor(v, { dtype: "float32" });
const values = (t: Tensor) => Array.from(t.data());

describe("steps with autograd", () => {
  it("the five-step loop: zeroGrad, forward, loss, backward, step", () => {
    const w = leaf([0.5, -0.25]);
    const b = leaf([0.1]);
    const x = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const y = tensor([1, 2, 3]);
    const opt = new SGD([w, b], { lr: 0.01 });
    const loss = () => x.matmul(w).add(b).sub(y).square().mean();
    let last = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 20; i++) {
      opt.zeroGrad();
      const l = loss();
      l.backward();
      if (i === 0) {
        const expected = values(w).map((v, k) => v - 0.01 * (values(w.grad!)[k] as number));
        opt.step();
        for (const [k, v] of values(w).entries()) expect(v).toBeCloseTo(expected[k], 6);
      } else opt.step();
      const now = l.item() as number;
      expect(now).toBeLessThan(last);
      last = now;
    }
    expect(w.isLeaf && w.requiresGrad && w.gradFn === null).toBe(true);
  });

  it("step(closure) re-evaluates the loss with gradients on (even inside noGrad) and returns it", () => {
    const p = leaf([2]);
    const opt = new Adam([p], { lr: 0.1 });
    const closure = vi.fn(() => {
      opt.zeroGrad();
      const l = p.square().sum();
      l.backward();
      return l;
    });
    const loss = noGrad(() => opt.step(closure));
    expect(closure).toHaveBeenCalledTimes(1);
    expect((loss as Tensor).item()).toBe(4);
    expect(p.grad!.item()).toBe(4);
    expect(p.item()).toBeCloseTo(1.9, 6);
    expect(opt.step()).toBeUndefined();
  });

  it("updates in place: same tensor and storage, version bumped, still a leaf", () => {
    const p = leaf();
    const storage = p.storage;
    const v0 = p.version;
    p.grad = f32([1, 1, 1]);
    new RMSprop([p], { momentum: 0.5 }).step();
    expect(p.storage).toBe(storage);
    expect(p.version).toBeGreaterThan(v0);
    expect(p.isLeaf).toBe(true);
  });

  it("parameters without a gradient are skipped and get no state", () => {
    const a = leaf();
    const b = leaf([4, 5]);
    a.grad = f32([1, 1, 1]);
    const opt = new Adam([a, b]);
    opt.step();
    expect(values(b)).toEqual([4, 5]);
    expect(opt.state.has(b)).toBe(false);
    expect(opt.state.get(a)!.step).toBe(1);
  });
});

describe("zeroGrad", () => {
  it("zeroes gradients in place by default (PyTorch 1.13's set_to_none=False)", () => {
    const p = leaf();
    const g = f32([1, 2, 3]);
    p.grad = g;
    new SGD([p], { lr: 0.1 }).zeroGrad();
    expect(p.grad).toBe(g);
    expect(values(g)).toEqual([0, 0, 0]);
  });
  it("with setToNone (positional or option) sets them to null", () => {
    for (const call of [(o: SGD) => o.zeroGrad(true), (o: SGD) => o.zeroGrad({ setToNone: true })]) {
      const p = leaf();
      p.grad = f32([1, 2, 3]);
      call(new SGD([p], { lr: 0.1 }));
      expect(p.grad).toBeNull();
    }
  });
  it("with setToNone: false zeroes them in place and detaches them", () => {
    const p = leaf();
    const g = tensor([1, 2, 3]);
    p.grad = g;
    const opt = new SGD([p], { lr: 0.1 });
    opt.zeroGrad({ setToNone: false });
    expect(p.grad).toBe(g);
    expect(values(g)).toEqual([0, 0, 0]);
    const x = leaf();
    p.grad = x.mul(2);
    opt.zeroGrad({ setToNone: false });
    expect(p.grad.gradFn).toBeNull();
    expect(p.grad.requiresGrad).toBe(false);
    expect(values(p.grad)).toEqual([0, 0, 0]);
  });
});

describe("parameter groups and defaults", () => {
  it("groups inherit the options they omit; addParamGroup adds a trainable group", () => {
    const a = leaf();
    const b = leaf();
    const opt = new SGD([{ params: [a] }, { params: b, lr: 0.5 }], { lr: 0.1, momentum: 0.9 });
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false });
    expect(opt.paramGroups[1].lr).toBe(0.5);
    expect(opt.paramGroups[1].params).toEqual([b]);
    const c = leaf([0]);
    opt.addParamGroup({ params: [c], momentum: 0 });
    expect(opt.paramGroups[2]).toMatchObject({ lr: 0.1, momentum: 0 });
    c.grad = f32([2]);
    opt.step();
    expect(c.item()).toBeCloseTo(-0.2, 6);
    expect(opt.state.get(c)).toEqual({ momentumBuffer: null });
  });
  it("defaults as PyTorch: AdamW decays by 1e-2, Adam's betas [0.9, 0.999], Adagrad's state exists before a step", () => {
    expect(new AdamW([leaf()]).defaults).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 1e-2,
      amsgrad: false,
      maximize: false,
    });
    expect(new Adam([leaf()]).defaults.weightDecay).toBe(0);
    const p = leaf();
    const ada = new Adagrad([p], { initialAccumulatorValue: 0.25 });
    expect(ada.state.get(p)!.step).toBe(0);
    expect(values(ada.state.get(p)!.sum)).toEqual([0.25, 0.25, 0.25]);
    const q = leaf([1]);
    ada.addParamGroup({ params: [q] });
    q.grad = f32([1]);
    ada.step(); // a parameter added later gets its state at its first step
    expect(ada.state.get(q)!.step).toBe(1);
  });
  it("warns about a parameter listed twice in one group", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const p = leaf();
    new SGD([p, p], { lr: 0.1 });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/duplicate parameters/));
    warn.mockRestore();
  });
  it("prints like PyTorch", () => {
    const opt = new Adam([leaf()], { lr: 0.01 });
    expect(opt.toString()).toBe(
      "Adam (\nParameter Group 0\n    amsgrad: False\n    betas: (0.9, 0.999)\n    eps: 1e-8\n    lr: 0.01\n    maximize: False\n    weightDecay: 0\n)",
    );
  });
});

describe("memory", () => {
  it("a step frees its temporaries: live tensors stay flat over many steps", () => {
    const p = leaf([1, 2, 3, 4]);
    const q = leaf([5, 6]);
    const opt = new Adam([p, q], { lr: 0.01, amsgrad: true, weightDecay: 0.1, maximize: true });
    p.grad = f32([0.1, -0.2, 0.3, -0.4]);
    q.grad = f32([1, 2]);
    opt.step();
    const live = memory().liveTensors;
    for (let i = 0; i < 50; i++) opt.step();
    expect(memory().liveTensors).toBe(live);
  });
  it("state survives a user's tidy scope around step()", () => {
    const p = leaf();
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad = f32([1, 1, 1]);
    tidy(() => {
      opt.step();
    });
    const buf = opt.state.get(p)!.momentumBuffer!;
    expect(buf.isDisposed).toBe(false);
    opt.step();
    expect(values(buf)).toEqual([1.9, 1.9, 1.9].map((v) => Math.fround(v)));
  });
});

describe("schedulers", () => {
  it("are exported at the top level and as the lrScheduler namespace", () => {
    expect(lrScheduler.StepLR).toBe(StepLR);
    expect(Object.keys(lrScheduler).sort()).toEqual(
      [
        "CosineAnnealingLR",
        "ExponentialLR",
        "LRScheduler",
        "LambdaLR",
        "MultiStepLR",
        "OneCycleLR",
        "ReduceLROnPlateau",
        "StepLR",
      ].sort(),
    );
  });
  it("store initialLr in the groups once: a second scheduler keeps the first's", () => {
    const opt = new SGD([leaf()], { lr: 0.1 });
    const a = new ExponentialLR(opt, { gamma: 0.5 });
    expect(opt.paramGroups[0].initialLr).toBe(0.1);
    expect(a.lastEpoch).toBe(0);
    a.step();
    const b = new StepLR(opt, { stepSize: 2 });
    expect(b.baseLrs).toEqual([0.1]);
    expect(opt.paramGroups[0].lr).toBe(0.05);
  });
  it("getLastLr returns a copy", () => {
    const s = new ExponentialLR(new SGD([leaf()], { lr: 0.1 }), { gamma: 0.5 });
    s.getLastLr()[0] = 7;
    expect(s.getLastLr()).toEqual([0.1]);
  });
  it("step(epoch) uses the closed form", () => {
    const opt = new SGD([leaf()], { lr: 1 });
    const s = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    s.step(7);
    expect(opt.paramGroups[0].lr).toBe(0.25);
    const e = new ExponentialLR(new SGD([leaf()], { lr: 1 }), { gamma: 0.5 });
    e.step(3);
    expect(e.getLastLr()).toEqual([0.125]);
    const m = new lrScheduler.MultiStepLR(new SGD([leaf()], { lr: 1 }), {
      milestones: [2, 2, 5],
      gamma: 0.5,
    });
    m.step(4);
    expect(m.getLastLr()).toEqual([0.25]);
  });
  it("LambdaLR takes a function directly", () => {
    const opt = new SGD([leaf()], { lr: 2 });
    const s = new LambdaLR(opt, (e) => 1 / (e + 1));
    s.step();
    expect(opt.paramGroups[0].lr).toBe(1);
  });
  it("ReduceLROnPlateau takes a one-element tensor metric", () => {
    const opt = new SGD([leaf()], { lr: 1 });
    const s = new ReduceLROnPlateau(opt, { patience: 0, factor: 0.5 });
    expect(s.getLastLr()).toEqual([1]);
    s.step(tensor(1));
    s.step(tensor(2));
    expect(s.getLastLr()).toEqual([0.5]);
    expect(s.lastEpoch).toBe(2);
  });
  it("a resumed scheduler (lastEpoch >= 0) continues from the groups' initialLr", () => {
    const opt = new SGD([leaf()], { lr: 1 });
    new ExponentialLR(opt, { gamma: 0.5 });
    opt.paramGroups[0].lr = 0.25;
    const s = new ExponentialLR(opt, { gamma: 0.5, lastEpoch: 1 });
    expect(s.lastEpoch).toBe(2);
    expect(s.getLastLr()).toEqual([0.125]);
    expect(s.baseLrs).toEqual([1]);
  });
});

describe("PyTorch's call forms (typed)", () => {
  it("positional, options object and a mix give the same groups", () => {
    const forms = [
      new SGD([leaf()], 0.1, 0.9, 0, 1e-4, true, { maximize: true }),
      new SGD([leaf()], { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true, maximize: true }),
      new SGD({
        params: [leaf()],
        lr: 0.1,
        momentum: 0.9,
        weightDecay: 1e-4,
        nesterov: true,
        maximize: true,
      }),
      new SGD([leaf()], 0.1, { momentum: 0.9, weightDecay: 1e-4, nesterov: true, maximize: true }),
    ];
    for (const o of forms) {
      const { params: _, ...g } = o.paramGroups[0];
      expect(g).toEqual({
        lr: 0.1,
        momentum: 0.9,
        dampening: 0,
        weightDecay: 1e-4,
        nesterov: true,
        maximize: true,
      });
    }
    expect(new Adam([leaf()], 0.1, [0.8, 0.9]).paramGroups[0].betas).toEqual([0.8, 0.9]);
    expect(new AdamW([leaf()], { amsgrad: true }).paramGroups[0].weightDecay).toBe(0.01);
    expect(new RMSprop([leaf()], 0.1, 0.9, 1e-6, 0, 0.5, true).paramGroups[0].centered).toBe(true);
    expect(new Adagrad([leaf()], 0.1, 0.01).paramGroups[0].lrDecay).toBe(0.01);
    const opt = new SGD([leaf()], 0.1);
    expect(new StepLR(opt, 2, 0.5).gamma).toBe(0.5);
    expect(new lrScheduler.CosineAnnealingLR(opt, 10, { etaMin: 0.01 }).etaMin).toBe(0.01);
    expect(new ExponentialLR(opt, { gamma: 0.9 }).gamma).toBe(0.9);
    expect(new LambdaLR(opt, [(e: number) => 0.9 ** e]).lrLambdas).toHaveLength(1);
    expect(new ReduceLROnPlateau(opt, "max", { patience: 3 }).patience).toBe(3);
  });
});
