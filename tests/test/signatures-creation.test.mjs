// Creation ops, random sampling and generators called as in PyTorch, in plain JavaScript: every call form against
// PyTorch 1.13 (random results by shape and dtype), and the errors for sizes, dtypes and allocations.
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { signatureCases } from "./support/signature-cases.mjs";
import { thrown } from "./support/thrown.mjs";

torch.registerBackend(cpu);

// the wrappers of scripts/fixtures/sigcases_creation.py (results JSON cannot hold: a Generator)
const WRAPPED = {
  manualSeed: (...a) => torch.manualSeed(...a).initialSeed(),
  initialSeed: (...a) => {
    torch.manualSeed(7);
    return torch.initialSeed(...a);
  },
  "Generator.manualSeed": (...a) => new torch.Generator().manualSeed(...a).initialSeed(),
  "Generator.initialSeed": (...a) => new torch.Generator(11).initialSeed(...a),
};
signatureCases("creation", (name) => WRAPPED[name] ?? torch[name]);

describe("sizes: negative, non-integer, too large to allocate", () => {
  it("a negative size names the function, the parameter and the dimension", () => {
    for (const [f, msg] of [
      [
        () => torch.zeros(-1),
        'zeros(): argument "size" must have non-negative dimensions, got [-1] (dimension 0 is -1)',
      ],
      [
        () => torch.ones(2, -3),
        'ones(): argument "size" must have non-negative dimensions, got [2, -3] (dimension 1 is -3)',
      ],
      [() => torch.full([-2], 1.5), 'full(): argument "size" must have non-negative dimensions, got [-2]'],
      [() => torch.rand([3, -1]), 'rand(): argument "size" must have non-negative dimensions, got [3, -1]'],
      [
        () => torch.randint(5, [-1]),
        'randint(): argument "size" must have non-negative dimensions, got [-1]',
      ],
      [() => torch.eye(-1), 'eye(): argument "n" must be non-negative, got -1'],
      [() => torch.eye(2, -1), 'eye(): argument "m" must be non-negative, got -1'],
      [() => torch.randperm(-1), 'randperm(): argument "n" must be non-negative, got -1'],
      [() => torch.linspace(0, 1, -1), 'linspace(): argument "steps" must be non-negative, got -1'],
    ]) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(torch.ArgumentError);
      expect(e.message).toContain(msg);
    }
  });
  it("a non-integer size says what was expected and given", () => {
    expect(thrown(() => torch.zeros(2.5)).message).toBe(
      'zeros(): argument "size" must be int[], got list [2.5]',
    );
    expect(thrown(() => torch.zeros([2, 1.5])).message).toBe(
      'zeros(): argument "size" must be int[], got list [2, 1.5]',
    );
    expect(thrown(() => torch.eye(2.5)).message).toBe('eye(): argument "n" must be int, got float 2.5');
    expect(thrown(() => torch.randperm(Number.NaN)).message).toBe(
      'randperm(): argument "n" must be int, got float NaN',
    );
    expect(thrown(() => torch.linspace(0, 1, 2.5)).message).toBe(
      'linspace(): argument "steps" must be int, got float 2.5',
    );
    expect(thrown(() => torch.full(3, 1.5)).message).toBe('full(): argument "size" must be int[], got int 3');
    for (const f of [() => torch.zeros(2.5), () => torch.eye(2.5), () => torch.full(3, 1.5)]) {
      expect(thrown(f)).toBeInstanceOf(torch.ArgumentError);
    }
  });
  it("a size that cannot be allocated says the element count and the bytes, never a JS RangeError", () => {
    const e = thrown(() => torch.zeros(1e6, 1e6));
    expect(e).toBeInstanceOf(torch.AllocationError);
    expect(e.message).toBe(
      "zeros(): cannot allocate a tensor of shape [1000000, 1000000]: 1000000000000 elements of float32 = 4000000000000 bytes, 4 TB; one storage holds at most 4294967296 elements",
    );
    for (const [f, start] of [
      [
        () => torch.ones([1e6, 1e6], { dtype: "float64" }),
        "ones(): cannot allocate a tensor of shape [1000000, 1000000]: 1000000000000 elements of float64 = 8000000000000 bytes, 8 TB",
      ],
      [() => torch.empty(2 ** 40), "empty(): cannot allocate a tensor of shape [1099511627776]"],
      [
        () => torch.full([1e5, 1e5, 10], 1.5),
        "full(): cannot allocate a tensor of shape [100000, 100000, 10]",
      ],
      [() => torch.rand(1e6, 1e6), "rand(): cannot allocate"],
      [() => torch.randn([1e12]), "randn(): cannot allocate"],
      [() => torch.randint(3, [1e6, 1e6]), "randint(): cannot allocate"],
      [() => torch.randperm(1e12), "randperm(): cannot allocate a tensor of shape [1000000000000]"],
      [() => torch.eye(1e6), "eye(): cannot allocate a tensor of shape [1000000, 1000000]"],
      [() => torch.arange(1e12), "arange(): cannot allocate a tensor of shape [1000000000000]"],
      [() => torch.linspace(0, 1, 1e12), "linspace(): cannot allocate a tensor of shape [1000000000000]"],
      // internal allocations (a copy of a broadcast view) say the same, without a function name
      [
        () => torch.tensor(torch.zeros(1, 1).expand(1e6, 1e6)),
        "cannot allocate a tensor of shape [1000000, 1000000]",
      ],
      [
        () => torch.zeros(1, 1).expand(1e6, 1e6).contiguous(),
        "cannot allocate a tensor of shape [1000000, 1000000]",
      ],
      [
        () => torch.zeros(1, 1).expand(1e6, 1e6).add(1),
        "cannot allocate a tensor of shape [1000000, 1000000]",
      ],
    ]) {
      const err = thrown(f);
      expect(err, String(f)).toBeInstanceOf(torch.AllocationError);
      expect(err.message).toContain(start);
      expect(err.message).not.toMatch(/Invalid typed array length|Array buffer allocation failed/);
    }
  });
  it("zero-size tensors are fine", () => {
    expect(torch.zeros(0, 3).shape).toEqual([0, 3]);
    expect(torch.eye(0).shape).toEqual([0, 0]);
    expect(torch.randperm(0).shape).toEqual([0]);
  });
});

