/**
 * Golden tests against real PyTorch for every tensor snippet of the seed tutorials
 * (/work/shared/seeds/002_*.txt, 003_*.txt, 004_*.txt), plus a few "extra" cases on the same data.
 *
 * Expected values come from test/fixtures/seeds.json, written by scripts/fixtures/tensor_fixtures.py with
 * PyTorch 1.13 (see scripts/fixtures/README.md to regenerate). Each test below holds the Cinder code for one
 * fixture case (`golden(name, run)`); the fixture holds the PyTorch code, the inputs and what PyTorch gave.
 * The seeds' random inputs are replaced by fixed data (Cinder's random stream intentionally differs from
 * PyTorch's); random ops themselves are only checked for shape, dtype, range and seeding.
 *
 * Comparison: float32 within 1e-6 relative (plus 1e-7 absolute, for values near 0), float64 within 1e-12
 * relative, ints and bools exactly; "nan" / "inf" / "-inf" / "-0" in the fixture decode to the IEEE values.
 * PyTorch's int64 maps to Cinder's int32.
 */
import { readFileSync } from "node:fs";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type CinderDType,
  close,
  type Decoded,
  decode,
  type Encoded,
  flatten,
  type TensorRecord,
  TOLERANCE,
} from "./support/fixture-values";

// ---------------------------------------------------------------------------------------------- fixture types

interface PropertySpec {
  shape?: number[];
  dtype?: CinderDType;
  min?: number;
  max_exclusive?: number;
  initial_seed?: number;
  reproducible?: boolean;
  device?: string;
  requires_grad?: boolean;
  torch_reference?: Expected;
}

type Expected =
  | ({ kind: "tensor"; note?: string } & TensorRecord)
  | { kind: "number"; value: Encoded; pytype: string }
  | { kind: "bool"; value: boolean }
  | { kind: "string"; value: string; torch_value?: string }
  | { kind: "dtype"; value: CinderDType; torch_value: string }
  | { kind: "shape"; value: number[] }
  | { kind: "error"; error: string; message: string }
  | ({ kind: "property" } & PropertySpec);

interface Case {
  name: string;
  seed: string;
  section: string;
  torch: string;
  cinder: string;
  inputs: Record<string, TensorRecord>;
  expected: Expected;
  repr?: { torch: string; cinder: string };
  note?: string;
}

interface Fixture {
  torch: string;
  cases: Case[];
}

const fixture: Fixture = JSON.parse(readFileSync(new URL("../fixtures/seeds.json", import.meta.url), "utf8"));
const byName = new Map(fixture.cases.map((c) => [c.name, c]));
const registered = new Set<string>();

// ---------------------------------------------------------------------------------------------- helpers

/** Every mismatch between `actual` and `expected` (nested), as "path: expected X, got Y" lines. */
function mismatches(actual: unknown, expected: Decoded, dtype: CinderDType, path = ""): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual))
      return [`${path || "value"}: expected an array of ${expected.length}, got ${fmt(actual)}`];
    if (actual.length !== expected.length) {
      return [`${path || "value"}: expected length ${expected.length}, got ${actual.length}`];
    }
    return expected.flatMap((e, i) => mismatches(actual[i], e, dtype, `${path}[${i}]`));
  }
  const where = path || "value";
  if (typeof expected === "boolean") {
    return actual === expected ? [] : [`${where}: expected ${expected}, got ${fmt(actual)}`];
  }
  if (typeof actual !== "number") return [`${where}: expected ${expected}, got ${fmt(actual)}`];
  // close() takes NaN only for NaN and infinities exactly
  const { rtol, atol } = TOLERANCE[dtype];
  return close(actual, expected, rtol, atol) ? [] : [`${where}: expected ${expected}, got ${actual}`];
}

function fmt(v: unknown): string {
  return typeof v === "number" && Number.isNaN(v) ? "NaN" : (JSON.stringify(v) ?? String(v));
}

function isTensor(v: unknown): v is torch.Tensor {
  return v instanceof torch.Tensor;
}

function dtypeOfArray(a: ArrayBufferView): CinderDType | "other" {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof Uint8Array) return "uint8";
  return "other";
}

