/**
 * Values, gradients and errors that differed from PyTorch 1.13, checked against tests/fixtures/fixes.json
 * (written by scripts/fixtures/fixes_fixtures.py with PyTorch 1.13; see that script for the case format):
 * clamp/clip at their bounds, pow at 0, what autograd saves (an in-place change to a tensor PyTorch does not save
 * is not an error; one to a tensor it saves is), prod/cumprod with zeros and over long dims, integer overflow and
 * division by zero, isclose with infinities, linspace, and where(condition).
 *
 * Every case holds its PyTorch code in the fixture and its Cinder code here (`cinder` below, by case name). A case
 * runs its Cinder code on the fixture's inputs and compares the output, then `out.sum().backward()` and the
 * gradients of the inputs that require grad; where PyTorch raised, Cinder must throw. Where PyTorch's int64 result
 * does not fit Cinder's int32, Cinder must throw a RangeError saying so. Cases PyTorch's own gradcheck passes are
 * also checked with Cinder's `gradcheck` (finite differences, float64).
 *
 * Comparison: float32 within 1e-6 relative (plus 1e-7 absolute), float64 within 1e-12 (plus 1e-15), unless the
 * case sets `rtol`; ints and bools exactly; "nan" / "inf" / "-inf" / "-0" decode to the IEEE values.
 */
import { readFileSync } from "node:fs";
import { enableGrad, grad, gradcheck } from "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import { F } from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import {
  close,
  type Decoded,
  decode,
  type Encoded,
  flatten,
  type TensorRecord,
  TOLERANCE,
} from "./support/fixture-values";

type Tensor = torch.Tensor;

type Output =
  | ({ kind: "tensor" } & TensorRecord)
  | { kind: "tensors"; values: TensorRecord[] }
  | { kind: "bool"; value: boolean }
  | { kind: "error"; error: string; message: string };

interface Case {
  name: string;
  item: string;
  torch: string;
  inputs: Record<string, TensorRecord & { requires_grad: boolean }>;
  output: Output;
  backward?: { grads: Record<string, TensorRecord | null> } | { error: string };
  grad_fn?: string;
  gradcheck?: boolean;
  rtol?: number;
  note?: string;
}

interface LongCase {
  name: string;
  length: number;
  indices: number[];
  output_at: Encoded[];
  grad_at: Encoded[];
  rtol: number;
}

const fixture: { torch: string; cases: (Case | LongCase)[] } = JSON.parse(
  readFileSync(new URL("../fixtures/fixes.json", import.meta.url), "utf8"),
);
const cases = fixture.cases.filter((c): c is Case => "output" in c);
const longCumprod = fixture.cases.find((c) => c.name === "cumprod_long_float32") as LongCase;

beforeAll(() => {
  if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
});

// ---------------------------------------------------------------------------------------------- helpers

/** Mismatches between a Cinder tensor and a fixture record, as readable lines. */
function compareTensor(actual: unknown, exp: TensorRecord, what: string, rtol?: number): string[] {
  if (!(actual instanceof torch.Tensor)) return [`${what}: expected a tensor, got ${String(actual)}`];
  if (actual.dtype !== exp.dtype) return [`${what}: dtype ${actual.dtype}, expected ${exp.dtype}`];
  if (JSON.stringify([...actual.shape]) !== JSON.stringify(exp.shape)) {
    return [`${what}: shape [${actual.shape}], expected [${exp.shape}]`];
  }
  const tol = TOLERANCE[exp.dtype];
  const got = flatten(actual.toArray() as Decoded);
  const want = flatten(decode(exp.values));
  const out: string[] = [];
  want.forEach((e, i) => {
    const a = got[i];
    const ok =
      typeof e === "boolean" ? a === e : close(+a, e, rtol ?? tol.rtol, rtol === undefined ? tol.atol : 0);
    if (!ok) out.push(`${what}[${i}]: got ${String(a)}, expected ${String(e)}`);
  });
  return out;
}

function leaf(
  r: TensorRecord & { requires_grad?: boolean },
  requiresGrad = r.requires_grad ?? false,
): Tensor {
  const t = torch.tensor(decode(r.values) as never, { dtype: r.dtype });
  return requiresGrad ? t.requiresGrad_(true) : t;
}

