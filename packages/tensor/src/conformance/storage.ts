/**
 * Conformance cases for storage-level primitives: copy/cast between every dtype pair, fill, integer
 * wrap-around, 0-dim and zero-size tensors through every primitive, and asynchronous reads of strided views.
 */
import type { DType } from "../dtype";
import { DTYPE_INFO, DTYPES, isInt, wrapInt } from "../dtype";
import "../methods";
import { arange, full, ones, tensor, zeros } from "../ops/creation";
import { where } from "../ops/elementwise";
import { rand } from "../ops/sampling";
import { cat } from "../ops/view";
import type { Tensor } from "../tensor";
import {
  assert,
  assertClose,
  assertShape,
  type ConformanceCase,
  defaultInt,
  EXACT,
  expectTensor,
  logical,
  roundTo,
  type Supports,
  TOL,
  widest,
} from "./support";

const NaN_ = Number.NaN;
const INF = Number.POSITIVE_INFINITY;

/** Values exactly representable in each source dtype. */
const SOURCE: Partial<Record<DType, number[]>> = {
  float32: [0, -0, 1, -1, 2.75, -2.75, 0.1, 100.5, 255, 16777216, -1e6, 3.4e38, NaN_, INF, -INF],
  float64: [0, -0, 1, -1, 2.75, -2.75, 0.1, 100.5, 255, 16777217, -1e6, 1e40, 1e-50, NaN_, INF, -INF],
  int32: [0, 1, -1, 7, 255, 256, 300, -300, 16777217, 2147483647, -2147483648],
  uint8: [0, 1, 7, 127, 128, 200, 255],
  bool: [0, 1, 1, 0],
  int8: [0, 1, -1, 7, 127, -128, -100],
  int16: [0, 1, -1, 255, 256, 300, -300, 32767, -32768],
  float16: [0, -0, 1, -1, 2.75, -2.75, 0.1, 100.5, 255, 2049, -60000, 65504, 1e-7, NaN_, INF, -INF],
  bfloat16: [0, -0, 1, -1, 2.75, -2.75, 0.1, 100.5, 255, 257, -1e6, 3e38, 1e-30, NaN_, INF, -INF],
};

/**
 * The source values whose conversion to `to` is defined. Float to integer conversion is defined for in-range
 * values only (C leaves the rest undefined; CPUs and GPUs differ); integer narrowing wraps modulo 2^8.
 */
function convertible(from: DType, to: DType): number[] {
  const vs = (SOURCE[from] ?? []).map((v) => roundTo(v, from));
  const isFloatSrc = from === "float32" || from === "float64" || from === "float16" || from === "bfloat16";
  if (isFloatSrc && to === "int32") return vs.filter((v) => Number.isFinite(v) && Math.abs(v) < 2147483648);
  if (isFloatSrc && isInt(to)) {
    const { min, max } = DTYPE_INFO[to];
    return vs.filter((v) => Number.isFinite(v) && v > min - 1 && v < max + 1);
  }
  return vs;
}

/** The protocol's `copy` conversion of one value. */
function converted(v: number, to: DType): number {
  if (to === "float32") return Math.fround(v);
  if (to === "float64") return v;
  if (to === "float16" || to === "bfloat16") return roundTo(v, to); // through float32, as c10::Half(float)
  if (to === "bool") return v !== 0 ? 1 : 0;
  return wrapInt(Math.trunc(v), to);
}

function castCases(has: Supports): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const from of DTYPES.filter(has)) {
    cases.push({
      name: `cast from ${from} to every dtype`,
      async run(device) {
        for (const to of DTYPES.filter(has)) {
          const vs = convertible(from, to);
          const expected = vs.map((v) => converted(v, to));
          const what = `cast ${from} -> ${to}`;
          const src = tensor(vs, { dtype: from, device });
          await expectTensor(src.to(to), [vs.length], to, expected, `${what} (contiguous)`, EXACT);
          // strided source: the values at odd positions of an interleaved tensor (offset 1, stride 2)
          const inter = vs.flatMap((v) => [roundTo(7, from), v]);
          const strided = tensor(inter, { dtype: from, device }).at("1::2");
          await expectTensor(strided.to(to), [vs.length], to, expected, `${what} (strided source)`, EXACT);
          // strided destination: copy_ converts into column 1 of a [n, 3] tensor, leaving the others alone
          const dst = full([vs.length, 3], 1, { dtype: to, device });
          dst.at(":", 1).copy_(src);
          const want = expected.flatMap((e) => [1, e, 1]);
          await expectTensor(dst, [vs.length, 3], to, want, `${what} (copy_ into a strided view)`, EXACT);
        }
      },
    });
  }
  return cases;
}

