/**
 * The CPU buffer pool in use (packages/tensor/src/buffer-pool.ts): storage released by `dispose()`, `tidy` and the
 * backward pass (graph-owned intermediates) is handed out again, training gives the same bits with the pool on, off
 * and poisoned (recycled buffers filled with NaN where a kernel promised to write every element), and no buffer that
 * someone can still read is ever recycled: views still alive, user memory, buffers a pending fused program reads.
 */
import "@cinder/autograd";
import { cpu, setWasmHeapEnabled } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as optim from "@cinder/optim";
import * as torch from "@cinder/tensor";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

// The pool of JS arrays: float storage of 4 KiB or more would live in the WebAssembly heap (backend-cpu's
// wasm/heap.ts, tested in its package), so these tests keep all storage on the JS heap.
let heapWas = true;
beforeAll(() => {
  if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
  heapWas = setWasmHeapEnabled(false);
});
afterAll(() => setWasmHeapEnabled(heapWas));
const reset = () => {
  torch.setBufferPool(true, { maxBytes: 2 ** 30, poison: false });
  torch.trimBufferPool();
};
beforeEach(reset);
afterEach(reset);

/** Counter changes while `fn` runs. */
function delta<T>(fn: () => T): { hits: number; misses: number; recycled: number; result: T } {
  const a = torch.bufferPoolStats();
  const result = fn();
  const b = torch.bufferPoolStats();
  return { hits: b.hits - a.hits, misses: b.misses - a.misses, recycled: b.recycled - a.recycled, result };
}