function leaves(c: Case): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(c.inputs).map(([k, r]) => [k, leaf(r)]));
}

/** PyTorch gave an int64 past ±(2^53 - 1), which Cinder's int64 (exact doubles) cannot hold: it must throw. */
function beyondInt64(o: Output): boolean {
  if (o.kind !== "tensor" || o.torch_dtype !== "torch.int64") return false;
  return flatten(decode(o.values)).some(
    (v) => typeof v === "number" && Math.abs(v) > Number.MAX_SAFE_INTEGER,
  );
}

// ---------------------------------------------------------------------------------------------- Cinder code

type In = Record<string, Tensor>;
type Fn = (i: In) => unknown;

const cinder: Record<string, Fn> = {
  // clamp / clip
  clamp_scalar_both: ({ x }) => x.clamp(0, 1),
  clamp_scalar_min: ({ x }) => x.clamp({ min: 0 }),
  clamp_scalar_max: ({ x }) => x.clamp({ max: 1 }),
  clip_scalar_both: ({ x }) => x.clip(0, 1),
  clamp_scalar_min_gt_max: ({ x }) => x.clamp(1, 0),
  clamp_scalar_float32: ({ x }) => x.clamp(0, 1),
  clamp_scalar_nan: ({ x }) => x.clamp(0, 0.5),
  clamp_functional: ({ x }) => torch.clamp(x, 0, 1),
  clamp_tensor_both: ({ x, lo, hi }) => x.clamp(lo, hi),
  clamp_tensor_min_gt_max: ({ x, lo, hi }) => x.clamp(hi, lo),
  clamp_tensor_min: ({ x, lo }) => x.clamp({ min: lo }),
  clamp_tensor_max: ({ x, hi }) => x.clamp({ max: hi }),
  clamp_tensor_broadcast: ({ x, lo, hi }) => x.clamp(lo, hi),
  clamp_int_float_bounds: ({ x }) => x.clamp(0.5, 2.5),
  clamp_int_int_bounds: ({ x }) => x.clamp(1, 2),
  clamp_saves_input: ({ l }) => {
    const x = l.clone();
    const y = x.clamp(0, 1);
    x.mul_(2);
    return y;
  },
  clamp_smooth_gradcheck: ({ x }) => x.clamp(0, 1),
  clamp_tensor_smooth_gradcheck: ({ x, lo, hi }) => x.clamp(lo, hi),

  // pow
  pow_tensor_tensor: ({ a, b }) => a.pow(b),
  pow_exponent_0: ({ a }) => a.pow(0),
  pow_exponent_0_float32: ({ a }) => a.pow(0),
  pow_exponent_half_at_0: ({ a }) => a.pow(0.5),
  pow_exponent_minus1_at_0: ({ a }) => a.pow(-1),
  pow_zero_base_tensor_exponent: ({ a, b }) => a.pow(b),
  pow_zero_exponent_tensor: ({ a, b }) => a.pow(b),
  pow_scalar_base_0: ({ b }) => torch.pow(0, b),
  pow_scalar_base_2: ({ b }) => torch.pow(2, b),
  pow_negative_base: ({ a, b }) => a.pow(b),
  pow_smooth_gradcheck: ({ a, b }) => a.pow(b),
  pow_scalar_exponent_0_gradcheck: ({ a }) => a.pow(0),

  // saved tensors (the generated unary/binary/product cases are built by `savedCase` below)
  saved_F_relu_input_modified: ({ l }) => {
    const x = l.clone();
    const y = F.relu(x);
    x.mul_(3);
    return y;
  },
  saved_where_condition_modified: ({ l, cond }) => {
    const c = cond.clone();
    const y = torch.where(c, l, torch.zeros([3], { dtype: "float64" }));
    c.logicalNot_();
    return y;
  },
  saved_inplace_mul_plain_self: ({ p, w }) => p.clone().mul_(w),
  saved_inplace_pow_plain_self: ({ p, w }) => p.clone().pow_(w),
  saved_sigmoid_chain: ({ l }) => {
    const x = l.clone();
    const y = x.sigmoid();
    x.add_(1);
    return y.exp().mul(x);
  },

  // prod / cumprod (dim cases are parsed by `reductionCase` below)
  prod_0dim: ({ x }) => x.prod(),
  prod_0dim_dim: ({ x }) => x.prod(0),
  cumprod_0dim: ({ x }) => x.cumprod(0),
  cumprod_weighted: ({ x, w }) => x.cumprod(0).mul(w),

  // integer overflow (PyTorch: int64 results; Cinder: int32 or an error)
  int_sum_overflow: ({ x }) => x.sum(),
  int_sum_fits: ({ x }) => x.sum(),
  int_sum_negative_overflow: ({ x }) => x.sum(),
  int_sum_dim_overflow: ({ x }) => x.sum(0),
  int_sum_explicit_int32_wraps: ({ x }) => x.sum({ dtype: "int32" }),
  int_sum_uint8: ({ x }) => x.sum(),
  int_sum_bool: ({ x }) => x.sum(),
  int_prod_overflow: ({ x }) => x.prod(),
  int_prod_fits: ({ x }) => x.prod(),
  int_prod_zero_after_overflow: ({ x }) => x.prod(),
  int_prod_dim_overflow: ({ x }) => x.prod(1),
  int_cumsum_overflow: ({ x }) => x.cumsum(0),
  int_cumsum_fits: ({ x }) => x.cumsum(0),
  int_cumprod_overflow: ({ x }) => x.cumprod(0),
  int_cumprod_fits: ({ x }) => x.cumprod(0),

  // integer division by zero
  int_floor_divide_by_zero_tensor: ({ a, z }) => a.floorDivide(z),
  int_floor_divide_by_zero_scalar: ({ a }) => a.floorDivide(0),
  int_floor_divide_fn: ({ a, z }) => torch.floorDivide(a, z),
  int_div_floor_by_zero: ({ a, z }) => a.div(z, { roundingMode: "floor" }),
  int_div_trunc_by_zero: ({ a, z }) => a.div(z, { roundingMode: "trunc" }),
  int_div_trunc_by_zero_scalar: ({ a }) => a.div(0, { roundingMode: "trunc" }),
  int_remainder_by_zero: ({ a, z }) => torch.remainder(a, z),
  int_remainder_by_zero_scalar: ({ a }) => a.remainder(0),
  int_fmod_by_zero: ({ a, z }) => torch.fmod(a, z),
  int_fmod_by_zero_scalar: ({ a }) => torch.fmod(a, 0),
  int32_floor_divide_by_zero: ({ a, z }) => a.to("int32").floorDivide(z.to("int32")),
  uint8_remainder_by_zero: ({ a, z }) => a.abs().to("uint8").remainder(z.to("uint8")),
  int_div_true_by_zero: ({ a, z }) => a.div(z),
  int_floor_divide_nonzero: ({ a }) => a.floorDivide(torch.tensor([2, -2, 3])),
  int_div_trunc_nonzero: ({ a }) => a.div(torch.tensor([2, -2, 3]), { roundingMode: "trunc" }),
  int_remainder_nonzero: ({ a }) => torch.remainder(a, torch.tensor([2, -2, 3])),
  int_fmod_nonzero: ({ a }) => torch.fmod(a, torch.tensor([2, -2, 3])),
  float_floor_divide_by_zero: ({ a }) => a.double().floorDivide(0),
  // JS cannot tell 0.0 from 0: a float divisor is a float tensor (0-dim, so the result is float32 as PyTorch's)
  int_floor_divide_by_float_zero: ({ a }) => a.floorDivide(torch.tensor(0, { dtype: "float32" })),
  int_fmod_by_float_zero: ({ a }) => torch.fmod(a, torch.tensor(0, { dtype: "float32" })),

  // creation
  full_int32_2pow40: () => torch.full([1], 2 ** 40, { dtype: "int32" }),
  full_int32_2pow31: () => torch.full([1], 2 ** 31, { dtype: "int32" }),
  full_int32_min: () => torch.full([2], -(2 ** 31), { dtype: "int32" }),
  full_int32_max: () => torch.full([2], 2 ** 31 - 1, { dtype: "int32" }),
  full_int32_fraction: () => torch.full([2], -2.7, { dtype: "int32" }),
  full_int32_inf: () => torch.full([1], Number.POSITIVE_INFINITY, { dtype: "int32" }),
  full_int32_nan: () => torch.full([1], Number.NaN, { dtype: "int32" }),
  full_uint8_300: () => torch.full([1], 300, { dtype: "uint8" }),
  full_uint8_minus1: () => torch.full([1], -1, { dtype: "uint8" }),
  full_uint8_minus256: () => torch.full([1], -256, { dtype: "uint8" }),
  full_float32_1e40: () => torch.full([1], 1e40, { dtype: "float32" }),
  full_float32_inf: () => torch.full([1], Number.POSITIVE_INFINITY, { dtype: "float32" }),
  full_inferred_int_2pow40: () => torch.full([1], 2 ** 40),
  arange_beyond_int32: () => torch.arange(2 ** 31, 2 ** 31 + 2),
  arange_below_int32: () => torch.arange(-(2 ** 31) - 1, -(2 ** 31) + 1),
  arange_int32_max: () => torch.arange(2 ** 31 - 2, 2 ** 31),
  arange_explicit_int32_wraps: () => torch.arange(2 ** 31, 2 ** 31 + 2, { dtype: "int32" }),

  // isclose / allclose
  isclose_infinities: ({ a, b }) => torch.isclose(a, b),
  isclose_infinities_equal_nan: ({ a, b }) => torch.isclose(a, b, { equalNan: true }),
  isclose_infinite_atol: ({ a, b }) => torch.isclose(a, b, { atol: Number.POSITIVE_INFINITY }),
  isclose_infinite_rtol: ({ a, b }) => torch.isclose(a, b, { rtol: Number.POSITIVE_INFINITY }),
  isclose_infinities_float32: ({ a, b }) => torch.isclose(a, b),
  allclose_inf_minus_inf: ({ a, b }) => torch.allclose(a, b),
  allclose_zero_inf: ({ a, b }) => torch.allclose(a, b),
  allclose_inf_inf: ({ a, b }) => torch.allclose(a, b),

  // linspace (the dtype cases are parsed from the PyTorch code by `linspaceCase` below)
  linspace_one_step: () => torch.linspace(5, 10, 1),
  linspace_one_step_float64: () => torch.linspace(5, 10, 1, { dtype: "float64" }),
  linspace_zero_steps: () => torch.linspace(5, 10, 0),
  linspace_int32_end_overflow: () => torch.linspace(0, 2 ** 31, 3, { dtype: "int32" }),

  // where(condition)
  where_one_arg_2d: ({ c }) => torch.where(c),
  where_one_arg_float: ({ c }) => torch.where(c),
  where_one_arg_int_3d: ({ c }) => torch.where(c),
  where_one_arg_none: ({ c }) => torch.where(c),
  where_one_arg_0dim_true: ({ c }) => torch.where(c),
  where_one_arg_0dim_false: ({ c }) => torch.where(c),
  where_three_args: ({ c, a, b }) => torch.where(c, a, b),
};

