/**
 * The tiled matmul's vec4 staging variants against the cpu backend: shapes and views that take them (and
 * which operand), and ones that must stay on the scalar path (odd K or N, transposed or misaligned operands,
 * int32, the simple kernel).
 */
import type { Tensor, View } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { matmulCounts, matmulVariant } from "../src/matmul";
import { data, pair, same } from "./helpers";
import { gpu } from "./setup";

const tol = { rtol: 1e-4, atol: 1e-4 };

/** Run `f` on both devices, compare, and return the variant(s) the webgpu matmul dispatched. */
async function path(
  what: string,
  inputs: { c: Tensor; g: Tensor }[],
  f: (...xs: Tensor[]) => Tensor,
  t = tol,
): Promise<string> {
  const before = { ...matmulCounts };
  await same(what, inputs, f, t);
  return Object.keys(matmulCounts)
    .filter((k) => matmulCounts[k] !== (before[k] ?? 0))
    .sort()
    .join(",");
}

function mat(m: number, n: number, seed: number) {
  return pair(data(m * n, seed), [m, n]);
}

describe("matmulVariant", () => {
  const v = (shape: number[], strides: number[], offset = 0, dtype: View["dtype"] = "float32"): View =>
    ({ handle: null, dtype, shape, strides, offset }) as unknown as View;
  it("picks vec4 only for aligned, unit-stride float32 operands of tiled products", () => {
    const out = v([1, 64, 64], [4096, 64, 1]);
    const a = v([1, 64, 64], [0, 64, 1]);
    expect(matmulVariant(a, a, out)).toEqual({ tiled: true, a4: true, b4: true });
    expect(matmulVariant(v([1, 64, 64], [0, 64, 1], 4), v([1, 64, 64], [0, 64, 1], 8), out)).toMatchObject({
      a4: true,
      b4: true,
    });
    expect(matmulVariant(v([1, 64, 64], [0, 64, 1], 1), a, out)).toMatchObject({ a4: false, b4: true });
    expect(matmulVariant(a, v([1, 64, 64], [0, 66, 1]), out)).toMatchObject({ a4: true, b4: false });
    expect(matmulVariant(v([1, 64, 64], [0, 1, 64]), a, out)).toMatchObject({ a4: false, b4: true });
    expect(matmulVariant(v([2, 64, 64], [4098, 64, 1]), a, v([2, 64, 64], [4096, 64, 1]))).toMatchObject({
      a4: false,
    });
    const ai = v([1, 64, 64], [0, 64, 1], 0, "int32");
    expect(matmulVariant(ai, ai, v([1, 64, 64], [4096, 64, 1], 0, "int32"))).toMatchObject({
      a4: false,
      b4: false,
    });
    expect(
      matmulVariant(v([1, 4, 8], [0, 8, 1]), v([1, 8, 12], [0, 12, 1]), v([1, 4, 12], [48, 12, 1])),
    ).toEqual({ tiled: false, a4: false, b4: false });
  });
});

describe.skipIf(!gpu)("webgpu vec4 matmul against the cpu backend", () => {
  it("takes the vec4 path where shapes allow", async () => {
    const mm = (x: Tensor, y: Tensor) => x.matmul(y);
    expect(await path("64x128 @ 128x64", [mat(64, 128, 1), mat(128, 64, 2)], mm)).toBe("a4b4");
    expect(await path("256x256", [mat(256, 256, 3), mat(256, 256, 4)], mm)).toBe("a4b4");
    expect(await path("edges 100x36 @ 36x72", [mat(100, 36, 5), mat(36, 72, 6)], mm)).toBe("a4b4");
    const a3 = pair(data(3 * 64 * 32, 7), [3, 64, 32]);
    expect(await path("[3,64,32] @ [32,64]", [a3, mat(32, 64, 8)], mm)).toBe("a4b4");
    expect(await path("[3,64,32] @ [3,32,64]", [a3, pair(data(3 * 32 * 64, 9), [3, 32, 64])], mm)).toBe(
      "a4b4",
    );
    // offset views: rows 1.. (offset 64) and columns 4.. (offset 4, row stride 68)
    const big = mat(65, 68, 10);
    expect(
      await path("offset views", [big, mat(64, 64, 11)], (x, y) =>
        x.at("1:", "4:").matmul(y.at(":", "0:64")),
      ),
    ).toBe("a4b4");
    expect(await path("offset rhs", [mat(64, 64, 12), big], (x, y) => x.matmul(y.at("1:", "4:")))).toBe(
      "a4b4",
    );
  });

  it("keeps the scalar path otherwise", async () => {
    const mm = (x: Tensor, y: Tensor) => x.matmul(y);
    expect(await path("K=7", [mat(64, 7, 13), mat(7, 64, 14)], mm)).toBe("b4");
    expect(await path("N=65", [mat(64, 64, 15), mat(64, 65, 16)], mm)).toBe("a4");
    expect(await path("K=7, N=65", [mat(64, 7, 17), mat(7, 65, 18)], mm)).toBe("scalar");
    expect(await path("N=5 (simple)", [mat(64, 8, 19), mat(8, 5, 20)], mm)).toBe("simple");
    expect(await path("4x8 @ 8x12 (simple)", [mat(4, 8, 21), mat(8, 12, 22)], mm)).toBe("simple");
    const a3 = pair(data(3 * 64 * 32, 23), [3, 64, 32]);
    expect(await path("[3,64,32] @ [32,16] (simple)", [a3, mat(32, 16, 24)], mm)).toBe("simple");
    const a = mat(64, 64, 25);
    const b = mat(64, 64, 26);
    expect(await path("transposed lhs", [a, b], (x, y) => x.t().matmul(y))).toBe("b4");
    expect(await path("transposed rhs", [a, b], (x, y) => x.matmul(y.t()))).toBe("a4");
    expect(await path("both transposed", [a, b], (x, y) => x.t().matmul(y.t()))).toBe("scalar");
    const odd = mat(65, 65, 27);
    expect(await path("offset 1", [odd, b], (x, y) => x.at("1:", "1:").matmul(y))).toBe("b4");
    const flat = pair(data(1 + 64 * 64, 28), [1 + 64 * 64]);
    expect(
      await path("offset 1, row stride 64", [flat, b], (x, y) => x.at("1:").reshape([64, 64]).matmul(y)),
    ).toBe("b4");
    const ai = pair(data(64 * 64, 29, -100, 100, true), [64, 64], "int32");
    expect(await path("int32", [ai, ai], mm, { rtol: 0, atol: 0 })).toBe("scalar");
  });
});
