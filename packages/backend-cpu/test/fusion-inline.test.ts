import { fusionStats, randn, registerBackend, setFusion, type Tensor } from "@cinder/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpu } from "../src/index";

// inlining a pending program whose inputs keep their numbers reuses its nodes without the renumbering walk
// (fusionStats().inlinedAsIs); the walk runs otherwise. Both must give the bits of the ops run one by one.
let fusionWas = true;
beforeAll(() => {
  registerBackend(cpu);
  fusionWas = setFusion(true);
});
afterAll(() => setFusion(fusionWas));

/** `f` fused and unfused, with how many programs were inlined as they are while fused. */
function both(f: () => Tensor): { fused: Float32Array; eager: Float32Array; asIs: number } {
  setFusion(true);
  const before = fusionStats().inlinedAsIs;
  const fused = f().data() as Float32Array;
  const asIs = fusionStats().inlinedAsIs - before;
  setFusion(false);
  try {
    return { fused, eager: f().data() as Float32Array, asIs };
  } finally {
    setFusion(true);
  }
}

describe("inlining a pending program", () => {
  let x: Tensor;
  let y: Tensor;
  beforeAll(() => {
    x = randn(16, 32);
    y = randn(16, 32);
  });

  it("reuses the nodes of a program whose inputs keep their numbers (first operand), same bits", () => {
    const r = both(() => x.mul(1.7).add(y).relu().mul(x).exp());
    expect(r.asIs).toBeGreaterThanOrEqual(3);
    expect(r.fused).toEqual(r.eager);
  });

  it("renumbers a program inlined as a later operand, same bits", () => {
    // y is input 0, so x.mul(2)'s input 0 becomes input 1: the walk runs, not the as-is path
    const r = both(() => y.add(x.mul(2)));
    expect(r.asIs).toBe(0);
    expect(r.fused).toEqual(r.eager);
  });

  it("keeps the fan-out bookkeeping of programs inlined as they are (a shared tanh runs once)", () => {
    const r = both(() => {
      const h = x.mul(0.5).tanh();
      const a = h.mul(y); // inlines h as it is (h's input x is input 0 here too)
      const b = h.add(1); // second consumer: computes h into its buffer
      return a.add(b).sub(h.mul(h));
    });
    expect(r.asIs).toBeGreaterThan(0);
    expect(r.fused).toEqual(r.eager);
  });

  it("a reduction of a chain inlined as it is gives the unfused bits", () => {
    const r = both(() => x.mul(3).sub(y).abs().sum(1));
    expect(r.asIs).toBeGreaterThan(0);
    expect(r.fused).toEqual(r.eager);
  });
});
