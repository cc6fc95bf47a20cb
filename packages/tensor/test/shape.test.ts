/**
 * Shape and stride logic of the core, no backend needed: `viewStrides` against PyTorch's computeStride
 * (Tensor.view on layouts made by real view ops), `isContiguous`, `broadcastShapes`, `inferShape` and friends.
 * Fixtures: fixtures/core.json, written by fixtures/core_fixtures.py from real PyTorch.
 */
import { readFileSync } from "node:fs";
import {
  broadcastShapes,
  broadcastStrides,
  contiguousStrides,
  inferShape,
  isContiguous,
  normDim,
  normDims,
  numel,
  ShapeError,
  viewStrides,
} from "@cinder/tensor";
import { describe, expect, it } from "vitest";

interface Layout {
  shape: number[];
  strides: number[];
  ops: string[];
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/core.json", import.meta.url), "utf8")) as {
  view: (Layout & { new: number[]; result: number[] | null })[];
  contiguous: (Layout & { result: boolean })[];
  broadcast: { a: number[]; b: number[]; result: number[] | null }[];
};

/** Storage offsets of every element of a layout, in row-major order of its shape. */
function offsets(shape: readonly number[], strides: readonly number[]): number[] {
  const out: number[] = [];
  const rec = (d: number, off: number) => {
    if (d === shape.length) {
      out.push(off);
      return;
    }
    for (let i = 0; i < shape[d]; i++) rec(d + 1, off + i * strides[d]);
  };
  rec(0, 0);
  return out;
}

const label = (c: Layout) =>
  `[${c.shape}] strides [${c.strides}]${c.ops.length ? ` (${c.ops.join(", ")})` : ""}`;

describe("viewStrides matches PyTorch's computeStride (Tensor.view)", () => {
  it("the fixture has both views that work and views that fail", () => {
    expect(fixture.view.filter((c) => c.result === null).length).toBeGreaterThan(20);
    expect(fixture.view.filter((c) => c.result !== null).length).toBeGreaterThan(100);
  });

  it.each(fixture.view.map((c) => [label(c), c.new, c] as const))("%s as [%s]", (_l, _n, c) => {
    const got = viewStrides(c.shape, c.strides, c.new);
    if (c.result === null) {
      expect(got).toBeNull();
      return;
    }
    expect(got).not.toBeNull();
    // strides of size-1 dims are arbitrary (PyTorch and Cinder may pick differently); the others must agree
    const s = got as number[];
    expect(s.filter((_, i) => c.new[i] !== 1)).toEqual(c.result.filter((_, i) => c.new[i] !== 1));
    // and the view addresses the same elements in the same order
    expect(offsets(c.new, s)).toEqual(offsets(c.shape, c.strides));
  });

  it("hand-picked cases", () => {
    // contiguous: any regrouping works
    expect(viewStrides([2, 3, 4], [12, 4, 1], [6, 4])).toEqual([4, 1]);
    expect(viewStrides([2, 3, 4], [12, 4, 1], [24])).toEqual([1]);
    // transposed: only splitting/merging within contiguous chunks
    expect(viewStrides([3, 2], [1, 3], [6])).toBeNull();
    expect(viewStrides([3, 2], [1, 3], [3, 1, 2])).toEqual([1, expect.any(Number), 3]);
    // an expanded dim cannot merge with its neighbour
    expect(viewStrides([4, 3], [0, 1], [12])).toBeNull();
    expect(viewStrides([4, 3], [0, 1], [2, 2, 3])).toEqual([0, 0, 1]);
    // a sliced (step 2) dim keeps its stride when split
    expect(viewStrides([4, 5], [10, 1], [2, 2, 5])).toEqual([20, 10, 1]);
    // 0 and 1 elements always view
    expect(viewStrides([0, 3], [3, 1], [3, 0])).not.toBeNull();
    expect(viewStrides([1, 1], [7, 9], [1])).not.toBeNull();
  });
});

describe("isContiguous matches Tensor.is_contiguous", () => {
  it.each(fixture.contiguous.map((c) => [label(c), c.result] as const))("%s is %s", (_l, result) => {
    const c = fixture.contiguous.find((x) => label(x) === _l)!;
    expect(isContiguous(c.shape, c.strides)).toBe(result);
  });

  it("ignores the strides of size-1 dims, and empty tensors are contiguous", () => {
    expect(isContiguous([1, 3], [99, 1])).toBe(true);
    expect(isContiguous([2, 0, 3], [5, 7, 11])).toBe(true);
    expect(isContiguous([], [])).toBe(true);
    expect(isContiguous([2, 3], [1, 2])).toBe(false);
  });
});

