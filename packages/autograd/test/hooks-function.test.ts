// Tensor.registerHook and custom autograd.Function against PyTorch 1.13: every scenario of
// fixtures/hooks-function.json (written by scripts/fixtures/autograd_hooks.py) is built here the same way.
import { readFileSync } from "node:fs";
import { ArgumentError, isGradEnabled, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as autograd from "../src/index";
import { type FunctionCtx, grad, gradcheck } from "../src/index";
import "./setup";

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/hooks-function.json", import.meta.url), "utf8"),
) as {
  cases: Record<string, Record<string, unknown>>;
};
const want = fixture.cases;

const f64 = (v: number[] | number[][], requiresGrad = false) => tensor(v, { dtype: "float64", requiresGrad });
/** Values equal PyTorch's to float64 rounding. */
function close(got: Tensor | null | undefined, expected: unknown): void {
  expect(got).toBeTruthy();
  const flat = (a: unknown): number[] => (Array.isArray(a) ? a.flatMap(flat) : [a as number]);
  const g = flat((got as Tensor).toArray());
  const e = flat(expected);
  expect(g.length).toBe(e.length);
  g.forEach((x, i) => {
    expect(Math.abs(x - e[i])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(e[i])));
  });
}

describe("Tensor.registerHook", () => {
  it("leaf: hooks run in registration order before accumulation; undefined keeps the gradient", () => {
    const w = want.leaf_hooks;
    const x = f64([1, 2, 3], true);
    const seen: Tensor[] = [];
    x.registerHook((g) => {
      seen.push(g.clone());
      return g.mul(2);
    });
    x.registerHook((g) => {
      seen.push(g.clone());
      return g.add(1);
    });
    x.registerHook((g) => {
      seen.push(g.clone());
    });
    x.mul(x).sum().backward();
    x.mul(x).sum().backward();
    close(x.grad, w["x.grad"]);
    const ws = w.seen as number[][];
    expect(seen.length).toBe(ws.length);
    for (let i = 0; i < ws.length; i++) close(seen[i], ws[i]);
  });

  it("non-leaf: hooks run when its gradient is complete; retainGrad keeps the gradient after every hook", () => {
    const w = want.nonleaf_hooks;
    const x = f64([1, -2, 0.5], true);
    const y = x.mul(3);
    const seen: Tensor[] = [];
    y.registerHook((g) => {
      seen.push(g.clone());
      return g.mul(2);
    });
    y.retainGrad();
    y.registerHook((g) => {
      seen.push(g.clone());
      return g.mul(10);
    });
    y.mul(y).sum().backward();
    close(x.grad, w["x.grad"]);
    close(y.grad, w["y.grad"]);
    for (const [i, s] of (w.seen as number[][]).entries()) close(seen[i], s);
  });

  it("remove() unregisters the hook (a second call does nothing)", () => {
    const x = f64([1, 2], true);
    const y = x.exp();
    const h1 = y.registerHook((g) => g.mul(100));
    y.registerHook((g) => g.add(1));
    h1.remove();
    h1.remove();
    y.sum().backward();
    close(x.grad, want.removed_hook["x.grad"]);
  });

  it("a tensor used twice: its hook sees the summed gradient once", () => {
    const w = want.shared_hooked;
    const x = f64([0.5, 1.5], true);
    const y = x.sin();
    const seen: Tensor[] = [];
    y.registerHook((g) => {
      seen.push(g.clone());
      return g.neg();
    });
    y.mul(y).add(y.mul(4)).sum().backward();
    close(x.grad, w["x.grad"]);
    expect(seen.length).toBe(1);
    close(seen[0], (w.seen as number[][])[0]);
  });

  it("errors as PyTorch's: no grad required, a hook changing the size or the dtype, a non-function", () => {
    expect(() => tensor([1]).registerHook((g) => g)).toThrow(
      "cannot register a hook on a tensor that doesn't require gradient",
    );
    const x = tensor([1, 2], { requiresGrad: true });
    const size = function resize() {
      return tensor([1, 2, 3]);
    };
    const h = x.registerHook(size);
    expect(() => x.mul(1).sum().backward()).toThrow("hook 'resize' has changed the size of value");
    h.remove();
    const h2 = x.registerHook((g) => g.double());
    expect(() => x.mul(1).sum().backward()).toThrow(
      /has changed the type of value \(was float32 got float64\)/,
    );
    h2.remove();
    // @ts-expect-error: a hook is a function
    expect(() => x.registerHook(3)).toThrow(ArgumentError);
  });

  it("autograd.grad captures a leaf's gradient before its hooks (PyTorch 1.13 runs no AccumulateGrad there)", () => {
    const x = f64([1, 2], true);
    let calls = 0;
    x.registerHook((g) => {
      calls++;
      return g.mul(2);
    });
    const [g] = grad(x.mul(x).sum(), x);
    close(g, [2, 4]);
    expect(calls).toBe(0);
  });

  it("under createGraph the hook's result is differentiable", () => {
    const x = f64([1, 2], true);
    const y = x.mul(x);
    y.registerHook((g) => g.mul(y)); // recorded: the hook's product is part of the graph
    const [g] = grad(y.sum(), x, { createGraph: true });
    close(g, want.hook_create_graph.g); // 2x * x^2
    g?.sum().backward();
    // not d/dx 2x^3 = 6x^2: the hook runs again where the second pass reaches y's node, as in PyTorch
    close(x.grad, want.hook_create_graph["x.grad"]);
  });
});

