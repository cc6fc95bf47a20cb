import { cpu } from "@cinder/backend-cpu";
import { arange, Generator, manualSeed, registerBackend, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import {
  BatchSampler,
  type Collated,
  DataLoader,
  Dataset,
  IterableDataset,
  SequentialSampler,
  TensorDataset,
} from "../src/index";

registerBackend(cpu);

/** x[i] = [i, i + 0.5], y[i] = i % 3: row i is recognisable from its first element. */
function numbered(n: number) {
  const x = arange(0, n, { dtype: "float32" })
    .unsqueeze(1)
    .repeat(1, 2)
    .add(tensor([0, 0.5]));
  const y = arange(0, n).remainder(3);
  return new TensorDataset(x, y);
}

function firstColumn(batches: Tensor[][]): number[][] {
  return batches.map(([x]) => Array.from(x.select(1, 0).data()));
}

function syncEpoch<T, B>(loader: DataLoader<T, B>): B[] {
  return [...loader];
}
async function asyncEpoch<T, B>(loader: DataLoader<T, B>): Promise<B[]> {
  const out: B[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

/** A dataset without getBatch: the loader collates its items. */
class Squares extends Dataset<[number, number]> {
  constructor(readonly length: number) {
    super();
  }
  getItem(i: number): [number, number] {
    return [i, i * i + 0.25];
  }
}

describe("DataLoader over a TensorDataset", () => {
  it("yields batches in order with a short last batch", () => {
    const loader = new DataLoader(numbered(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = syncEpoch(loader);
    expect(batches.map(([x, y]) => [x.shape, y.shape])).toEqual([
      [[4, 2], [4]],
      [[4, 2], [4]],
      [[2, 2], [2]],
    ]);
    expect(firstColumn(batches)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(batches[2][0].toArray()).toEqual([
      [8, 8.5],
      [9, 9.5],
    ]);
    expect(batches[2][1].toArray()).toEqual([2, 0]);
  });

  it("dropLast drops the short batch and changes length", () => {
    const loader = new DataLoader(numbered(10), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(firstColumn(syncEpoch(loader))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    const exact = new DataLoader(numbered(8), { batchSize: 4, dropLast: true });
    expect(exact.length).toBe(2);
    expect(syncEpoch(exact)).toHaveLength(2);
  });

  it("shuffles reproducibly with a seeded generator, every sample once per epoch, a new order each epoch", () => {
    const ds = numbered(50);
    const run = (seed: number) => {
      const loader = new DataLoader(ds, { batchSize: 8, shuffle: true, generator: new Generator(seed) });
      return [0, 1, 2].map(() => firstColumn(syncEpoch(loader)).flat());
    };
    const a = run(7);
    const b = run(7);
    expect(a).toEqual(b);
    for (const epoch of a) expect([...epoch].sort((p, q) => p - q)).toEqual([...Array(50).keys()]);
    expect(a[0]).not.toEqual(a[1]);
    expect(a[1]).not.toEqual(a[2]);
    expect(a[0]).not.toEqual([...Array(50).keys()]);
    expect(run(8)[0]).not.toEqual(a[0]);
  });

  it("shuffle without a generator follows manualSeed", () => {
    const ds = numbered(20);
    manualSeed(3);
    const a = firstColumn(syncEpoch(new DataLoader(ds, { batchSize: 5, shuffle: true }))).flat();
    manualSeed(3);
    const b = firstColumn(syncEpoch(new DataLoader(ds, { batchSize: 5, shuffle: true }))).flat();
    expect(a).toEqual(b);
  });

  it("labels stay with their samples after shuffling", () => {
    const loader = new DataLoader(numbered(30), { batchSize: 7, shuffle: true, generator: new Generator(1) });
    for (const [x, y] of loader) {
      const xs = x.select(1, 0).data();
      const ys = y.data();
      for (let i = 0; i < xs.length; i++) expect(ys[i]).toBe(xs[i] % 3);
    }
  });

  it("sync and async iteration give the same batches (default prefetch, none, and deep)", async () => {
    const ds = numbered(37);
    const expected = firstColumn(
      syncEpoch(new DataLoader(ds, { batchSize: 5, shuffle: true, generator: new Generator(11) })),
    );
    for (const prefetch of [0, 1, 4]) {
      const loader = new DataLoader(ds, {
        batchSize: 5,
        shuffle: true,
        generator: new Generator(11),
        prefetch,
      });
      expect(firstColumn(await asyncEpoch(loader))).toEqual(expected);
    }
  });

  it("uses getBatch (one gather) when the default collate is in use", () => {
    const ds = numbered(10);
    let calls = 0;
    const inner = ds.getBatch.bind(ds);
    ds.getBatch = (idx) => {
      calls++;
      return inner(idx);
    };
    let items = 0;
    const getItem = ds.getItem.bind(ds);
    ds.getItem = (i) => {
      items++;
      return getItem(i);
    };
    syncEpoch(new DataLoader(ds, { batchSize: 4 }));
    expect([calls, items]).toEqual([3, 0]);
  });

  it("a custom collateFn sees the items", () => {
    const loader = new DataLoader(numbered(6), {
      batchSize: 4,
      collateFn: (items) => items.map(([x, y]) => `${x.at(0).item()}:${y.item()}`),
    });
    const batches: string[][] = syncEpoch(loader);
    expect(batches).toEqual([
      ["0:0", "1:1", "2:2", "3:0"],
      ["4:1", "5:2"],
    ]);
  });

  it("getBatch and per-item collation agree", () => {
    const ds = numbered(9);
    const fast = syncEpoch(new DataLoader(ds, { batchSize: 4, shuffle: true, generator: new Generator(5) }));
    const slow = syncEpoch(
      new DataLoader(
        { length: ds.length, getItem: (i: number) => ds.getItem(i) },
        {
          batchSize: 4,
          shuffle: true,
          generator: new Generator(5),
        },
      ),
    );
    expect(fast.map((b) => b.map((t) => t.toArray()))).toEqual(slow.map((b) => b.map((t) => t.toArray())));
    expect(fast.map((b) => b.map((t) => t.dtype))).toEqual(slow.map((b) => b.map((t) => t.dtype)));
  });
});

describe("DataLoader options", () => {
  it("collates numbers and tuples from a plain Dataset subclass", () => {
    const loader = new DataLoader(new Squares(5), { batchSize: 2 });
    const [[i, sq]] = syncEpoch(loader);
    expect(i.dtype).toBe("int32");
    expect(sq.dtype).toBe("float32");
    expect(sq.toArray()).toEqual([0.25, 1.25]);
  });

  it("accepts a plain array as the dataset and any iterable as sampler", () => {
    const loader = new DataLoader([10, 20, 30, 40], { batchSize: 3, sampler: [3, 2, 1, 0] });
    expect(syncEpoch(loader).map((t) => t.toArray())).toEqual([[40, 30, 20], [10]]);
    expect(loader.length).toBe(2);
  });

  it("takes a batchSampler and reports batchSize null", () => {
    const bs = new BatchSampler(new SequentialSampler(7), 3, true);
    const loader = new DataLoader(numbered(7), { batchSampler: bs });
    expect(loader.batchSize).toBeNull();
    expect(loader.length).toBe(2);
    expect(firstColumn(syncEpoch(loader))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
  });

  it("rejects a batchSampler that is not iterable", () => {
    expect(() => new DataLoader(numbered(7), { batchSampler: 5 as never })).toThrow(
      'DataLoader(): argument "batchSampler" must be a Sampler of index lists or null, got int 5',
    );
  });

  it("rejects mutually exclusive options like PyTorch", () => {
    const ds = numbered(4);
    expect(() => new DataLoader(ds, { sampler: [0, 1], shuffle: true })).toThrow(
      /mutually exclusive with shuffle/,
    );
    const bs = new BatchSampler(new SequentialSampler(4), 2, false);
    expect(() => new DataLoader(ds, { batchSampler: bs, batchSize: 2 })).toThrow(
      /batchSampler option is mutually exclusive/,
    );
    expect(() => new DataLoader(ds, { batchSampler: bs, dropLast: true })).toThrow(/mutually exclusive/);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize should be an integer >= 1/);
    expect(() => new DataLoader(ds, { prefetch: -1 })).toThrow(/prefetch/);
  });

  it("numWorkers is accepted and changes nothing: batches are made on the main thread", async () => {
    const ds = numbered(23);
    const make = (numWorkers: number) =>
      new DataLoader(ds, { batchSize: 4, shuffle: true, generator: new Generator(2), numWorkers });
    const expected = firstColumn(syncEpoch(make(0)));
    expect(firstColumn(syncEpoch(make(2)))).toEqual(expected);
    expect(firstColumn(await asyncEpoch(make(4)))).toEqual(expected);
    expect(make(2).numWorkers).toBe(2);
    expect(() => make(-1)).toThrow(/numWorkers should be an integer >= 0/);
  });

  it("sync iteration of an async dataset says to use for await", async () => {
    const ds = { length: 3, getItem: async (i: number) => i * 2 };
    const loader = new DataLoader(ds, { batchSize: 2 });
    expect(() => [...loader]).toThrow(/for await/);
    const batches = await asyncEpoch(loader);
    expect(batches.map((t) => t.toArray())).toEqual([[0, 2], [4]]);
  });

  it("propagates errors from the dataset at the batch that failed, and stops cleanly on break", async () => {
    const ds = {
      length: 10,
      getItem: (i: number) => {
        if (i === 6) throw new Error("bad sample 6");
        return i;
      },
    };
    const seen: number[][] = [];
    await expect(async () => {
      for await (const b of new DataLoader(ds, { batchSize: 2, prefetch: 3 }))
        seen.push(b.toArray() as number[]);
    }).rejects.toThrow("bad sample 6");
    expect(seen).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    let n = 0;
    for await (const _ of new DataLoader(ds, { batchSize: 2, prefetch: 2 })) {
      if (++n === 1) break;
    }
    expect(n).toBe(1);
  });

  it("prepares the next batch while the consumer awaits", async () => {
    const made: number[] = [];
    const ds = {
      length: 6,
      getItem: (i: number) => {
        made.push(i);
        return i;
      },
    };
    const loader = new DataLoader(ds, { batchSize: 2, prefetch: 1 });
    const it = loader[Symbol.asyncIterator]();
    await it.next();
    // the consumer now "trains" asynchronously; the loader uses the time to make the next batch
    await new Promise((r) => setTimeout(r, 5));
    expect(made).toEqual([0, 1, 2, 3]);
    await it.return?.();
  });
});

describe("DataLoader over iterable datasets", () => {
  class Counter extends IterableDataset<number> {
    constructor(readonly n: number) {
      super();
    }
    *[Symbol.iterator]() {
      for (let i = 0; i < this.n; i++) yield i;
    }
  }

  it("batches consecutive items, sync and async alike", async () => {
    const loader = new DataLoader(new Counter(7), { batchSize: 3 });
    const sync = syncEpoch(loader).map((t) => t.toArray());
    expect(sync).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect((await asyncEpoch(loader)).map((t) => t.toArray())).toEqual(sync);
    const dropped = new DataLoader(new Counter(7), { batchSize: 3, dropLast: true });
    expect(syncEpoch(dropped)).toHaveLength(2);
  });

  it("reads async generators and refuses shuffle", async () => {
    async function* gen() {
      for (let i = 0; i < 5; i++) yield { v: i, name: `s${i}` };
    }
    const loader = new DataLoader({ [Symbol.asyncIterator]: gen }, { batchSize: 2 });
    const out = await asyncEpoch(loader);
    expect(out.map((b) => [b.v.toArray(), b.name])).toEqual([
      [
        [0, 1],
        ["s0", "s1"],
      ],
      [
        [2, 3],
        ["s2", "s3"],
      ],
      [[4], ["s4"]],
    ]);
    expect(() => [...loader]).toThrow(/asynchronous/);
    expect(() => new DataLoader(new Counter(3), { shuffle: true })).toThrow(/shuffle/);
    expect(() => new DataLoader(new Counter(3)).length).toThrow(/no length/);
  });
});

// type-level: a TensorDataset of two tensors yields pairs of tensors
const _typed: DataLoader<[Tensor, Tensor], Collated<[Tensor, Tensor]>> = new DataLoader(
  new TensorDataset(tensor([1]), tensor([2])),
);
void _typed;

describe("PyTorch's call forms (typed)", () => {
  it("DataLoader(dataset, batch_size, shuffle, sampler, ...) positional, as options, or mixed", () => {
    const ds = numbered(10);
    const shapes = (l: DataLoader<[Tensor, Tensor]>) => [...l].map(([x]) => x.shape[0]);
    expect(shapes(new DataLoader(ds, 4))).toEqual([4, 4, 2]);
    expect(shapes(new DataLoader(ds, 4, false, null, null, 0, null, false, true))).toEqual([4, 4]);
    expect(shapes(new DataLoader({ dataset: ds, batchSize: 4, dropLast: true }))).toEqual([4, 4]);
    expect(shapes(new DataLoader(ds, 4, { dropLast: true }))).toEqual([4, 4]);
    const bs = new BatchSampler(new SequentialSampler(ds), 3, false);
    expect(shapes(new DataLoader(ds, { batchSampler: bs }))).toEqual([3, 3, 3, 1]);
    const first = new DataLoader(ds, 5, { collateFn: (items: [Tensor, Tensor][]) => items.length });
    expect([...first]).toEqual([5, 5]);
  });
});