function fillAndWrapCases(has: Supports): ConformanceCase[] {
  const W = widest(has);
  return [
    {
      name: "fill every dtype, contiguous and strided",
      async run(device) {
        for (const dtype of DTYPES.filter(has)) {
          const v = dtype === "bool" ? 1 : dtype === "uint8" ? 200 : dtype === "int32" ? -7 : 0.1;
          const want = roundTo(v, dtype);
          await expectTensor(
            full([2, 3], v, { dtype, device }),
            [2, 3],
            dtype,
            Array(6).fill(want),
            `full ${dtype}`,
          );
          const x = zeros([3, 4], { dtype, device });
          x.at(":", "1::2").fill_(v);
          const exp = [0, want, 0, want, 0, want, 0, want, 0, want, 0, want];
          await expectTensor(x, [3, 4], dtype, exp, `fill_ a strided column slice (${dtype})`);
          x.t().at(0).fill_(v); // column 0 through a transposed view
          await expectTensor(
            x,
            [3, 4],
            dtype,
            exp.map((e, i) => (i % 4 === 0 ? want : e)),
            `fill_ via transpose (${dtype})`,
          );
          x.zero_();
          await expectTensor(x, [3, 4], dtype, Array(12).fill(0), `zero_ (${dtype})`);
        }
        await expectTensor(
          full([3], 2.75, { dtype: "int32", device }),
          [3],
          "int32",
          [2, 2, 2],
          "fill truncates to int",
        );
        await expectTensor(
          full([2], -2.75, { dtype: "int32", device }),
          [2],
          "int32",
          [-2, -2],
          "fill truncates toward 0",
        );
        await expectTensor(
          full([2], 5, { dtype: "bool", device }),
          [2],
          "bool",
          [1, 1],
          "fill bool with nonzero",
        );
        await expectTensor(full([3], NaN_, { device }), [3], "float32", [NaN_, NaN_, NaN_], "fill NaN");
        await expectTensor(full([2], -INF, { dtype: W, device }), [2], W, [-INF, -INF], "fill -inf");
      },
    },
    {
      name: "integer arithmetic wraps (int32 at 32 bits, uint8 at 8 bits); bool arithmetic saturates",
      async run(device) {
        const u8 = (vs: number[]) => tensor(vs, { dtype: "uint8", device });
        const i32 = (vs: number[]) => tensor(vs, { dtype: "int32", device });
        await expectTensor(
          u8([200, 255, 0]).add(u8([100, 1, 0])),
          [3],
          "uint8",
          [44, 0, 0],
          "uint8 add wraps",
        );
        await expectTensor(u8([1, 2]).sub(3), [2], "uint8", [254, 255], "uint8 minus a JS number wraps");
        await expectTensor(u8([16, 3]).mul(u8([16, 100])), [2], "uint8", [0, 44], "uint8 mul wraps");
        await expectTensor(u8([5, 0]).neg(), [2], "uint8", [251, 0], "uint8 neg wraps");
        const big = i32([2147483647, -2147483648, 65536]);
        await expectTensor(big.add(1), [3], "int32", [-2147483648, -2147483647, 65537], "int32 add wraps");
        await expectTensor(big.mul(i32([2, 2, 65536])), [3], "int32", [-2, 0, 0], "int32 mul wraps");
        await expectTensor(big.neg(), [3], "int32", [-2147483647, -2147483648, -65536], "int32 neg wraps");
        const b = tensor([true, true, false], { device });
        await expectTensor(b.add(b), [3], "bool", [1, 1, 0], "bool + bool stays bool");
        await expectTensor(
          b.mul(tensor([true, false, true], { device })),
          [3],
          "bool",
          [1, 0, 0],
          "bool * bool",
        );
        await expectTensor(
          b.add(1),
          [3],
          defaultInt(device),
          [2, 2, 1],
          "bool + int promotes to the default integer",
        );
        await expectTensor(u8([250]).add(i32([10])), [1], "int32", [260], "uint8 + int32 promotes to int32");
      },
    },
    ...(has("int8") && has("int16") ? [narrowIntCase] : []),
  ];
}

