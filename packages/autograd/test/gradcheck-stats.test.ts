/**
 * The derivatives of issue 14's statistics, scans and scatter_reduce against central finite differences in float64
 * (random inputs, away from ties and kinks), plus the second derivative of logcumsumexp (its backward is composed
 * of differentiable ops, as PyTorch's). Their values against PyTorch's: tests/test/ops-stats.test.ts.
 */
import {
  manualSeed,
  nanquantile,
  quantile,
  randn,
  scatterReduce,
  stdMean,
  type Tensor,
  tensor,
  varMean,
} from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { enableGrad, grad, gradcheck } from "../src/index";
import "./setup";

const f64 = (shape: number[]) =>
  randn(...shape, { dtype: "float64" })
    .detach()
    .requiresGrad_();
const q = (values: number[]) => tensor(values, { dtype: "float64" });
const index = (values: number[] | number[][]) => tensor(values);

describe("gradcheck: statistics, scans and scatter_reduce", () => {
  manualSeed(14);
  const cases: [string, number[][], (...xs: Tensor[]) => Tensor][] = [
    ["cummax", [[3, 6]], (x) => x.cummax(1).values],
    ["cummin dim 0", [[5, 2]], (x) => x.cummin(0).values],
    ["logcumsumexp", [[3, 5]], (x) => x.logcumsumexp(1)],
    ["logcumsumexp of large values", [[6]], (x) => x.mul(50).logcumsumexp(0)],
    ["median of all", [[3, 5]], (x) => x.median()],
    ["median along a dim", [[4, 5]], (x) => x.median(1).values],
    ["nanmedian keepdim", [[4, 3]], (x) => x.nanmedian(0, true).values],
    ["kthvalue", [[3, 6]], (x) => x.kthvalue(4).values],
    ["mode", [[3, 4]], (x) => x.mode(1).values],
    ["quantile linear", [[3, 7]], (x) => quantile(x, q([0.1, 0.5, 0.93]), 1)],
    ["nanquantile midpoint", [[8]], (x) => nanquantile(x, 0.3, { interpolation: "midpoint" })],
    ["stdMean (both)", [[3, 4]], (x) => stdMean(x, 1)[0].add(stdMean(x, 1)[1])],
    ["varMean (correction 0)", [[3, 4]], (x) => varMean(x, 0, { correction: 0 })[0]],
  ];
  for (const [name, shapes, fn] of cases) {
    it(name, () => {
      expect(gradcheck(fn, shapes.map(f64))).toBe(true);
    });
  }

  const idx = index([
    [0, 2, 2, 1],
    [3, 3, 0, 0],
  ]);
  for (const reduce of ["sum", "prod", "mean", "amax", "amin"] as const) {
    for (const includeSelf of [true, false]) {
      it(`scatterReduce ${reduce}, includeSelf ${includeSelf}`, () => {
        const x = f64([2, 4]);
        const s = f64([2, 5]);
        expect(gradcheck((a, b) => scatterReduce(a, 1, idx, b, reduce, { includeSelf }), [x, s])).toBe(true);
      });
    }
  }

  it("logcumsumexp: second derivative", () => {
    const w = randn(2, 5, { dtype: "float64" });
    const x = f64([2, 5]);
    // enableGrad: gradcheck's finite differences run under noGrad, where grad() would find no graph
    const f = (a: Tensor) =>
      enableGrad(() => grad(a.logcumsumexp(1).mul(w).sum(), [a], { createGraph: true })[0] as Tensor);
    expect(gradcheck(f, [x])).toBe(true);
  });
});
