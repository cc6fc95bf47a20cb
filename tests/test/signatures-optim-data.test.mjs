// Optimizers, lr schedulers, torch.utils.data and the MNIST datasets/transforms called as in PyTorch, in plain
// JavaScript: every call form against PyTorch 1.13 (tests/fixtures/sigcases-optim-data.json), then the checks
// PyTorch cannot make for us (torchvision is not installed; parameters Cinder refuses; misuse messages).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpu } from "@cinder/backend-cpu";
import * as data from "@cinder/data";
import { MNIST, transforms } from "@cinder/datasets-mnist";
import * as optim from "@cinder/optim";
import * as torch from "@cinder/tensor";
import { describe, expect, it, vi } from "vitest";
import { signatureCases } from "./support/signature-cases.mjs";
import { thrownMessage as argumentError } from "./support/thrown.mjs";

torch.registerBackend(cpu);
const { Generator, tensor, stack } = torch;

/** sigcases.py's PARAMS: fresh leaves w (2x3) and b (3). */
const params = () => [
  tensor(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    { dtype: "float32", requiresGrad: true },
  ),
  tensor([0.5, -0.5, 1], { dtype: "float32", requiresGrad: true }),
];

const optimizers = {
  SGD: optim.SGD,
  Adam: optim.Adam,
  AdamW: optim.AdamW,
  RMSprop: optim.RMSprop,
  Adagrad: optim.Adagrad,
};
const makers = {
  optimizer: ({ name, kwargs }) => new optimizers[name](params(), kwargs),
  optimizer2: () => {
    const [w, b] = params();
    return new optim.SGD([{ params: [w] }, { params: [b], lr: 0.01 }], 0.1, 0.9);
  },
  groups: (options) => params().map((p, i) => ({ params: [p], ...options[i] })),
  optimizerGroups: ({ name, groups, kwargs }) =>
    new optimizers[name](
      params().map((p, i) => ({ params: [p], ...groups[i] })),
      kwargs,
    ),
  decays: (gammas) => {
    const fns = gammas.map((g) => (e) => g ** e);
    return fns.length > 1 ? fns : fns[0];
  },
  tensorDataset: (ts) => new data.TensorDataset(...ts),
  tensorDatasets: (list) => list.map((ts) => new data.TensorDataset(...ts)),
  sequentialSampler: (n) => new data.SequentialSampler(n),
  batchSampler: ([n, size, dropLast]) => new data.BatchSampler(new data.SequentialSampler(n), size, dropLast),
  generator: (seed) => new Generator(seed),
  collateFirst: () => (batch) => stack(batch.map((b) => b[0])),
  noop: () => () => {},
  firstField: () => (sample) => sample[0],
};

const roots = { optim, utils: { data } };
const resolve = (name) => name.split(".").reduce((o, key) => o?.[key], roots);

vi.spyOn(console, "log").mockImplementation(() => {}); // the verbose schedulers' lines
signatureCases("optim-data", resolve, { params, makers });

const leaf = () => tensor([1, 2, 3], { dtype: "float32", requiresGrad: true });