const binaryMethod = (op: string) => (a: Tensor, b: Tensor) =>
  (a as unknown as Record<string, (o: Tensor) => Tensor>)[op](b);
const products: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  mm: (a, b) => a.mm(b),
  matmul: (a, b) => a.matmul(b),
  bmm: (a, b) => a.bmm(b),
  matmul3d: (a, b) => a.matmul(b),
  matvec: (a, b) => a.matmul(b),
  dot: (a, b) => a.matmul(b),
  vecmat: (a, b) => a.matmul(b),
  linear: (a, b) => F.linear(a, b),
  linear_bias: (a, b) => F.linear(a, b, torch.ones([2], { dtype: "float64" })),
  linear3d: (a, b) => F.linear(a, b),
  linear1d: (a, b) => F.linear(a, b),
};

/** saved_<unary>_{input,output}_modified, saved_<binary|product>_grad_<ab>_modify_<a|b|y>, saved_<prod|cumprod>_modify_<x|y>. */
function savedCase(name: string): Fn | undefined {
  let m = /^saved_(\w+?)_(input|output)_modified$/.exec(name);
  if (m) {
    const [, op, which] = m;
    return ({ l }) => {
      const x = l.clone();
      const y = (x as unknown as Record<string, () => Tensor>)[op]();
      (which === "input" ? x : y).mul_(3);
      return y;
    };
  }
  m = /^saved_(\w+?)_grad_(a|b|ab)_modify_(a|b|y)$/.exec(name);
  if (m) {
    const [, op, , mod] = m;
    const f = products[op] ?? binaryMethod(op);
    return ({ la, lb }) => {
      const a = la.clone();
      const b = lb.clone();
      const y = f(a, b);
      ({ a, b, y })[mod as "a" | "b" | "y"].mul_(2);
      return y;
    };
  }
  m = /^saved_(prod|cumprod)_modify_(x|y)$/.exec(name);
  if (m) {
    const [, op, mod] = m;
    return ({ l }) => {
      const x = l.clone();
      const y = op === "prod" ? x.prod() : x.cumprod(0);
      (mod === "x" ? x : y).mul_(2);
      return y;
    };
  }
  return undefined;
}

