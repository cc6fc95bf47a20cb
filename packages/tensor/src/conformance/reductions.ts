/**
 * Conformance cases for reductions and scans: cumsum/cumprod in every dtype, prod and min, reductions over
 * several axes at once and over empty dims, and argmax/argmin tie and NaN rules. Inputs are small integers or
 * dyadic fractions, so every partial result is exact in float32 whatever order a backend accumulates in.
 */
import type { DType } from "../dtype";
import "../methods";
import { tensor, zeros } from "../ops/creation";
import type { Tensor } from "../tensor";
import {
  assert,
  type ConformanceCase,
  data,
  defaultInt,
  EXACT,
  expectTensor,
  refReduceDims,
  type Supports,
  stridesOf,
  TOL,
  widest,
} from "./support";

const SHAPE = [3, 5, 4];

/** Dyadic values (multiples of 1/2 in [-2, 2], or of 1/4 near 1 for products), exact in every float dtype. */
function dyadic(n: number, seed: number, forProduct = false): number[] {
  return data(n, seed, 0, 1).map((u) =>
    forProduct ? [0.5, 0.75, 1, 1.25, 1.5, -1, 2][Math.floor(u * 7)] : Math.floor(u * 9) / 2 - 2,
  );
}

/** A tensor of `shape` holding row-major `values`, in a non-contiguous layout (a permuted copy permuted back). */
function stridedTensor(values: number[], shape: number[], dtype: DType, device: string): Tensor {
  // store as [d2, d0, d1] and permute back to [d0, d1, d2]
  const [a, b, c] = shape;
  const stored: number[] = [];
  for (let k = 0; k < c; k++)
    for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) stored.push(values[(i * b + j) * c + k]);
  return tensor(stored, { dtype, device }).reshape(c, a, b).permute(1, 2, 0);
}

/** Reference inclusive scan of row-major `xs` along `dim`. */
function refScan(xs: number[], shape: number[], dim: number, op: (a: number, b: number) => number): number[] {
  const st = stridesOf(shape);
  const out = [...xs];
  for (let i = 0; i < xs.length; i++) {
    const c = Math.floor(i / st[dim]) % shape[dim];
    if (c > 0) out[i] = op(out[i - st[dim]], xs[i]);
  }
  return out;
}

function scanCases(has: Supports): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  // null: the device's default integer (PyTorch's int64; int32 on a backend without int64)
  const inputs: [DType, DType | null][] = [
    ["float32", "float32"],
    ["float64", "float64"],
    ["int32", null],
    ["uint8", null],
    ["bool", null],
  ];
  for (const [dtype, outDtype] of inputs.filter(([d]) => has(d))) {
    cases.push({
      name: `scan cumsum and cumprod ${dtype}`,
      async run(device) {
        const n = 60;
        const raw =
          dtype === "bool" ? data(n, 11, 0, 2, true) : dtype === "uint8" ? data(n, 11, 0, 4, true) : null;
        const sums = raw ?? (dtype === "int32" ? data(n, 11, -9, 10, true) : dyadic(n, 11));
        const prods = raw ?? (dtype === "int32" ? data(n, 12, -3, 4, true) : dyadic(n, 12, true));
        for (const dim of [0, 1, 2]) {
          const what = `${dtype} along dim ${dim}`;
          for (const [name, vs, f] of [
            ["cumsum", sums, (a: number, b: number) => a + b],
            ["cumprod", prods, (a: number, b: number) => a * b],
          ] as const) {
            const exp = refScan([...vs], SHAPE, dim, f);
            const x = tensor(vs, { dtype, device }).reshape(SHAPE);
            const run = (t: Tensor) => (name === "cumsum" ? t.cumsum(dim) : t.cumprod(dim));
            const out = outDtype ?? defaultInt(device);
            await expectTensor(run(x), SHAPE, out, exp, `${name} ${what}`, EXACT);
            const xs = stridedTensor([...vs], SHAPE, dtype, device);
            await expectTensor(run(xs), SHAPE, out, exp, `${name} ${what} (strided input)`, EXACT);
          }
        }
        if (dtype === "float32" && has("float64")) {
          const y = tensor([1, 2, 3, 4], { device }).cumsum(-1, { dtype: "float64" });
          await expectTensor(y, [4], "float64", [1, 3, 6, 10], "cumsum with a dtype option");
        }
      },
    });
  }
  return cases;
}

const sumOf = (r: number[]) => r.reduce((a, b) => a + b, 0);
const prodOf = (r: number[]) => r.reduce((a, b) => a * b, 1);
const maxOf = (r: number[]) => r.reduce((a, b) => Math.max(b, a), Number.NEGATIVE_INFINITY);
const minOf = (r: number[]) => r.reduce((a, b) => Math.min(b, a), Number.POSITIVE_INFINITY);