describe("optimizers: what used to go wrong, and what Cinder refuses", () => {
  it("new Adam([p], 0.1) trains with lr 0.1; new SGD([p], 0.1) works", () => {
    expect(new optim.Adam([leaf()], 0.1).paramGroups[0].lr).toBe(0.1);
    expect(new optim.SGD([leaf()], 0.1).paramGroups[0].lr).toBe(0.1);
    expect(new optim.SGD([leaf()], 0.1, { momentum: 0.9 }).paramGroups[0].momentum).toBe(0.9);
  });
  it("parameters Cinder cannot honour accept only their defaults, with the reason", () => {
    expect(argumentError(() => new optim.SGD([leaf()], 0.1, { foreach: true }))).toBe(
      'SGD(): argument "foreach" must be None or False (Cinder has no multi-tensor foreach implementation; its per-parameter update gives the same results), got bool true',
    );
    expect(argumentError(() => new optim.Adam([leaf()], { fused: true }))).toMatch(
      /^Adam\(\): argument "fused" must be False \(Cinder offers each update to the backend's fused kernel by itself where the backend has one\), got bool true$/,
    );
    expect(argumentError(() => new optim.AdamW([leaf()], { capturable: true }))).toMatch(
      /"capturable" must be False \(CUDA graph capture does not exist in Cinder\), got bool true/,
    );
    expect(argumentError(() => new optim.RMSprop([leaf()], { differentiable: true }))).toMatch(
      /"differentiable" must be False \(Cinder's step runs under noGrad and is not differentiable\)/,
    );
  });
  it("keyword-only parameters are options only", () => {
    // SGD(params, lr, momentum, dampening, weight_decay, nesterov, *, maximize, ...): a 7th positional is an extra
    expect(argumentError(() => new optim.SGD([leaf()], 0.1, 0, 0, 0, false, true))).toBe(
      "SGD(): takes 6 positional arguments (params, lr, momentum, dampening, weightDecay, nesterov) but 7 were given; keyword arguments go in a final options object",
    );
    expect(new optim.SGD([leaf()], 0.1, { maximize: true }).paramGroups[0].maximize).toBe(true);
  });
  it("a misspelt option says which was meant", () => {
    expect(argumentError(() => new optim.Adam([leaf()], { weight_decay: 0.1 }))).toMatch(
      /^Adam\(\): unknown option "weight_decay"; did you mean "weightDecay"\?/,
    );
  });
  it("the Optimizer methods take PyTorch's parameters", () => {
    const p = leaf();
    const opt = new optim.SGD([p], 0.1);
    p.grad = tensor([1, 1, 1], { dtype: "float32" });
    opt.zeroGrad(); // PyTorch 1.13: set_to_none=False, zeroed in place
    expect(p.grad?.toArray()).toEqual([0, 0, 0]);
    opt.zeroGrad(true);
    expect(p.grad).toBeNull();
    p.grad = tensor([1, 1, 1], { dtype: "float32" });
    opt.zeroGrad({ setToNone: true });
    expect(p.grad).toBeNull();
    expect(argumentError(() => opt.zeroGrad(1))).toBe(
      'zeroGrad(): argument "setToNone" must be bool, got int 1',
    );
    expect(opt.step(() => 7)).toBe(7);
    expect(opt.step({ closure: () => 8 })).toBe(8);
    expect(argumentError(() => opt.step(3))).toMatch(
      /^step\(\): argument "closure" must be callable.*, got int 3$/,
    );
    opt.addParamGroup({ params: [leaf()], lr: 0.5 });
    expect(opt.paramGroups[1].lr).toBe(0.5);
    expect(argumentError(() => opt.addParamGroup([leaf()]))).toMatch(
      /^addParamGroup\(\): argument "paramGroup" must be dict, got list/,
    );
    const sd = opt.stateDict();
    expect(argumentError(() => opt.stateDict(1))).toMatch(/^stateDict\(\): takes 0 positional arguments/);
    opt.loadStateDict(sd);
    expect(argumentError(() => opt.loadStateDict(sd, 1))).toMatch(/^loadStateDict\(\): takes 1 positional/);
  });
});

describe("lr schedulers", () => {
  it("new StepLR(opt, 1, 0.1) works", () => {
    const opt = new optim.SGD([leaf()], 0.1);
    const s = new optim.lrScheduler.StepLR(opt, 1, 0.1);
    s.step();
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.01, 12);
    expect(optim.StepLR).toBe(optim.lrScheduler.StepLR);
  });
  it("verbose prints PyTorch's lines", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    log.mockClear();
    const opt = new optim.SGD([leaf()], 0.1);
    const s = new optim.lrScheduler.StepLR(opt, 1, 0.5, -1, true);
    s.step();
    s.step(3);
    expect(log.mock.calls.map((c) => c[0])).toEqual([
      "Adjusting learning rate of group 0 to 1.0000e-01.",
      "Adjusting learning rate of group 0 to 5.0000e-02.",
      "Epoch 00003: adjusting learning rate of group 0 to 1.2500e-02.",
    ]);
    log.mockClear();
    // PyTorch 1.13's lines for these calls (printed by /usr/bin/python3)
    const o = new optim.SGD([leaf()], 0.1);
    const plateau = new optim.lrScheduler.ReduceLROnPlateau(o, "min", 0.5, 1, { verbose: true });
    for (const m of [5, 5, 5, 5, 5]) plateau.step(m);
    const e = new optim.lrScheduler.ExponentialLR(new optim.SGD([leaf()], 0.1), 0.5, { verbose: true });
    e.step(2.5);
    e.step();
    expect(log.mock.calls.map((c) => c[0])).toEqual([
      "Epoch 00003: reducing learning rate of group 0 to 5.0000e-02.",
      "Epoch 00005: reducing learning rate of group 0 to 2.5000e-02.",
      "Adjusting learning rate of group 0 to 1.0000e-01.",
      "Epoch 2.50: adjusting learning rate of group 0 to 1.7678e-02.",
      "Adjusting learning rate of group 0 to 8.8388e-03.",
    ]);
    log.mockClear();
  });
  it("step takes PyTorch's arguments", () => {
    const opt = new optim.SGD([leaf()], 0.1);
    const s = new optim.lrScheduler.StepLR(opt, 2);
    s.step({ epoch: 4 });
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.001, 12);
    expect(argumentError(() => s.step("4"))).toMatch(
      /^step\(\): argument "epoch" must be float.*, got str "4"$/,
    );
    const p = new optim.lrScheduler.ReduceLROnPlateau(opt, { patience: 0 });
    p.step(1);
    p.step(tensor(2), 5);
    p.step({ metrics: 3 });
    expect(p.lastEpoch).toBe(6);
    expect(argumentError(() => p.step())).toMatch(/^step\(\): missing required argument "metrics"/);
    expect(argumentError(() => p.step([1]))).toMatch(
      /^step\(\): argument "metrics" must be Tensor or Number/,
    );
  });
  it("misuse names the parameter, what it takes and what it got", () => {
    const opt = new optim.SGD([leaf()], 0.1);
    expect(argumentError(() => new optim.lrScheduler.StepLR(opt))).toBe(
      'StepLR(): missing required argument "stepSize" (int); signature: StepLR(optimizer, stepSize, gamma=0.1, lastEpoch=-1, verbose=False)',
    );
    expect(argumentError(() => new optim.lrScheduler.StepLR({ stepSize: 3 }))).toMatch(
      /missing required argument "optimizer"/,
    );
    expect(argumentError(() => new optim.lrScheduler.ReduceLROnPlateau(opt, "down"))).toBe(
      'ReduceLROnPlateau(): argument "mode" must be "min" | "max", got str "down"',
    );
    expect(argumentError(() => new optim.lrScheduler.CosineAnnealingLR(opt, { T_max: 3 }))).toMatch(
      /unknown option "T_max"; did you mean "tMax"\?/,
    );
  });
});

