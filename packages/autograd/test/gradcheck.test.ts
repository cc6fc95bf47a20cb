/**
 * Every differentiable op of the core, checked against central finite differences in float64: the
 * elementwise ops straight from the op table (so a new op is checked as soon as it has a derivative), then
 * reductions, products, views, indexing and the composites built on them.
 */
import {
  BINARY_OPS,
  binaryOps,
  cat,
  manualSeed,
  randn,
  stack,
  type Tensor,
  tensor,
  UNARY_OPS,
  unaryOps,
  where,
} from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { gradcheck } from "../src/index";
import "./setup";

const f64 = { dtype: "float64" as const, requiresGrad: true };

/** Inputs inside each op's smooth domain. */
function inputFor(op: string, shape: number[]): Tensor {
  const x = randn(...shape, { dtype: "float64" });
  const t =
    op === "sqrt" || op === "rsqrt" || op === "log" || op === "log2" || op === "log1p" || op === "reciprocal"
      ? x.abs().add(0.5)
      : op === "tan"
        ? x.mul(0.3)
        : op === "asin" || op === "acos" || op === "atanh" || op === "erfinv"
          ? x.tanh().mul(0.8) // inside (-1, 1)
          : op === "acosh"
            ? x.abs().add(1.5)
            : op === "log10"
              ? x.abs().add(0.5)
              : op === "abs" || op === "relu" || op === "sign"
                ? x.add(x.sign().mul(0.2)) // keep away from the kink at 0
                : x;
  return t.detach().requiresGrad_();
}

describe("gradcheck: the elementwise op table", () => {
  manualSeed(7);
  for (const op of UNARY_OPS) {
    if (!unaryOps[op].grad) continue;
    it(`unary ${op}`, () => {
      const x = inputFor(op, [3, 4]);
      expect(gradcheck((a) => (a as unknown as Record<string, () => Tensor>)[op](), [x])).toBe(true);
    });
  }
  for (const op of BINARY_OPS) {
    if (!binaryOps[op].grad) continue;
    it(`binary ${op} with broadcasting`, () => {
      let a = randn(3, 4, { dtype: "float64" });
      let b = randn(4, { dtype: "float64" });
      if (op === "pow") a = a.abs().add(0.5);
      if (op === "remainder" || op === "fmod") b = b.abs().add(1.5); // away from the jumps
      if (op === "maximum" || op === "minimum") b = b.add(0.05); // no ties
      if (op === "copysign") {
        a = a.add(a.sign().mul(0.2)); // away from the kink at 0
        b = b.add(b.sign().mul(0.2)); // and from the sign flip
      }
      const x = a.detach().requiresGrad_();
      const y = b.detach().requiresGrad_();
      expect(
        gradcheck((p, q) => (p as unknown as Record<string, (o: Tensor) => Tensor>)[op](q), [x, y]),
      ).toBe(true);
    });
  }
});