/** prod_* / cumprod_* cases: the op and its dim come from the PyTorch code (`x.prod(1, keepdim=True)`). */
function reductionCase(c: Case): Fn | undefined {
  const dbl = /^(prod|cumprod)_double_backward_/.exec(c.name);
  if (dbl) {
    // enableGrad: gradcheck evaluates its finite differences under noGrad, where grad() would find no graph
    return ({ x, w }) =>
      enableGrad(() => {
        const y = dbl[1] === "prod" ? x.prod() : x.cumprod(0);
        const [g] = grad(y.sum(), [x], { createGraph: true });
        return (g as Tensor).mul(w);
      });
  }
  const m = /^out = x\.(prod|cumprod)\((-?\d+)?(?:, keepdim=(True|False))?\)$/.exec(c.torch);
  if (!m) return undefined;
  const [, op, dim, keep] = m;
  if (op === "cumprod") return ({ x }) => x.cumprod(Number(dim));
  if (dim === undefined) return ({ x }) => x.prod();
  return ({ x }) => x.prod({ dim: Number(dim), keepdim: keep === "True" });
}

/** linspace_int{64,32}_<i>: `torch.linspace(a, b, n, dtype=...)` in the same dtype. */
function linspaceCase(c: Case): Fn | undefined {
  const m = /^out = torch\.linspace\((-?[\d.]+), (-?[\d.]+), (\d+), dtype=torch\.int(64|32)\)$/.exec(c.torch);
  if (!m) return undefined;
  return () =>
    torch.linspace(Number(m[1]), Number(m[2]), Number(m[3]), { dtype: m[4] === "64" ? "int64" : "int32" });
}