class MyExp extends autograd.Function {
  static forward(ctx: FunctionCtx, x: Tensor): Tensor {
    const y = x.exp();
    ctx.saveForBackward(y);
    return y;
  }
  static backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [y] = ctx.savedTensors;
    return g.mul(y as Tensor);
  }
}

class SinCos extends autograd.Function {
  static forward(ctx: FunctionCtx, x: Tensor): [Tensor, Tensor] {
    ctx.saveForBackward(x);
    return [x.sin(), x.cos()];
  }
  static backward(ctx: FunctionCtx, ga: Tensor, gb: Tensor): Tensor {
    const [x] = ctx.savedTensors as Tensor[];
    return ga.mul(x.cos()).sub(gb.mul(x.sin()));
  }
}

class ScaleAdd extends autograd.Function {
  static forward(ctx: FunctionCtx & { k: number }, x: Tensor, k: number, b: Tensor): Tensor {
    ctx.k = k;
    return x.mul(k).add(b);
  }
  static backward(ctx: FunctionCtx & { k: number }, g: Tensor): (Tensor | null)[] {
    return [g.mul(ctx.k), null, g];
  }
}

class MulInPlace extends autograd.Function {
  static forward(ctx: FunctionCtx, x: Tensor): Tensor {
    x.mul_(3);
    ctx.markDirty(x);
    return x;
  }
  static backward(_ctx: FunctionCtx, g: Tensor): Tensor {
    return g.mul(3);
  }
}

