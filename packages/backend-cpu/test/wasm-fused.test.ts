import {
  type BinaryOp,
  type DType,
  type Expr,
  registerBackend,
  setFusion,
  type TypedArray,
  tensor,
  type UnaryOp,
  type View,
} from "@cinder/tensor";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { elementwise } from "../src/fused";
import { cpu } from "../src/index";
import { setWasmFusedEnabled, WASM_FUSED_MIN, wasmFusedStats } from "../src/wasm/fused-wasm";
import { empty, view } from "./helpers";

beforeAll(() => registerBackend(cpu));
afterEach(() => {
  setWasmFusedEnabled(true);
  setFusion(true);
});

/** Values with every special case, then pseudo-random ones (some integers, some tiny, some huge). */
function data(n: number, seed: number, dtype: DType = "float32"): number[] {
  if (dtype === "bool") return Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 3 === 0 ? 1 : 0));
  const specials = [0, -0, 1, -1, 0.5, -2.5, 3.5, Number.NaN, Infinity, -Infinity, 1e-40, -1e-40, 3e38, 1e-7];
  let s = seed;
  return Array.from({ length: n }, (_, i) => {
    if (i < specials.length) return specials[(i + seed) % specials.length];
    s = (s * 1103515245 + 12345) % 2147483648;
    const r = s / 2147483648 - 0.5;
    return i % 5 === 0 ? Math.round(r * 8) : i % 7 === 0 ? r * 1e-3 : r * 10;
  });
}

const input = (index: number, dtype: DType = "float32"): Expr => ({ op: "input", index, dtype });
const un = (fn: UnaryOp, x: Expr, dtype: DType = "float32"): Expr => ({ op: "unary", fn, x, dtype });
const bin = (fn: BinaryOp, a: Expr, b: Expr, dtype: DType = "float32"): Expr => ({
  op: "binary",
  fn,
  a,
  b,
  dtype,
});
const num = (value: number, dtype: DType = "float32"): Expr => ({ op: "const", value, dtype });

/** The bits of a result, NaNs made canonical (WebAssembly leaves a NaN's sign and payload unspecified). */
function bits(v: View): number[] {
  const a = v.handle as TypedArray;
  if (v.dtype === "bool") return Array.from(a);
  const u = new Uint32Array(Float32Array.from(a as Float32Array).buffer);
  return Array.from(u, (x, i) => (Number.isNaN(a[i]) ? 0x7fc00000 : x));
}

const viewOf = (values: number[], shape: number[]): View => view("float32", values, shape);

/** Runs `expr` on the WASM path and on the JS renderer; expects the WASM path taken and the same bits. */
function same(expr: Expr, inputs: View[], outDtype: DType, n: number | number[]): void {
  const shape = typeof n === "number" ? [n] : n;
  const fast = empty(outDtype, shape);
  const before = wasmFusedStats.run;
  elementwise(expr, inputs, fast);
  expect(wasmFusedStats.run).toBe(before + 1);
  const slow = empty(outDtype, shape);
  setWasmFusedEnabled(false);
  elementwise(expr, inputs, slow);
  setWasmFusedEnabled(true);
  expect(bits(fast)).toEqual(bits(slow));
}

const N = 8192 * 2 + 7; // three blocks, the last one not a multiple of 4