/** int8 and int16 (for backends that store them): wrap-around arithmetic, casts and promotion as PyTorch's. */
const narrowIntCase: ConformanceCase = {
  name: "int8 and int16 arithmetic wraps; float casts truncate; uint8 + int8 promotes to int16",
  async run(device) {
    const i8 = (vs: number[]) => tensor(vs, { dtype: "int8", device });
    const i16 = (vs: number[]) => tensor(vs, { dtype: "int16", device });
    await expectTensor(i8([127, -128, 5]).add(i8([1, -1, 3])), [3], "int8", [-128, 127, 8], "int8 add wraps");
    await expectTensor(i8([100, -128]).mul(3), [2], "int8", [44, -128], "int8 times a JS number wraps");
    await expectTensor(i8([-128, 7]).neg(), [2], "int8", [-128, -7], "int8 neg wraps");
    await expectTensor(i16([32767, 300]).mul(i16([2, 300])), [2], "int16", [-2, 24464], "int16 mul wraps");
    await expectTensor(
      tensor([2.9, -2.9, 300.5], { device }).to("int8"),
      [3],
      "int8",
      [2, -2, 44],
      "float to int8 truncates and wraps",
    );
    await expectTensor(
      i8([-1, 100]).to("int16").mul(400),
      [2],
      "int16",
      [-400, -25536],
      "int8 widens exactly",
    );
    const u8 = tensor([200, 1], { dtype: "uint8", device });
    await expectTensor(u8.add(i8([-100, -2])), [2], "int16", [100, -1], "uint8 + int8 is int16");
    await expectTensor(
      i8([1, 2]).add(i16([1000, 2000])),
      [2],
      "int16",
      [1001, 2002],
      "int8 + int16 is int16",
    );
    await expectTensor(i16([3, -4]).sum(), [], defaultInt(device), [-1], "int16 sums in the default integer");
  },
};

function zeroDimCases(has: Supports): ConformanceCase[] {
  const W = widest(has);
  return [
    {
      name: "0-dim tensors through every kind of op",
      async run(device) {
        const a = tensor(2.5, { device });
        const b = tensor(4, { device });
        assertShape(a, [], "tensor(2.5)");
        await expectTensor(a, [], "float32", [2.5], "0-dim read");
        assert((await a.itemAsync()) === 2.5, "itemAsync of a 0-dim tensor");
        await expectTensor(a.add(b), [], "float32", [6.5], "0-dim + 0-dim");
        await expectTensor(b.mul(b), [], defaultInt(device), [16], "0-dim int * 0-dim int");
        await expectTensor(a.exp(), [], "float32", [Math.fround(Math.exp(2.5))], "unary on 0-dim");
        await expectTensor(
          a.mul(tensor([1, 2, 3], { device })),
          [3],
          "float32",
          [2.5, 5, 7.5],
          "0-dim * 1-D",
        );
        const f64 = tensor(5, { dtype: W, device });
        const f32 = tensor([1, 2], { dtype: "float32", device });
        await expectTensor(
          f64.add(f32),
          [2],
          "float32",
          [6, 7],
          "a dimensioned float wins over a 0-dim float",
        );
        const i32 = tensor([1, 2], { device });
        await expectTensor(f64.add(i32), [2], W, [6, 7], "a 0-dim of a higher category sets the dtype");
        await expectTensor(b.to(W), [], W, [4], "cast 0-dim");
        await expectTensor(a.sum(), [], "float32", [2.5], "sum of 0-dim");
        await expectTensor(a.amax(), [], "float32", [2.5], "amax of 0-dim");
        await expectTensor(a.argmax(), [], defaultInt(device), [0], "argmax of 0-dim");
        await expectTensor(a.reshape(1), [1], "float32", [2.5], "reshape 0-dim to [1]");
        await expectTensor(
          tensor([3], { device }).reshape([]),
          [],
          defaultInt(device),
          [3],
          "reshape [1] to 0-dim",
        );
        await expectTensor(a.unsqueeze(0).expand(3), [3], "float32", [2.5, 2.5, 2.5], "expand a 0-dim");
        await expectTensor(a.cumsum(0), [], "float32", [2.5], "cumsum of 0-dim");
        await expectTensor(a.sort().values, [], "float32", [2.5], "sort of 0-dim");
        const c = tensor(true, { device });
        await expectTensor(where(c, a, b), [], "float32", [2.5], "where on 0-dim");
        await expectTensor(where(c.logicalNot(), a, 1), [], "float32", [1], "where on 0-dim, else branch");
        const x = zeros([2, 2], { device });
        x.set([0, 1], a);
        await expectTensor(x, [2, 2], "float32", [0, 2.5, 0, 0], "set an element from a 0-dim");
        await expectTensor(x.at(0, 1), [], "float32", [2.5], "select to 0-dim");
        await expectTensor(
          tensor([1, 2, 3], { device }).dot(tensor([4, 5, 6], { device })),
          [],
          defaultInt(device),
          [32],
          "dot",
        );
      },
    },
  ];
}

