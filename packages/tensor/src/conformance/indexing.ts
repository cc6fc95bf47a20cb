/**
 * Conformance cases for where, gather/scatter, sort, matmul in int32 and float64, and the random fills'
 * distributions.
 */
import type { DType } from "../dtype";
import "../methods";
import { arange, tensor, zeros } from "../ops/creation";
import { where } from "../ops/elementwise";
import { manualSeed, rand, randint, randn } from "../ops/sampling";
import {
  assert,
  assertClose,
  type ConformanceCase,
  data,
  defaultInt,
  EXACT,
  expectTensor,
  logical,
  type Supports,
  TOL,
  widest,
} from "./support";

function whereCases(has: Supports): ConformanceCase[] {
  const W = widest(has);
  return [
    {
      name: "where with broadcasting and promotion",
      async run(device) {
        const cond = tensor([[true], [false], [true]], { device }); // [3, 1]
        const a = tensor([[1, 2, 3, 4]], { dtype: "float32", device }); // [1, 4]
        await expectTensor(
          where(cond, a, tensor(-1.5, { device })),
          [3, 4],
          "float32",
          [1, 2, 3, 4, -1.5, -1.5, -1.5, -1.5, 1, 2, 3, 4],
          "cond [3,1], a [1,4], b 0-dim",
        );
        const ai = tensor([10, 20, 30], { device });
        await expectTensor(
          where(cond, ai, 0.5),
          [3, 3],
          "float32",
          [10, 20, 30, 0.5, 0.5, 0.5, 10, 20, 30],
          "int a, float b",
        );
        await expectTensor(where(cond, 1, 2), [3, 1], defaultInt(device), [1, 2, 1], "two JS integers");
        await expectTensor(where(cond, 1, 2.5), [3, 1], "float32", [1, 2.5, 1], "JS int and float");
        const m = arange(12, { device }).reshape(3, 4);
        const t = m.t(); // [4, 3], strided
        await expectTensor(
          where(t.gt(5), t, t.neg()),
          [4, 3],
          defaultInt(device),
          [0, -4, 8, -1, -5, 9, -2, 6, 10, -3, 7, 11],
          "strided cond and operands",
        );
        const d = tensor([1.5, 2.5], { dtype: W, device });
        await expectTensor(where(tensor([false, true], { device }), d, 0), [2], W, [0, 2.5], W, TOL[W]);
        await expectTensor(
          tensor([1, 2, 3], { device }).where(
            tensor([true, false, true], { device }),
            tensor([7], { device }),
          ),
          [3],
          defaultInt(device),
          [1, 7, 3],
          "method form x.where(cond, other)",
        );
      },
    },
  ];
}