/** An MLP and its training step (the README's loop: no tidy, no dispose), seeded. */
function mlp(seed: number) {
  torch.manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(20, 32), new nn.ReLU(), new nn.Linear(32, 5));
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const x = torch.randn(16, 20);
  const y = torch.randint(0, 5, [16]);
  const crit = new nn.CrossEntropyLoss();
  const step = () => {
    opt.zeroGrad();
    const loss = crit(model(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  };
  return { model, step };
}

/** A small CNN (conv, max-pool, linear) and its Adam step, seeded. */
function cnn(seed: number) {
  torch.manualSeed(seed);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 5 * 5, 3),
  );
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const x = torch.randn(8, 1, 10, 10);
  const y = torch.randint(0, 3, [8]);
  const crit = new nn.CrossEntropyLoss();
  const step = () => {
    opt.zeroGrad();
    const loss = crit(model(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  };
  return { model, step };
}

const bits = (m: nn.Module) =>
  m.parameters().map((p) => Array.from(new Uint32Array(new Float32Array(p.data() as Float32Array).buffer)));

describe("the CPU buffer pool", () => {
  it("serves a training loop from released buffers: after warm-up a tidy step allocates nothing new", () => {
    const { step } = mlp(0);
    for (let i = 0; i < 5; i++) torch.tidy(step);
    const d = delta(() => {
      for (let i = 0; i < 20; i++) torch.tidy(step);
    });
    expect(d.misses).toBe(0);
    expect(d.hits).toBeGreaterThanOrEqual(20 * 10);
  });

  it("serves most of the README's loop (no tidy): only what escapes to the garbage collector is new", () => {
    const { step } = mlp(1);
    for (let i = 0; i < 5; i++) step();
    const d = delta(() => {
      for (let i = 0; i < 20; i++) step();
    });
    // the output (kept alive by the user's loss until the collector finds it) and little else
    expect(d.hits).toBeGreaterThanOrEqual(20 * 10);
    expect(d.misses).toBeLessThanOrEqual(d.hits / 4);
  });

  it("trains to the same bits with the pool on, off and poisoned", () => {
    const run = (make: typeof mlp | typeof cnn, on: boolean, poison: boolean) => {
      torch.setBufferPool(on, { poison });
      const { model, step } = make(7);
      const losses = Array.from({ length: 6 }, step);
      return { losses, params: bits(model) };
    };
    for (const make of [mlp, cnn]) {
      const off = run(make, false, false);
      const on = run(make, true, false);
      const poisoned = run(make, true, true);
      expect(on).toEqual(off);
      expect(poisoned).toEqual(off);
    }
    expect(torch.bufferPoolStats().hits).toBeGreaterThan(0);
  });

  it("recycles a storage only when its last view is released", () => {
    const x = torch.randn(64, 64);
    const v = x.view(4096);
    const t = x.t();
    const before = t.data();
    expect(delta(() => x.dispose()).recycled).toBe(0);
    expect(delta(() => v.dispose()).recycled).toBe(0);
    // tensors of that size made while `t` lives do not get its buffer
    const others = delta(() => Array.from({ length: 3 }, () => torch.full([4096], 2)));
    expect(others.hits).toBe(0);
    expect(t.data()).toEqual(before);
    expect(delta(() => t.dispose()).recycled).toBe(1);
    // the recycled buffer comes back for the next tensor of that size, which holds its own values
    const d = delta(() => torch.ones(4096));
    expect(d.hits).toBe(1);
    expect(d.result.sum().item()).toBe(4096);
    expect(others.result[0].sum().item()).toBe(8192);
  });

  it("never recycles user memory (fromTypedArray) nor hands out what data() returned", () => {
    const mine = new Float32Array(1024).fill(3);
    const t = torch.fromTypedArray(mine);
    expect(delta(() => t.dispose()).recycled).toBe(0);
    const u = torch.randn(1024);
    const read = u.data();
    expect(delta(() => u.dispose()).recycled).toBe(1);
    const w = torch.full([1024], 5);
    expect(mine.every((v) => v === 3)).toBe(true);
    expect(read).not.toBe(w.data());
    expect(read.some((v) => v === 5)).toBe(false);
  });

  it("copies a TypedArray given to tensor() into storage of its own (written without a zero fill)", () => {
    const mine = new Float32Array(1024).fill(7);
    torch.randn(1024).dispose(); // a released buffer of the size, so the tensor's storage may come from the pool
    const t = torch.tensor(mine);
    mine.fill(1);
    expect(t.data().every((v) => v === 7)).toBe(true);
    t.add_(1);
    expect(mine.every((v) => v === 1)).toBe(true);
    expect(delta(() => t.dispose()).recycled).toBe(1);
    expect(mine.every((v) => v === 1)).toBe(true);
  });

  it("keeps a buffer that a pending fused program reads until the program has run", () => {
    const a = torch.randn(1000);
    const want = a.mul(2).toArray();
    const b = a.mul(2); // pending: reads a's buffer when it runs
    expect(delta(() => a.dispose()).recycled).toBe(0);
    // allocations of a's size now must not get a's buffer
    const others = Array.from({ length: 4 }, () => torch.full([1000], -1).add(0));
    expect(delta(() => expect(b.toArray()).toEqual(want)).recycled).toBe(1); // run: a's buffer goes back now
    expect(others[0].sum().item()).toBe(-1000);
  });

  it("keeps the old buffer a pending program reads after a copy-on-write, and recycles the new one", () => {
    const a = torch.randn(1000);
    const want = a.mul(3).toArray();
    const b = a.mul(3);
    a.add_(1); // copy-on-write: a moves to a new buffer, b keeps reading the old one
    expect(delta(() => a.dispose()).recycled).toBe(1); // the new buffer, which nothing else reads
    const others = Array.from({ length: 4 }, () => torch.full([1000], 9).add(0));
    expect(b.toArray()).toEqual(want);
    expect(others[0].sum().item()).toBe(9000);
  });

  it("writes in place without a copy once every program that read the buffer has run", () => {
    const a = torch.randn(1000);
    const b = a.mul(2);
    const want = b.toArray(); // b's program has run: nothing reads a's buffer any more
    const copies = torch.fusionStats().copies;
    a.add_(1);
    expect(torch.fusionStats().copies).toBe(copies);
    const wantC = a.mul(2).toArray(); // run at once by the read
    const c = a.mul(2); // pending again: the next in-place write must copy
    a.add_(1);
    expect(torch.fusionStats().copies).toBe(copies + 1);
    expect(b.toArray()).toEqual(want);
    expect(c.toArray()).toEqual(wantC);
  });

  it("recycles a disposed pending result's sources when nothing else reads them", () => {
    const a = torch.randn(1000);
    const b = a.mul(2);
    const d = delta(() => {
      a.dispose(); // read by b's program: kept
      b.dispose(); // b's program is dropped unrun: a's buffer is free now
    });
    expect(d.recycled).toBe(1);
  });

  it("random programs of ops, views, in-place writes and disposals read the same bits with the pool on and off", () => {
    // one program, run with the pool off and then on and poisoned: every read must be the same
    const program = (seed: number): number[][] => {
      torch.manualSeed(seed);
      let r = seed;
      const rand = (n: number) => {
        r = (Math.imul(r, 1103515245) + 12345) >>> 0;
        return (r >>> 8) % n;
      };
      const live: torch.Tensor[] = [torch.randn(256), torch.randn(256)];
      const reads: number[][] = [];
      for (let i = 0; i < 600; i++) {
        const a = live[rand(live.length)];
        const b = live[rand(live.length)];
        switch (rand(9)) {
          case 0:
            live.push(torch.randn(256));
            break;
          case 1:
            live.push(a.mul(b.reshape(a.shape)).add(1)); // pending while nothing reads it
            break;
          case 2:
            live.push(a.reshape(16, 16).t().reshape(256)); // a copy of a strided view
            break;
          case 3:
            live.push(a.view(16, 16).select(0, rand(16)).repeat(16)); // a view kept alive only through the result
            break;
          case 4:
            a.add_(rand(3) - 1); // in place: copy-on-write if a pending program reads it
            break;
          case 5:
          case 7:
            if (live.length > 2) live.splice(live.indexOf(a), 1)[0].dispose();
            break;
          case 6:
            live.push(a.view(16, 16)); // a view sharing a's storage
            break;
          default:
            reads.push(Array.from(a.data()));
        }
      }
      for (const t of live) reads.push(Array.from(t.data()));
      return reads;
    };
    for (const seed of [1, 2, 3, 4, 5]) {
      torch.setBufferPool(false);
      const off = program(seed);
      torch.setBufferPool(true, { poison: true });
      const on = delta(() => program(seed));
      expect(on.hits).toBeGreaterThan(0);
      expect(on.result).toEqual(off);
    }
  });

  it("stays within its limit and keeps memory() counting storages only", () => {
    torch.setBufferPool(true, { maxBytes: 100_000 });
    const before = torch.memory().bytesInUse;
    const ts = Array.from({ length: 10 }, () => torch.randn(10_000)); // 40 kB each
    expect(torch.memory().bytesInUse - before).toBe(400_000);
    for (const t of ts) t.dispose();
    expect(torch.memory().bytesInUse).toBe(before);
    const s = torch.bufferPoolStats();
    expect(s.bytesHeld).toBeLessThanOrEqual(100_000);
    expect(s.bytesHeld).toBe(80_000);
    expect(s.dropped).toBeGreaterThanOrEqual(8);
  });
});
