/**
 * backward() disposes the gradient tensors it made and consumed, never one the user can reach: a hook's argument
 * and result, a retained gradient, autograd.grad's outputs, a leaf's `.grad`, the user's seed.
 */
import { describe, expect, it } from "vitest";
import * as autograd from "../src/index";
import "./setup";
import * as torch from "@cinder/tensor";

const t = (v: number[], rg = true) => torch.tensor(v, { requiresGrad: rg });

describe("backward frees its own temporaries", () => {
  it("frees the gradients it made: memory() is back where it was, plus the leaves' .grad", () => {
    const w = t([1, 2, 3]);
    const x = t([4, 5, 6], false);
    const h = w.mul(x).exp().add(w); // w reaches the sum twice: a partial sum is made
    const loss = h.sum();
    const before = torch.memory().liveTensors;
    loss.backward();
    // only w.grad is new: the seed, each node's gradient and the partial sum were disposed
    expect(torch.memory().liveTensors - before).toBe(1);
    const e = w.mul(x).exp();
    expect((w.grad?.tolist() ?? []) as number[]).toEqual(
      (e.mul(x).add(1).tolist() as number[]).map((v) => expect.closeTo(v, 4)),
    );
  });

  it("never disposes a hook's argument or result, a retained gradient, or autograd.grad's outputs", () => {
    const w = t([1, 2, 3]);
    const a = w.mul(2);
    const b = a.exp();
    a.retainGrad();
    const seen: torch.Tensor[] = [];
    b.registerHook((g) => {
      seen.push(g);
      const r = g.mul(1);
      seen.push(r);
      return r;
    });
    w.registerHook((g) => {
      seen.push(g);
    });
    b.sum().backward();
    for (const s of seen) expect(s.isDisposed).toBe(false);
    expect(a.grad?.isDisposed).toBe(false);
    expect(w.grad?.isDisposed).toBe(false);
    expect((a.grad?.tolist() ?? []) as number[]).toEqual(b.tolist() as number[]);

    const u = t([1, 2]);
    const [gu] = autograd.grad(u.mul(u).add(u).sum(), [u]);
    expect(gu?.isDisposed).toBe(false);
    expect((gu?.tolist() ?? []) as number[]).toEqual([3, 5]);
  });

  it("keeps the user's seed and everything under createGraph", () => {
    const w = t([1, 2]);
    const y = w.mul(w);
    const seed = torch.tensor([1, 1]);
    y.backward(seed, { retainGraph: true });
    expect(seed.isDisposed).toBe(false);
    const [g] = autograd.grad(y.sum(), [w], { createGraph: true });
    const [g2] = autograd.grad(g?.sum() as torch.Tensor, [w]);
    expect((g2?.tolist() ?? []) as number[]).toEqual([2, 2]);
  });
});