describe("fused elementwise programs on WebAssembly SIMD", () => {
  const x = view("float32", data(N, 1));
  const y = view("float32", data(N, 5));
  const m = view("bool", data(N, 2, "bool"));

  it("runs every supported float32 unary op with the JS renderer's bits", () => {
    for (const fn of [
      "neg",
      "abs",
      "sqrt",
      "floor",
      "ceil",
      "trunc",
      "round",
      "relu",
      "square",
      "reciprocal",
    ] as const) {
      same(un(fn, input(0)), [x], "float32", N);
    }
  });

  it("runs every supported binary op, comparisons and logical ops with the JS renderer's bits", () => {
    for (const fn of ["add", "sub", "mul", "div", "maximum", "minimum"] as const)
      same(bin(fn, input(0), input(1)), [x, y], "float32", N);
    for (const fn of ["eq", "ne", "lt", "le", "gt", "ge"] as const) {
      same(bin(fn, input(0), input(1), "bool"), [x, y], "bool", N);
      same(bin(fn, input(0), input(0), "bool"), [x], "bool", N);
    }
    const m2 = view("bool", data(N, 4, "bool"));
    for (const fn of ["logicalAnd", "logicalOr", "logicalXor", "eq", "ne"] as const) {
      same(bin(fn, input(0, "bool"), input(1, "bool"), "bool"), [m, m2], "bool", N);
    }
    for (const fn of ["isnan", "isinf", "logicalNot"] as const)
      same(un(fn, input(0), "bool"), [x], "bool", N);
    same(un("logicalNot", input(0, "bool"), "bool"), [m], "bool", N);
  });

  it("runs where, casts, constants and broadcast scalars with the JS renderer's bits", () => {
    const where: Expr = { op: "where", cond: input(0, "bool"), a: input(1), b: num(-0), dtype: "float32" };
    same(where, [m, x], "float32", N);
    same({ op: "cast", x: input(0, "bool"), dtype: "float32" }, [m], "float32", N);
    same({ op: "cast", x: input(0), dtype: "bool" }, [x], "bool", N);
    // relu backward as autograd writes it: where(x > 0, g, 0)
    const gt0 = bin("gt", input(0), num(0), "bool");
    same({ op: "where", cond: gt0, a: input(1), b: num(0), dtype: "float32" }, [x, y], "float32", N);
    // a stride-0 input (a broadcast 0-dim tensor) and constants, NaN included
    const s = { ...view("float32", [2.5]), shape: [N], strides: [0] };
    same(bin("add", bin("mul", input(0), input(1)), num(Number.NaN)), [x, s], "float32", N);
    same(bin("sub", bin("mul", input(0), num(2)), input(1)), [x, s], "float32", N);
  });

  it("reads broadcast inputs run by run: a bias over a batch, a per-channel bias over pixels", () => {
    const relu = (e: Expr) => un("relu", e);
    const shape2 = [70, 130];
    const n2 = 70 * 130;
    const bias = view("float32", data(130, 3));
    const rows = { ...bias, shape: shape2, strides: [0, 1] };
    const reused = wasmFusedStats.runsReused;
    same(
      relu(bin("add", input(0), input(1))),
      [{ ...view("float32", data(n2, 2)), shape: shape2, strides: [130, 1] }, rows],
      "float32",
      shape2,
    );
    // every row after the first of a block copies the bias from its first copy in the module memory
    expect(wasmFusedStats.runsReused - reused).toBeGreaterThan(60);
    const shape4 = [5, 32, 11, 13];
    const n4 = 5 * 32 * 11 * 13;
    const ch = { ...view("float32", data(32, 4)), shape: shape4, strides: [0, 1, 0, 0] };
    const x4 = { ...view("float32", data(n4, 6)), shape: shape4, strides: [32 * 143, 143, 13, 1] };
    same(relu(bin("add", input(0), input(1))), [x4, ch], "float32", shape4);
    const mask = { ...view("bool", data(143, 1, "bool")), shape: shape4, strides: [0, 0, 13, 1] };
    same(
      { op: "where", cond: input(0, "bool"), a: input(1), b: num(0), dtype: "float32" },
      [mask, x4],
      "float32",
      shape4,
    );
    // runs shorter than 16 elements, and transposed inputs, stay on the JS renderer
    const before = wasmFusedStats.run;
    const short = { ...view("float32", data(8, 1)), shape: [n4 / 8, 8], strides: [0, 1] };
    elementwise(
      bin("add", input(0), input(1)),
      [{ ...x4, shape: [n4 / 8, 8], strides: [8, 1] }, short],
      empty("float32", [n4]),
    );
    const t = { ...view("float32", data(n2, 2)), shape: shape2, strides: [1, 70] };
    elementwise(un("neg", input(0)), [t], empty("float32", shape2));
    expect(wasmFusedStats.run).toBe(before);
  });

  it("runs long chains with shared subtrees (a DAG) as the JS renderer does", () => {
    const a = bin("mul", input(0), num(0.5));
    let e: Expr = bin("add", a, a);
    for (let i = 0; i < 10; i++) e = bin(i % 2 ? "maximum" : "sub", e, bin("mul", input(1), num(i + 0.25)));
    same(un("relu", e), [x, y], "float32", N);
  });

  it("sums a program's values in float64 lanes: the JS result up to float64 rounding before the float32 one", () => {
    const finite = view(
      "float32",
      data(N, 3).map((v) => (Number.isFinite(v) && Math.abs(v) < 1e30 ? v : 1)),
    );
    const e = un("relu", bin("add", bin("mul", input(0), num(2)), num(1)));
    const reduce = { op: "sum" as const, axes: [0], shape: [N] };
    const fast = empty("float32", [1]);
    const before = wasmFusedStats.run;
    elementwise(e, [finite], fast, reduce);
    expect(wasmFusedStats.run).toBe(before + 1);
    const slow = empty("float32", [1]);
    setWasmFusedEnabled(false);
    elementwise(e, [finite], slow, reduce);
    const f = (fast.handle as Float32Array)[0];
    const s = (slow.handle as Float32Array)[0];
    expect(Math.abs(f - s)).toBeLessThanOrEqual(Math.abs(s) * 2 ** -23);
    // integer values: exact in any order
    const ints = view(
      "float32",
      Array.from({ length: N }, (_, i) => (i % 17) - 8),
    );
    const out = [empty("float32", [1]), empty("float32", [1])];
    for (const [k, on] of [true, false].entries()) {
      setWasmFusedEnabled(on);
      elementwise(e, [ints], out[k], reduce);
    }
    expect(bits(out[0])).toEqual(bits(out[1]));
  });

  it("sums per run (a per-channel sum over batch and pixels), takes the backend's float32 sums and copies", () => {
    const shape = [5, 32, 11, 13];
    const n = 5 * 32 * 143;
    const x4 = view(
      "float32",
      data(n, 8).map((v) => (Number.isFinite(v) && Math.abs(v) < 1e30 ? v : 2)),
      shape,
    );
    const e = un("relu", bin("add", bin("mul", input(0), num(2)), num(1)));
    const run = (wasm: boolean, f: (out: View) => void, outShape: number[]) => {
      setWasmFusedEnabled(wasm);
      const out = empty("float32", outShape);
      const before = wasmFusedStats.run;
      f(out);
      expect(wasmFusedStats.run - before).toBe(wasm ? 1 : 0);
      return Array.from(out.handle as Float32Array);
    };
    const cases: [(out: View) => void, number[]][] = [
      [(out) => elementwise(e, [x4], out, { op: "sum", axes: [0, 2, 3], shape }), [1, 32, 1, 1]],
      [(out) => elementwise(e, [x4], out, { op: "sum", axes: [2, 3], shape }), [5, 32, 1, 1]],
      [(out) => cpu.reduce("sum", x4, [0, 2, 3], out), [1, 32, 1, 1]],
      [(out) => cpu.reduce("sum", x4, [0, 1, 2, 3], out), [1, 1, 1, 1]],
    ];
    for (const [f, outShape] of cases) {
      const fast = run(true, f, outShape);
      const slow = run(false, f, outShape);
      fast.forEach((v, i) => {
        expect(Math.abs(v - slow[i])).toBeLessThanOrEqual(Math.abs(slow[i]) * 2 ** -23);
      });
    }
    // a strided copy whose rows are runs (a [C, N, L] layout of [N, C, L]) and a cast
    const nchw = { ...x4, shape: [32, 5, 143], strides: [143, 32 * 143, 1] };
    const copies = [empty("float32", [32, 5, 143]), empty("float32", [32, 5, 143])];
    const casts = [empty("bool", [32, 5, 143]), empty("bool", [32, 5, 143])];
    for (const [k, on] of [true, false].entries()) {
      setWasmFusedEnabled(on);
      const before = wasmFusedStats.run;
      cpu.copy(nchw, copies[k]);
      cpu.copy(nchw, casts[k]);
      expect(wasmFusedStats.run - before).toBe(on ? 2 : 0);
    }
    expect(bits(copies[0])).toEqual(bits(copies[1]));
    expect(bits(casts[0])).toEqual(bits(casts[1]));
    setWasmFusedEnabled(true);
    // kept innermost axes (a bias gradient summed over the batch): float64 sums in the JS loop's order, same bits
    const rows = view("float32", data(70 * 130, 5), [70, 130]);
    const rowCases: [View, number[], number[]][] = [
      [rows, [0], [1, 130]],
      [x4, [0], [1, 32, 11, 13]],
      [x4, [0, 1], [1, 1, 11, 13]],
    ];
    for (const [x, axes, outShape] of rowCases) {
      const shape = x.shape as number[];
      const f = (out: View) => elementwise(e, [x], out, { op: "sum", axes, shape });
      expect(bits(viewOf(run(true, f, outShape), outShape))).toEqual(
        bits(viewOf(run(false, f, outShape), outShape)),
      );
    }
    // kept runs shorter than 16 elements stay on the JS loops
    setWasmFusedEnabled(true);
    const before = wasmFusedStats.run;
    cpu.reduce("sum", x4, [0, 1, 2], empty("float32", [1, 1, 1, 13]));
    expect(wasmFusedStats.run).toBe(before);
  });

  it("leaves what it does not support to the JS renderer", () => {
    const before = wasmFusedStats.run;
    const out = empty("float32", [N]);
    elementwise(un("exp", input(0)), [x], out); // transcendental
    elementwise(bin("mul", input(0), num(0.1)), [x], out); // 0.1 is not a float32: JS multiplies in float64
    const strided = { ...x, shape: [N >> 1], strides: [2] };
    elementwise(un("neg", input(0)), [strided], empty("float32", [N >> 1]));
    elementwise(
      un("neg", input(0, "float64"), "float64"),
      [view("float64", data(N, 1))],
      empty("float64", [N]),
    );
    const small = view("float32", data(WASM_FUSED_MIN - 1, 1));
    elementwise(un("neg", input(0)), [small], empty("float32", [WASM_FUSED_MIN - 1]));
    expect(wasmFusedStats.run).toBe(before);
    expect((out.handle as Float32Array)[20]).toBe(Math.fround((x.handle as Float32Array)[20] * 0.1));
  });

  it("takes the backend's version 1 calls too, in place included", () => {
    const a = view("float32", data(N, 7));
    const expected = (a.handle as Float32Array).map((v, i) => v + (y.handle as Float32Array)[i]);
    const before = wasmFusedStats.run;
    cpu.binary("add", a, y, a);
    cpu.unary("neg", a, a);
    cpu.where(m, a, y, a);
    expect(wasmFusedStats.run).toBe(before + 3);
    const got = a.handle as Float32Array;
    const mm = m.handle as Uint8Array;
    const wrong = got.findIndex((g, i) => {
      const want = mm[i] ? -expected[i] : (y.handle as Float32Array)[i];
      return !(Object.is(g, want) || (Number.isNaN(g) && Number.isNaN(want)));
    });
    expect(wrong).toBe(-1);
  });

  it("leaves in-place ops whose input overlaps the output shifted to the JS loop", () => {
    const run = (on: boolean) => {
      setWasmFusedEnabled(on);
      const a = view("float32", data(N, 3));
      const before = wasmFusedStats.run;
      cpu.binary(
        "add",
        { ...a, shape: [N - 1], offset: 1 },
        { ...a, shape: [N - 1] },
        { ...a, shape: [N - 1], offset: 1 },
      );
      expect(wasmFusedStats.run).toBe(before);
      return bits(a);
    };
    expect(run(true)).toEqual(run(false));
  });

  it("gives tensors the same values with and without it, with fusion on and off", () => {
    const t = tensor(data(5000, 9).map((v) => (Number.isFinite(v) ? v : 0)));
    const run = () => {
      const h = t.mul(2).add(1).relu();
      return [
        ...(h.toArray() as number[]),
        Number(h.sum().item()),
        Number(t.gt(0).float().mul(t).sum().item()),
      ];
    };
    const fast = run();
    setFusion(false);
    const unfused = run();
    setFusion(true);
    setWasmFusedEnabled(false);
    const slow = run();
    expect(fast.slice(0, 5000)).toEqual(slow.slice(0, 5000));
    expect(unfused.slice(0, 5000)).toEqual(slow.slice(0, 5000));
    for (const k of [5000, 5001]) {
      expect(fast[k]).toBeCloseTo(slow[k], 1);
      expect(unfused[k]).toBeCloseTo(slow[k], 1);
    }
  });
});
