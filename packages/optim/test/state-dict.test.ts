/** Optimizer state dicts: 5 steps, save, load into a fresh optimizer, 5 more = 10 straight steps. */
import { noGrad, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { Adam, SGD } from "../src/index";
import { expectClose, freshParams, fx, makeOptimizer, makeScheduler, setGrads, toNested } from "./helpers";

function run(
  c: (typeof fx.optimizers)[number],
  params: Tensor[],
  from: number,
  to: number,
  opt = makeOptimizer(c, params),
) {
  const sched = c.scheduler ? makeScheduler(c.scheduler.cls, opt, c.scheduler.options) : null;
  for (let t = from; t < to; t++) {
    setGrads(params, t, c.drop);
    opt.step();
    sched?.step();
  }
  return opt;
}

describe("optimizer stateDict / loadStateDict round trip", () => {
  for (const c of fx.optimizers.filter((o) => !o.scheduler)) {
    it(c.name, () => {
      const straight = freshParams();
      run(c, straight, 0, 10);

      const first = freshParams();
      const a = run(c, first, 0, 5);
      const saved = a.stateDict();
      // fresh parameters holding the values after 5 steps, and a fresh optimizer over them
      const second = first.map((p) =>
        tensor(p.toArray() as number[], { dtype: "float32", requiresGrad: true }),
      );
      const b = makeOptimizer(c, second);
      b.loadStateDict(saved);
      run(c, second, 5, 10, b);

      second.forEach((p, i) => {
        expect(toNested(p), `${c.name} param ${i}`).toEqual(toNested(straight[i]));
        expectClose(toNested(p), c.expected[9][i], `${c.name} param ${i} vs PyTorch`);
      });
    });
  }

  it("stateDict copies tensors deeply: later steps do not change a saved state", () => {
    const [p] = freshParams();
    const opt = new Adam([p], { lr: 0.1 });
    p.grad = tensor(fx.grads[0][0] as number[]);
    opt.step();
    const sd = opt.stateDict();
    const before = toNested(sd.state[0].expAvg);
    opt.step();
    expect(toNested(sd.state[0].expAvg)).toEqual(before);
    expect(sd.state[0].expAvg).not.toBe(opt.state.get(p)!.expAvg);
    expect(sd.state[0].step).toBe(1);
  });

  it("loadStateDict copies too: the same saved state loads into two optimizers independently", () => {
    const c = fx.optimizers.find((o) => o.name === "sgd_momentum")!;
    const a = run(c, freshParams(), 0, 3);
    const sd = a.stateDict();
    const pb = freshParams();
    const pc = freshParams();
    const b = makeOptimizer(c, pb);
    const d = makeOptimizer(c, pc);
    b.loadStateDict(sd);
    d.loadStateDict(sd);
    const bufB = (b.state.get(pb[0]) as { momentumBuffer: Tensor }).momentumBuffer;
    const bufD = (d.state.get(pc[0]) as { momentumBuffer: Tensor }).momentumBuffer;
    expect(bufB).not.toBe(bufD);
    expect(bufB).not.toBe(sd.state[0] && (sd.state[0] as { momentumBuffer: Tensor }).momentumBuffer);
    noGrad(() => bufB.zero_());
    expect(toNested(bufD)).toEqual(toNested((sd.state[0] as { momentumBuffer: Tensor }).momentumBuffer));
  });

  it("uses PyTorch's layout: state keyed by parameter index across groups, groups list indices", () => {
    const [a, b] = freshParams();
    const c = tensor([1, 2], { dtype: "float32", requiresGrad: true });
    const opt = new SGD(
      [
        { params: [a, b], lr: 0.1 },
        { params: [c], lr: 0.01, momentum: 0.9 },
      ],
      { lr: 1 },
    );
    c.grad = tensor([1, 1], { dtype: "float32" });
    opt.step();
    const sd = opt.stateDict();
    expect(sd.paramGroups.map((g) => g.params)).toEqual([[0, 1], [2]]);
    expect(Object.keys(sd.state)).toEqual(["2"]);
    expect(sd.paramGroups[1]).toEqual({
      lr: 0.01,
      momentum: 0.9,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      params: [2],
    });
    // group options come back from the state dict; the groups keep their own parameters
    const opt2 = new SGD(
      [
        { params: [a, b], lr: 0.5 },
        { params: [c], lr: 0.5 },
      ],
      { lr: 1 },
    );
    const group1 = opt2.paramGroups[1];
    opt2.loadStateDict(sd);
    expect(opt2.paramGroups[1]).toBe(group1);
    expect(group1.lr).toBe(0.01);
    expect(group1.momentum).toBe(0.9);
    expect(group1.params[0]).toBe(c);
    expect(opt2.paramGroups[0].params).toEqual([a, b]);
  });

  it("converts loaded state tensors to the parameter's dtype", () => {
    const p = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    opt.loadStateDict({
      state: { 0: { momentumBuffer: tensor([1, 1, 1], { dtype: "float32" }) } },
      paramGroups: [{ ...opt.stateDict().paramGroups[0] }],
    });
    expect(opt.state.get(p)!.momentumBuffer!.dtype).toBe("float64");
  });
});