describe("DataLoader and datasets", () => {
  const ds = new data.TensorDataset(torch.arange(0, 10), torch.arange(0, 10));
  it("new DataLoader(ds, 4) yields batches of 4", () => {
    expect([...new data.DataLoader(ds, 4)].map(([a]) => a.shape[0])).toEqual([4, 4, 2]);
    expect(new data.DataLoader(ds, 4, true).length).toBe(3);
  });
  it("PyTorch's parameters Cinder cannot honour accept only their defaults", () => {
    expect(argumentError(() => new data.DataLoader(ds, 4, { pinMemory: true }))).toBe(
      'DataLoader(): argument "pinMemory" must be False (Cinder has no pinned host memory), got bool true',
    );
    expect(argumentError(() => new data.DataLoader(ds, { timeout: 5 }))).toMatch(
      /"timeout" must be 0 \(batches are made on the main thread: there is no worker to wait for\), got int 5/,
    );
    expect(argumentError(() => new data.DataLoader(ds, { multiprocessingContext: "spawn" }))).toMatch(
      /"multiprocessingContext" must be None \(Cinder starts no worker processes\)/,
    );
    expect(argumentError(() => new data.DataLoader(ds, { prefetchFactor: 4 }))).toMatch(
      /"prefetchFactor" must be 2 .*its own `prefetch` option/,
    );
    expect(argumentError(() => new data.DataLoader(ds, { persistentWorkers: true }))).toMatch(
      /"persistentWorkers" must be False/,
    );
    expect(argumentError(() => new data.DataLoader(ds, { pinMemoryDevice: "cuda" }))).toMatch(
      /"pinMemoryDevice" must be "" \(Cinder has no pinned host memory\)/,
    );
    expect(argumentError(() => new data.DataLoader(ds, 2.5))).toMatch(
      /^DataLoader\(\): argument "batchSize" must be int.*, got float 2\.5$/,
    );
    expect(() => new data.DataLoader(ds, { numWorkers: 2, workerInitFn: () => {} })).toThrow(
      /workerInitFn is not supported with numWorkers=2/,
    );
  });
  it("batchSize null turns automatic batching off, in sync and async iteration", async () => {
    const loader = new data.DataLoader(ds, null);
    expect(loader.batchSize).toBeNull();
    expect(loader.length).toBe(10);
    const sync = [...loader].map(([x, y]) => [x.item(), y.item()]);
    const seen = [];
    for await (const [x, y] of loader) seen.push([x.item(), y.item()]);
    expect(seen).toEqual(sync);
    expect(sync[3]).toEqual([3, 3]);
    expect(() => new data.DataLoader(ds, null, { dropLast: true })).toThrow(
      /batchSize=null option disables auto-batching and is mutually exclusive with dropLast/,
    );
  });
  it("numWorkers is accepted, batches are made on the main thread: the same batches", () => {
    const a = [...new data.DataLoader(ds, 3, { numWorkers: 4 })].map(([x]) => x.toArray());
    const b = [...new data.DataLoader(ds, 3)].map(([x]) => x.toArray());
    expect(a).toEqual(b);
  });
  it("Cinder's own keyword-only option prefetch", () => {
    expect(new data.DataLoader(ds, 2, { prefetch: 3 }).prefetch).toBe(3);
  });
  it("a plain-object dataset given alone is the dataset", () => {
    const plain = { length: 3, getItem: (i) => i * 10 };
    expect([...new data.DataLoader(plain)].map((b) => b.toArray())).toEqual([[0], [10], [20]]);
    expect(new data.SequentialSampler({ length: 4 }).length).toBe(4);
  });
  it("getItem with something else than an int says it expects an int index", () => {
    expect(argumentError(() => ds.getItem({ i: 1 }))).toBe(
      "TensorDataset.getItem(): expected an int index, got an object {i}",
    );
    expect(argumentError(() => new data.Subset(ds, [1, 2]).getItem(0.5))).toBe(
      "Subset.getItem(): expected an int index, got float 0.5",
    );
    expect(() => ds.getItem(10)).toThrow(/index 10 is out of range for a dataset of length 10/);
  });
  it("randomSplit takes the generator positionally or as an option", () => {
    const a = data.randomSplit(ds, [0.5, 0.5], new Generator(3)).map((s) => s.indices);
    const b = data.randomSplit(ds, [0.5, 0.5], { generator: new Generator(3) }).map((s) => s.indices);
    expect(a).toEqual(b);
  });
  it("BatchSampler's drop_last is required, as in PyTorch", () => {
    expect(argumentError(() => new data.BatchSampler(new data.SequentialSampler(4), 2))).toMatch(
      /^BatchSampler\(\): missing required argument "dropLast" \(bool\)/,
    );
  });
});

