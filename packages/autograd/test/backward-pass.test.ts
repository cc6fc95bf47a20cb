// currentBackwardPass(): PyTorch's queue_callback (final callbacks of a backward pass) and the pass's kind.
import { tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { currentBackwardPass, Function as Fn, type FunctionCtx, grad } from "../src/index";
import "./setup";

const seen: string[] = [];

/** Doubles its input; its backward records the pass it runs in and queues a callback. */
class Probe extends Fn {
  static forward(_ctx: FunctionCtx, x: ReturnType<typeof tensor>) {
    return x.mul(2);
  }
  static backward(_ctx: FunctionCtx, g: ReturnType<typeof tensor>) {
    const pass = currentBackwardPass();
    seen.push(`node accumulates=${pass?.accumulates}`);
    pass?.queueCallback(() => {
      seen.push("callback");
      pass.queueCallback(() => seen.push("queued by a callback"));
    });
    return g.mul(2);
  }
}

describe("currentBackwardPass", () => {
  it("is null outside backward", () => {
    expect(currentBackwardPass()).toBeNull();
  });

  it("runs queued callbacks once every node has run, before backward() returns", () => {
    seen.length = 0;
    const x = tensor([1, 2], { requiresGrad: true });
    const y = Probe.apply(x).mul(3);
    x.registerHook(() => void seen.push("leaf hook"));
    y.sum().backward();
    expect(seen).toEqual(["node accumulates=true", "leaf hook", "callback", "queued by a callback"]);
    expect(Array.from(x.grad?.data() ?? [])).toEqual([6, 6]);
    expect(currentBackwardPass()).toBeNull();
  });

  it("tells autograd.grad (gradients returned, not accumulated) from backward()", () => {
    seen.length = 0;
    const x = tensor([1, 2], { requiresGrad: true });
    const [g] = grad(Probe.apply(x).sum(), x);
    expect(Array.from(g?.data() ?? [])).toEqual([2, 2]);
    expect(seen).toEqual(["node accumulates=false", "callback", "queued by a callback"]);
  });

  it("ends the pass when a node throws", () => {
    const x = tensor([1], { requiresGrad: true });
    x.registerHook(() => {
      throw new Error("boom");
    });
    expect(() => x.mul(2).sum().backward()).toThrow(/boom/);
    expect(currentBackwardPass()).toBeNull();
  });
});