function gatherScatterCases(has: Supports): ConformanceCase[] {
  const W = widest(has);
  return [
    {
      name: "gather on non-contiguous inputs and indices",
      async run(device) {
        const x = arange(12, { device }).reshape(3, 4).t(); // [4, 3]: x[i][j] = j * 4 + i
        const idx = tensor(
          [
            [2, 0],
            [1, 1],
            [0, 2],
            [2, 2],
          ],
          { device },
        );
        await expectTensor(
          x.gather(1, idx),
          [4, 2],
          defaultInt(device),
          [8, 0, 5, 5, 2, 10, 11, 11],
          "gather dim 1 of a transpose",
        );
        const idx0 = tensor(
          [
            [3, 0, 1],
            [0, 2, 3],
          ],
          { device },
        );
        await expectTensor(
          x.gather(0, idx0),
          [2, 3],
          defaultInt(device),
          [3, 4, 9, 0, 6, 11],
          "gather dim 0 of a transpose",
        );
        const idxT = tensor(
          [
            [2, 1, 0, 2],
            [0, 1, 2, 2],
          ],
          { device },
        ).t(); // strided index [4, 2]
        await expectTensor(
          x.gather(-1, idxT),
          [4, 2],
          defaultInt(device),
          [8, 0, 5, 5, 2, 10, 11, 11],
          "strided index, dim -1",
        );
        const row = tensor([[5, 6, 7]], { device }).expand(4, 3); // stride-0 input
        await expectTensor(
          row.gather(1, idx),
          [4, 2],
          defaultInt(device),
          [7, 5, 6, 6, 5, 7, 7, 7],
          "gather from an expanded input",
        );
        const f = tensor(
          [
            [0.5, 1.5],
            [2.5, 3.5],
          ],
          { dtype: W, device },
        );
        await expectTensor(f.gather(0, tensor([[1, 0]], { device })), [1, 2], W, [2.5, 1.5], `gather ${W}`);
        await expectTensor(
          x.indexSelect(1, tensor([2, 0], { device })),
          [4, 2],
          defaultInt(device),
          [8, 0, 9, 1, 10, 2, 11, 3],
          "indexSelect",
        );
      },
    },
    {
      name: "scatter set and add",
      async run(device) {
        const src = arange(1, 11, { device }).reshape(2, 5);
        const index = tensor([[0, 1, 2, 0]], { device });
        await expectTensor(
          zeros([3, 5], { dtype: defaultInt(device), device }).scatter(0, index, src),
          [3, 5],
          defaultInt(device),
          [1, 0, 0, 4, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0],
          "scatter set dim 0 (torch docs example)",
        );
        const index1 = tensor(
          [
            [0, 1, 2],
            [0, 1, 4],
          ],
          { device },
        );
        await expectTensor(
          zeros([2, 5], { dtype: defaultInt(device), device }).scatter(1, index1, src),
          [2, 5],
          defaultInt(device),
          [1, 2, 3, 0, 0, 6, 7, 0, 0, 8],
          "scatter set dim 1",
        );
        await expectTensor(
          zeros([2, 4], { device }).scatter(1, tensor([[2], [3]], { device }), 1.25),
          [2, 4],
          "float32",
          [0, 0, 1.25, 0, 0, 0, 0, 1.25],
          "scatter a scalar",
        );
        const base = arange(8, { dtype: W, device }).reshape(2, 4);
        const idxT = tensor(
          [
            [3, 1],
            [0, 2],
          ],
          { device },
        ).t(); // strided [2, 2]
        const srcT = tensor(
          [
            [0.5, 1.5],
            [2.5, 3.5],
          ],
          { dtype: W, device },
        ).t();
        const expected = [2.5, 1, 2, 0.5, 4, 1.5, 3.5, 7];
        await expectTensor(
          base.scatter(1, idxT, srcT),
          [2, 4],
          W,
          expected,
          "scatter strided index and src",
          EXACT,
        );
        await expectTensor(
          zeros([3], { dtype: defaultInt(device), device }).scatterAdd(
            0,
            tensor([0, 2, 0, 0], { device }),
            tensor([1, 2, 3, 4], { device }),
          ),
          [3],
          defaultInt(device),
          [8, 0, 2],
          "scatterAdd accumulates duplicates",
        );
        const x = zeros([3, 4], { device });
        x.set(
          [
            [0, 2],
            [1, 3],
          ],
          tensor([7, 8], { device }),
        );
        await expectTensor(
          x,
          [3, 4],
          "float32",
          [0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8],
          "set by advanced indexing",
        );
        const y = zeros([4, 3], { device });
        y.t().set([[2], [0, 3]], 5); // advanced set through a transposed view
        await expectTensor(
          y,
          [4, 3],
          "float32",
          [0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 5],
          "set through a transposed view",
        );
      },
    },
  ];
}