/** Assert a tensor (or a TypedArray standing in for a NumPy array) against a fixture tensor record. */
function expectTensor(actual: unknown, exp: TensorRecord): void {
  if (ArrayBuffer.isView(actual)) {
    // NumPy's int64 array shared with a tensor is an Int32Array in Cinder: int64's storage (exact doubles) has no
    // TypedArray a tensor could share (a BigInt64Array is copied); copies are BigInt64Arrays, int64 as PyTorch's
    const shared = actual instanceof Int32Array && exp.dtype === "int64";
    expect(dtypeOfArray(actual), "array type").toBe(shared ? "int32" : exp.dtype);
    const flat = flatten(decode(exp.values));
    expect(mismatches(Array.from(actual as unknown as ArrayLike<number>, Number), flat, exp.dtype)).toEqual(
      [],
    );
    return;
  }
  expect(isTensor(actual), `expected a Tensor, got ${fmt(actual)}`).toBe(true);
  const t = actual as torch.Tensor;
  expect([...t.shape], "shape").toEqual(exp.shape);
  expect(t.dtype, "dtype").toBe(exp.dtype);
  if (exp.values === null) return; // uninitialised memory
  expect(mismatches(t.toArray(), decode(exp.values), exp.dtype)).toEqual([]);
}

function expectProperties(actual: unknown, p: PropertySpec): void {
  if (!isTensor(actual)) return; // the test asserted what it needed itself
  if (p.shape) expect([...actual.shape], "shape").toEqual(p.shape);
  if (p.dtype) expect(actual.dtype, "dtype").toBe(p.dtype);
  if (p.min !== undefined || p.max_exclusive !== undefined) {
    const flat = Array.from(actual.data() as ArrayLike<number>);
    // A float32 bound that is not representable (0.1) may be hit by its float32 rounding; others are strict.
    if (p.min !== undefined)
      expect(Math.min(...flat), "min").toBeGreaterThanOrEqual(Math.min(p.min, Math.fround(p.min)));
    if (p.max_exclusive !== undefined) {
      const m = p.max_exclusive;
      if (Math.fround(m) === m) expect(Math.max(...flat), "max").toBeLessThan(m);
      else expect(Math.max(...flat), "max").toBeLessThanOrEqual(Math.max(m, Math.fround(m)));
    }
    if (p.dtype === "int64" || p.dtype === "int32")
      expect(flat.every(Number.isInteger), "integers").toBe(true);
  }
}

function check(result: unknown, c: Case): void {
  const e = c.expected;
  switch (e.kind) {
    case "tensor":
      expectTensor(result, e);
      return;
    case "number":
      expect(typeof result, "a JS number").toBe("number");
      expect(mismatches(result, decode(e.value), e.pytype === "float" ? "float64" : "int32")).toEqual([]);
      return;
    case "bool":
      expect(result).toBe(e.value);
      return;
    case "string":
    case "dtype":
      expect(result).toBe(e.value);
      return;
    case "shape":
      expect([...(result as readonly number[])]).toEqual(e.value);
      return;
    case "property":
      expectProperties(result, e);
      return;
    case "error":
      throw new Error("error cases are handled by golden()");
  }
}

function fx(name: string): Case | undefined {
  return byName.get(name);
}

function title(c: Case): string {
  const code = c.torch.split("\n").filter(Boolean).at(-1) ?? "";
  return `${c.name}: ${code.length > 70 ? `${code.slice(0, 67)}...` : code}`;
}

/**
 * One fixture case: `run` is the Cinder code; its result is checked against what PyTorch gave. Error cases
 * expect `run` to throw; cases with a printed form also get a "prints like PyTorch" test.
 */
function golden(name: string, run: (c: Case) => unknown): void {
  registered.add(name);
  const c = fx(name);
  if (!c) {
    it(name, () => {
      throw new Error(`no fixture case "${name}": regenerate with scripts/fixtures/tensor_fixtures.py`);
    });
    return;
  }
  if (c.expected.kind === "error") {
    it(title(c), () => {
      let thrown: unknown;
      try {
        run(c);
      } catch (e) {
        thrown = e;
      }
      expect(
        thrown,
        `PyTorch raised ${c.expected.kind === "error" ? c.expected.message : ""}`,
      ).toBeInstanceOf(Error);
      // a missing method or property is not the error PyTorch raised
      expect((thrown as Error).message).not.toMatch(/is not a function|Cannot read properties of/);
    });
    return;
  }
  it(title(c), () => check(run(c), c));
  if (c.repr) {
    const repr = c.repr;
    it(`${c.name} prints like PyTorch`, () => {
      const r = run(c);
      expect(isTensor(r)).toBe(true);
      expect(String(r)).toBe(repr.cinder);
    });
  }
}

/** The fixture's input tensor `key`, built with its recorded dtype. */
function input(c: Case, key: string): torch.Tensor {
  const rec = c.inputs[key];
  if (!rec) throw new Error(`${c.name}: no input "${key}"`);
  return torch.tensor(decode(rec.values), { dtype: rec.dtype });
}

/** The fixture's input `key` as nested JS arrays (to check a non-in-place op left it alone). */
function inputValues(c: Case, key: string): Decoded {
  return decode(c.inputs[key].values);
}

beforeAll(() => {
  torch.registerBackend(cpu);
});

// ============================================================================================ seed 002