function reduceCases(has: Supports): ConformanceCase[] {
  const W = widest(has);
  return [
    {
      name: "reduce prod and min",
      async run(device) {
        for (const dtype of (["float32", "float64", "int32"] as DType[]).filter(has)) {
          const vs = dtype === "int32" ? data(60, 13, -3, 4, true) : dyadic(60, 13, true);
          const x = tensor(vs, { dtype, device }).reshape(SHAPE);
          const xs = stridedTensor(vs, SHAPE, dtype, device);
          // an integer product is in the default integer (int64 where the device has it)
          const prodDt = dtype === "int32" ? defaultInt(device) : dtype;
          for (const dim of [0, 1, 2]) {
            const kept = SHAPE.filter((_, i) => i !== dim);
            const exp = refReduceDims(vs, SHAPE, [dim], prodOf);
            await expectTensor(x.prod({ dim }), kept, prodDt, exp, `prod ${dtype} dim ${dim}`, EXACT);
            await expectTensor(
              xs.prod({ dim }),
              kept,
              prodDt,
              exp,
              `prod ${dtype} dim ${dim} (strided)`,
              EXACT,
            );
            const mins = refReduceDims(vs, SHAPE, [dim], minOf);
            const m = xs.min({ dim });
            await expectTensor(m.values, kept, dtype, mins, `min values ${dtype} dim ${dim}`, EXACT);
          }
          await expectTensor(xs.min(), [], dtype, [minOf(vs)], `min of all ${dtype}`, EXACT);
          await expectTensor(xs.max(), [], dtype, [maxOf(vs)], `max of all ${dtype}`, EXACT);
          // 60 factors overflow the mantissa: rounding depends on the order, so compare with a tolerance
          const all = dtype === "int32" ? vs.reduce((a, b) => Math.imul(a, b), 1) : prodOf(vs);
          await expectTensor(xs.prod(), [], prodDt, [all], `prod of all ${dtype}`);
        }
        const b = tensor(
          [
            [true, true, false],
            [true, true, true],
          ],
          { device },
        );
        await expectTensor(b.all({ dim: 1 }), [2], "bool", [0, 1], "all over a dim (min of bool)");
        await expectTensor(b.t().all({ dim: 0 }), [2], "bool", [0, 1], "all over a strided dim");
        await expectTensor(
          b.logicalNot().any({ dim: 1 }),
          [2],
          "bool",
          [1, 0],
          "any over a dim (max of bool)",
        );
        await expectTensor(
          b.prod({ dim: 1 }),
          [2],
          defaultInt(device),
          [0, 1],
          "prod of bool is the default integer",
        );
        await expectTensor(b.sum(), [], defaultInt(device), [5], "sum of bool counts");
        const u = tensor([200, 100, 3], { dtype: "uint8", device });
        await expectTensor(
          u.sum(),
          [],
          defaultInt(device),
          [303],
          "sum of uint8 accumulates in the default integer",
        );
      },
    },
    {
      name: "reduce over several axes at once",
      async run(device) {
        const vs = dyadic(60, 14);
        const ints = data(60, 15, -9, 10, true);
        const x = stridedTensor(vs, SHAPE, "float32", device);
        const xi = stridedTensor(ints, SHAPE, "int32", device);
        const combos = [
          [0, 2],
          [0, 1],
          [1, 2],
          [0, 1, 2],
        ];
        for (const dims of combos) {
          const kept = SHAPE.filter((_, i) => !dims.includes(i));
          const keptDims = SHAPE.map((d, i) => (dims.includes(i) ? 1 : d));
          const w = `over [${dims}]`;
          const sums = refReduceDims(vs, SHAPE, dims, sumOf);
          await expectTensor(x.sum({ dim: dims }), kept, "float32", sums, `sum ${w}`, EXACT);
          await expectTensor(
            x.sum({ dim: dims, keepdim: true }),
            keptDims,
            "float32",
            sums,
            `sum keepdim ${w}`,
            EXACT,
          );
          const count = dims.reduce((p, d) => p * SHAPE[d], 1);
          await expectTensor(
            x.mean({ dim: dims }),
            kept,
            "float32",
            sums.map((s) => s / count),
            `mean ${w}`,
          );
          await expectTensor(
            x.amax({ dim: dims }),
            kept,
            "float32",
            refReduceDims(vs, SHAPE, dims, maxOf),
            `amax ${w}`,
          );
          await expectTensor(
            xi.sum({ dim: dims }),
            kept,
            defaultInt(device),
            refReduceDims(ints, SHAPE, dims, sumOf),
            `int sum ${w}`,
          );
          await expectTensor(
            xi.amax({ dim: dims }),
            kept,
            "int32",
            refReduceDims(ints, SHAPE, dims, maxOf),
            `int amax ${w}`,
          );
        }
        await expectTensor(
          x.sum({ dim: [-1, -3] }),
          [5],
          "float32",
          refReduceDims(vs, SHAPE, [0, 2], sumOf),
          "negative dims",
        );
        await expectTensor(xi.min(), [], "int32", [minOf(ints)], "min over all axes of a strided int tensor");
      },
    },
    {
      name: "reduce over empty dims",
      async run(device) {
        const e = zeros([2, 0, 3], { device });
        const six = (v: number) => Array(6).fill(v);
        await expectTensor(e.sum({ dim: 1 }), [2, 3], "float32", six(0), "sum over an empty dim is 0");
        await expectTensor(e.prod({ dim: 1 }), [2, 3], "float32", six(1), "prod over an empty dim is 1");
        await expectTensor(
          e.mean({ dim: 1 }),
          [2, 3],
          "float32",
          six(Number.NaN),
          "mean over an empty dim is NaN",
        );
        await expectTensor(
          e.sum({ dim: [0, 1] }),
          [3],
          "float32",
          [0, 0, 0],
          "sum over an empty and a full dim",
        );
        await expectTensor(e.sum(), [], "float32", [0], "sum of an empty tensor");
        await expectTensor(e.prod(), [], "float32", [1], "prod of an empty tensor");
        await expectTensor(
          e.int().sum({ dim: 1 }),
          [2, 3],
          defaultInt(device),
          six(0),
          "int32 sum over an empty dim",
        );
        await expectTensor(e.bool().all({ dim: 1 }), [2, 3], "bool", six(1), "all over an empty dim is true");
        await expectTensor(
          e.bool().any({ dim: 1 }),
          [2, 3],
          "bool",
          six(0),
          "any over an empty dim is false",
        );
        await expectTensor(e.all(), [], "bool", [1], "all of an empty tensor");
        await expectTensor(e.any(), [], "bool", [0], "any of an empty tensor");
        await expectTensor(
          e.sum({ dim: 2 }),
          [2, 0],
          "float32",
          [],
          "sum over a full dim of an empty tensor",
        );
        for (const [name, f] of [
          ["amax", () => e.amax({ dim: 1 })],
          ["max", () => e.max({ dim: 1 })],
          ["argmin", () => e.argmin({ dim: 1 })],
          ["max()", () => e.max()],
        ] as const) {
          let threw = false;
          try {
            f();
          } catch {
            threw = true;
          }
          assert(threw, `${name} over an empty dim must throw (there is no identity for max/min)`);
        }
      },
    },
    {
      name: "argmax and argmin: first of ties, NaN wins",
      async run(device) {
        const x = tensor(
          [
            [1, 3, 3, 2],
            [5, 5, 0, 0],
            [-1, -1, -1, -1],
          ],
          { device },
        );
        await expectTensor(
          x.argmax({ dim: 1 }),
          [3],
          defaultInt(device),
          [1, 0, 0],
          "argmax picks the first tie",
        );
        await expectTensor(
          x.argmin({ dim: 1 }),
          [3],
          defaultInt(device),
          [0, 2, 0],
          "argmin picks the first tie",
        );
        await expectTensor(
          x.t().argmax({ dim: 0 }),
          [3],
          defaultInt(device),
          [1, 0, 0],
          "argmax over a strided dim",
        );
        await expectTensor(x.argmax(), [], defaultInt(device), [4], "argmax of all (flat index)");
        await expectTensor(
          x.argmax({ dim: 0, keepdim: true }),
          [1, 4],
          defaultInt(device),
          [1, 1, 0, 0],
          "argmax keepdim",
        );
        const n = tensor([1, Number.NaN, 5, Number.NaN], { device });
        await expectTensor(n.argmax(), [], defaultInt(device), [1], "argmax: the first NaN wins");
        await expectTensor(n.argmin(), [], defaultInt(device), [1], "argmin: the first NaN wins");
        const m = n.max({ dim: 0 });
        await expectTensor(m.values, [], "float32", [Number.NaN], "max values with NaN");
        await expectTensor(m.indices, [], defaultInt(device), [1], "max indices with NaN");
        const f = tensor([-0, 0, -Infinity, Infinity], { dtype: W, device });
        await expectTensor(f.argmax(), [], defaultInt(device), [3], "argmax with infinities");
        await expectTensor(f.argmin(), [], defaultInt(device), [2], "argmin with infinities");
        await expectTensor(f.sum(), [], W, [Number.NaN], "inf + -inf is NaN", TOL[W]);
      },
    },
  ];
}

export function reductionCases(has: Supports): ConformanceCase[] {
  return [...scanCases(has), ...reduceCases(has)];
}
