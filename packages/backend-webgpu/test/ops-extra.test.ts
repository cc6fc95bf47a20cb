/**
 * The composite shape, indexing and linear-algebra-lite ops of issue 14 run on webgpu through the primitives they
 * are built from: outputs and gradients equal the cpu's (their PyTorch values are checked on the cpu by
 * tests/test/ops-extra.test.mjs). Small shapes: SwiftShader is slow.
 */
import "@cinder/autograd";
import * as torch from "@cinder/tensor";
import { assertClose } from "@cinder/tensor/testing";
import { describe, it } from "vitest";
import { compareWithGrad, data, pair, same, type TensorFn } from "./helpers";
import { gpu } from "./setup";

type Fn = TensorFn;

/** Forward and backward on webgpu and on the cpu, compared. */
const compare = (name: string, fn: Fn, shapes: number[][]) =>
  compareWithGrad(name, fn, shapes, (n, i) => data(n, 11 + i));

const on = (x: torch.Tensor, values: number[] | number[][]) => torch.tensor(values, { device: x.device });

describe.skipIf(!gpu)("issue 14 ops on webgpu equal the cpu's", () => {
  const cases: [string, number[][], Fn][] = [
    ["roll", [[3, 4]], (x) => x.roll([1, -1], [0, 1])],
    ["tril", [[3, 4]], (x) => x.tril(-1)],
    ["diagonal (a view)", [[3, 4]], (x) => x.t().diagonal(1)],
    ["diagEmbed + trace", [[2, 3]], (x) => torch.diagEmbed(x, 1).mul(2).add(x.sum())],
    ["rot90 + movedim", [[2, 3, 4]], (x) => torch.rot90(x, 1, [1, 2]).movedim(0, -1)],
    [
      "repeatInterleave (tensor counts, outputSize)",
      [[3, 2]],
      (x) => x.repeatInterleave(on(x, [2, 0, 1]), 0, { outputSize: 3 }),
    ],
    ["unfold (overlapping windows)", [[7]], (x) => x.unfold(0, 3, 2)],
    [
      "indexAdd + indexFill",
      [
        [3, 4],
        [3, 2],
      ],
      (x, s) => x.indexAdd(1, on(x, [2, 2]), s).indexFill(0, on(x, [-1]), 0.5),
    ],
    [
      "take",
      [[3, 4]],
      (x) =>
        x.take(
          on(x, [
            [0, -1],
            [5, 5],
          ]),
        ),
    ],
    [
      "kron",
      [
        [2, 2],
        [2, 3],
      ],
      (a, b) => torch.kron(a, b),
    ],
    [
      "einsum (batched contraction and a diagonal)",
      [
        [2, 3, 4],
        [2, 4, 3],
      ],
      (a, b) =>
        torch.einsum("bij,bjk->bik", a, b).add(torch.einsum("bii->b", b.at(":", ":3")).reshape(2, 1, 1)),
    ],
    [
      "tensordot",
      [
        [2, 3, 4],
        [4, 3],
      ],
      (a, b) =>
        torch.tensordot(a, b, [
          [1, 2],
          [1, 0],
        ]),
    ],
    [
      "cross",
      [
        [2, 3],
        [2, 3],
      ],
      (a, b) => torch.linalg.cross(a, b),
    ],
    ["cdist p=2 (coincident points)", [[3, 2]], (a) => torch.cdist(a, a)],
    [
      "cdist p=1, p=inf",
      [
        [3, 2],
        [4, 2],
      ],
      (a, b) => torch.cdist(a, b, 1).add(torch.cdist(a, b, Infinity)),
    ],
  ];
  for (const [name, shapes, fn] of cases) it(name, () => compare(name, fn, shapes));

  it("integer and bool inputs, creation", async () => {
    const ints = pair(data(12, 3, -5, 5, true), [3, 4], "int32");
    await same("triu int32", [ints], (x) => x.triu(1));
    await same("einsum int32", [ints], (x) => torch.einsum("ij,kj->ik", x, x));
    await same("hstack/vstack", [ints], (x) =>
      torch.vstack([x, torch.hstack([x.at(0), x.at(1)]).reshape(2, 4)]),
    );
    const mask = pair([1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1], [3, 4], "bool");
    await same("tile bool", [mask], (m) => m.tile(2, 1));
    const [a, b] = torch.meshgrid(
      torch.tensor([1, 2, 3], { device: "webgpu" }),
      torch.tensor([4, 5], { device: "webgpu" }),
      { indexing: "xy" },
    );
    assertClose(
      await a.add(b.mul(10)).dataAsync(),
      [41, 42, 43, 51, 52, 53],
      { rtol: 0, atol: 0 },
      "meshgrid",
    );
    const ls = torch.logspace(0, 2, 3, { device: "webgpu" });
    assertClose(await ls.dataAsync(), [1, 10, 100], { rtol: 1e-6, atol: 0 }, "logspace");
  });
});
