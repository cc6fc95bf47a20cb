/**
 * What a recorded op costs and what it keeps: shared edges, saved tensors released with the graph, and the gradient
 * mode each part of a backward pass runs in (the engine sets it directly, without a closure per node).
 */
import { isGradEnabled, recordOp, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { AccumulateGrad, type Node } from "../src/index";
import "./setup";

const leaf = (v: number[]) => tensor(v, { dtype: "float32", requiresGrad: true });

describe("nodes", () => {
  it("edges are PyTorch's next_functions; a leaf's edge is one shared pair, an input without grad is [null, 0]", () => {
    const a = leaf([1, 2]);
    const b = tensor([3, 4], { dtype: "float32" });
    const y1 = a.mul(b);
    const y2 = a.add(1);
    const [e1, e2] = [y1.gradFn!.nextFunctions, y2.gradFn!.nextFunctions];
    expect(e1[0][0]).toBeInstanceOf(AccumulateGrad);
    expect(e1[0]).toEqual([e1[0][0], 0]);
    expect(e1[0]).toBe(e2[0]); // the same pair: no allocation per use of a leaf
    expect(e1[1]).toEqual([null, 0]);
    // an interior node's edge: made once, the same object for every op that reads its output
    const z1 = y1.exp();
    const z2 = y1.neg();
    expect(z1.gradFn!.nextFunctions[0]).toEqual([y1.gradFn, 0]);
    expect(z1.gradFn!.nextFunctions[0]).toBe(z2.gradFn!.nextFunctions[0]);
  });

  it("saved tensors are released with the derivative when the graph is freed, kept with retainGraph", () => {
    const x = leaf([1, 2, 3]);
    const y = x.exp(); // saves its result
    const node = y.gradFn as Node;
    expect(node.saved).toEqual([y]);
    expect(node.versions).toEqual([y.version]);
    y.sum().backward({ retainGraph: true });
    expect(node.saved).toEqual([y]);
    y.sum().backward();
    expect(node.saved).toEqual([]);
    expect(node.backwardFn).toBeNull();
    expect(() => y.sum().backward()).toThrow(/backward through the graph a second time/);
  });

  it("an in-place change to a saved tensor is still caught", () => {
    const x = leaf([1, 2, 3]);
    const z = x.mul(1);
    const y = z.exp();
    y.add_(1); // y is saved by exp's node
    expect(() => y.sum().backward()).toThrow(/modified by an inplace operation/);
  });
});

describe("gradient mode during backward", () => {
  /** y = x * 1 with a derivative that reports the gradient mode it runs in (and optionally throws). */
  function probe(x: Tensor, modes: boolean[], fail = false): Tensor {
    const y = x.detach().mul(1);
    return recordOp({
      name: "ProbeBackward0",
      inputs: [x],
      output: y,
      backward: (g) => {
        modes.push(isGradEnabled());
        if (fail) throw new Error("probe failed");
        return [g];
      },
    });
  }

  it("derivatives run without recording, or recording with createGraph; the caller's mode is restored", () => {
    const modes: boolean[] = [];
    const x = leaf([1, 2]);
    probe(x, modes).sum().backward();
    probe(x, modes).sum().backward({ createGraph: true });
    expect(modes).toEqual([false, true]);
    expect(isGradEnabled()).toBe(true);
  });

  it("a derivative that throws leaves the mode as it was", () => {
    const x = leaf([1, 2]);
    expect(() => probe(x, [], true).sum().backward()).toThrow("probe failed");
    expect(isGradEnabled()).toBe(true);
  });

  it("gradients reach leaves as before (broadcast, dtype, accumulation)", () => {
    const a = leaf([1, 2, 3]);
    const b = tensor([[1], [2]], { dtype: "float64", requiresGrad: true });
    a.mul(b.float()).sum().backward();
    expect(a.grad!.toArray()).toEqual([3, 3, 3]);
    expect(b.grad!.dtype).toBe("float64");
    expect(b.grad!.toArray()).toEqual([[6], [6]]);
    a.mul(2).sum().backward();
    expect(a.grad!.toArray()).toEqual([5, 5, 5]);
  });
});