function sortCases(has: Supports): ConformanceCase[] {
  const W = widest(has);
  return [
    {
      name: "sort descending, ties, NaN and strided input",
      async run(device) {
        const v = tensor([3, 1, 2, 1, 3], { device });
        const asc = v.sort();
        await expectTensor(asc.values, [5], defaultInt(device), [1, 1, 2, 3, 3], "ascending values");
        await expectTensor(
          asc.indices,
          [5],
          defaultInt(device),
          [1, 3, 2, 0, 4],
          "ascending ties keep their order",
        );
        const desc = v.sort({ descending: true });
        await expectTensor(desc.values, [5], defaultInt(device), [3, 3, 2, 1, 1], "descending values");
        await expectTensor(
          desc.indices,
          [5],
          defaultInt(device),
          [0, 4, 2, 1, 3],
          "descending ties keep their order",
        );
        const n = tensor([1, Number.NaN, 3, -Number.POSITIVE_INFINITY], { device }).sort({
          descending: true,
        });
        await expectTensor(
          n.values,
          [4],
          "float32",
          [Number.NaN, 3, 1, -Infinity],
          "descending with NaN first",
        );
        await expectTensor(n.indices, [4], defaultInt(device), [1, 2, 0, 3], "descending with NaN: indices");
        const z = tensor([0, -0, 0], { device }).sort();
        await expectTensor(z.indices, [3], defaultInt(device), [0, 1, 2], "-0 and 0 tie");
        const m = tensor(
          [
            [3, 9, 1],
            [1, 9, 2],
            [2, 0, 1],
            [3, 5, 1],
          ],
          { dtype: W, device },
        ).t(); // [3, 4]
        const s0 = m.sort({ dim: 0, descending: true });
        await expectTensor(
          s0.values,
          [3, 4],
          W,
          [9, 9, 2, 5, 3, 2, 1, 3, 1, 1, 0, 1],
          "dim 0 of a transpose",
          TOL[W],
        );
        await expectTensor(
          s0.indices,
          [3, 4],
          defaultInt(device),
          [1, 1, 0, 1, 0, 2, 2, 0, 2, 0, 1, 2],
          "dim 0 indices",
        );
        const s1 = m.sort({ dim: 1 });
        await expectTensor(
          s1.values,
          [3, 4],
          W,
          [1, 2, 3, 3, 0, 5, 9, 9, 1, 1, 1, 2],
          "dim 1 of a transpose",
          TOL[W],
        );
        await expectTensor(
          s1.indices,
          [3, 4],
          defaultInt(device),
          [1, 2, 0, 3, 2, 3, 0, 1, 0, 2, 3, 1],
          "dim 1 indices",
        );
        const k = tensor([4, 1, 4, 2, 5], { device }).topk(3);
        await expectTensor(k.values, [3], defaultInt(device), [5, 4, 4], "topk values");
        await expectTensor(k.indices, [3], defaultInt(device), [4, 0, 2], "topk indices");
        await expectTensor(
          tensor([2, 0, 1], { device }).argsort({ descending: true }),
          [3],
          defaultInt(device),
          [0, 2, 1],
          "argsort",
        );
        const many = data(200, 21, -1000, 1000, true);
        const sorted = [...many].sort((a, b) => b - a);
        await expectTensor(
          tensor(many, { device }).sort({ descending: true }).values,
          [200],
          defaultInt(device),
          sorted,
          "200 ints",
        );
      },
    },
  ];
}

function refMatmul(a: number[], b: number[], m: number, k: number, n: number, int: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s = int ? (s + Math.imul(a[i * k + p], b[p * n + j])) | 0 : s + a[i * k + p] * b[p * n + j];
      out.push(s);
    }
  }
  return out;
}

function matmulCases(has: Supports): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const dtype of (["int32", "float64"] as DType[]).filter(has)) {
    cases.push({
      name: `matmul ${dtype}`,
      async run(device) {
        const int = dtype === "int32";
        const tol = int ? EXACT : { rtol: 1e-12, atol: 1e-12 };
        for (const [m, k, n] of [
          [1, 1, 1],
          [3, 4, 5],
          [7, 13, 3],
          [2, 0, 3],
        ]) {
          const av = int ? data(m * k, 31, -50, 50, true) : data(m * k, 31, -1, 1);
          const bv = int ? data(k * n, 32, -50, 50, true) : data(k * n, 32, -1, 1);
          const exp = refMatmul(av, bv, m, k, n, int);
          const a = tensor(av, { dtype, device }).reshape(m, k);
          const b = tensor(bv, { dtype, device }).reshape(k, n);
          const w = `${dtype} ${m}x${k}x${n}`;
          await expectTensor(a.matmul(b), [m, n], dtype, exp, w, tol);
          const at = a.t().contiguous().t();
          const bt = b.t().contiguous().t();
          await expectTensor(at.matmul(bt), [m, n], dtype, exp, `${w} transposed operands`, tol);
          await expectTensor(
            a.expand(2, m, k).matmul(b),
            [2, m, n],
            dtype,
            [...exp, ...exp],
            `${w} broadcast batch`,
            tol,
          );
        }
        const big = tensor([65536, 3], { dtype, device });
        const prod = big.reshape(1, 2).matmul(tensor([[65536], [1]], { dtype, device }));
        await expectTensor(
          prod,
          [1, 1],
          dtype,
          [int ? 3 : 65536 * 65536 + 3],
          `${dtype} overflow wraps in int32`,
          tol,
        );
        const v = tensor([1, 2, 3], { dtype, device });
        const mat = tensor(
          [
            [1, 0, 2],
            [0, 1, -1],
          ],
          { dtype, device },
        );
        await expectTensor(mat.matmul(v), [2], dtype, [7, -1], `${dtype} matrix @ vector`, tol);
        await expectTensor(v.matmul(mat.t()), [2], dtype, [7, -1], `${dtype} vector @ matrix`, tol);
        await expectTensor(v.matmul(v), [], dtype, [14], `${dtype} vector @ vector`, tol);
        const batched = arange(12, { dtype, device }).reshape(2, 2, 3).matmul(mat.t());
        await expectTensor(
          batched,
          [2, 2, 2],
          dtype,
          [4, -1, 13, -1, 22, -1, 31, -1],
          `${dtype} batched @ matrix`,
          tol,
        );
      },
    });
  }
  return cases;
}