describe("broadcastShapes matches torch.broadcast_shapes", () => {
  const fmt = (s: number[]) => `[${s.join(", ")}]`;
  it.each(
    fixture.broadcast.map((c) => [fmt(c.a), fmt(c.b), c.result ? fmt(c.result) : "an error", c] as const),
  )("%s with %s gives %s", (a, b, _r, c) => {
    if (c.result === null) {
      expect(() => broadcastShapes(c.a, c.b)).toThrow(ShapeError);
      expect(() => broadcastShapes(c.a, c.b)).toThrow(`shapes ${a} and ${b} cannot be broadcast`);
    } else {
      expect(broadcastShapes(c.a, c.b)).toEqual(c.result);
      expect(broadcastShapes(c.b, c.a)).toEqual(c.result);
    }
  });

  it("names the op and the offending dimension", () => {
    expect(() => broadcastShapes([2, 3], [4], "add")).toThrow(
      /^add: shapes \[2, 3\] and \[4\] cannot be broadcast together \(the size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1\)$/,
    );
  });
});

describe("broadcastStrides", () => {
  it("gives stride 0 to expanded and new leading dims", () => {
    expect(broadcastStrides([3, 1], [1, 1], [2, 3, 4])).toEqual([0, 1, 0]);
    expect(broadcastStrides([3], [2], [3])).toEqual([2]);
  });
  it("refuses to shrink or to expand a non-singleton dim", () => {
    expect(() => broadcastStrides([2, 3], [3, 1], [3])).toThrow(
      /cannot expand shape \[2, 3\] to fewer dimensions/,
    );
    expect(() => broadcastStrides([2, 3], [3, 1], [2, 4])).toThrow(
      /the expanded size of the tensor \(4\) must match the existing size \(3\) at non-singleton dimension 1/,
    );
  });
});

describe("inferShape", () => {
  it("resolves one -1", () => {
    expect(inferShape([-1, 2], 6)).toEqual([3, 2]);
    expect(inferShape([2, -1, 3], 12)).toEqual([2, 2, 3]);
    expect(inferShape([-1], 0)).toEqual([0]);
    expect(inferShape([0, 5], 0)).toEqual([0, 5]);
    expect(inferShape([], 1)).toEqual([]);
    expect(inferShape([1, -1, 1], 7)).toEqual([1, 7, 1]);
  });
  it("rejects impossible shapes with the element count", () => {
    expect(() => inferShape([4, -1], 6)).toThrow("reshape: shape [4, -1] is invalid for input of size 6");
    expect(() => inferShape([4, 2], 6)).toThrow("reshape: shape [4, 2] is invalid for input of size 6");
    expect(() => inferShape([0, -1], 0)).toThrow(/invalid for input of size 0/);
    expect(() => inferShape([-1, -1], 4, "view")).toThrow(
      "view: only one dimension can be inferred, got [-1, -1]",
    );
    expect(() => inferShape([-2, 2], 4)).toThrow("invalid shape dimension -2 in [-2, 2]");
    expect(() => inferShape([1.5, 2], 3)).toThrow("invalid shape dimension 1.5");
  });
});

describe("small helpers", () => {
  it("numel and contiguousStrides", () => {
    expect(numel([])).toBe(1);
    expect(numel([2, 0, 3])).toBe(0);
    expect(numel([2, 3, 4])).toBe(24);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([])).toEqual([]);
    expect(contiguousStrides([3, 0, 2])).toEqual([0, 2, 1]);
  });
  it("normDim wraps negative dims and names the valid range", () => {
    expect(normDim(-1, 3)).toBe(2);
    expect(normDim(0, 0)).toBe(0); // a 0-dim tensor accepts dim 0 and -1, as in PyTorch
    expect(normDim(-1, 0)).toBe(0);
    expect(() => normDim(3, 3, "sum")).toThrow(
      "sum: dimension out of range (expected to be in range of [-3, 2], but got 3)",
    );
    expect(() => normDim(0.5, 3)).toThrow(/but got 0.5/);
  });
  it("normDims sorts and rejects repeats", () => {
    expect(normDims([2, -3], 3)).toEqual([0, 2]);
    expect(normDims(1, 3)).toEqual([1]);
    expect(() => normDims([1, -2], 3, "sum")).toThrow(/sum: dim 1, -2 appears multiple times/);
  });
});
