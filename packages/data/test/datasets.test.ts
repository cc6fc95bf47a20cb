import { cpu } from "@cinder/backend-cpu";
import { arange, Generator, randperm, registerBackend, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it, vi } from "vitest";
import {
  BatchSampler,
  ConcatDataset,
  DataLoader,
  defaultCollate,
  permutation,
  RandomSampler,
  randomSplit,
  SequentialSampler,
  Subset,
  SubsetRandomSampler,
  TensorDataset,
  WeightedRandomSampler,
} from "../src/index";

registerBackend(cpu);

const range = (n: number) => [...Array(n).keys()];
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe("samplers", () => {
  it("SequentialSampler counts up", () => {
    expect([...new SequentialSampler(4)]).toEqual([0, 1, 2, 3]);
    expect(new SequentialSampler({ length: 3 }).length).toBe(3);
  });

  it("permutation is randperm's stream without a tensor", () => {
    expect(Array.from(permutation(100, new Generator(9)))).toEqual(
      randperm(100, { generator: new Generator(9) }).toArray(),
    );
  });

  it("RandomSampler: a permutation per epoch, seeded, new each epoch", () => {
    const s = new RandomSampler(20, { generator: new Generator(4) });
    const e1 = [...s];
    const e2 = [...s];
    expect(sorted(e1)).toEqual(range(20));
    expect(sorted(e2)).toEqual(range(20));
    expect(e1).not.toEqual(e2);
    const again = new RandomSampler(20, { generator: new Generator(4) });
    expect([...again]).toEqual(e1);
    expect([...again]).toEqual(e2);
  });

  it("RandomSampler with numSamples and replacement", () => {
    const more = [...new RandomSampler(5, { numSamples: 12, generator: new Generator(1) })];
    expect(more).toHaveLength(12);
    expect(sorted(more.slice(0, 5))).toEqual(range(5));
    expect(sorted(more.slice(5, 10))).toEqual(range(5));
    const rep = new RandomSampler(3, { replacement: true, numSamples: 3000, generator: new Generator(2) });
    expect(rep.length).toBe(3000);
    const draws = [...rep];
    const counts = [0, 1, 2].map((k) => draws.filter((d) => d === k).length);
    for (const c of counts) expect(c).toBeGreaterThan(900);
    expect(() => new RandomSampler(3, { numSamples: 0 })).toThrow(/numSamples should be a positive integer/);
  });

  it("SubsetRandomSampler permutes the given indices", () => {
    const s = new SubsetRandomSampler([10, 20, 30, 40], { generator: new Generator(3) });
    const a = [...s];
    expect(sorted(a)).toEqual([10, 20, 30, 40]);
    expect(s.length).toBe(4);
  });

  it("WeightedRandomSampler follows the weights, never draws weight 0", () => {
    const s = new WeightedRandomSampler([0, 1, 3], 4000, { generator: new Generator(5) });
    const draws = [...s];
    expect(draws.includes(0)).toBe(false);
    const ones = draws.filter((d) => d === 1).length;
    expect(ones / 4000).toBeGreaterThan(0.22);
    expect(ones / 4000).toBeLessThan(0.28);
    const noRep = [
      ...new WeightedRandomSampler([1, 1, 1, 0, 1], 4, { replacement: false, generator: new Generator(6) }),
    ];
    expect(sorted(noRep)).toEqual([0, 1, 2, 4]);
    expect(() => new WeightedRandomSampler([1, 0], 2, { replacement: false })).toThrow(/without replacement/);
    expect(() => new WeightedRandomSampler([1, -1], 2)).toThrow(/non-negative/);
  });

  it("BatchSampler groups, with and without dropLast", () => {
    expect([...new BatchSampler(new SequentialSampler(7), 3, false)]).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect([...new BatchSampler(new SequentialSampler(7), 3, true)]).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(new BatchSampler(new SequentialSampler(7), 3, false).length).toBe(3);
    expect(new BatchSampler(new SequentialSampler(7), 3, true).length).toBe(2);
  });
});

