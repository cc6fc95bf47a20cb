// autograd.grad and gradcheck take PyTorch's signatures: positional, options and mixed forms, and nothing ignored.
import { ArgumentError, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { grad, gradcheck } from "../src/index";
import "./setup";

describe("autograd signatures", () => {
  const graph = () => {
    const x = tensor([1, 2, 3], { requiresGrad: true, dtype: "float64" });
    return { x, y: x.mul(x) };
  };
  it("grad(outputs, inputs, grad_outputs, retain_graph, create_graph, only_inputs, allow_unused)", () => {
    const seed = tensor([1, 1, 1], { dtype: "float64" });
    const forms = [
      (x: ReturnType<typeof graph>) => grad(x.y, x.x, seed),
      (x: ReturnType<typeof graph>) => grad(x.y, [x.x], [seed], null, false, true, false),
      (x: ReturnType<typeof graph>) => grad({ outputs: x.y, inputs: x.x, gradOutputs: seed }),
      (x: ReturnType<typeof graph>) => grad(x.y, x.x, { gradOutputs: seed, createGraph: true }),
    ];
    for (const f of forms) expect(f(graph())[0]?.toArray()).toEqual([2, 4, 6]);
    const g = graph();
    const unused = tensor([1], { requiresGrad: true });
    expect(grad(g.y.sum(), [g.x, unused], null, null, false, true, true)[1]).toBeNull();
    expect(() => grad(graph().y.sum(), graph().x, { onlyInputs: false })).toThrow(ArgumentError);
    // @ts-expect-error: snake_case is not an option name (and the type says so)
    expect(() => grad(graph().y.sum(), graph().x, { allow_unused: true })).toThrow(
      /unknown option "allow_unused"; did you mean "allowUnused"/,
    );
    const h = graph();
    expect(() => grad(h.y, h.x, [seed, seed])).toThrow(/2 grad_outputs for 1 outputs/);
  });
  it("gradcheck(func, inputs, *, eps, atol, rtol, raise_exception, ...)", () => {
    const x = tensor([0.5, 1.5], { requiresGrad: true, dtype: "float64" });
    expect(gradcheck((a) => a.exp(), x)).toBe(true);
    expect(gradcheck((a) => a.exp(), [x], { eps: 1e-5, atol: 1e-4 })).toBe(true);
    const wrong = (a: ReturnType<typeof tensor>) => a.detach().mul(a.detach()).add(a);
    expect(gradcheck(wrong, x, { raiseException: false })).toBe(false);
    expect(() => gradcheck(wrong, x)).toThrow(/Jacobian mismatch/);
    // keyword-only in PyTorch: not positional here either
    expect(() =>
      (gradcheck as unknown as (...a: unknown[]) => unknown)((a: typeof x) => a.exp(), x, 1e-6),
    ).toThrow(ArgumentError);
    expect(() => gradcheck((a) => a.exp(), x, { fastMode: true })).toThrow(/fast_mode|fastMode/);
  });
});