describe("requiresGrad on an integer dtype", () => {
  it("is refused as PyTorch refuses it, naming the function and the dtype", () => {
    for (const [f, name, dtype] of [
      [() => torch.zeros(2, { dtype: "int32", requiresGrad: true }), "zeros", "int32"],
      [() => torch.ones([2], { dtype: "bool", requiresGrad: true }), "ones", "bool"],
      [() => torch.full([2], 3, { dtype: "uint8", requiresGrad: true }), "full", "uint8"],
      [() => torch.tensor([1, 2], { dtype: "int32", requiresGrad: true }), "tensor", "int32"],
      [() => torch.arange(5, { dtype: "int32", requiresGrad: true }), "arange", "int32"],
      [() => torch.eye(2, { dtype: "int32", requiresGrad: true }), "eye", "int32"],
      [() => torch.randint(5, [2], { requiresGrad: true }), "randint", "int64"],
      [() => torch.randperm(3, { requiresGrad: true }), "randperm", "int64"],
      [() => torch.zerosLike(torch.tensor([1, 2]), { requiresGrad: true }), "zerosLike", "int64"],
    ]) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(torch.DTypeError);
      expect(e.message).toBe(
        `${name}(): requiresGrad=true needs a floating point dtype, got ${dtype}: only Tensors of floating point and complex dtype can require gradients (pass { dtype: "float32" })`,
      );
    }
  });
  it("integer-looking values become float32 when requiresGrad is asked without a dtype (JS cannot tell 1.0 from 1)", () => {
    for (const t of [
      torch.tensor([1, 2], { requiresGrad: true }),
      torch.full([2], 3, { requiresGrad: true }),
      torch.arange(3, { requiresGrad: true }),
    ]) {
      expect(t.dtype).toBe("float32");
      expect(t.requiresGrad).toBe(true);
    }
  });
});