function zeroSizeCases(): ConformanceCase[] {
  return [
    {
      name: "zero-size tensors through every primitive",
      async run(device) {
        const e = zeros([0, 3], { device });
        const none: number[] = [];
        await expectTensor(e.t().contiguous(), [3, 0], "float32", none, "copy");
        await expectTensor(e.to("int32"), [0, 3], "int32", none, "cast");
        await expectTensor(full([0, 3], 5.5, { device }), [0, 3], "float32", none, "full");
        await expectTensor(e.fill_(1), [0, 3], "float32", none, "fill_");
        await expectTensor(e.exp(), [0, 3], "float32", none, "unary");
        await expectTensor(e.add(ones([1, 3], { device })), [0, 3], "float32", none, "binary broadcast");
        await expectTensor(
          e.add(ones([2, 1, 3], { device })),
          [2, 0, 3],
          "float32",
          none,
          "binary to a new dim",
        );
        await expectTensor(e.lt(1), [0, 3], "bool", none, "comparison");
        await expectTensor(
          where(zeros([0, 1], { dtype: "bool", device }), e, 1),
          [0, 3],
          "float32",
          none,
          "where",
        );
        await expectTensor(e.sum(), [], "float32", [0], "sum of all");
        await expectTensor(e.sum({ dim: 0 }), [3], "float32", [0, 0, 0], "sum over the empty dim");
        await expectTensor(e.sum({ dim: 1 }), [0], "float32", none, "sum over a non-empty dim");
        await expectTensor(e.amax({ dim: 1 }), [0], "float32", none, "amax over a non-empty dim");
        await expectTensor(
          e.argmax({ dim: 1 }),
          [0],
          defaultInt(device),
          none,
          "argmax over a non-empty dim",
        );
        await expectTensor(e.cumsum(0), [0, 3], "float32", none, "cumsum along the empty dim");
        await expectTensor(e.cumprod(1), [0, 3], "float32", none, "cumprod along a non-empty dim");
        const mm = [
          [
            [2, 0],
            [0, 3],
            [2, 3],
            [0, 0, 0, 0, 0, 0],
          ],
          [[0, 2], [2, 3], [0, 3], []],
          [[2, 3], [3, 0], [2, 0], []],
        ] as const;
        for (const [as, bs, os, vals] of mm) {
          const p = ones([...as], { device }).matmul(ones([...bs], { device }));
          await expectTensor(p, [...os], "float32", vals, `matmul [${as}] @ [${bs}]`);
        }
        await expectTensor(
          ones([0, 2, 2], { device }).matmul(ones([0, 2, 2], { device })),
          [0, 2, 2],
          "float32",
          none,
          "batched matmul with an empty batch",
        );
        const x = arange(6, { device }).reshape(2, 3);
        const emptyIndex = zeros([2, 0], { dtype: "int32", device });
        await expectTensor(
          x.gather(1, emptyIndex),
          [2, 0],
          defaultInt(device),
          none,
          "gather with an empty index",
        );
        await expectTensor(
          x.scatter(1, emptyIndex, zeros([2, 0], { dtype: defaultInt(device), device })),
          [2, 3],
          defaultInt(device),
          [0, 1, 2, 3, 4, 5],
          "scatter with an empty index",
        );
        await expectTensor(
          x.scatterAdd(1, emptyIndex, zeros([2, 0], { dtype: defaultInt(device), device })),
          [2, 3],
          defaultInt(device),
          [0, 1, 2, 3, 4, 5],
          "scatterAdd with an empty index",
        );
        const s = zeros([2, 0], { device }).sort({ dim: 1 });
        await expectTensor(s.values, [2, 0], "float32", none, "sort values");
        await expectTensor(s.indices, [2, 0], defaultInt(device), none, "sort indices");
        await expectTensor(rand([0, 3], { device }), [0, 3], "float32", none, "rand");
        await expectTensor(x.at("2:2"), [0, 3], defaultInt(device), none, "empty slice");
        await expectTensor(
          x.indexSelect(0, zeros([0], { dtype: "int32", device })),
          [0, 3],
          defaultInt(device),
          none,
          "indexSelect",
        );
        await expectTensor(
          cat([e, ones([2, 3], { device })]),
          [2, 3],
          "float32",
          Array(6).fill(1),
          "cat with empty",
        );
      },
    },
  ];
}