describe("torchvision's MNIST and transforms (signatures from torchvision 0.14's docs)", () => {
  /** A tiny MNIST in torchvision's layout: 3 images of 28 x 28. */
  const root = mkdtempSync(join(tmpdir(), "cinder-sig-mnist-"));
  const raw = join(root, "MNIST", "raw");
  const idx = (magic, dims, body) => {
    const head = Buffer.alloc(4 + 4 * dims.length);
    head.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => {
      head.writeUInt32BE(d, 4 + 4 * i);
    });
    return Buffer.concat([head, Buffer.from(body)]);
  };
  mkdirSync(raw, { recursive: true });
  for (const split of ["train", "t10k"]) {
    writeFileSync(
      join(raw, `${split}-images-idx3-ubyte`),
      idx(0x803, [3, 28, 28], new Uint8Array(3 * 784).fill(7)),
    );
    writeFileSync(join(raw, `${split}-labels-idx1-ubyte`), idx(0x801, [3], [1, 2, 3]));
  }
  const t = new transforms.Compose([new transforms.ToTensor(), new transforms.Normalize([0.5], [0.5])]);

  it("MNIST.create: positional, options and mixed forms give the same dataset", async () => {
    const forms = [
      await MNIST.create(root, false, t),
      await MNIST.create({ root, train: false, transform: t }),
      await MNIST.create(root, { train: false, transform: t }),
      await MNIST.create(root, false, t, null, false, { log: false }),
    ];
    for (const d of forms) {
      expect(d.train).toBe(false);
      expect(d.length).toBe(3);
      expect(d.getItem(0)[0].shape).toEqual([1, 28, 28]);
    }
    expect(String(MNIST.signature)).toBe(
      "MNIST(root=None, train=True, transform=None, targetTransform=None, download=False, *, sample=False, mirrors=None, log=None)",
    );
  });
  it("MNIST.create misuse throws at once", () => {
    expect(argumentError(() => MNIST.create(root, "yes"))).toBe(
      'MNIST(): argument "train" must be bool, got str "yes"',
    );
    expect(argumentError(() => MNIST.create(root, { target_transform: (y) => y }))).toMatch(
      /unknown option "target_transform"; did you mean "targetTransform"\?/,
    );
    expect(argumentError(() => MNIST.create(root, true, null, null, false, 1))).toMatch(
      /takes 5 positional arguments/,
    );
  });
  it("the transforms take torchvision's parameters", () => {
    const x = tensor([[[2, 4]]], { dtype: "float32" });
    expect(new transforms.Normalize(1, 2)(x).toArray()).toEqual([[[0.5, 1.5]]]);
    expect(new transforms.Normalize({ mean: [1], std: [2] })(x).toArray()).toEqual([[[0.5, 1.5]]]);
    const y = tensor([[[2, 4]]], { dtype: "float32" });
    expect(new transforms.Normalize([1], [2], true)(y)).toBe(y); // inplace
    expect(y.toArray()).toEqual([[[0.5, 1.5]]]);
    expect(String(new transforms.Normalize([1], [2], { inplace: true }))).toBe(
      "Normalize(mean=[1], std=[2], inplace=True)",
    );
    expect(new transforms.Lambda({ lambd: (v) => v + 1 })(1)).toBe(2);
    expect(new transforms.Compose({ transforms: [(v) => v * 2] })(3)).toBe(6);
    expect(argumentError(() => new transforms.ToTensor(1))).toMatch(/^ToTensor\(\): takes 0 positional/);
    expect(argumentError(() => new transforms.Compose([1]))).toMatch(
      /^Compose\(\): argument "transforms" must be a list of transforms \(callables\), got list \[1\]/,
    );
    expect(
      argumentError(
        () =>
          new transforms.Lambda(
            (v) => v,
            (v) => v,
          ),
      ),
    ).toMatch(/^Lambda\(\): takes 1 positional argument \(lambd\) but 2 were given/);
  });
});
