/**
 * The kernels' larger schedules (tiled matmul, tree and split reductions, workgroup scans, global-memory sort,
 * atomics, 2-D dispatch grids, in-place aliasing) against the CPU backend, on shapes the conformance suite's
 * small cases do not reach.
 */
import {
  manualSeed,
  rand,
  randn,
  randomNormal,
  randomUniform,
  seedKey,
  type Tensor,
  tensor,
} from "@cinder/tensor";
import { assertClose } from "@cinder/tensor/testing";
import { describe, expect, it } from "vitest";
import { data, pair, same } from "./helpers";
import { gpu } from "./setup";

describe.skipIf(!gpu)("webgpu kernels against the cpu backend", () => {
  it("tiled matmul: edges, transposed operands, broadcast batches, int32", async () => {
    for (const [m, k, n] of [
      [64, 64, 64],
      [70, 130, 90],
      [128, 17, 65],
      [200, 300, 100],
    ]) {
      const a = pair(data(m * k, 1), [m, k]);
      const b = pair(data(k * n, 2), [k, n]);
      const tol = { rtol: 1e-4, atol: 1e-4 };
      await same(`mm ${m}x${k}x${n}`, [a, b], (x, y) => x.matmul(y), tol);
      await same(
        `mm transposed ${m}x${k}x${n}`,
        [a, b],
        (x, y) => x.t().contiguous().t().matmul(y.t().contiguous().t()),
        tol,
      );
      await same(`mm batch-broadcast ${m}x${k}x${n}`, [a, b], (x, y) => x.expand(3, m, k).matmul(y), tol);
    }
    const a = pair(data(3 * 40 * 50, 3), [3, 40, 50]);
    const b = pair(data(50 * 33, 4), [50, 33]);
    await same("batched x shared", [a, b], (x, y) => x.matmul(y), { rtol: 1e-4, atol: 1e-4 });
    await same("bmm via permute", [a], (x) => x.matmul(x.permute(0, 2, 1)), { rtol: 1e-4, atol: 1e-4 });
    const ai = pair(data(80 * 70, 5, -100, 100, true), [80, 70], "int32");
    const bi = pair(data(70 * 90, 6, -100, 100, true), [70, 90], "int32");
    await same("int32 tiled", [ai, bi], (x, y) => x.matmul(y), { rtol: 0, atol: 0 });
    await same("matrix-vector", [ai, bi], (x, y) => x.matmul(y.at(":", 0)), { rtol: 0, atol: 0 });
  });

  it("reductions: split, tree and serial schedules, several axes, NaN propagation", async () => {
    const big = pair(data(300_000, 7), [300_000]);
    await same("sum of 300k (split)", [big], (x) => x.sum(), { rtol: 1e-4, atol: 1e-3 });
    await same("max of 300k (split)", [big], (x) => x.amax());
    const rows = pair(data(8 * 5000, 8), [8, 5000]);
    await same("row sums (tree)", [rows], (x) => x.sum({ dim: 1 }), { rtol: 1e-4, atol: 1e-4 });
    await same("column sums (serial)", [rows], (x) => x.sum({ dim: 0 }), { rtol: 1e-4, atol: 1e-4 });
    await same("column max of transposed view", [rows], (x) => x.t().amax({ dim: 1 }));
    const cube = pair(data(6 * 7 * 8 * 9, 9), [6, 7, 8, 9]);
    await same("sum over axes 0 and 2", [cube], (x) => x.sum({ dim: [0, 2] }), { rtol: 1e-4, atol: 1e-4 });
    await same(
      "sum over axes 1 and 3 of a permuted view",
      [cube],
      (x) => x.permute(3, 1, 0, 2).sum({ dim: [1, 3] }),
      {
        rtol: 1e-4,
        atol: 1e-4,
      },
    );
    await same("prod along a permuted axis", [cube], (x) => x.permute(3, 1, 0, 2).prod({ dim: 1 }), {
      rtol: 1e-4,
      atol: 1e-30,
    });
    const withNaN = data(4 * 3000, 10);
    withNaN[1234] = Number.NaN;
    const wn = pair(withNaN, [4, 3000]);
    await same("max with NaN (tree)", [wn], (x) => x.amax({ dim: 1 }));
    await same("min with NaN (serial)", [wn], (x) => x.min({ dim: 0 }).values);
    const ints = pair(data(10_000, 11, -1000, 1000, true), [10, 1000], "int32");
    await same("int32 sums", [ints], (x) => x.sum({ dim: 1 }), { rtol: 0, atol: 0 });
    // an explicit int32 dtype wraps, as PyTorch (without one, an int64 result that int32 cannot hold is an error)
    await same("int32 prod wraps", [ints], (x) => x.prod({ dim: 1, dtype: "int32" }), { rtol: 0, atol: 0 });
    await same("mean", [rows], (x) => x.mean({ dim: 1 }), { rtol: 1e-4, atol: 1e-5 });
  });

  it("argmax/argmin: first of ties, NaN wins, long rows", async () => {
    const v = data(3 * 4000, 12, -5, 5, true);
    v[4000 + 2500] = Number.NaN;
    v[4000 + 3000] = Number.NaN;
    const p = pair(v, [3, 4000]);
    await same("argmax rows (tree)", [p], (x) => x.argmax({ dim: 1 }), { rtol: 0, atol: 0 });
    await same("argmin rows (tree)", [p], (x) => x.argmin({ dim: 1 }), { rtol: 0, atol: 0 });
    await same("argmax columns (serial)", [p], (x) => x.argmax({ dim: 0 }), { rtol: 0, atol: 0 });
    await same("argmax of everything", [p], (x) => x.argmax(), { rtol: 0, atol: 0 });
  });

  it("scans: long lines through the workgroup scan, every dtype", async () => {
    const f = pair(data(2 * 5000, 13), [2, 5000]);
    await same("cumsum float32", [f], (x) => x.cumsum(1), { rtol: 1e-4, atol: 1e-3 });
    await same("cumsum along axis 0", [f], (x) => x.t().cumsum(0), { rtol: 1e-4, atol: 1e-3 });
    const near1 = pair(data(3000, 14, 0.999, 1.001), [3000]);
    await same("cumprod float32", [near1], (x) => x.cumprod(0), { rtol: 1e-4, atol: 1e-6 });
    const i = pair(data(9000, 15, -50, 50, true), [9000], "int32");
    await same("cumsum int32", [i], (x) => x.cumsum(0), { rtol: 0, atol: 0 });
    const b = pair(data(3000, 16, 0, 2, true), [3000], "bool");
    await same("cumsum bool", [b], (x) => x.cumsum(0), { rtol: 0, atol: 0 });
  });

  it("sort: shared-memory and global schedules, stable ties, NaN last, descending", async () => {
    for (const n of [5, 100, 1000, 2048, 2049, 5000]) {
      const v = data(3 * n, 17 + n, -20, 20, true);
      v[n + 1] = Number.NaN;
      const p = pair(v, [3, n]);
      for (const descending of [false, true]) {
        const exact = { rtol: 0, atol: 0 };
        await same(
          `sort values n=${n} desc=${descending}`,
          [p],
          (x) => x.sort({ dim: 1, descending }).values,
          exact,
        );
        await same(
          `sort indices n=${n} desc=${descending}`,
          [p],
          (x) => x.sort({ dim: 1, descending }).indices,
          exact,
        );
      }
      await same(`sort along axis 0 n=${n}`, [p], (x) => x.t().sort({ dim: 0 }).indices, {
        rtol: 0,
        atol: 0,
      });
    }
    const i = pair(data(3000, 30, -1e6, 1e6, true), [3000], "int32");
    await same("sort int32", [i], (x) => x.sort().values, { rtol: 0, atol: 0 });
    await same("topk", [i], (x) => x.topk(10).indices, { rtol: 0, atol: 0 });
  });

  it("scatterAdd with duplicate indices uses atomics (float32, int32, uint8, bool)", async () => {
    const n = 2000;
    const idxv = data(n, 31, 0, 7, true);
    for (const dtype of ["float32", "int32", "uint8", "bool"] as const) {
      const ints = dtype !== "float32";
      const src = pair(data(n, 32, 0, dtype === "bool" ? 2 : 100, ints), [1, n], dtype);
      const idx = pair(idxv, [1, n], "int32");
      const base = pair(new Array(7).fill(dtype === "bool" ? 0 : 3), [1, 7], dtype);
      const tol = dtype === "float32" ? { rtol: 1e-4, atol: 1e-3 } : { rtol: 0, atol: 0 };
      await same(`scatterAdd ${dtype}`, [base, idx, src], (b, ix, s) => b.scatterAdd(1, ix, s), tol);
    }
    const x = pair(data(5 * 6, 33), [5, 6]);
    const ix = pair([4, 0, 2, 1, 3, 0], [1, 6], "int32");
    await same("scatter set along axis 0", [x, ix], (a, i) => a.scatter(0, i, a.at("0:1")), {
      rtol: 0,
      atol: 0,
    });
    await same("gather along axis 0", [x, ix], (a, i) => a.gather(0, i), { rtol: 0, atol: 0 });
  });

  it("random streams match the core's functions (large, counter wrap-around)", async () => {
    manualSeed(99);
    const u = await rand(100_000, { device: "webgpu" }).dataAsync();
    const n = await randn(50_000, { device: "webgpu" }).dataAsync();
    const key = seedKey(99);
    assertClose(
      u,
      Array.from({ length: 100_000 }, (_, i) => Math.fround(randomUniform(key, i))),
      { rtol: 0, atol: 0 },
      "uniform",
    );
    assertClose(
      n,
      Array.from({ length: 50_000 }, (_, i) => randomNormal(key, 100_000 + i)),
      { rtol: 1e-5, atol: 1e-5 },
      "normal",
    );
    const out = tensor(new Array(16).fill(0), { dtype: "float32", device: "webgpu" });
    gpu!.random("uniform", key, 4294967290, out.view_);
    assertClose(
      await out.dataAsync(),
      Array.from({ length: 16 }, (_, i) => Math.fround(randomUniform(key, 4294967290 + i))),
      { rtol: 0, atol: 0 },
      "counter wraps modulo 2^32",
    );
  });

  it("softmax and logSoftmax on long and many rows", async () => {
    for (const [r, c] of [
      [3, 3000],
      [500, 10],
    ]) {
      const p = pair(data(r * c, 40 + c, -20, 20), [r, c]);
      await same(`softmax ${r}x${c}`, [p], (x) => x.softmax(1), { rtol: 1e-4, atol: 1e-6 });
      await same(`logSoftmax ${r}x${c}`, [p], (x) => x.logSoftmax(1), { rtol: 1e-4, atol: 1e-4 });
    }
  });

  it("elementwise: high-rank permuted views, in-place ops on aliased storage, a 2-D dispatch grid", async () => {
    const p = pair(data(2 * 3 * 4 * 5 * 6, 50), [2, 3, 4, 5, 6]);
    const q = pair(data(3 * 1 * 5 * 6, 51), [3, 1, 5, 6]);
    await same("rank-5 broadcast over a permuted view", [p, q], (a, b) =>
      a.permute(0, 2, 1, 3, 4).add(b.permute(1, 0, 2, 3)),
    );
    await same("in-place add_ of itself", [p], (a) => {
      const c = a.clone();
      return c.add_(c);
    });
    await same("in-place mul_ through a transposed alias", [p], (a) => {
      const c = a.clone().reshape(12, 60);
      c.t().mul_(c.t());
      return c;
    });
    await same("where with aliased operands", [p], (a) => a.gt(0).where(a, a.neg()));
    const n = 256 * 65535 + 1000; // more workgroups than one dispatch dimension holds
    const x = tensor(new Float32Array(n).fill(1), { device: "webgpu" });
    const y = x.mul(2).add(1);
    const d = await y.dataAsync();
    expect(d.length).toBe(n);
    expect(d[0]).toBe(3);
    expect(d[n - 1]).toBe(3);
    expect(await y.sum().itemAsync()).toBe(3 * n);
  });

  it("casts and fills through strided views", async () => {
    const p = pair([-1.7, 0, 2.9, 300.5, Number.NaN, Number.POSITIVE_INFINITY, -3e9, 255.5], [2, 4]);
    for (const dtype of ["int32", "uint8", "bool"] as const) {
      await same(`cast to ${dtype}`, [p], (a) => a.t().to(dtype), { rtol: 0, atol: 0 });
    }
    const z = pair(new Array(12).fill(0), [3, 4]);
    await same("fill a strided view", [z], (a: Tensor) => {
      const c = a.clone();
      c.at(":", "1::2").fill_(7.5);
      return c;
    });
  });
});