describe("seed 002: PyTorch 入门笔记", () => {
  describe("creation: basic (torch.tensor / torch.Tensor / typed constructors)", () => {
    golden("002_tensor_scalar", () => torch.tensor(10));
    golden("002_tensor_from_numpy_float64", (c) => {
      // the NumPy float64 array is a Float64Array in Cinder
      const arr = new Float64Array(flatten(inputValues(c, "data")) as number[]);
      return torch.tensor(arr).reshape(2, 3);
    });
    golden("002_tensor_from_list_2d", () =>
      torch.tensor([
        [10, 20, 30],
        [40, 50, 60],
      ]),
    );
    golden("002_Tensor_shape_2x3", () => torch.empty(2, 3));
    golden("002_Tensor_list_1", () => torch.tensor([10], { dtype: "float32" }));
    golden("002_Tensor_list_2", () => torch.tensor([10, 20], { dtype: "float32" }));
    golden("002_IntTensor_shape_2x3", () => torch.empty([2, 3], { dtype: "int32" }));
    golden("002_IntTensor_truncates", () => torch.tensor([2.5, 3.3], { dtype: "int32" }));
    golden("002_LongTensor_empty", () => torch.tensor([], { dtype: "int64" }));
    golden("002_FloatTensor_empty", () => torch.tensor([]));
    golden("002_DoubleTensor_empty", () => torch.tensor([], { dtype: "float64" }));
  });

  describe("creation: linear and random", () => {
    golden("002_arange_0_10_2", () => torch.arange(0, 10, 2));
    golden("002_linspace_0_9_11", () => torch.linspace(0, 9, 11));
    golden("002_manual_seed_100_randn", () => {
      torch.manualSeed(100);
      const a = torch.randn(2, 3);
      expect(torch.initialSeed()).toBe(100);
      torch.manualSeed(100);
      const b = torch.randn(2, 3);
      expect(b.toArray()).toEqual(a.toArray());
      return a;
    });
    golden("002_rand_2x3", () => torch.rand(2, 3));
  });

  describe("creation: zeros / ones / full", () => {
    golden("002_zeros_2x3", () => torch.zeros(2, 3));
    golden("002_zeros_like", () =>
      torch.zerosLike(
        torch.tensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    );
    golden("002_ones_2x3", () => torch.ones(2, 3));
    golden("002_ones_like", () =>
      torch.onesLike(
        torch.tensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    );
    golden("002_full_2x3_10", () => torch.full([2, 3], 10));
    golden("002_full_like_20", () =>
      torch.fullLike(
        torch.tensor([
          [1, 2],
          [3, 4],
        ]),
        20,
      ),
    );
  });

  describe("type conversion", () => {
    golden("002_full_dtype", () => torch.full([2, 3], 10).dtype);
    golden("002_full_type_name", () => torch.full([2, 3], 10).type());
    golden("002_type_DoubleTensor", () => torch.full([2, 3], 10).type("float64"));
    golden("002_type_DoubleTensor_dtype", () => torch.full([2, 3], 10).type("float64").dtype);
    golden("002_type_DoubleTensor_name", () => torch.full([2, 3], 10).type("float64").type());
    golden("002_double", () => torch.full([2, 3], 10).double());
  });

  describe("NumPy interop (TypedArrays in Cinder) and item()", () => {
    golden("002_numpy_shares_memory", () => {
      const arr = new Int32Array([2, 3, 4]);
      const t = torch.fromTypedArray(arr);
      arr[0] = 100;
      return t.long(); // t sees the write; as int64 (PyTorch's dtype), which cannot share an array, after it
    });
    golden("002_numpy_copy_does_not_share", () => {
      const t = torch.tensor([2, 3, 4]);
      t.set([0], 100);
      const copy = t.data();
      copy[0] = 200;
      return t;
    });
    golden("002_from_numpy_shares_memory", () => {
      const arr = new Int32Array([2, 3, 4]);
      const t = torch.fromTypedArray(arr);
      t.set([0], 100);
      return arr;
    });
    golden("002_tensor_from_numpy_copies", () => {
      const arr = new BigInt64Array([2n, 3n, 4n]);
      arr[0] = 100n;
      const t2 = torch.tensor(arr);
      t2.set([0], 200);
      return arr;
    });
    golden("002_item_int", () => torch.tensor(30).item());
    golden("002_item_float", () => torch.tensor([50], { dtype: "float32" }).item());
  });

  describe("arithmetic: add / sub / mul / div / neg and in-place forms", () => {
    golden("002_add_10", (c) => {
      const data = input(c, "data");
      const r = data.add(10);
      expect(data.toArray(), "add() leaves its input alone").toEqual(inputValues(c, "data"));
      return r;
    });
    golden("002_add__10", (c) => {
      const data = input(c, "data");
      expect(data.add_(10), "add_ returns its receiver").toBe(data);
      return data;
    });
    golden("002_sub_5", (c) => input(c, "data").sub(5));
    golden("002_mul_2", (c) => input(c, "data").mul(2));
    golden("002_div_3", (c) => input(c, "data").div(3));
    golden("002_neg", (c) => input(c, "data").neg());
    golden("002_sub__5", (c) => {
      const data = input(c, "data");
      expect(data.sub_(5)).toBe(data);
      return data;
    });
    golden("002_mul__2", (c) => {
      const data = input(c, "data");
      expect(data.mul_(2)).toBe(data);
      return data;
    });
    golden("002_neg_", (c) => {
      const data = input(c, "data");
      expect(data.neg_()).toBe(data);
      return data;
    });
    golden("002_div__int_error", (c) => input(c, "data").div_(3));
  });

  describe("Hadamard and matrix products", () => {
    golden("002_hadamard_torch_mul", (c) => torch.mul(input(c, "data1"), input(c, "data2")));
    golden("002_hadamard_operator", (c) => input(c, "data1").mul(input(c, "data2")));
    golden("002_matmul_operator", (c) => input(c, "data1").matmul(input(c, "data2")));
    golden("002_matmul_torch", (c) => torch.matmul(input(c, "data1"), input(c, "data2")));
  });

  describe("common functions: mean / sum / pow / sqrt / exp / log", () => {
    golden("002_mean", (c) => input(c, "data").mean());
    golden("002_mean_dim0", (c) => input(c, "data").mean({ dim: 0 }));
    golden("002_sum_dim1", (c) => input(c, "data").sum({ dim: 1 }));
    golden("002_pow_2", (c) => torch.pow(input(c, "data"), 2));
    golden("002_sqrt", (c) => input(c, "data").sqrt());
    golden("002_exp", (c) => input(c, "data").exp());
    golden("002_log", (c) => input(c, "data").log());
  });

  describe("indexing: simple rows and columns", () => {
    golden("002_index_row", (c) => input(c, "data").at(0));
    golden("002_index_col", (c) => input(c, "data").at(":", 0));
    golden("002_index_elem", (c) => input(c, "data").at(1, 2));
  });

  describe("indexing: lists", () => {
    golden("002_index_list_pairs", (c) => input(c, "data").at([0, 1], [1, 2]));
    golden("002_index_list_broadcast", (c) => input(c, "data").at([[0], [1]], [1, 2]));
  });

  describe("indexing: ranges", () => {
    golden("002_index_range_rows_cols", (c) => input(c, "data").at(":3", ":2"));
    golden("002_index_range_from2", (c) => input(c, "data").at("2:", ":2"));
    golden("002_index_range_step", (c) => input(c, "data").at(":", "1:4:2"));
  });

  describe("indexing: boolean masks", () => {
    golden("002_index_mask_col2_gt5", (c) => input(c, "data").at(":", 2).gt(5));
    golden("002_index_bool_rows", (c) => {
      const data = input(c, "data");
      return data.at(data.at(":", 2).gt(5));
    });
    golden("002_index_mask_row1_gt5", (c) => input(c, "data").at(1).gt(5));
    golden("002_index_bool_cols", (c) => {
      const data = input(c, "data");
      return data.at(":", data.at(1).gt(5));
    });
  });

  describe("indexing: multi-dimensional", () => {
    golden("002_index_3d_block0", (c) => input(c, "data").at(0, ":", ":"));
    golden("002_index_3d_row0", (c) => input(c, "data").at(":", 0, ":"));
    golden("002_index_3d_col0", (c) => input(c, "data").at(":", ":", 0));
  });

  describe("shape: reshape", () => {
    golden("002_reshape_1x6", (c) => input(c, "data").reshape(1, 6));
    golden("002_reshape_3x2", (c) => input(c, "data").reshape(3, 2));
    golden("002_reshape_minus1x2", (c) => input(c, "data").reshape(-1, 2));
  });

  describe("shape: squeeze / unsqueeze", () => {
    golden("002_unsqueeze_0", (c) => input(c, "data").unsqueeze(0));
    golden("002_unsqueeze_1", (c) => input(c, "data").unsqueeze(1));
    golden("002_squeeze_all", (c) => input(c, "data").unsqueeze(0).squeeze());
    golden("002_squeeze_dim1", (c) => input(c, "data").unsqueeze(1).squeeze(1));
  });

  describe("shape: transpose / permute", () => {
    golden("002_transpose_1_2", (c) => torch.transpose(input(c, "data"), 1, 2));
    golden("002_permute_1_2_0", (c) => input(c, "data").permute([1, 2, 0]));
  });

  describe("shape: view / contiguous", () => {
    golden("002_is_contiguous", (c) => input(c, "data").isContiguous());
    golden("002_view_3x2", (c) => input(c, "data").view(3, 2));
    golden("002_transpose_not_contiguous", (c) => torch.transpose(input(c, "data"), 0, 1).isContiguous());
    golden("002_transpose_0_1", (c) => torch.transpose(input(c, "data"), 0, 1));
    golden("002_contiguous_is_contiguous", (c) =>
      torch.transpose(input(c, "data"), 0, 1).contiguous().isContiguous(),
    );
    golden("002_contiguous_view_2x3", (c) => torch.transpose(input(c, "data"), 0, 1).contiguous().view(2, 3));
    golden("002_view_non_contiguous_error", (c) => torch.transpose(input(c, "data"), 0, 1).view(2, 3));
    golden("002_reshape_non_contiguous", (c) => torch.transpose(input(c, "data"), 0, 1).reshape(2, 3));
  });

  describe("cat", () => {
    golden("002_cat_dim0", (c) => torch.cat([input(c, "data1"), input(c, "data2")], 0));
    golden("002_cat_dim1", (c) => torch.cat([input(c, "data1"), input(c, "data2")], 1));
    golden("002_cat_dim2", (c) => torch.cat([input(c, "data1"), input(c, "data2")], 2));
    golden("002_cat_randint_seed1", () => {
      torch.manualSeed(1);
      const a = torch.randint(0, 10, [1, 2, 3]);
      torch.manualSeed(1);
      expect(torch.randint(0, 10, [1, 2, 3]).toArray(), "same seed, same draws").toEqual(a.toArray());
      return a;
    });
  });

  describe("autograd snippets: forward values", () => {
    golden("002_autograd_scalar_forward", (c) => input(c, "x").mul(input(c, "w")).add(input(c, "b")));
    golden("002_autograd_scalar_mse", (c) => {
      const z = input(c, "x").mul(input(c, "w")).add(input(c, "b"));
      return z
        .sub(torch.tensor(0, { dtype: "float32" }))
        .pow(2)
        .mean();
    });
    golden("002_autograd_matrix_forward", (c) =>
      torch.matmul(input(c, "x"), input(c, "w")).add(input(c, "b")),
    );
    golden("002_autograd_matrix_mse", (c) =>
      torch.matmul(input(c, "x"), input(c, "w")).add(input(c, "b")).sub(torch.zeros(2, 3)).pow(2).mean(),
    );
  });

  describe("linear regression: the tensor ops it uses", () => {
    golden("002_linreg_size0", (c) => input(c, "x").size(0));
    golden("002_linreg_reshape_minus1_1", (c) => input(c, "y").reshape(-1, 1));
    golden("002_linreg_min", (c) => input(c, "x").min());
    golden("002_linreg_max", (c) => input(c, "x").max());
    golden("002_linreg_linspace_from_tensors", (c) => {
      const x = input(c, "x");
      return torch.linspace(x.min().item() as number, x.max().item() as number, 5).reshape(-1, 1);
    });
  });
});

// ============================================================================================ seed 003

describe("seed 003: PyTorch 简介", () => {
  describe("tensors", () => {
    golden("003_rand_shape", () => {
      const t = torch.rand(3, 4);
      expect([...t.shape]).toEqual([3, 4]);
      return t;
    });
  });

  describe("autograd snippet: forward value", () => {
    golden("003_autograd_forward", (c) => {
      const x = input(c, "x");
      return x.pow(2).add(x.mul(3));
    });
  });

  describe("linear regression data", () => {
    golden("003_linspace_unsqueeze", () => torch.linspace(0, 10, 100).unsqueeze(1));
    golden("003_linear_target", (c) => input(c, "x").mul(2).add(1));
    golden("003_test_x", () => torch.tensor([[5.0]], { dtype: "float32" }));
    golden("003_test_x_item", () => torch.tensor([[5.0]], { dtype: "float32" }).item());
  });
});

// ============================================================================================ seed 004

describe("seed 004: 零基础入门AI (PyTorch 安装到自动微分)", () => {
  describe("creation: basic", () => {
    golden("004_tensor_2d", () =>
      torch.tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    golden("004_tensor_dtype_int64", () => torch.tensor([0, 1], { dtype: "int64" }));
    golden("004_zeros_2x3", () => torch.zeros(2, 3));
    golden("004_ones_3", () => torch.ones(3));
  });

  describe("creation: eye / diag / sequences", () => {
    golden("004_eye_3", () => torch.eye(3));
    golden("004_diag", () => torch.diag(torch.tensor([1, 2, 3])));
    golden("004_arange_0_10_2", () => torch.arange(0, 10, 2));
    golden("004_linspace_0_1_5", () => torch.linspace(0, 1, 5));
  });

  describe("creation: random", () => {
    golden("004_rand_2x2", () => torch.rand(2, 2));
    golden("004_randn_3", () => {
      const t = torch.randn(3);
      expect((t.data() as Float32Array).every(Number.isFinite)).toBe(true);
      return t;
    });
    golden("004_randint_1_10", () => torch.randint(1, 10, [3]));
    golden("004_uniform_", () => torch.empty(50).uniform_(-0.1, 0.1));
    golden("004_manual_seed_42", () => {
      torch.manualSeed(42);
      expect(torch.initialSeed()).toBe(42);
      const a = [torch.rand(2, 2).toArray(), torch.randn(3).toArray(), torch.randint(1, 10, [3]).toArray()];
      torch.manualSeed(42);
      const b = [torch.rand(2, 2).toArray(), torch.randn(3).toArray(), torch.randint(1, 10, [3]).toArray()];
      expect(b).toEqual(a);
      return undefined;
    });
  });

  describe("attributes", () => {
    golden("004_attributes", () => {
      const x = torch.rand(2, 3, { dtype: "float32" });
      expect(x.device).toBe("cpu");
      expect(x.requiresGrad).toBe(false);
      return x;
    });
  });

  describe("type conversion", () => {
    golden("004_int_truncates", (c) => input(c, "a").int());
    golden("004_float", (c) => input(c, "a").float());
    golden("004_float_plus_int_scalar", (c) => input(c, "a").add(torch.tensor(3)));
  });

  describe("NumPy interop (TypedArrays in Cinder)", () => {
    golden("004_numpy_shares_memory", () => {
      const arr = new Int32Array([1, 2, 3, 4, 5, 6]);
      const t = torch.fromTypedArray(arr, [2, 3]);
      arr[0] = 100;
      return t.long(); // t sees the write; as int64 (PyTorch's dtype), which cannot share an array, after it
    });
    golden("004_numpy_copy_does_not_share", () => {
      const t = torch.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const copy = t.data();
      copy[0] = 100;
      return t;
    });
    golden("004_from_numpy_shares_memory", () => {
      const arr = new Int32Array([1, 2, 3, 4, 5, 6]);
      const t = torch.fromTypedArray(arr, [2, 3]);
      t.set([0, 0], 100);
      return arr;
    });
    golden("004_tensor_from_numpy_copies", () => {
      const arr = new BigInt64Array([1n, 2n, 3n, 4n, 5n, 6n]);
      const t = torch.tensor(arr);
      t.set([0], 100);
      return arr;
    });
  });

  describe("item()", () => {
    golden("004_item", () => torch.tensor([18]).item());
    golden("004_item_many_error", () => torch.tensor([1, 2]).item());
  });

  describe("elementwise ops and in-place forms", () => {
    golden("004_add_1", (c) => input(c, "data").add(1));
    golden("004_sub_1", (c) => input(c, "data").sub(1));
    golden("004_mul_2", (c) => input(c, "data").mul(2));
    golden("004_div_3", (c) => input(c, "data").div(3));
    golden("004_pow_2", (c) => input(c, "data").pow(2));
    // data = data.float(); data.add_(1); data.sub_(1); data.mul_(2); data.div_(3.0); data.pow_(2)
    const steps: ((t: torch.Tensor) => torch.Tensor)[] = [
      (t) => t.add_(1),
      (t) => t.sub_(1),
      (t) => t.mul_(2),
      (t) => t.div_(3),
      (t) => t.pow_(2),
    ];
    const names = ["add_", "sub_", "mul_", "div_", "pow_"];
    names.forEach((step, i) => {
      golden(`004_inplace_chain_${i + 1}_${step}`, (c) => {
        const data = input(c, "data").float();
        for (const f of steps.slice(0, i + 1)) expect(f(data), `${step} returns its receiver`).toBe(data);
        return data;
      });
    });
  });

  describe("Hadamard product", () => {
    golden("004_hadamard_operator", (c) => input(c, "data1").mul(input(c, "data2")));
    golden("004_hadamard_mul", (c) => input(c, "data1").mul(input(c, "data2")));
  });

  describe("matrix product", () => {
    golden("004_matmul_operator", (c) => torch.matmul(input(c, "data1"), input(c, "data2")));
    golden("004_matmul_method", (c) => input(c, "data1").matmul(input(c, "data2")));
  });

  describe("element access and slicing", () => {
    golden("004_access_elem", (c) => input(c, "x").at(0, 1));
    golden("004_access_elem_item", (c) => input(c, "x").at(0, 1).item());
    golden("004_slice_row", (c) => input(c, "x").at(1, ":"));
    golden("004_slice_col", (c) => input(c, "x").at(":", 1));
    golden("004_slice_block", (c) => input(c, "x").at("0:2", "1:3"));
  });

  describe("math", () => {
    golden("004_math_add", (c) => input(c, "a").add(input(c, "b")));
    golden("004_math_sub", (c) => input(c, "a").sub(input(c, "b")));
    golden("004_math_mul", (c) => input(c, "a").mul(input(c, "b")));
    golden("004_math_div", (c) => input(c, "b").div(input(c, "a")));
    golden("004_math_matmul", (c) => input(c, "mat_a").matmul(input(c, "mat_b")));
  });

  describe("shape ops", () => {
    golden("004_view_3x2", (c) => input(c, "x").view(3, 2));
    golden("004_unsqueeze_0", (c) => input(c, "x").unsqueeze(0));
    golden("004_squeeze_none", (c) => input(c, "x").unsqueeze(0).squeeze());
    golden("004_transpose_0_1", (c) => input(c, "x").transpose(0, 1));
  });

  describe("broadcasting", () => {
    golden("004_broadcast_add", (c) => input(c, "A").add(input(c, "B")));
    golden("004_broadcast_mismatch_error", () => torch.ones(3, 2).add(torch.tensor([1, 2, 3])));
  });

  describe("autograd snippets: forward values and detach()", () => {
    golden("004_autograd_square", (c) => input(c, "x").pow(2));
    golden("004_autograd_square_sum", (c) => input(c, "x").pow(2).sum());
    golden("004_autograd_poly", (c) => {
      const x = input(c, "x");
      return x.pow(2).add(x.mul(3)).add(1);
    });
    golden("004_autograd_xy", (c) => input(c, "x").mul(input(c, "y")));
    golden("004_autograd_xy_sum", (c) => input(c, "x").mul(input(c, "y")).sum());
    // The seed claims x stays [1, 2, 3]; PyTorch shares storage, so x becomes [2, 3, 4].
    golden("004_detach_shares_storage", () => {
      const x = torch.tensor([1, 2, 3], { dtype: "float32", requiresGrad: true });
      const y = x.detach();
      y.add_(1);
      expect(x.requiresGrad).toBe(true);
      expect(y.requiresGrad).toBe(false);
      return x;
    });
    golden("004_detach_result", () => {
      const x = torch.tensor([1, 2, 3], { dtype: "float32", requiresGrad: true });
      const y = x.detach();
      y.add_(1);
      return y;
    });
  });
});

// ============================================================================================ extras

describe("extras: the seeds' data through the rest of the API", () => {
  describe("reductions", () => {
    golden("extra_sum_all", (c) => input(c, "data").sum());
    golden("extra_sum_dim1_keepdim", (c) => input(c, "data").sum({ dim: 1, keepdim: true }));
    golden("extra_sum_dim_neg1", (c) => input(c, "data").sum({ dim: -1 }));
    golden("extra_max_all", (c) => input(c, "data").max());
    golden("extra_max_dim1_values", (c) => input(c, "data").max({ dim: 1 }).values);
    golden("extra_max_dim1_indices", (c) => input(c, "data").max({ dim: 1 }).indices);
    golden("extra_min_dim0_values", (c) => input(c, "data").min({ dim: 0 }).values);
    golden("extra_min_dim0_indices", (c) => input(c, "data").min({ dim: 0 }).indices);
    golden("extra_argmax_all", (c) => input(c, "data").argmax());
    golden("extra_argmin_dim0_keepdim", (c) => input(c, "data").argmin({ dim: 0, keepdim: true }));
    golden("extra_prod_dim0", (c) => input(c, "data").prod({ dim: 0 }));
    golden("extra_mean_float", (c) => input(c, "data").float().mean({ dim: 1 }));
    golden("extra_std", (c) => input(c, "data").float().std());
    golden("extra_var_dim0", (c) => input(c, "data").float().var({ dim: 0 }));
    golden("extra_mean_int_error", (c) => input(c, "data").mean());
    golden("extra_bool_sum", () => torch.tensor([1, 6, 7]).gt(5).sum());
  });

  describe("comparisons", () => {
    golden("extra_eq", (c) => input(c, "data").eq(6));
    golden("extra_ne_tensor", (c) => {
      const data = input(c, "data");
      return data.ne(data.t().t());
    });
    golden("extra_le", (c) => {
      const data = input(c, "data");
      return data.at(0).le(data.at(1));
    });
  });

  describe("indexing forms and assignment", () => {
    golden("extra_index_negative", (c) => input(c, "data").at(-1));
    golden("extra_index_negative_elem", (c) => input(c, "data").at(-1, -2));
    golden("extra_index_ellipsis", (c) => input(c, "data").at("...", 0));
    golden("extra_index_newaxis", (c) => input(c, "data").at(null, 0));
    golden("extra_index_step_rows", (c) => input(c, "data").at("::2"));
    golden("extra_index_mask_flat", (c) => {
      const data = input(c, "data");
      return data.at(data.gt(5));
    });
    golden("extra_index_int_tensor", (c) => input(c, "data").at(torch.tensor([3, 0])));
    golden("extra_setitem_elem", (c) => {
      const data = input(c, "data");
      data.set([0, 0], 100);
      return data;
    });
    golden("extra_setitem_col", (c) => {
      const data = input(c, "data");
      data.set([":", 1], 0);
      return data;
    });
    golden("extra_setitem_mask", (c) => {
      const data = input(c, "data");
      data.set([data.gt(5)], -1);
      return data;
    });
    golden("extra_view_of_slice_shares", (c) => {
      const data = input(c, "data");
      data.at(1).set([0], 42);
      return data;
    });
  });

  describe("shapes", () => {
    golden("extra_flatten", (c) => input(c, "data").flatten());
    golden("extra_t", (c) => input(c, "data").t());
    golden("extra_numel", (c) => input(c, "data").numel());
    golden("extra_ndim", (c) => input(c, "data").ndim);
    golden("extra_size_neg", (c) => input(c, "data").size(-1));
    golden("extra_stack_dim0", (c) => {
      const data = input(c, "data");
      return torch.stack([data.at(0), data.at(1)], 0);
    });
    golden("extra_stack_dim1", (c) => {
      const data = input(c, "data");
      return torch.stack([data.at(0), data.at(1)], 1);
    });
    golden("extra_cat_neg_dim", (c) => {
      const data = input(c, "data");
      return torch.cat([data, data], -1);
    });
    golden("extra_squeeze_noop", (c) => input(c, "data").squeeze(0));
    golden("extra_expand", (c) => input(c, "data").at(":", null, ":").expand(2, 2, 3));
  });

  describe("math functions", () => {
    golden("extra_abs", (c) => input(c, "x").abs());
    golden("extra_sign", (c) => input(c, "x").sign());
    golden("extra_floor", (c) => input(c, "x").floor());
    golden("extra_ceil", (c) => input(c, "x").ceil());
    golden("extra_round_half_even", (c) => input(c, "x").round());
    golden("extra_clamp", (c) => input(c, "x").clamp(-1, 1));
    golden("extra_relu", (c) => input(c, "x").relu());
    golden("extra_sigmoid", (c) => input(c, "x").sigmoid());
    golden("extra_tanh", (c) => input(c, "x").tanh());
    golden("extra_sin", (c) => input(c, "x").sin());
    golden("extra_cos", (c) => input(c, "x").cos());
    golden("extra_reciprocal", (c) => input(c, "x").reciprocal());
    golden("extra_sqrt_negative", (c) => input(c, "x").sqrt());
    golden("extra_log_negative", (c) => input(c, "x").log());
    golden("extra_pow_tensor", () => torch.tensor([2, 3]).pow(torch.tensor([3, 2])));
    golden("extra_int_pow_float", () => torch.tensor([4, 9]).pow(0.5));
    golden("extra_div_neg_int", () => torch.tensor([-7, 7]).div(2));
  });

  describe("conversions", () => {
    golden("extra_int_truncates_negative", (c) => input(c, "x").int());
    golden("extra_bool", (c) => input(c, "x").bool());
    golden("extra_to_float64", (c) => input(c, "x").to("float64"));
    golden("extra_float_type_name", (c) => input(c, "x").type());
    golden("extra_uint8_wrap", () => torch.tensor([250, 10], { dtype: "uint8" }).add(10));
  });

  describe("products", () => {
    golden("extra_dot", () => torch.tensor([1, 2, 3]).dot(torch.tensor([4, 5, 6])));
    golden("extra_mv", () =>
      torch
        .tensor([
          [1, 2],
          [3, 4],
        ])
        .mv(torch.tensor([1, -1])),
    );
    golden("extra_mm", () =>
      torch
        .tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: "float32" },
        )
        .mm(torch.tensor([[0.5], [0.25]])),
    );
    golden("extra_bmm", () =>
      torch
        .arange(0, 8)
        .float()
        .reshape(2, 2, 2)
        .bmm(torch.arange(0, 4).float().reshape(2, 2, 1)),
    );
    golden("extra_matmul_batched_broadcast", () =>
      torch.matmul(
        torch.arange(0, 12).reshape(2, 2, 3),
        torch.tensor([
          [1, 0],
          [0, 1],
          [1, 1],
        ]),
      ),
    );
  });
});

// ============================================================================================ bookkeeping

describe("fixture bookkeeping", () => {
  it("every fixture case has a test", () => {
    expect(fixture.cases.filter((c) => !registered.has(c.name)).map((c) => c.name)).toEqual([]);
  });
  it("fixture case names are unique", () => {
    expect(byName.size).toBe(fixture.cases.length);
  });
  it("the fixture was made by PyTorch", () => {
    expect(fixture.torch).toMatch(/^\d+\.\d+/);
  });
});
