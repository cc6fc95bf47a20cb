/**
 * The backend conformance suite. A backend author registers a backend and runs every case against its device:
 *
 *   import { conformanceCases } from "@cinder/tensor/testing";
 *   registerBackend(myBackend);
 *   for (const c of conformanceCases()) test(c.name, () => c.run("mydevice"));
 *
 * Each case builds tensors through the public API (so the core's dispatch, broadcasting and dtype rules are
 * exercised too), reads results back asynchronously, and compares them with the op table's reference scalar
 * functions evaluated in float64 on the same inputs, or with values worked out by hand. Besides every unary and
 * binary op in every dtype and layout, the cases cover casts between every dtype pair, fill, integer wrap-around,
 * 0-dim and zero-size tensors in every primitive, scans, reductions over several and over empty axes,
 * argmax/argmin tie and NaN rules, where/gather/scatter/sort on strided inputs, matmul in every dtype, the random
 * streams and their distributions, asynchronous reads of strided views, and the optional fused optimizer
 * updates and fused elementwise programs (protocol version 2) when a backend has them (conformance/*.ts).
 * Framework-agnostic: a failing case throws an Error. A backend without float64 passes
 * `conformanceCases({ dtypes: [...] })`.
 */
import type { BinaryOp, UnaryOp } from "./backend";
import { BINARY_OPS, UNARY_OPS } from "./backend";
import { fusionCases } from "./conformance/fusion";
import { indexingCases } from "./conformance/indexing";
import { optimCases } from "./conformance/optim";
import { reductionCases } from "./conformance/reductions";
import { storageCases } from "./conformance/storage";
import {
  assertClose,
  assertShape,
  type ConformanceCase,
  data,
  logical,
  roundTo as round32,
  SPECIAL,
  type Supports,
  TOL,
  toDtypeArray,
} from "./conformance/support";
import { windowCases } from "./conformance/windows";
import type { DType, TypedArray } from "./dtype";
import { BASE_DTYPES, isComplex, isFloat } from "./dtype";
import { installMethods } from "./methods";
import { arange, tensor } from "./ops/creation";
import { accepts, binaryOps, unaryOps } from "./ops/elementwise";
import { randomNormal, randomUniform, seedKey } from "./random";
import type { Tensor } from "./tensor";

installMethods();

export { assertClose, type ConformanceCase, type Tolerance } from "./conformance/support";

/** The layouts every elementwise case is run on: contiguous, transposed, broadcast, offset slice, empty. */
function layouts(device: string, values: number[], dtype: DType): { name: string; t: Tensor }[] {
  const n = values.length;
  const base = tensor(toDtypeArray(values, dtype), { dtype, device });
  const out = [{ name: "contiguous", t: base }];
  if (n % 4 === 0) out.push({ name: "transposed", t: base.reshape(4, n / 4).t() });
  out.push({ name: "offset-slice", t: base.at("1::2") });
  out.push({ name: "broadcast", t: base.at("0:1").expand(3, 1).reshape(3) });
  out.push({ name: "empty", t: base.at("0:0") });
  return out;
}

function domain(op: UnaryOp): [number, number] {
  switch (op) {
    case "sqrt":
    case "rsqrt":
    case "log":
    case "log2":
      return [0.01, 10];
    case "log1p":
      return [-0.9, 10];
    case "asin":
    case "acos":
    case "atanh":
      return [-0.99, 0.99];
    case "acosh":
      return [1.01, 10];
    case "log10":
      return [0.01, 10];
    case "erfinv":
      return [-0.99, 0.99];
    case "exp":
    case "expm1":
      return [-20, 20];
    default:
      return [-5, 5];
  }
}

function unaryCases(has: Supports): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const op of UNARY_OPS) {
    const def = unaryOps[op];
    const dtypes: DType[] =
      def.kind === "bool"
        ? ["float32", "int32", "bool"]
        : def.only === "integral"
          ? ["int32", "uint8", "bool", "int16", "int8"]
          : ["float32", "float64", "int32", "int16", "int8"];
    for (const dtype of dtypes.filter(has)) {
      cases.push({
        name: `unary ${op} ${dtype}`,
        async run(device) {
          const [lo, hi] = domain(op);
          const vals = isFloat(dtype)
            ? [...SPECIAL, ...data(36, 1, lo, hi)]
            : data(48, 2, -20, 20, true).map((v) =>
                dtype === "bool" ? v & 1 : dtype === "uint8" ? v & 255 : v,
              );
          for (const { name, t } of layouts(device, vals, dtype)) {
            const y = (t as unknown as Record<UnaryOp, () => Tensor>)[op]();
            const xs = await logical(t);
            const outDtype = y.dtype;
            // bitwise_not of bool is the logical not (the core runs logicalNot there)
            const ref = op === "bitwiseNot" && dtype === "bool" ? unaryOps.logicalNot.ref : def.ref;
            const exp = xs.map((v) => round32(ref(v), outDtype));
            assertClose(await logical(y), exp, TOL[outDtype], `${op}(${dtype}, ${name})`);
          }
        },
      });
    }
  }
  return cases;
}