describe("datasets", () => {
  const x = arange(0, 12, { dtype: "float32" }).reshape(6, 2);
  const y = tensor([0, 1, 2, 3, 4, 5]);

  it("TensorDataset rows and batches", () => {
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(6);
    const [xi, yi] = ds.getItem(2);
    expect(xi.toArray()).toEqual([4, 5]);
    expect(yi.item()).toBe(2);
    const [xb, yb] = ds.getBatch([5, 0, -1]);
    expect(xb.toArray()).toEqual([
      [10, 11],
      [0, 1],
      [10, 11],
    ]);
    expect(yb.toArray()).toEqual([5, 0, 5]);
    expect(() => ds.getItem(6)).toThrow(/out of range/);
    expect(() => new TensorDataset(x, tensor([1, 2]))).toThrow(/size mismatch.*\[6, 2\].*\[2\]/);
  });

  it("Subset maps indices and keeps the getBatch fast path", () => {
    const sub = new Subset(new TensorDataset(x, y), [4, 1]);
    expect(sub.length).toBe(2);
    expect((sub.getItem(0)[1] as Tensor).item()).toBe(4);
    expect(sub.getBatch).toBeTypeOf("function");
    expect(sub.getBatch!([1, 0])[1].toArray()).toEqual([1, 4]);
    const plain = new Subset({ length: 3, getItem: (i: number) => i }, [2]);
    expect(plain.getBatch).toBeUndefined();
    expect(plain.getItem(0)).toBe(2);
  });

  it("ConcatDataset indexes across parts and its getBatch keeps the requested order", () => {
    const a = new TensorDataset(x, y);
    const b = new TensorDataset(x.add(100), y.add(100));
    const c = new ConcatDataset([a, b]);
    expect(c.length).toBe(12);
    expect(c.cumulativeSizes).toEqual([6, 12]);
    expect((c.getItem(7)[1] as Tensor).item()).toBe(101);
    expect((c.getItem(-1)[1] as Tensor).item()).toBe(105);
    const [xb, yb] = c.getBatch!([7, 0, 11, 3]);
    expect(yb.toArray()).toEqual([101, 0, 105, 3]);
    expect(xb.toArray()).toEqual([
      [102, 103],
      [0, 1],
      [110, 111],
      [6, 7],
    ]);
    const viaItems = defaultCollate([7, 0, 11, 3].map((i) => c.getItem(i)));
    expect(viaItems[0].toArray()).toEqual(xb.toArray());
  });

  it("randomSplit with lengths: disjoint, covering, seeded", () => {
    const ds = { length: 10, getItem: (i: number) => i };
    const [a, b] = randomSplit(ds, [7, 3], { generator: new Generator(42) });
    expect([a.length, b.length]).toEqual([7, 3]);
    expect(sorted([...a.indices, ...b.indices])).toEqual(range(10));
    const [a2] = randomSplit(ds, [7, 3], { generator: new Generator(42) });
    expect(a2.indices).toEqual(a.indices);
    expect(() => randomSplit(ds, [7, 4])).toThrow(/does not equal the length of the input dataset \(10\)/);
  });

  it("randomSplit with fractions uses PyTorch's rounding", () => {
    const ds = { length: 10, getItem: (i: number) => i };
    // floor(10 * 0.33) = 3 each, the 1 left over goes to the first split
    expect(randomSplit(ds, [0.34, 0.33, 0.33]).map((s) => s.length)).toEqual([4, 3, 3]);
    expect(randomSplit({ length: 5, getItem: (i: number) => i }, [0.5, 0.5]).map((s) => s.length)).toEqual([
      3, 2,
    ]);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(randomSplit({ length: 2, getItem: (i: number) => i }, [0.1, 0.9]).map((s) => s.length)).toEqual([
      1, 1,
    ]);
    expect(randomSplit({ length: 1, getItem: (i: number) => i }, [0.5, 0.5]).map((s) => s.length)).toEqual([
      1, 0,
    ]);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
  });

  it("randomSplit subsets feed a DataLoader", () => {
    const [train] = randomSplit(new TensorDataset(x, y), [0.5, 0.5], { generator: new Generator(1) });
    const seen = [...new DataLoader(train, { batchSize: 2 })].flatMap(([, yb]) => yb.toArray() as number[]);
    expect(sorted(seen)).toEqual(sorted(train.indices as number[]));
  });
});

describe("defaultCollate", () => {
  it("stacks tensors, converts numbers, recurses into arrays and objects", () => {
    const batch = defaultCollate([
      {
        img: tensor([1, 2]),
        label: 3,
        w: 0.5,
        ok: true,
        name: "a",
        pair: [1, tensor([9])] as [number, Tensor],
      },
      {
        img: tensor([3, 4]),
        label: 4,
        w: 1,
        ok: false,
        name: "b",
        pair: [2, tensor([8])] as [number, Tensor],
      },
    ]);
    expect(batch.img.shape).toEqual([2, 2]);
    expect(batch.label.dtype).toBe("int32");
    expect(batch.w.dtype).toBe("float32");
    expect(batch.ok.dtype).toBe("bool");
    expect(batch.name).toEqual(["a", "b"]);
    expect(batch.pair[0].toArray()).toEqual([1, 2]);
    expect(batch.pair[1].toArray()).toEqual([[9], [8]]);
  });

  it("stacks TypedArrays with their dtype and explains bad input", () => {
    const t = defaultCollate([new Uint8Array([1, 2]), new Uint8Array([3, 4])]);
    expect(t.dtype).toBe("uint8");
    expect(t.shape).toEqual([2, 2]);
    expect(() => defaultCollate([[1, 2], [3]])).toThrow(/equal size/);
    expect(() => defaultCollate([null])).toThrow(/found null/);
    expect(() => defaultCollate([tensor([1]), 2])).toThrow(/batch\[1\] is number/);
  });
});