function cinderOf(c: Case): Fn {
  const f = cinder[c.name] ?? savedCase(c.name) ?? reductionCase(c) ?? linspaceCase(c);
  if (!f) throw new Error(`no Cinder code for fixture case ${c.name}`);
  return f;
}

// ---------------------------------------------------------------------------------------------- the checks

/** The groups whose autograd node names are compared with PyTorch's (ClampBackward1, PowBackward0, ...). */
const NODE_NAMES_CHECKED = new Set(["clamp", "pow", "prod", "cumprod", "where"]);
/**
 * torch.pow(number, tensor) is PowBackward2 in PyTorch; Cinder's functional form wraps the number in a 0-dim tensor
 * first (as PyTorch's parser does for torch.mul(2, x)), so its node is PowBackward1. Values and gradients agree.
 */
const NODE_NAME_EXCEPTIONS = new Set(["pow_scalar_base_0", "pow_scalar_base_2"]);

function checkCase(c: Case): void {
  const fn = cinderOf(c);
  const inputs = leaves(c);
  if (c.output.kind === "error") {
    const msg = c.output.message;
    expect(() => fn(inputs), `PyTorch raised: ${msg}`).toThrow(
      /ZeroDivisionError|overflow|does not fit|cannot be converted/,
    );
    return;
  }
  if (beyondInt64(c.output)) {
    expect(() => fn(inputs), "PyTorch's int64 result is past 2^53 - 1").toThrow(/int64/);
    return;
  }
  const out = fn(inputs);
  const o = c.output;
  if (o.kind === "bool") expect(out).toBe(o.value);
  else if (o.kind === "tensor") expect(compareTensor(out, o, "output", c.rtol)).toEqual([]);
  else {
    expect(Array.isArray(out), "a list of tensors").toBe(true);
    const list = out as Tensor[];
    expect(list.length).toBe(o.values.length);
    expect(o.values.flatMap((r, i) => compareTensor(list[i], r, `output[${i}]`))).toEqual([]);
  }
  if (c.grad_fn && NODE_NAMES_CHECKED.has(c.item) && !NODE_NAME_EXCEPTIONS.has(c.name))
    expect((out as Tensor).gradFn?.name, "node").toBe(c.grad_fn);
  if (!c.backward) return;
  const y = out as Tensor;
  if ("error" in c.backward) {
    expect(() => y.sum().backward(), `PyTorch raised: ${c.backward.error}`).toThrow(
      /modified by an inplace operation/,
    );
    return;
  }
  y.sum().backward();
  const problems: string[] = [];
  for (const [k, g] of Object.entries(c.backward.grads)) {
    if (g === null) problems.push(...(inputs[k].grad === null ? [] : [`grad ${k}: expected none`]));
    else problems.push(...compareTensor(inputs[k].grad, g, `grad ${k}`, c.rtol));
  }
  expect(problems).toEqual([]);
}