const isSignedInt = (d: DType) => d === "int32" || d === "int16" || d === "int8";

function binaryCases(has: Supports): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const op of BINARY_OPS) {
    const def = binaryOps[op];
    // ops restricted to some dtypes (hypot: floats; bitwise ops: integers and bool) run on those only
    const dtypes: DType[] =
      def.only && def.only !== "float"
        ? ["int32", "uint8", "bool", "int16", "int8"]
        : ["float32", "float64", "int32", "int16", "int8"];
    for (const dtype of dtypes.filter((d) => has(d) && accepts(def.only, d))) {
      if (isSignedInt(dtype) && (op === "pow" || op === "remainder" || op === "fmod" || op === "floorDivide"))
        continue;
      cases.push({
        name: `binary ${op} ${dtype}`,
        async run(device) {
          const ints = !isFloat(dtype);
          const av = ints ? data(24, 3, -50, 50, true) : [...SPECIAL, ...data(12, 3, -4, 4)];
          const bv = ints
            ? data(24, 4, -50, 50, true)
            : [...SPECIAL.slice().reverse(), ...data(12, 4, -4, 4)];
          // uint8 and bool operands: their own range (logical() reads them back as stored)
          if (dtype === "uint8" || dtype === "bool") {
            const m = dtype === "bool" ? 1 : 255;
            for (let i = 0; i < av.length; i++) [av[i], bv[i]] = [av[i] & m, bv[i] & m];
          }
          if (op === "pow" && !ints)
            for (let i = 0; i < bv.length; i++) if (Number.isFinite(bv[i])) bv[i] = Math.round(bv[i] * 2) / 2;
          const a = tensor(toDtypeArray(av, dtype), { dtype, device });
          const b = tensor(toDtypeArray(bv, dtype), { dtype, device });
          // same shape; broadcast row against column; scalar operand
          const variants: [string, Tensor, Tensor | number][] = [
            ["same-shape", a, b],
            ["broadcast", a.reshape(24, 1).at("0:4"), b.reshape(1, 24)],
            ["transposed", a.reshape(4, 6).t(), b.reshape(6, 4)],
            // torch.hypot takes a Tensor `other` only: a one-element tensor stands for the number there
            ["scalar", a, op === "hypot" ? b.at("0:1") : 3],
          ];
          for (const [name, x, w] of variants) {
            const y = (x as unknown as Record<BinaryOp, (o: Tensor | number) => Tensor>)[op](w);
            const xs = await logical(x.expand(y.shape));
            const ws = typeof w === "number" ? xs.map(() => w) : await logical(w.expand(y.shape));
            const exp = xs.map((v, i) => round32(def.ref(v, ws[i]), y.dtype));
            assertShape(y, y.shape, op);
            assertClose(await logical(y), exp, TOL[y.dtype], `${op}(${dtype}, ${name})`);
          }
        },
      });
    }
  }
  return cases;
}

function refReduce(xs: number[], shape: number[], dim: number, f: (acc: number[]) => number): number[] {
  const outer = shape.slice(0, dim).reduce((p, d) => p * d, 1);
  const n = shape[dim];
  const inner = shape.slice(dim + 1).reduce((p, d) => p * d, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const run: number[] = [];
      for (let k = 0; k < n; k++) run.push(xs[(o * n + k) * inner + i]);
      out.push(f(run));
    }
  }
  return out;
}