describe("dtypes, layouts and the parameters Cinder lacks", () => {
  it("an unknown dtype names the function and lists Cinder's dtypes", () => {
    const e = thrown(() => torch.zeros(2, { dtype: "long" }));
    expect(e).toBeInstanceOf(torch.ArgumentError);
    expect(e.message).toMatch(
      /^zeros\(\): argument "dtype": unknown dtype "long": expected one of float32, float64, int32, uint8, bool, int8, int16, int64\b.* \(torch.long is "int64"\)$/,
    );
    expect(thrown(() => torch.rand(2, { dtype: 5 })).message).toBe(
      'rand(): argument "dtype" must be dtype or null, got int 5',
    );
    expect(thrown(() => torch.rand(2, { dtype: "int32" })).message).toMatch(
      /^rand\(\): expected a floating point dtype, got int32/,
    );
  });
  it("layout takes only strided; out, pinMemory and memoryFormat only their defaults", () => {
    expect(torch.zeros(2, { layout: "strided" }).shape).toEqual([2]);
    expect(thrown(() => torch.zeros(2, { layout: "sparse_coo" })).message).toBe(
      'zeros(): argument "layout" must be "strided" or null, got str "sparse_coo"',
    );
    expect(thrown(() => torch.ones(2, { out: torch.zeros(2) })).message).toBe(
      'ones(): argument "out" must be None (out= is not supported: use the returned tensor), got Tensor of shape [2] and dtype float32',
    );
    expect(thrown(() => torch.tensor([1], { pinMemory: true })).message).toBe(
      'tensor(): argument "pinMemory" must be False (Cinder has no pinned memory), got bool true',
    );
    expect(thrown(() => torch.zerosLike(torch.zeros(2), { memoryFormat: "channels_last" })).message).toMatch(
      /^zerosLike\(\): argument "memoryFormat" must be None \(Cinder's new tensors are always contiguous\)/,
    );
    expect(thrown(() => torch.randn(2, { generator: 3 })).message).toBe(
      'randn(): argument "generator" must be Generator or null, got int 3',
    );
  });
  it("keyword-only parameters are not positional", () => {
    expect(thrown(() => torch.tensor([1], "float32")).message).toMatch(
      /^tensor\(\): takes 1 positional argument \(data\) but 2 were given/,
    );
    expect(thrown(() => torch.randperm(3, "int32")).message).toMatch(
      /^randperm\(\): takes 1 positional argument/,
    );
  });
  it("zeros(2, 3, {...}) and zeros([2, 3], {...}) are one call", () => {
    expect(torch.zeros(2, 3, { dtype: "float64" }).shape).toEqual([2, 3]);
    expect(torch.zeros([2, 3], { dtype: "float64" }).dtype).toBe("float64");
    expect(torch.randn(2, 3, { generator: new torch.Generator(1) }).toArray()).toEqual(
      torch.randn([2, 3], { generator: new torch.Generator(1) }).toArray(),
    );
  });
});

describe("ranges and random arguments", () => {
  it("arange refuses a zero step, an inconsistent sign and non-finite bounds", () => {
    expect(thrown(() => torch.arange(0, 5, 0)).message).toBe(
      'arange(): argument "step" must be nonzero, got 0',
    );
    expect(thrown(() => torch.arange(0, 5, -1)).message).toMatch(
      /^arange\(\): upper bound and larger bound inconsistent with step sign/,
    );
    expect(thrown(() => torch.arange(Number.POSITIVE_INFINITY)).message).toMatch(
      /^arange\(\): unsupported range: 0 -> Infinity/,
    );
    expect(thrown(() => torch.arange(0, 5, 1, 2)).message).toMatch(/^arange\(\): no form takes/);
  });
  it("randint's bounds must fit its dtype", () => {
    expect(torch.randint(2 ** 40, [2]).dtype).toBe("int64");
    expect(thrown(() => torch.randint(2 ** 40, [2], { dtype: "int32" })).message).toMatch(
      /^randint: value 1099511627775 cannot be converted to type int without overflow/,
    );
    // int64 holds ±(2^53 - 1) exactly
    expect(thrown(() => torch.randint(-(2 ** 53), 0, [2])).message).toMatch(
      /^randint: value -9007199254740992 cannot be converted to type int64_t without overflow/,
    );
    expect(torch.randint(2 ** 40, [2], { dtype: "float64" }).dtype).toBe("float64");
  });
  it("randint covers ranges wider than 2^31 (int32) and 2^32 (float64) without wrapping", () => {
    const w = torch.randint(-(2 ** 31), 2 ** 31 - 1, [20000], {
      dtype: "int32",
      generator: new torch.Generator(3),
    });
    expect(w.dtype).toBe("int32");
    expect(w.min().item()).toBeLessThan(-(2 ** 30));
    expect(w.max().item()).toBeGreaterThan(2 ** 30);
    expect(Math.abs(w.lt(0).float().mean().item() - 0.5)).toBeLessThan(0.03);
    const f = torch.randint(2 ** 40, [20000], { dtype: "float64", generator: new torch.Generator(4) });
    expect(f.min().item()).toBeGreaterThanOrEqual(0);
    expect(f.max().item()).toBeGreaterThan(2 ** 39);
    expect(f.max().item()).toBeLessThan(2 ** 40);
  });
  it("randint needs low < high; uniform_ from_ <= to; normal_ std >= 0", () => {
    expect(thrown(() => torch.randint(5, 5, [2])).message).toMatch(
      /^randint\(\): expected low < high, got low=5, high=5/,
    );
    expect(thrown(() => torch.zeros(2).uniform_(2, 1)).message).toMatch(
      /^uniform_\(\): expected from_ <= to, got from_=2, to=1/,
    );
    expect(thrown(() => torch.zeros(2).normal_(0, -1)).message).toBe(
      'normal_(): argument "std" must be >= 0, got -1',
    );
  });
  it("a generator gives the same draws as the same seed on the global one", () => {
    torch.manualSeed(5);
    const a = torch.rand(4).toArray();
    expect(torch.rand(4, { generator: new torch.Generator(5) }).toArray()).toEqual(a);
    const p = torch.randperm(10, { generator: new torch.Generator(9) }).toArray();
    expect([...p].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(torch.randperm(10, { generator: new torch.Generator(9) }).toArray()).toEqual(p);
  });
});

describe("Generator", () => {
  it("manualSeed, initialSeed, seed, getState and setState", () => {
    const g = new torch.Generator();
    expect(g.manualSeed(3)).toBe(g);
    expect(g.initialSeed()).toBe(3);
    const s = g.seed();
    expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
    expect(g.initialSeed()).toBe(s);
    g.manualSeed(4);
    torch.rand(3, { generator: g });
    const state = g.getState();
    expect(state).toEqual({ seed: 4, counter: 3 });
    const next = torch.rand(2, { generator: g }).toArray();
    expect(g.setState(state)).toBe(g);
    expect(torch.rand(2, { generator: g }).toArray()).toEqual(next);
  });
  it("PyTorch's constructor form and Cinder's seed shorthand", () => {
    expect(new torch.Generator({ device: "cpu" }).device).toBe("cpu");
    expect(new torch.Generator("webgpu").device).toBe("webgpu");
    expect(new torch.Generator().device).toBe("cpu");
    expect(new torch.Generator(8).initialSeed()).toBe(8);
    expect(new torch.Generator({ seed: 8 }).initialSeed()).toBe(8);
  });
  it("bad arguments name the method, the parameter, what was expected and what was given", () => {
    const g = new torch.Generator(1);
    expect(thrown(() => g.manualSeed(-1)).message).toBe(
      'manualSeed(): argument "seed" must be a non-negative integer below 2^53, got int -1',
    );
    expect(thrown(() => torch.manualSeed(1.5)).message).toBe(
      'manualSeed(): argument "seed" must be int, got float 1.5',
    );
    expect(thrown(() => g.setState({ seed: 1 })).message).toBe(
      'setState(): argument "newState" must be a Generator state { seed, counter } from getState(), got object {seed}',
    );
    expect(thrown(() => g.initialSeed(3)).message).toMatch(
      /^initialSeed\(\): takes 0 positional arguments but 1 was given/,
    );
    expect(thrown(() => g.getState({ x: 1 })).message).toMatch(/^getState\(\): unknown option "x"/);
    expect(thrown(() => new torch.Generator(-3)).message).toBe(
      'Generator(): argument "seed" must be a non-negative integer below 2^53 or null, got int -3',
    );
    expect(torch.seed()).toBe(torch.initialSeed());
  });
});

describe("tensor() and fromTypedArray() data", () => {
  it("tensor(data) takes the data positionally or as an option", () => {
    expect(torch.tensor({ data: [1.5, 2.5], dtype: "float64" }).dtype).toBe("float64");
    expect(thrown(() => torch.tensor("abc")).message).toBe(
      'tensor(): argument "data" must be number, bool, (nested) list, TypedArray or Tensor, got str "abc"',
    );
    expect(thrown(() => torch.tensor()).message).toMatch(/^tensor\(\): missing required argument "data"/);
  });
  it("fromTypedArray shares memory; bad shapes name the counts", () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = torch.fromTypedArray(a, [2, 3]);
    a[0] = 9;
    expect(t.at(0, 0).item()).toBe(9);
    expect(torch.fromTypedArray(a, { shape: [3, 2] }).shape).toEqual([3, 2]);
    expect(thrown(() => torch.fromTypedArray(a, [4, 2])).message).toBe(
      "fromTypedArray(): shape [4, 2] has 8 elements but the array has 6",
    );
    expect(thrown(() => torch.fromTypedArray(a, [-2, -3])).message).toMatch(
      /^fromTypedArray\(\): argument "shape" must have non-negative dimensions/,
    );
    expect(thrown(() => torch.fromTypedArray([1, 2])).message).toBe(
      'fromTypedArray(): argument "data" must be TypedArray, got list [1, 2]',
    );
  });
});
