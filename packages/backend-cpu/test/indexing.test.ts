import { IndexError } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { cpu } from "../src/index";
import { elements, empty, permutedView, rng, view } from "./helpers";

describe("gather", () => {
  it("gathers along each axis, with strided inputs", () => {
    const x = view("float32", [1, 2, 3, 4, 5, 6], [2, 3]);
    const idx1 = view("int32", [2, 0, 1, 1], [2, 2]);
    const o1 = empty("float32", [2, 2]);
    cpu.gather(x, 1, idx1, o1);
    expect(elements(o1)).toEqual([3, 1, 5, 5]);
    const idx0 = view("int32", [1, 0, 1], [1, 3]);
    const o0 = empty("float32", [1, 3]);
    cpu.gather(x, 0, idx0, o0);
    expect(elements(o0)).toEqual([4, 2, 6]);
    const xt = permutedView("float64", [1, 2, 3, 4, 5, 6], [2, 3], [1, 0], 2);
    const it = permutedView("int32", [2, 0, 1, 1], [2, 2], [1, 0], 1);
    const ot = permutedView("float64", [0, 0, 0, 0], [2, 2], [1, 0], 3);
    cpu.gather(xt, 1, it, ot);
    expect(elements(ot)).toEqual([3, 1, 5, 5]);
  });

  it("rejects out-of-range indices", () => {
    const x = view("float32", [1, 2, 3]);
    expect(() => cpu.gather(x, 0, view("int32", [3]), empty("float32", [1]))).toThrow(IndexError);
    expect(() => cpu.gather(x, 0, view("int32", [-1]), empty("float32", [1]))).toThrow(/out of bounds/);
  });
});

describe("scatter", () => {
  it("sets (last write wins) and adds along an axis", () => {
    const out = view("float32", [0, 0, 0, 0, 0, 0], [2, 3]);
    const idx = view("int32", [2, 0, 2, 1], [2, 2]);
    const src = view("float32", [1, 2, 3, 4, 5, 6], [2, 3]); // larger than index, as PyTorch allows
    cpu.scatter("set", out, 1, idx, src);
    expect(elements(out)).toEqual([2, 0, 1, 0, 5, 4]);
    const acc = view("float32", [1, 1, 1, 1, 1, 1], [2, 3]);
    cpu.scatter("add", acc, 1, view("int32", [0, 0, 2, 2], [2, 2]), src);
    expect(elements(acc)).toEqual([4, 1, 1, 1, 1, 10]);
    const rows = empty("int32", [3, 2]);
    cpu.scatter("add", rows, 0, view("int32", [2, 2, 2, 0], [2, 2]), view("int32", [1, 2, 3, 4], [2, 2]));
    expect(elements(rows)).toEqual([0, 4, 0, 0, 4, 2]);
    const b = view("bool", [0, 0]);
    cpu.scatter("add", b, 0, view("int32", [1, 1]), view("bool", [1, 1]));
    expect(elements(b)).toEqual([0, 1]);
    expect(() => cpu.scatter("set", out, 1, view("int32", [3], [1, 1]), src)).toThrow(IndexError);
  });
});

describe("sort", () => {
  it("is stable, puts NaN last ascending and first descending", () => {
    const x = view("float32", [3, Number.NaN, 1, Number.NaN, -1, 1, 3, -0, 0]);
    const v = empty("float32", [9]);
    const i = empty("int32", [9]);
    cpu.sort(x, 0, false, v, i);
    expect(elements(i)).toEqual([4, 7, 8, 2, 5, 0, 6, 1, 3]);
    expect(elements(v).slice(0, 7)).toEqual([-1, -0, 0, 1, 1, 3, 3]);
    expect(Object.is(elements(v)[1], -0)).toBe(true);
    cpu.sort(x, 0, true, v, i);
    expect(elements(i)).toEqual([1, 3, 0, 6, 2, 5, 7, 8, 4]);
    expect(elements(v).slice(2)).toEqual([3, 3, 1, 1, -0, 0, -1]);
    expect(Object.is(elements(v)[6], -0)).toBe(true);
  });

  it("sorts long lines along any axis of a strided view, like a reference stable sort", () => {
    const r = rng(7);
    const n = 1000;
    const data = Array.from({ length: 3 * n }, () => Math.floor(r() * 50) / 2);
    const x = permutedView("float64", data, [3, n], [1, 0], 1); // axis 1 has stride 3
    const v = permutedView("float64", new Array(3 * n).fill(0), [3, n], [1, 0], 2);
    const idx = empty("int32", [3, n]);
    for (const descending of [false, true]) {
      cpu.sort(x, 1, descending, v, idx);
      const gv = elements(v);
      const gi = elements(idx);
      for (let row = 0; row < 3; row++) {
        const line = data.slice(row * n, row * n + n);
        const order = line
          .map((_, k) => k)
          .sort((p, q) => (descending ? line[q] - line[p] : line[p] - line[q]) || p - q);
        expect(gi.slice(row * n, row * n + n)).toEqual(order);
        expect(gv.slice(row * n, row * n + n)).toEqual(order.map((k) => line[k]));
      }
    }
  });

  it("sorts int32 and handles empty and rank-0 inputs", () => {
    const x = view("int32", [5, -2, 5, 0], [2, 2]);
    const v = empty("int32", [2, 2]);
    const i = empty("int32", [2, 2]);
    cpu.sort(x, 0, false, v, i);
    expect(elements(v)).toEqual([5, -2, 5, 0]);
    expect(elements(i)).toEqual([0, 0, 1, 1]);
    cpu.sort(x, 1, true, v, i);
    expect(elements(v)).toEqual([5, -2, 5, 0]);
    cpu.sort(empty("float32", [0]), 0, false, empty("float32", [0]), empty("int32", [0]));
    const s = empty("float32", []);
    const si = empty("int32", []);
    cpu.sort(view("float32", [2], []), 0, false, s, si);
    expect(elements(s)).toEqual([2]);
    expect(elements(si)).toEqual([0]);
  });
});