function otherCases(): ConformanceCase[] {
  const f32 = TOL.float32;
  const red: [string, (r: number[]) => number, (t: Tensor, d: number) => Tensor][] = [
    ["sum", (r) => r.reduce((a, b) => a + b, 0), (t, d) => t.sum({ dim: d })],
    ["prod", (r) => r.reduce((a, b) => a * b, 1), (t, d) => t.prod({ dim: d })],
    ["max", (r) => Math.max(...r), (t, d) => t.amax({ dim: d })],
    ["mean", (r) => r.reduce((a, b) => a + b, 0) / r.length, (t, d) => t.mean({ dim: d })],
    ["argmax", (r) => r.indexOf(Math.max(...r)), (t, d) => t.argmax({ dim: d })],
    ["argmin", (r) => r.indexOf(Math.min(...r)), (t, d) => t.argmin({ dim: d })],
    ["cumsum-last", (r) => r.reduce((a, b) => a + b, 0), (t, d) => t.cumsum(d).select(d, -1)],
  ];
  const cases: ConformanceCase[] = red.map(([name, f, run]) => ({
    name: `reduce ${name}`,
    async run(device) {
      const shape = [3, 5, 4];
      const xs = toDtypeArray(data(60, 5, -2, 2), "float32");
      const x = tensor(xs, { device }).reshape(shape);
      for (const dim of [0, 1, 2]) {
        const y = run(x, dim);
        assertClose(await logical(y), refReduce(xs, shape, dim, f), f32, `${name} over dim ${dim}`);
        const yt = run(x.transpose(0, 2).contiguous().transpose(0, 2), dim);
        assertClose(
          await logical(yt),
          refReduce(xs, shape, dim, f),
          f32,
          `${name} over dim ${dim} (strided input)`,
        );
      }
    },
  }));
  cases.push({
    name: "add and sub with alpha (the optimizers' fused path), in place and broadcast",
    async run(device) {
      const xs = [0.5, -1.25, 2, 4, -8, 0.75];
      const ys = [1, 2, -3, 0.5, 0.25, -4];
      const x = tensor(xs, { device }).reshape(2, 3);
      const y = tensor(ys, { device }).reshape(2, 3);
      const exp = (alpha: number) => xs.map((v, i) => Math.fround(v + alpha * ys[i]));
      assertClose(await logical(x.add(y, { alpha: 0.5 })), exp(0.5), TOL.float32, "add alpha");
      assertClose(await logical(x.sub(y, { alpha: 2 })), exp(-2), TOL.float32, "sub alpha");
      const row = tensor([1, 2, 3], { device, dtype: "float32" });
      assertClose(
        await logical(x.add(row, { alpha: -1 })),
        xs.map((v, i) => v - (i % 3) - 1),
        TOL.float32,
        "add alpha, broadcast",
      );
      const z = x.clone();
      z.add_(y, { alpha: -0.25 });
      assertClose(await logical(z), exp(-0.25), TOL.float32, "add_ alpha in place");
    },
  });
  cases.push({
    name: "matmul shapes and layouts",
    async run(device) {
      for (const [m, k, n] of [
        [1, 1, 1],
        [3, 4, 5],
        [17, 33, 9],
        [64, 1, 3],
        [2, 0, 3],
      ]) {
        const av = toDtypeArray(data(m * k, 6, -1, 1), "float32");
        const bv = toDtypeArray(data(k * n, 7, -1, 1), "float32");
        const exp: number[] = [];
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += av[i * k + p] * bv[p * n + j];
            exp.push(s);
          }
        const a = tensor(av, { device }).reshape(m, k);
        const b = tensor(bv, { device }).reshape(k, n);
        const tol = { rtol: 1e-4, atol: 1e-5 };
        assertClose(await logical(a.matmul(b)), exp, tol, `matmul ${m}x${k}x${n}`);
        assertClose(
          await logical(a.t().contiguous().t().matmul(b.t().contiguous().t())),
          exp,
          tol,
          `matmul transposed operands ${m}x${k}x${n}`,
        );
        assertClose(
          await logical(a.expand(2, m, k).matmul(b)),
          [...exp, ...exp],
          tol,
          `batched broadcast matmul ${m}x${k}x${n}`,
        );
      }
    },
  });
  cases.push({
    name: "gather, scatter, indexing",
    async run(device) {
      const x = arange(12, { device }).reshape(3, 4);
      const idx = tensor(
        [
          [3, 0],
          [1, 1],
          [0, 2],
        ],
        { device },
      );
      assertClose(await logical(x.gather(1, idx)), [3, 0, 5, 5, 8, 10], TOL.int32, "gather");
      const z = x.mul(0).scatterAdd(1, idx, x.at(":", "0:2"));
      assertClose(await logical(z), [1, 0, 0, 0, 0, 9, 0, 0, 8, 0, 9, 0], TOL.int32, "scatterAdd");
      assertClose(await logical(x.at([0, 2], [1, 3])), [1, 11], TOL.int32, "advanced indexing");
      assertClose(await logical(x.at(":", "1:4:2")), [1, 3, 5, 7, 9, 11], TOL.int32, "strided slice");
    },
  });
  cases.push({
    name: "sort and where and cast",
    async run(device) {
      const v = [3, 1, Number.NaN, 2, 1, -Number.POSITIVE_INFINITY];
      const s = tensor(v, { device }).sort();
      assertClose(
        await logical(s.values),
        [-Number.POSITIVE_INFINITY, 1, 1, 2, 3, Number.NaN],
        TOL.float32,
        "sort values",
      );
      assertClose(await logical(s.indices), [5, 1, 4, 3, 0, 2], TOL.int32, "sort indices (stable)");
      const w = tensor([1, 2, 3], { device }).where(tensor([true, false, true], { device }), 0);
      assertClose(await logical(w), [1, 0, 3], TOL.int32, "where");
      const c = tensor([-1.7, 0, 2.9, 300], { device }).to("int32");
      assertClose(await logical(c), [-1, 0, 2, 300], TOL.int32, "float to int truncates");
      const bo = tensor([-1.7, 0, 2.9, Number.NaN], { device }).to("bool");
      assertClose(await logical(bo), [1, 0, 1, 1], TOL.bool, "float to bool");
    },
  });
  cases.push({
    name: "random streams are backend independent",
    async run(device) {
      const { manualSeed, rand, randn } = await import("./ops/sampling");
      manualSeed(1234);
      const u = await logical(rand(7, { device }));
      const g = await logical(randn(5, { device }));
      const key = seedKey(1234);
      assertClose(
        u,
        Array.from({ length: 7 }, (_, i) => Math.fround(randomUniform(key, i))),
        f32,
        "rand stream",
      );
      assertClose(
        g,
        Array.from({ length: 5 }, (_, i) => Math.fround(randomNormal(key, 7 + i))),
        { rtol: 1e-5, atol: 1e-5 },
        "randn stream",
      );
    },
  });
  cases.push({
    name: "softmax and logSoftmax",
    async run(device) {
      const xs = toDtypeArray(data(12, 8, -30, 30), "float32");
      const x = tensor(xs, { device }).reshape(3, 4);
      const exp: number[] = [];
      const lexp: number[] = [];
      for (let r = 0; r < 3; r++) {
        const row = xs.slice(r * 4, r * 4 + 4);
        const m = Math.max(...row);
        const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
        for (const v of row) {
          exp.push(Math.exp(v - m) / s);
          lexp.push(v - m - Math.log(s));
        }
      }
      assertClose(await logical(x.softmax(1)), exp, f32, "softmax");
      assertClose(await logical(x.logSoftmax(-1)), lexp, { rtol: 1e-5, atol: 1e-5 }, "logSoftmax");
      assertClose(await logical(x.t().softmax(0).t()), exp, f32, "softmax over a strided dim");
    },
  });
  return cases;
}

/** Options of `conformanceCases()`. */
export interface ConformanceOptions {
  /**
   * The dtypes the backend stores, its `Backend.dtypes` (default: `BASE_DTYPES`, what a backend that does not
   * list its dtypes is taken to store; the CPU backend passes its list to include int8 and int16). Cases, and parts of cases, that need another dtype
   * are left out; float64 data falls back to float32 where the values are exact in both. A WebGPU backend, which
   * has no float64, passes `{ dtypes: ["float32", "int32", "uint8", "bool"] }`.
   */
  dtypes?: readonly DType[];
}

/** Every conformance case for a backend that stores `options.dtypes`. */
export function conformanceCases(options: ConformanceOptions = {}): ConformanceCase[] {
  const dtypes = options.dtypes ?? BASE_DTYPES;
  // complex dtypes are not run through the real primitives' cases: complex views have their own tests (tests/test)
  const has: Supports = (d) => dtypes.includes(d) && !isComplex(d);
  return [
    ...unaryCases(has),
    ...binaryCases(has),
    ...otherCases(),
    ...storageCases(has),
    ...reductionCases(has),
    ...indexingCases(has),
    ...optimCases(has),
    ...windowCases(),
    ...fusionCases(has),
  ];
}

export type { TypedArray };
