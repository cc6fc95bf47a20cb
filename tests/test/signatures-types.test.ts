/**
 * Type-level tests of the declared signatures: PyTorch's positional forms, the options object and a mix
 * type-check; wrong forms do not (`@ts-expect-error` fails `tsc --noEmit` if the line compiles). Checked by
 * `cd tests && npx tsc --noEmit`; the runtime part only makes sure the calls run.
 */
import { cpu } from "@cinder/backend-cpu";
import type { Size, Tensor, ValuesIndices } from "@cinder/tensor";
import * as torch from "@cinder/tensor";
import { describe, expectTypeOf, it } from "vitest";

torch.registerBackend(cpu);

const x = torch.tensor(
  [
    [0, 5, 6],
    [6, 2, 0],
  ],
  { dtype: "float32" },
);
const y = torch.ones(2, 3);

describe("positional forms type-check, wrong ones do not", () => {
  it("reductions", () => {
    expectTypeOf(x.sum(1, true)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.sum({ dim: 1, keepdim: true })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.sum(1, { keepdim: true, dtype: "float64" })).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.sum(x, [0, 1])).toEqualTypeOf<Tensor>();
    expectTypeOf(x.mean(0)).toEqualTypeOf<Tensor>();
    // @ts-expect-error keepdim is a bool
    void (() => x.sum(1, 1));
    // @ts-expect-error dtype is keyword-only
    void (() => x.sum(1, true, "float64"));
    // @ts-expect-error unknown option
    void (() => x.sum({ keepDim: true }));
  });
  it("max/min overloads: the (values, indices) form destructures", () => {
    expectTypeOf(x.max()).toEqualTypeOf<Tensor>();
    expectTypeOf(x.max(1)).toEqualTypeOf<ValuesIndices>();
    const [values, indices] = x.max(1, true);
    expectTypeOf(values).toEqualTypeOf<Tensor>();
    expectTypeOf(indices).toEqualTypeOf<Tensor>();
    expectTypeOf(x.max(y)).toEqualTypeOf<Tensor>();
    const [v2] = x.sort(1, true);
    expectTypeOf(v2).toEqualTypeOf<Tensor>();
    // @ts-expect-error dim is an int, not a string
    void (() => x.max("1"));
  });
  it("binary ops: other positional or in the options, alpha and rounding_mode keyword-only", () => {
    expectTypeOf(x.add(y)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.add(2)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.add(y, { alpha: 2 })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.add({ other: y, alpha: 2 })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.sub_(y, { alpha: 0.5 })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.div(2, { roundingMode: "floor" })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.pow(2)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.pow({ exponent: y })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.mul(y)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.eq(0)).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.add(x, y, { alpha: 2, out: torch.empty(2, 3) })).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.mul(2, x)).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.div(x, y, { roundingMode: "trunc" })).toEqualTypeOf<Tensor>();
    // @ts-expect-error alpha is keyword-only
    void (() => x.add(y, 2));
    // @ts-expect-error rounding mode is "trunc" | "floor"
    void (() => x.div(2, { roundingMode: "round" }));
    // @ts-expect-error pow's operand is named exponent
    void (() => x.pow({ other: 2 }));
    // @ts-expect-error mul takes one operand
    void (() => x.mul(y, y));
    // @ts-expect-error a string is no operand
    void (() => x.mul("2"));
    // @ts-expect-error methods have no out=
    void (() => x.mul(y, { out: y }));
  });
  it("unary ops take nothing (round: decimals)", () => {
    expectTypeOf(x.exp()).toEqualTypeOf<Tensor>();
    expectTypeOf(x.exp_()).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.exp(x)).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.exp(x, { out: y })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.round({ decimals: 2 })).toEqualTypeOf<Tensor>();
    // @ts-expect-error exp() takes no argument
    void (() => x.exp(1));
    // @ts-expect-error torch.relu has no out=
    void (() => torch.relu(x, { out: y }));
  });
  it("clamp/clip, where, isclose, allclose, equal, copy_, fill_", () => {
    expectTypeOf(x.clamp(0, 1)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.clamp({ max: 1 })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.clamp(null, 1)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.clip_(0)).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.clamp(x, 0, 1, { out: y })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.where(x.gt(1), y)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.isclose(y, 1e-3)).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.allclose(x, y, { atol: 1e-3, equalNan: true })).toEqualTypeOf<boolean>();
    expectTypeOf(x.equal(y)).toEqualTypeOf<boolean>();
    expectTypeOf(y.copy_(x, true)).toEqualTypeOf<Tensor>();
    expectTypeOf(y.fill_(2)).toEqualTypeOf<Tensor>();
    // @ts-expect-error min is a Tensor or a number
    void (() => x.clamp("0"));
    // @ts-expect-error clamp takes two bounds
    void (() => x.clamp(0, 1, 2));
    // @ts-expect-error equal_nan is a bool
    void (() => x.isclose(y, { equalNan: 1 }));
  });
  it("creation: *size and the options", () => {
    expectTypeOf(torch.zeros(2, 3, { dtype: "float32" })).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.zeros([2, 3])).toEqualTypeOf<Tensor>();
    expectTypeOf(torch.ones(2, 3, { dtype: torch.float64 })).toEqualTypeOf<Tensor>();
    // @ts-expect-error unknown dtype
    void (() => torch.zeros(2, 3, { dtype: "float8" }));
  });
  it("Tensor's own methods and attributes", () => {
    expectTypeOf(x.to("float64")).toEqualTypeOf<Tensor>();
    expectTypeOf(x.to(torch.double, false, true)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.to("cpu", "int32")).toEqualTypeOf<Tensor>();
    expectTypeOf(x.to({ dtype: torch.long, copy: true })).toEqualTypeOf<Tensor>();
    expectTypeOf(x.to(y)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.type()).toEqualTypeOf<string>();
    expectTypeOf(x.type(torch.float)).toEqualTypeOf<Tensor>();
    expectTypeOf(x.type("torch.DoubleTensor")).toEqualTypeOf<Tensor>();
    expectTypeOf(x.size()).toEqualTypeOf<Size>();
    expectTypeOf(x.size(1)).toEqualTypeOf<number>();
    expectTypeOf(x.shape).toEqualTypeOf<Size>();
    expectTypeOf(x.T).toEqualTypeOf<Tensor>();
    expectTypeOf(x.mT).toEqualTypeOf<Tensor>();
    expectTypeOf(x.length).toEqualTypeOf<number>();
    expectTypeOf(x.ndim).toEqualTypeOf<number>();
    expectTypeOf(torch.float).toEqualTypeOf<"float32">();
    expectTypeOf(torch.long).toEqualTypeOf<"int64">();
    expectTypeOf(x.sum().backward).toBeFunction();
    // @ts-expect-error an unknown dtype
    void (() => x.type("float8"));
    // @ts-expect-error numel() takes no argument
    void (() => x.numel(1));
    // @ts-expect-error size's dim is an int
    void (() => x.size("1"));
    // @ts-expect-error create_graph is a bool
    void (() => x.sum().backward(null, null, 1));
  });
});