const groups = [...new Set(cases.map((c) => c.item))];
for (const item of groups) {
  describe(item, () => {
    for (const c of cases.filter((k) => k.item === item)) it(c.name, () => checkCase(c));
  });
}

describe("gradients by finite differences (where PyTorch's gradcheck passes)", () => {
  for (const c of cases.filter((k) => k.gradcheck)) {
    it(c.name, () => {
      const fn = cinderOf(c);
      const names = Object.keys(c.inputs);
      const xs = names.map((k) => leaf({ ...c.inputs[k], dtype: "float64" }));
      const f = (...ts: Tensor[]) => fn(Object.fromEntries(names.map((k, i) => [k, ts[i]]))) as Tensor;
      expect(gradcheck(f, xs)).toBe(true);
    });
  }
});

describe("cumprod over a long dim (24,000 float32 values)", () => {
  it("matches PyTorch's gradient at every stored index", () => {
    const n = longCumprod.length;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = 0.9999 + 0.002 * (((i * 7919) % 1001) / 1000 - 0.5);
    const x = torch.tensor(values).float().requiresGrad_(true);
    const y = x.cumprod(0);
    y.sum().backward();
    const yd = y.detach().data();
    const gd = x.grad!.data();
    const bad: string[] = [];
    longCumprod.indices.forEach((idx, k) => {
      const ey = decode(longCumprod.output_at[k]) as number;
      const eg = decode(longCumprod.grad_at[k]) as number;
      if (!close(yd[idx], ey, 1e-5, 0)) bad.push(`output[${idx}]: got ${yd[idx]}, expected ${ey}`);
      if (!close(gd[idx], eg, longCumprod.rtol, 0)) bad.push(`grad[${idx}]: got ${gd[idx]}, expected ${eg}`);
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

describe("cumsum over a long dim (24,000 float32 values)", () => {
  it("matches PyTorch's gradient at every stored index (summed from the end, no cancellation)", () => {
    const c = fixture.cases.find((x) => x.name === "cumsum_long_float32") as LongCase;
    const n = c.length;
    const w = torch.arange(n, { dtype: "float64" }).sin().mul(0.5).add(1).float();
    const x = torch.ones(n, { requiresGrad: true });
    x.cumsum(0).mul(w).sum().backward();
    const gd = x.grad!.data();
    const bad: string[] = [];
    c.indices.forEach((idx, k) => {
      const eg = decode(c.grad_at[k]) as number;
      if (!close(gd[idx], eg, c.rtol, 1e-6)) bad.push(`grad[${idx}]: got ${gd[idx]}, expected ${eg}`);
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

describe("fixture coverage", () => {
  it("every case has Cinder code", () => {
    expect(
      cases
        .filter(
          (c) =>
            !(cinder[c.name] ?? savedCase(c.name) ?? reductionCase(c) ?? linspaceCase(c)) &&
            !c.name.endsWith("_long_float32"),
        )
        .map((c) => c.name),
    ).toEqual([]);
  });
});
