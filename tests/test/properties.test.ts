/**
 * Property tests (fast-check, seeded): random shapes (zero-size dims included), random dtypes and random
 * memory layouts (contiguous, permuted, strided with an offset), compared with the element-by-element
 * reference in support/reference.ts. Elementwise ops, reductions and view chains run on "cpu" and on the
 * async-only "naive" backend; indexing runs on "cpu" (boolean masks need a synchronous read).
 */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { NaiveBackend } from "./support/naive-backend";
import * as R from "./support/reference";

torch.registerBackend(cpu);
torch.registerBackend(new NaiveBackend());
afterAll(() => torch.unregisterBackend("naive"));

const RUNS = 150;
const DEVICES = ["cpu", "naive"] as const;
type DType = torch.DType;

// ---------------------------------------------------------------------------------------------- helpers

const isFloat = (d: DType) => d === "float32" || d === "float64";

/** The value a slot of `dtype` holds for `v`. */
function roundTo(v: number, dtype: DType): number {
  if (dtype === "float32") return Math.fround(v);
  if (dtype === "int32") return v | 0;
  if (dtype === "uint8") return v & 255;
  if (dtype === "bool") return v !== 0 ? 1 : 0;
  return v;
}

/** A small deterministic shuffle, so layouts follow from one integer drawn by fast-check. */
function permutation(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

export type Layout = { kind: "contiguous" | "permuted" | "strided"; seed: number };
const layoutArb: fc.Arbitrary<Layout> = fc.record({
  kind: fc.constantFrom("contiguous" as const, "permuted" as const, "strided" as const),
  seed: fc.nat(),
});

/** A tensor holding `ref` in the given memory layout (the logical values are the same in every layout). */
function build(ref: R.Nd, dtype: DType, layout: Layout, device: string): torch.Tensor {
  const make = (nd: R.Nd) => torch.tensor(nd.data, { dtype, device }).reshape(nd.shape);
  if (layout.kind === "permuted" && ref.shape.length >= 2) {
    // store the elements permuted by p, then permute back with p's inverse
    const p = permutation(ref.shape.length, layout.seed);
    const inv: number[] = [];
    p.forEach((d, i) => {
      inv[d] = i;
    });
    return make(R.permute(ref, p)).permute(inv);
  }
  if (layout.kind === "strided") {
    // every element at an odd position of a tensor twice (plus one) as large in each dim
    const big = R.fromFn(
      ref.shape.map((d) => 2 * d + 1),
      (idx) =>
        idx.every((i) => i % 2 === 1)
          ? R.get(
              ref,
              idx.map((i) => (i - 1) / 2),
            )
          : 99,
    );
    return make(big).at(...ref.shape.map(() => "1::2" as const));
  }
  return make(ref);
}

/** Read asynchronously (works on every device). */
async function read(t: torch.Tensor): Promise<R.Nested> {
  return t.toArrayAsync() as Promise<R.Nested>;
}

function close(actual: R.Nested, expected: R.Nested, rtol: number, path = "value"): string | null {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
    }
    for (let i = 0; i < expected.length; i++) {
      const m = close(actual[i], expected[i], rtol, `${path}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (typeof expected === "boolean" || typeof actual === "boolean") {
    return actual === expected ? null : `${path}: expected ${expected}, got ${actual}`;
  }
  const a = actual as number;
  if (Number.isNaN(expected)) return Number.isNaN(a) ? null : `${path}: expected NaN, got ${a}`;
  if (a === expected || Math.abs(a - expected) <= rtol * Math.abs(expected)) return null;
  return `${path}: expected ${expected}, got ${a}`;
}

async function expectTensor(t: torch.Tensor, ref: R.Nd, dtype: DType, rtol = 0): Promise<void> {
  expect([...t.shape]).toEqual(ref.shape);
  expect(t.dtype).toBe(dtype);
  expect(close(await read(t), R.toNested(ref, dtype === "bool"), rtol)).toBeNull();
}

// ---------------------------------------------------------------------------------------------- arbitraries

const dimArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) },
);
const shapeArb = (maxRank = 4) => fc.array(dimArb, { maxLength: maxRank });

const valueArb = (dtype: DType): fc.Arbitrary<number> => {
  switch (dtype) {
    case "bool":
      return fc.constantFrom(0, 1);
    case "uint8":
      return fc.integer({ min: 0, max: 255 });
    case "int32":
      return fc.integer({ min: -9, max: 9 });
    default:
      return fc.oneof(
        { weight: 12, arbitrary: fc.integer({ min: -8, max: 8 }).map((v) => v / 2) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
        },
      );
  }
};

const ndArb = (shape: readonly number[], dtype: DType): fc.Arbitrary<R.Nd> =>
  fc
    .array(valueArb(dtype), { minLength: R.numel(shape), maxLength: R.numel(shape) })
    .map((data) => ({ shape: [...shape], data: data.map((v) => roundTo(v, dtype)) }));

const tensorArb = (dtypes: readonly DType[], maxRank = 4) =>
  fc
    .tuple(shapeArb(maxRank), fc.constantFrom(...dtypes), layoutArb)
    .chain(([shape, dtype, layout]) => ndArb(shape, dtype).map((ref) => ({ ref, dtype, layout })));

/** An operand shape that broadcasts to `out`: some leading dims dropped, some dims set to 1. */
const operandShapeArb = (out: readonly number[]) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
    )
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));

// ---------------------------------------------------------------------------------------------- elementwise

type Kind = "same" | "float" | "bool";
const UNARY: Record<string, [Kind, (x: number) => number]> = {
  neg: ["same", (x) => -x],
  abs: ["same", Math.abs],
  square: ["same", (x) => x * x],
  relu: ["same", (x) => Math.max(x, 0)],
  floor: ["same", Math.floor],
  ceil: ["same", Math.ceil],
  trunc: ["same", Math.trunc],
  round: ["same", (x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x))],
  sign: ["same", (x) => (x > 0 ? 1 : x < 0 ? -1 : 0)],
  exp: ["float", Math.exp],
  expm1: ["float", Math.expm1],
  log: ["float", Math.log],
  log1p: ["float", Math.log1p],
  sqrt: ["float", Math.sqrt],
  sin: ["float", Math.sin],
  tanh: ["float", Math.tanh],
  sigmoid: ["float", (x) => 1 / (1 + Math.exp(-x))],
  reciprocal: ["float", (x) => 1 / x],
  isnan: ["bool", (x) => (Number.isNaN(x) ? 1 : 0)],
  logicalNot: ["bool", (x) => (x === 0 ? 1 : 0)],
};

const RANK: Record<string, number> = { bool: 0, uint8: 1, int32: 2, float32: 3, float64: 4 };
const promote = (a: DType, b: DType) => (RANK[a] >= RANK[b] ? a : b);
const category = (d: DType) => (d === "bool" ? 0 : isFloat(d) ? 2 : 1);
const PRIORITY = { tensor: 2, "scalar-tensor": 1, number: 0 } as const;
interface Operand {
  dtype: DType;
  kind: keyof typeof PRIORITY;
}

/**
 * PyTorch's result_type for two operands, written from its documentation: dimensioned tensors beat 0-dim
 * tensors, which beat numbers, unless the lower-priority operand is of a higher category (bool < int < float);
 * a float number then gives the default dtype float32.
 */
function resultDtype(a: Operand, b: Operand): DType {
  if (a.kind === b.kind) return promote(a.dtype, b.dtype);
  const [hi, lo] = PRIORITY[a.kind] > PRIORITY[b.kind] ? [a, b] : [b, a];
  if (category(lo.dtype) <= category(hi.dtype)) return hi.dtype;
  // an integer number over a bool tensor gives the default integer (the number's dtype: int64 or int32)
  return lo.kind === "number" ? (isFloat(lo.dtype) ? "float32" : lo.dtype) : promote(hi.dtype, lo.dtype);
}

type BinKind = "arith" | "float" | "compare";
const BINARY: Record<string, [BinKind, (a: number, b: number) => number, boolean?]> = {
  add: ["arith", (a, b) => a + b],
  sub: ["arith", (a, b) => a - b],
  mul: ["arith", (a, b) => a * b],
  div: ["float", (a, b) => a / b],
  maximum: ["arith", (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b))],
  minimum: ["arith", (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b))],
  atan2: ["float", Math.atan2],
  pow: ["arith", (a, b) => (a === 1 ? 1 : a ** b), true],
  remainder: [
    "arith",
    (a, b) => (((a % b) + b) % b === 0 ? 0 * b : a % b !== 0 && a % b < 0 !== b < 0 ? (a % b) + b : a % b),
    true,
  ],
  eq: ["compare", (a, b) => +(a === b)],
  ne: ["compare", (a, b) => +(a !== b)],
  lt: ["compare", (a, b) => +(a < b)],
  ge: ["compare", (a, b) => +(a >= b)],
  logicalAnd: ["compare", (a, b) => +(a !== 0 && b !== 0)],
  logicalXor: ["compare", (a, b) => +((a !== 0) !== (b !== 0))],
};

describe.each(DEVICES)("elementwise properties on %s", (device) => {
  it("unary ops match the reference on any shape, dtype and layout", async () => {
    const arb = fc.tuple(tensorArb(["float32", "float64", "int32"]), fc.constantFrom(...Object.keys(UNARY)));
    await fc.assert(
      fc.asyncProperty(arb, async ([{ ref, dtype, layout }, op]) => {
        const [kind, f] = UNARY[op];
        const outDtype: DType =
          kind === "bool" ? "bool" : kind === "float" && !isFloat(dtype) ? "float32" : dtype;
        const x = build(ref, dtype, layout, device);
        const y = (x as unknown as Record<string, () => torch.Tensor>)[op]();
        const rtol = outDtype === "float32" ? 1e-6 : outDtype === "float64" ? 1e-13 : 0;
        await expectTensor(
          y,
          R.map(ref, (v) => roundTo(f(v), outDtype)),
          outDtype,
          rtol,
        );
      }),
      { numRuns: RUNS, seed: 101 },
    );
  });

  it("binary ops broadcast and promote like PyTorch, with tensor or JS-number operands", async () => {
    const arb = fc
      .tuple(shapeArb(), fc.constantFrom(...Object.keys(BINARY)))
      .chain(([out, op]) =>
        fc.tuple(
          fc.constant(op),
          operandShapeArb(out),
          operandShapeArb(out),
          fc.constantFrom<DType[]>("float32", "float64", "int32", "uint8", "bool"),
          fc.constantFrom<DType[]>("float32", "float64", "int32", "uint8", "bool"),
          layoutArb,
          layoutArb,
          fc.oneof(fc.constant(null), fc.integer({ min: -4, max: 4 }), fc.constantFrom(0.5, -2.5)),
        ),
      )
      .chain(([op, sa, sb, da, db, la, lb, number]) =>
        fc.tuple(fc.constant({ op, da, db, la, lb, number }), ndArb(sa, da), ndArb(sb, db)),
      );
    await fc.assert(
      fc.asyncProperty(arb, async ([{ op, da, db, la, lb, number }, ra, rb]) => {
        const [kind, f, floatOnly] = BINARY[op];
        const opB: Operand =
          number === null
            ? { dtype: db, kind: rb.shape.length ? "tensor" : "scalar-tensor" }
            : {
                dtype: Number.isInteger(number) ? torch.defaultIntDtype(torch.getBackend(device)) : "float32",
                kind: "number",
              };
        let compute = resultDtype({ dtype: da, kind: ra.shape.length ? "tensor" : "scalar-tensor" }, opB);
        if (kind === "float" && !isFloat(compute)) compute = "float32";
        fc.pre(!floatOnly || isFloat(compute));
        const outDtype: DType = kind === "compare" ? "bool" : compute;
        const a = build(ra, da, la, device);
        const b = number === null ? build(rb, db, lb, device) : number;
        const rbc: R.Nd = number === null ? rb : { shape: [], data: [number] };
        const expected = R.zip(ra, rbc, (x, y) =>
          roundTo(f(roundTo(x, compute), roundTo(y, compute)), outDtype),
        );
        const y = (a as unknown as Record<string, (o: torch.Tensor | number) => torch.Tensor>)[op](b);
        const rtol = outDtype === "float32" ? 1e-6 : outDtype === "float64" ? 1e-13 : 0;
        await expectTensor(y, expected, outDtype, rtol);
      }),
      { numRuns: RUNS * 2, seed: 102 },
    );
  });
});

// ---------------------------------------------------------------------------------------------- reductions

const sumOf = (r: number[]) => r.reduce((a, b) => a + b, 0);
const firstBest = (r: number[], better: (v: number, best: number) => boolean) => {
  let k = 0;
  for (let i = 1; i < r.length; i++)
    if (!Number.isNaN(r[k]) && (Number.isNaN(r[i]) || better(r[i], r[k]))) k = i;
  return k;
};
const argmaxOf = (r: number[]) => firstBest(r, (v, b) => v > b);
const argminOf = (r: number[]) => firstBest(r, (v, b) => v < b);

describe.each(DEVICES)("reduction properties on %s", (device) => {
  const arb = fc
    .tuple(
      tensorArb(["float32", "int32", "bool"]),
      fc.boolean(),
      fc.nat(),
      fc.constantFrom("all", "some", "one"),
    )
    .map(([t, keepdim, pick, mode]) => {
      const n = t.ref.shape.length;
      const dims =
        mode === "all" || n === 0
          ? undefined
          : mode === "one"
            ? [pick % n]
            : [...new Set(permutation(n, pick).slice(0, 1 + (pick % n)))].sort((a, b) => a - b);
      return { ...t, keepdim, dims };
    });

  it("sum, mean, prod, amax, all, any over random dims, keepdim", async () => {
    await fc.assert(
      fc.asyncProperty(arb, async ({ ref, dtype, layout, keepdim, dims }) => {
        const x = build(ref, dtype, layout, device);
        const rd = dims ?? ref.shape.map((_, i) => i);
        const opts = { dim: dims, keepdim };
        const acc: DType = isFloat(dtype) ? dtype : torch.defaultIntDtype(x.backend);
        await expectTensor(x.sum(opts), R.reduce(ref, rd, keepdim, sumOf), acc, 1e-6);
        if (isFloat(dtype)) {
          await expectTensor(
            x.mean(opts),
            R.reduce(ref, rd, keepdim, (r) => roundTo(sumOf(r) / r.length, dtype)),
            dtype,
            1e-6,
          );
        }
        if (dims === undefined || dims.length === 1) {
          const prodRef = R.reduce(ref, rd, keepdim, (r) => r.reduce((p, v) => roundTo(p * v, acc), 1));
          await expectTensor(x.prod({ dim: dims?.[0], keepdim }), prodRef, acc, 1e-6);
        }
        const emptyReduced = rd.some((d) => ref.shape[d] === 0);
        if (emptyReduced) expect(() => x.amax(opts)).toThrow(/non-zero size/);
        else {
          const maxRef = R.reduce(ref, rd, keepdim, (r) =>
            r.some(Number.isNaN) ? Number.NaN : Math.max(...r),
          );
          await expectTensor(x.amax(opts), maxRef, dtype);
        }
        const allRef = R.reduce(ref, rd, keepdim, (r) => +r.every((v) => v !== 0));
        const anyRef = R.reduce(ref, rd, keepdim, (r) => +r.some((v) => v !== 0));
        const dim1 = dims?.length === 1 ? dims[0] : undefined;
        if (dims === undefined || dim1 !== undefined) {
          await expectTensor(x.all({ dim: dim1, keepdim }), allRef, "bool");
          await expectTensor(x.any({ dim: dim1, keepdim }), anyRef, "bool");
        }
      }),
      { numRuns: RUNS, seed: 201 },
    );
  });

  it("max/min with indices and argmax/argmin along one dim: first of ties, NaN wins", async () => {
    await fc.assert(
      fc.asyncProperty(
        arb.filter((t) => t.ref.shape.length > 0),
        fc.nat(),
        async ({ ref, dtype, layout, keepdim }, pick) => {
          const dim = pick % ref.shape.length;
          const x = build(ref, dtype, layout, device);
          if (ref.shape[dim] === 0) {
            expect(() => x.max({ dim })).toThrow(/zero-size dimension/);
            expect(() => x.argmin({ dim })).toThrow(/zero-size dimension/);
            return;
          }
          for (const [name, argOf] of [
            ["max", argmaxOf],
            ["min", argminOf],
          ] as const) {
            const idx = R.reduce(ref, [dim], keepdim, argOf);
            const vals = R.reduce(ref, [dim], keepdim, (r) => r[argOf(r)]);
            const r = name === "max" ? x.max({ dim, keepdim }) : x.min({ dim, keepdim });
            await expectTensor(r.values, vals, dtype);
            await expectTensor(r.indices, idx, torch.defaultIntDtype(x.backend));
            const a = name === "max" ? x.argmax({ dim, keepdim }) : x.argmin({ dim, keepdim });
            await expectTensor(a, idx, torch.defaultIntDtype(x.backend));
          }
        },
      ),
      { numRuns: RUNS, seed: 202 },
    );
  });
});

// ---------------------------------------------------------------------------------------------- view chains

const stepArb = fc.record({
  op: fc.integer({ min: 0, max: 12 }),
  a: fc.nat(1000),
  b: fc.nat(1000),
  c: fc.nat(1000),
});
type Step = { op: number; a: number; b: number; c: number };

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let f = 1; f <= n; f++) if (n % f === 0) out.push(f);
  return out;
}

/** A shape with the same element count as `shape`, chosen by `a` and `b`. */
function reshapeTarget(shape: readonly number[], a: number, b: number): number[] {
  const n = R.numel(shape);
  const nd = shape.length;
  switch (a % 5) {
    case 1:
      if (nd >= 2) {
        const i = b % (nd - 1);
        return [...shape.slice(0, i), shape[i] * shape[i + 1], ...shape.slice(i + 2)];
      }
      return [n];
    case 2: {
      if (nd === 0) return [1, 1];
      const i = b % nd;
      const s = shape[i];
      const f = s === 0 ? 1 + (b % 3) : divisors(s)[b % divisors(s).length];
      return [...shape.slice(0, i), f, s === 0 ? 0 : s / f, ...shape.slice(i + 1)];
    }
    case 3:
      if (nd > 0 && n > 0) {
        const out = [...shape];
        out[b % nd] = -1;
        return out;
      }
      return [...shape];
    case 4: {
      const out = [...shape];
      out.splice(b % (nd + 1), 0, 1);
      return out;
    }
    default:
      return [n];
  }
}

function resolve(target: number[], n: number): number[] {
  const known = target.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  return target.map((d) => (d === -1 ? n / known : d));
}

/** Apply one random shape op to the tensor and to the reference alike. */
function applyStep(t: torch.Tensor, ref: R.Nd, s: Step): [torch.Tensor, R.Nd, string] {
  const nd = ref.shape.length;
  const shape = ref.shape;
  switch (s.op) {
    case 0:
    case 1: {
      const target = reshapeTarget(shape, s.a, s.b);
      const out = R.reshape(ref, resolve(target, R.numel(shape)));
      if (s.op === 0) return [t.reshape(target), out, `reshape(${target})`];
      try {
        return [t.view(target), out, `view(${target})`];
      } catch (e) {
        expect(t.isContiguous()).toBe(false);
        expect(String(e)).toMatch(/contiguous\(\)/);
        return [t.reshape(target), out, `view(${target}) refused, reshape`];
      }
    }
    case 2: {
      if (nd < 1) return [t, ref, "skip"];
      const [i, j] = [s.a % nd, s.b % nd];
      const perm = shape.map((_, k) => (k === i ? j : k === j ? i : k));
      return [t.transpose(i - (s.c % 2) * nd, j), R.permute(ref, perm), `transpose(${i}, ${j})`];
    }
    case 3: {
      const perm = permutation(nd, s.a);
      return [t.permute(perm), R.permute(ref, perm), `permute(${perm})`];
    }
    case 4: {
      const target = shape.map((d, k) => (d === 1 && (s.a >> k) & 1 ? 1 + (s.b % 3) : d));
      const lead = s.c % 3 === 0 ? [1 + (s.c % 2)] : [];
      const full = [...lead, ...target];
      if (R.numel(full) > 300) return [t, ref, "skip"];
      const req = full.map((d, k) => (k >= lead.length && d === shape[k - lead.length] && s.c % 2 ? -1 : d));
      return [t.expand(req), R.broadcastTo(ref, full), `expand(${req})`];
    }
    case 5: {
      if (nd === 0) return [t, ref, "skip"];
      const d = s.a % nd;
      const size = shape[d];
      const pick = (v: number) => (v % 5 === 0 ? null : (v % (2 * size + 5)) - size - 2);
      const [start, stop, step] = [pick(s.b), pick(s.c), 1 + ((s.a >> 3) % 3)];
      const item =
        s.c % 2
          ? torch.slice(start, stop, step)
          : (`${start ?? ""}:${stop ?? ""}:${step}` as torch.SliceString);
      const items: torch.IndexItem[] = shape.map((_, k) => (k === d ? item : ":"));
      return [t.at(...items), R.take(ref, d, R.slicePositions(size, start, stop, step)), `slice dim ${d}`];
    }
    case 6: {
      if (nd === 0 || shape[s.a % nd] === 0) return [t, ref, "skip"];
      const d = s.a % nd;
      const i = (s.b % (2 * shape[d])) - shape[d];
      const taken = R.take(ref, d, [i < 0 ? i + shape[d] : i]);
      return [
        t.select(d, i),
        { shape: shape.filter((_, k) => k !== d), data: taken.data },
        `select(${d}, ${i})`,
      ];
    }
    case 7: {
      if (s.a % 2 || nd === 0)
        return [t.squeeze(), { shape: shape.filter((x) => x !== 1), data: ref.data }, "squeeze()"];
      const d = s.b % nd;
      return [
        t.squeeze(d),
        { shape: shape.filter((x, k) => k !== d || x !== 1), data: ref.data },
        `squeeze(${d})`,
      ];
    }
    case 8: {
      const d = (s.a % (2 * nd + 2)) - nd - 1;
      const at = d < 0 ? d + nd + 1 : d;
      const out = [...shape];
      out.splice(at, 0, 1);
      return [t.unsqueeze(d), { shape: out, data: ref.data }, `unsqueeze(${d})`];
    }
    case 9: {
      if (nd === 0) return [t, ref, "skip"];
      const d = s.a % nd;
      const start = s.b % (shape[d] + 1);
      const len = s.c % (shape[d] - start + 1);
      const pos = Array.from({ length: len }, (_, k) => start + k);
      return [t.narrow(d, start, len), R.take(ref, d, pos), `narrow(${d}, ${start}, ${len})`];
    }
    case 10: {
      if (nd === 0) return [t, ref, "skip"];
      const d = s.a % nd;
      const pos = Array.from({ length: shape[d] }, (_, k) => shape[d] - 1 - k);
      return [t.flip(d), R.take(ref, d, pos), `flip(${d})`];
    }
    case 11:
      return [t.contiguous(), ref, "contiguous()"];
    default:
      if (nd > 2) return [t, ref, "skip"];
      return [t.t(), nd === 2 ? R.permute(ref, [1, 0]) : ref, "t()"];
  }
}

describe.each(DEVICES)("view chains on %s", (device) => {
  it("reshape/view/transpose/permute/expand/slice/select/squeeze/unsqueeze/narrow/flip chains, then contiguous", async () => {
    const arb = fc.tuple(
      tensorArb(["float32", "int32"], 3),
      fc.array(stepArb, { minLength: 1, maxLength: 6 }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([{ ref, dtype, layout }, steps]) => {
        let t = build(ref, dtype, layout, device);
        let r = ref;
        const log: string[] = [];
        for (const s of steps) {
          let what: string;
          [t, r, what] = applyStep(t, r, s);
          log.push(what);
        }
        const msg = `after ${log.join(" -> ")}`;
        expect([...t.shape], msg).toEqual(r.shape);
        expect(close(await read(t), R.toNested(r), 0), msg).toBeNull();
        const c = t.contiguous();
        expect(c.isContiguous(), msg).toBe(true);
        expect(close(await read(c), R.toNested(r), 0), msg).toBeNull();
        if (t.isContiguous()) expect(c).toBe(t);
      }),
      { numRuns: RUNS * 2, seed: 301 },
    );
  });
});

// ---------------------------------------------------------------------------------------------- indexing

interface ItemSpec {
  kind: number;
  n1: number;
  n2: number;
  n3: number;
  asTensor: boolean;
}
const itemArb: fc.Arbitrary<ItemSpec> = fc.record({
  kind: fc.integer({ min: 0, max: 6 }),
  n1: fc.nat(1000),
  n2: fc.nat(1000),
  n3: fc.nat(1000),
  asTensor: fc.boolean(),
});

/** Turn random numbers into one index (Cinder items and reference items) for a tensor of `shape`. */
function makeIndex(
  shape: readonly number[],
  specs: readonly ItemSpec[],
  listLen: number,
  extras: { none: number; ellipsis: boolean },
): { items: torch.IndexItem[]; refs: R.RefItem[] } {
  const items: torch.IndexItem[] = [];
  const refs: R.RefItem[] = [];
  let masked = false;
  let listed = false;
  const count = Math.min(specs.length, shape.length);
  for (let d = 0; d < count; d++) {
    const s = specs[d];
    const size = shape[d];
    let kind = s.kind;
    if (kind === 0 && size === 0) kind = 1; // no int index into an empty dim
    if ((kind === 3 || kind === 4) && (masked || size === 0)) kind = 1;
    if (kind === 5 && (listed || masked)) kind = 2;
    if (kind === 0) {
      const i = (s.n1 % (2 * size)) - size;
      items.push(i);
      refs.push({ kind: "int", i });
    } else if (kind === 1) {
      const pick = (v: number) => (v % 4 === 0 ? null : (v % (2 * size + 5)) - size - 2);
      const [start, stop, step] = [pick(s.n1), pick(s.n2), 1 + (s.n3 % 3)];
      items.push(
        s.asTensor
          ? torch.slice(start, stop, step)
          : (`${start ?? ""}:${stop ?? ""}:${step}` as torch.SliceString),
      );
      refs.push({ kind: "slice", start, stop, step });
    } else if (kind === 2 || kind === 6) {
      items.push(":");
      refs.push({ kind: "slice", start: null, stop: null, step: 1 });
    } else if (kind === 3) {
      listed = true;
      const vals = Array.from(
        { length: listLen },
        (_, k) => ((s.n1 * (k + 7) + s.n2 * k) % (2 * size)) - size,
      );
      items.push(s.asTensor ? torch.tensor(vals, { dtype: "int32" }) : vals);
      refs.push({ kind: "list", index: { shape: [listLen], data: vals } });
    } else if (kind === 4) {
      listed = true;
      const vals = [s.n1 % size, (s.n2 % (2 * size)) - size];
      items.push(
        s.asTensor ? torch.tensor([[vals[0]], [vals[1]]], { dtype: "int32" }) : [[vals[0]], [vals[1]]],
      );
      refs.push({ kind: "list", index: { shape: [2, 1], data: vals } });
    } else {
      masked = true;
      const bits = Array.from({ length: size }, (_, k) => ((s.n1 >> k) & 1) === 1);
      items.push(s.asTensor ? torch.tensor(bits, { dtype: "bool" }) : bits);
      refs.push({ kind: "mask", mask: { shape: [size], data: bits.map(Number) } });
    }
  }
  // "..." standing for the first dim (it covers exactly one dim when every dim has an item)
  if (extras.ellipsis && count === shape.length && count > 0 && items[0] === ":") {
    items[0] = "...";
    refs[0] = { kind: "ellipsis" };
  }
  if (extras.none % 3 === 0) {
    const at = extras.none % (items.length + 1);
    items.splice(at, 0, null);
    refs.splice(at, 0, { kind: "none" });
  }
  return { items, refs };
}

const indexArb = fc.tuple(
  tensorArb(["int32"], 4),
  fc.array(itemArb, { maxLength: 4 }),
  fc.integer({ min: 0, max: 3 }),
  fc.record({ none: fc.nat(100), ellipsis: fc.boolean() }),
  fc.oneof(fc.constant("scalar" as const), fc.constant("tensor" as const)),
);

const describeIndex = (items: readonly torch.IndexItem[]) =>
  `[${items.map((it) => (it instanceof torch.Tensor ? `tensor(${JSON.stringify(it.toArray())})` : JSON.stringify(it))).join(", ")}]`;

describe("indexing properties on cpu", () => {
  it("x.at(...) with random int/slice/list/mask/None/... mixes matches PyTorch semantics", () => {
    fc.assert(
      fc.property(indexArb, ([{ ref, dtype, layout }, specs, listLen, extras]) => {
        const x = build(ref, dtype, layout, "cpu");
        const { items, refs } = makeIndex(ref.shape, specs, listLen, extras);
        const { result } = R.index(ref, refs);
        const y = x.at(...items);
        const msg = `x of shape [${ref.shape}] indexed by ${describeIndex(items)}`;
        expect([...y.shape], msg).toEqual(result.shape);
        expect(close(y.toArray() as R.Nested, R.toNested(result), 0), msg).toBeNull();
      }),
      { numRuns: RUNS * 2, seed: 401 },
    );
  });

  it("x.set([...], value) writes exactly the indexed elements (last write wins on repeats)", () => {
    fc.assert(
      fc.property(indexArb, ([{ ref, dtype, layout }, specs, listLen, extras, valueKind]) => {
        const x = build(ref, dtype, layout, "cpu");
        const { items, refs } = makeIndex(ref.shape, specs, listLen, extras);
        const { result } = R.index(ref, refs);
        const value: R.Nd =
          valueKind === "scalar"
            ? { shape: [], data: [-7] }
            : R.fromFn(
                result.shape,
                (idx) => 100 + idx.reduce((p, v, k) => p * (result.shape[k] + 1) + v, 0),
              );
        const v =
          valueKind === "scalar" ? -7 : torch.tensor(value.data, { dtype: "int32" }).reshape(value.shape);
        x.set(items, v);
        const expected = R.indexPut(ref, refs, value);
        const msg = `x of shape [${ref.shape}] (${layout.kind}) set at ${describeIndex(items)}`;
        expect(close(x.toArray() as R.Nested, R.toNested(expected), 0), msg).toBeNull();
      }),
      { numRuns: RUNS * 2, seed: 402 },
    );
  });
});