function readCases(has: Supports): ConformanceCase[] {
  const W = widest(has);
  return [
    {
      name: "async reads of strided views",
      async run(device) {
        const base = arange(24, { device }).reshape(2, 3, 4);
        const ref = (i: number, j: number, k: number) => i * 12 + j * 4 + k;
        const grid = (shape: number[], f: (...ix: number[]) => number): number[] => {
          const out: number[] = [];
          const rec = (prefix: number[]) => {
            if (prefix.length === shape.length) out.push(f(...prefix));
            else for (let i = 0; i < shape[prefix.length]; i++) rec([...prefix, i]);
          };
          rec([]);
          return out;
        };
        const views: [string, Tensor, number[], number[]][] = [
          ["permute(2, 0, 1)", base.permute(2, 0, 1), [4, 2, 3], grid([4, 2, 3], (k, i, j) => ref(i, j, k))],
          ["at(1) (offset)", base.at(1), [3, 4], grid([3, 4], (j, k) => ref(1, j, k))],
          [
            "step slices",
            base.at(":", "1:3", "::3"),
            [2, 2, 2],
            grid([2, 2, 2], (i, j, k) => ref(i, j + 1, k * 3)),
          ],
          ["expand (stride 0)", base.at(0, 1).expand(2, 4), [2, 4], grid([2, 4], (_i, k) => ref(0, 1, k))],
          [
            "transpose + slice",
            base.transpose(0, 2).at("1:"),
            [3, 3, 2],
            grid([3, 3, 2], (k, j, i) => ref(i, j, k + 1)),
          ],
          ["select a column", base.at(1, ":", 2), [3], grid([3], (j) => ref(1, j, 2))],
          ["0-dim element", base.at(1, 2, 3), [], [23]],
        ];
        for (const [name, v, shape, exp] of views)
          await expectTensor(v, shape, defaultInt(device), exp, `read ${name}`, EXACT);
        assert((await base.at(1, 2, 3).itemAsync()) === 23, "itemAsync of an element view");
        const nested = await base.at(":", 0, "1:3").toArrayAsync();
        assert(
          JSON.stringify(nested) === "[[1,2],[13,14]]",
          `toArrayAsync of a view: got ${JSON.stringify(nested)}`,
        );
        // a read sees every write issued before it, also writes through another view of the same storage
        const w = zeros([3, 3], { device });
        w.t().at(0).fill_(7);
        const pending = w.dataAsync();
        w.fill_(0);
        assertClose(
          Array.from(await pending),
          [7, 0, 0, 7, 0, 0, 7, 0, 0],
          EXACT,
          "read ordered before a later write",
        );
        const f = tensor([1.5, -2.25, 3], { dtype: W, device }).at("::2");
        await expectTensor(f, [2], W, [1.5, 3], `${W} strided read`, TOL[W]);
        assert(
          (await logical(tensor([true, false, true], { device }).at("1:"))).join() === "0,1",
          "bool read",
        );
      },
    },
  ];
}

export function storageCases(has: Supports): ConformanceCase[] {
  return [
    ...castCases(has),
    ...fillAndWrapCases(has),
    ...zeroDimCases(has),
    ...zeroSizeCases(),
    ...readCases(has),
  ];
}