describe("autograd.Function", () => {
  it("MyExp: value, gradient and node name as PyTorch's", () => {
    const w = want.exp;
    const x = f64([0.5, -1, 2], true);
    const y = MyExp.apply(x);
    y.mul(f64([1, 2, -3]))
      .sum()
      .backward();
    close(y, w.y);
    close(x.grad, w["x.grad"]);
    expect(y.gradFn?.name).toBe(w.name);
    expect(y.gradFn?.name).toBe("MyExpBackward");
    expect(y.gradFn?.nextFunctions[0][0]?.name).toBe("AccumulateGrad");
  });

  it("two outputs share one node; an output no gradient reached gets zeros", () => {
    const w = want.sincos;
    const x = f64([0.3, 1.2, -0.7], true);
    const [a, b] = SinCos.apply(x);
    close(a, w.a);
    close(b, w.b);
    expect(a.gradFn).toBe(b.gradFn);
    expect(a.gradFn?.name).toBe(w.name);
    const wt = f64([1, 2, -3]);
    a.mul(wt).sum().backward({ retainGraph: true });
    close(x.grad, w["x.grad(a)"]);
    x.grad = null;
    a.mul(wt).add(b.mul(b)).sum().backward();
    close(x.grad, w["x.grad(a,b)"]);
  });

  it("a non-tensor argument (backward returns null for it) and a broadcast gradient", () => {
    const w = want.scale_add;
    const x = f64(
      [
        [1, 2],
        [3, 4],
      ],
      true,
    );
    const b = f64([0.5], true);
    const y = ScaleAdd.apply(x, 2.5, b);
    y.mul(y).sum().backward();
    close(y, w.y);
    close(x.grad, w["x.grad"]);
    close(b.grad, w["b.grad"]);
    expect(y.gradFn?.name).toBe("ScaleAddBackward");
  });

  it("markDirty: the input modified in place is the output, rebased onto the node", () => {
    const w = want.mul_inplace;
    const x = f64([1, -2, 4], true);
    const c = x.mul(1);
    const r = MulInPlace.apply(c);
    expect(r).toBe(c);
    expect(c.gradFn?.name).toBe(w.name);
    r.mul(r).sum().backward();
    close(r, w.r);
    close(x.grad, w["x.grad"]);
    expect(() => MulInPlace.apply(f64([1], true))).toThrow(
      "a leaf Variable that requires grad has been used in an in-place operation.",
    );
    class NotReturned extends autograd.Function {
      static forward(ctx: FunctionCtx, t: Tensor): Tensor {
        t.mul_(2);
        ctx.markDirty(t);
        return t.mul(1);
      }
    }
    expect(() => NotReturned.apply(x.mul(1))).toThrow(/marked as dirty .* were not returned as output/);
  });

  it("double backward through a backward made of tensor ops", () => {
    const w = want.exp_double;
    const x = f64([0.2, -0.4], true);
    const [g] = grad(MyExp.apply(x).sum(), x, { createGraph: true });
    close(g, w.g);
    g?.sum().backward();
    close(x.grad, w["x.grad"]);
  });

  it("hooks on a Function's output", () => {
    const w = want.exp_hooked;
    const x = f64([0.5, 1], true);
    const seen: Tensor[] = [];
    const y = MyExp.apply(x);
    y.registerHook((g) => {
      seen.push(g.clone());
      return g.mul(2);
    });
    y.sum().backward();
    close(x.grad, w["x.grad"]);
    close(seen[0], (w.seen as number[][])[0]);
    // and on one of several outputs, with retainGrad
    const z = f64([0.3, 1.2], true);
    const [a, b] = SinCos.apply(z);
    b.registerHook((g) => g.mul(0));
    b.retainGrad();
    a.add(b).sum().backward();
    close(z.grad, z.detach().cos().toArray());
    close(b.grad, [0, 0]);
  });

  it("saved tensors: version checks, freed after backward, kept with retainGraph", () => {
    const x = f64([0.5, 1], true);
    const y = MyExp.apply(x);
    y.mul_(2);
    expect(() => y.sum().backward({ retainGraph: true })).toThrow(want.saved_modified.error as string);
    expect(() => y.sum().backward()).toThrow(/used by MyExpBackward, is at version 1; expected version 0/);
    const y2 = MyExp.apply(x);
    y2.sum().backward({ retainGraph: true });
    y2.sum().backward();
    expect(() => y2.sum().backward()).toThrow(/Trying to backward through the graph a second time/);
  });

  it("ctx.needsInputGrad, forward without recording, no node without grad, markNonDifferentiable", () => {
    let needs: readonly boolean[] = [];
    let recording = true;
    let inputRequiresGrad = false;
    class Probe extends autograd.Function {
      static forward(ctx: FunctionCtx, a: Tensor, k: number, b: Tensor): [Tensor, Tensor] {
        needs = ctx.needsInputGrad;
        recording = isGradEnabled();
        inputRequiresGrad = a.requiresGrad;
        const i = a.argmax();
        ctx.markNonDifferentiable(i);
        return [a.mul(k).add(b), i];
      }
      static backward(_ctx: FunctionCtx, g: Tensor, gi: Tensor): (Tensor | null)[] {
        expect(gi.toArray()).toEqual(0);
        return [g, null, g];
      }
    }
    const a = f64([1, 3], true);
    const [v, i] = Probe.apply(a, 3, f64([1, 1]));
    expect(needs).toEqual([true, false, false]);
    expect(recording).toBe(false);
    expect(inputRequiresGrad).toBe(true);
    expect(v.requiresGrad).toBe(true);
    expect(i.requiresGrad).toBe(false);
    expect(i.gradFn).toBeNull();
    v.sum().backward();
    close(a.grad, [1, 1]);
    const plain = MyExp.apply(f64([1]));
    expect(plain.requiresGrad).toBe(false);
    expect(plain.gradFn).toBeNull();
  });

  it("an input returned unchanged comes back as a new tensor of the graph", () => {
    class Ident extends autograd.Function {
      static forward(_ctx: FunctionCtx, t: Tensor): Tensor {
        return t;
      }
      static backward(_ctx: FunctionCtx, g: Tensor): Tensor {
        return g.mul(5);
      }
    }
    const x = f64([1, 2], true);
    const y = Ident.apply(x);
    expect(y).not.toBe(x);
    expect(x.gradFn).toBeNull();
    expect(y.gradFn?.name).toBe("IdentBackward");
    y.sum().backward();
    close(x.grad, [5, 5]);
  });

  it("PyTorch's errors for what backward returns", () => {
    const x = f64([1, 2], true);
    class TooFew extends autograd.Function {
      static forward(_ctx: FunctionCtx, t: Tensor, k: number): Tensor {
        return t.mul(k);
      }
      static backward(_ctx: FunctionCtx, g: Tensor): Tensor {
        return g;
      }
    }
    expect(() => TooFew.apply(x, 2).sum().backward()).toThrow(
      "function TooFewBackward returned an incorrect number of gradients (expected 2, got 1)",
    );
    class GradForNumber extends autograd.Function {
      static forward(_ctx: FunctionCtx, t: Tensor, k: number): Tensor {
        return t.mul(k);
      }
      static backward(_ctx: FunctionCtx, g: Tensor): Tensor[] {
        return [g, g];
      }
    }
    expect(() => GradForNumber.apply(x, 2).sum().backward()).toThrow(
      "function GradForNumberBackward returned a gradient different than None at position 2, but the corresponding forward input was not a Variable",
    );
    class BadShape extends autograd.Function {
      static forward(_ctx: FunctionCtx, t: Tensor): Tensor {
        return t.mul(2);
      }
      static backward(): Tensor {
        return f64([1, 1, 1]);
      }
    }
    expect(() => BadShape.apply(x).sum().backward()).toThrow(
      "Function BadShapeBackward returned an invalid gradient at index 0 - got [3] but expected shape compatible with [2]",
    );
    class NoBackward extends autograd.Function {
      static forward(_ctx: FunctionCtx, t: Tensor): Tensor {
        return t.mul(2);
      }
    }
    expect(() => NoBackward.apply(x).sum().backward()).toThrow(/must implement either the backward/);
  });

  it("gradcheck passes through custom Functions", () => {
    const x = f64([0.3, -0.8, 1.1], true);
    expect(gradcheck((t) => MyExp.apply(t), x)).toBe(true);
    expect(
      gradcheck((t) => {
        const [a, b] = SinCos.apply(t);
        return a.mul(b.add(2));
      }, x),
    ).toBe(true);
    const b = f64([0.25], true);
    expect(gradcheck((t, u) => ScaleAdd.apply(t, -1.5, u), [x, b])).toBe(true);
    expect(gradcheck((t) => MulInPlace.apply(t.mul(1)), x)).toBe(true);
  });
});