describe("gradcheck: reductions, products, views, indexing", () => {
  manualSeed(11);
  const cases: [string, number[][], (...xs: Tensor[]) => Tensor][] = [
    ["sum", [[3, 4]], (x) => x.sum()],
    ["sum dim keepdim", [[3, 4]], (x) => x.sum({ dim: 1, keepdim: true })],
    ["mean dims", [[2, 3, 4]], (x) => x.mean({ dim: [0, 2] })],
    ["prod", [[2, 3]], (x) => x.prod({ dim: 1 })],
    ["max all", [[3, 4]], (x) => x.max()],
    ["max dim", [[3, 4]], (x) => x.max({ dim: 1 }).values],
    ["min dim keepdim", [[3, 4]], (x) => x.min({ dim: 0, keepdim: true }).values],
    ["amax", [[3, 4]], (x) => x.amax({ dim: 1 })],
    ["var", [[3, 4]], (x) => x.var({ dim: 1 })],
    ["std", [[3, 4]], (x) => x.std()],
    ["logsumexp", [[3, 4]], (x) => x.logsumexp({ dim: 1 })],
    ["norm", [[3, 4]], (x) => x.norm()],
    ["cumsum", [[3, 4]], (x) => x.cumsum(1)],
    ["cumprod", [[3, 4]], (x) => x.abs().add(0.5).cumprod(0)],
    ["softmax", [[3, 4]], (x) => x.softmax(1)],
    ["logSoftmax", [[3, 4]], (x) => x.logSoftmax(0)],
    [
      "matmul 2-D",
      [
        [3, 4],
        [4, 2],
      ],
      (a, b) => a.matmul(b),
    ],
    [
      "matmul batched broadcast",
      [
        [2, 3, 4],
        [4, 5],
      ],
      (a, b) => a.matmul(b),
    ],
    ["matmul vector-matrix", [[4], [4, 3]], (a, b) => a.matmul(b)],
    ["matmul matrix-vector", [[3, 4], [4]], (a, b) => a.matmul(b)],
    ["dot", [[5], [5]], (a, b) => a.dot(b)],
    [
      "bmm",
      [
        [2, 3, 4],
        [2, 4, 2],
      ],
      (a, b) => a.bmm(b),
    ],
    ["reshape/transpose/permute", [[2, 3, 4]], (x) => x.transpose(0, 2).reshape(4, 6).permute(1, 0)],
    ["expand", [[3, 1]], (x) => x.expand(3, 4).mul(tensor([[1, 2, 3, 4]], { dtype: "float64" }))],
    ["squeeze/unsqueeze/flatten", [[3, 1, 4]], (x) => x.squeeze(1).unsqueeze(0).flatten()],
    ["slices", [[5, 6]], (x) => x.at("1:4", "::2")],
    ["select", [[3, 4]], (x) => x.at(1)],
    ["advanced indexing", [[4, 5]], (x) => x.at([0, 2, 2], [1, 3, 4])],
    ["mask indexing", [[3, 4]], (x) => x.at(x.detach().gt(0))],
    [
      "gather",
      [[3, 4]],
      (x) =>
        x.gather(
          1,
          tensor([
            [3, 0],
            [1, 1],
            [2, 0],
          ]),
        ),
    ],
    ["indexSelect", [[4, 3]], (x) => x.indexSelect(0, tensor([3, 0, 3, 1, 2]))],
    [
      "cat",
      [
        [2, 3],
        [1, 3],
      ],
      (a, b) => cat([a, b], 0),
    ],
    [
      "stack",
      [
        [2, 3],
        [2, 3],
      ],
      (a, b) => stack([a, b], 1),
    ],
    ["split and chunk", [[6, 2]], (x) => x.split(2)[1].add(x.chunk(3, 0)[2])],
    ["repeat", [[2, 3]], (x) => x.repeat(2, 2)],
    ["flip", [[3, 4]], (x) => x.flip([0, 1])],
    ["clamp", [[3, 4]], (x) => x.clamp(-0.5, 0.5)],
    [
      "where",
      [
        [3, 4],
        [3, 4],
      ],
      (a, b) => where(a.detach().gt(0), a, b),
    ],
    ["maskedFill", [[3, 4]], (x) => x.maskedFill(x.detach().lt(0), 2)],
    ["sort values", [[3, 5]], (x) => x.sort({ dim: 1 }).values],
    ["topk values", [[3, 5]], (x) => x.topk(2).values],
    ["set (index_put) values", [[3, 4], [2]], (x, v) => x.mul(1).set([0, [1, 2]], v)],
    ["frac", [[3, 4]], (x) => x.frac()],
    [
      "lerp, number weights on both branches",
      [
        [3, 4],
        [3, 4],
      ],
      (a, b) => a.lerp(b, 0.3).add(a.lerp(b, 0.8)),
    ],
    [
      "lerp, tensor weight",
      [
        [3, 4],
        [3, 4],
        [3, 4],
      ],
      (a, b, w) => a.lerp(b, w),
    ],
    ["addcmul", [[3, 4], [3, 4], [4]], (a, b, c) => a.addcmul(b, c, { value: 0.5 })],
    ["addcdiv", [[3, 4], [3, 4], [4]], (a, b, c) => a.addcdiv(b, c.abs().add(1), { value: -2 })],
    [
      "logaddexp",
      [
        [3, 4],
        [3, 4],
      ],
      (a, b) => a.logaddexp(b),
    ],
    ["logaddexp2", [[3, 4], [4]], (a, b) => a.logaddexp2(b)],
  ];
  for (const [name, shapes, fn] of cases) {
    it(name, () => {
      const xs = shapes.map((s) => randn(...s, f64));
      expect(gradcheck(fn, xs, { atol: 1e-4, rtol: 1e-3 })).toBe(true);
    });
  }
});