function randomCases(has: Supports): ConformanceCase[] {
  return [
    {
      name: "random distributions: moments and ranges",
      async run(device) {
        manualSeed(2024);
        const n = 20000;
        const g = await logical(randn(n, { device }));
        const mean = g.reduce((a, b) => a + b, 0) / n;
        const variance = g.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
        const within1 = g.filter((v) => Math.abs(v) < 1).length / n;
        // standard errors: mean 0.007, variance 0.01, P(|z| < 1) 0.0033; bounds are ~5 of them
        assert(Math.abs(mean) < 0.035, `randn mean ${mean}, expected about 0`);
        assert(Math.abs(variance - 1) < 0.05, `randn variance ${variance}, expected about 1`);
        assert(Math.abs(within1 - 0.6827) < 0.017, `randn P(|z| < 1) = ${within1}, expected about 0.6827`);
        assert(g.every(Number.isFinite), "randn values are finite");
        const u = await logical(rand(n, { device }));
        const um = u.reduce((a, b) => a + b, 0) / n;
        const uv = u.reduce((a, b) => a + (b - um) ** 2, 0) / (n - 1);
        assert(
          u.every((x) => x >= 0 && x < 1),
          "rand values lie in [0, 1)",
        );
        assert(Math.abs(um - 0.5) < 0.011, `rand mean ${um}, expected about 0.5`);
        assert(Math.abs(uv - 1 / 12) < 0.004, `rand variance ${uv}, expected about 1/12`);
        if (has("float64")) {
          const d = await logical(randn([100, 100], { dtype: "float64", device }));
          const dm = d.reduce((a, b) => a + b, 0) / d.length;
          assert(Math.abs(dm) < 0.035, `float64 randn mean ${dm}`);
        }
        const ints = await logical(randint(3, 9, [2000], { device }));
        assert(
          ints.every((v) => Number.isInteger(v) && v >= 3 && v < 9),
          "randint values lie in [3, 9)",
        );
        assert(new Set(ints).size === 6, "randint hits every value of its range");
        const x = zeros([4, 6], { device }).t();
        x.uniform_(-2, 2);
        const xs = await logical(x);
        assert(
          xs.every((v) => v >= -2 && v < 2) && new Set(xs).size === 24,
          "uniform_ fills a strided view in range",
        );
        x.normal_(10, 0.5);
        const nm = (await logical(x)).reduce((a, b) => a + b, 0) / 24;
        assert(Math.abs(nm - 10) < 0.5, `normal_(10, 0.5) mean ${nm}`);
        manualSeed(5);
        const r1 = await logical(randn(8, { device }));
        manualSeed(5);
        const r2 = await logical(randn(8, { device }));
        assertClose(r2, r1, EXACT, "reseeding repeats the stream");
      },
    },
  ];
}

export function indexingCases(has: Supports): ConformanceCase[] {
  return [
    ...whereCases(has),
    ...gatherScatterCases(has),
    ...sortCases(has),
    ...matmulCases(has),
    ...randomCases(has),
  ];
}
