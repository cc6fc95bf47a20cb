// Elementwise ops (function, method and in-place forms), clamp/clip, where, isclose/allclose/equal, copy_/fill_/
// zero_/detach and Tensor's own methods (to, type, size, ...) called as in PyTorch, in plain JavaScript: every
// call form against PyTorch 1.13. Then what the fixture cannot say: attributes (x.T, x.mT, x.length, x.shape's
// printing), the dtype constants, errors after dispose(), and the messages of misuse.
import { cpu } from "@cinder/backend-cpu";
import "@cinder/autograd";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { signatureCases } from "./support/signature-cases.mjs";
import { thrown } from "./support/thrown.mjs";

torch.registerBackend(cpu);
signatureCases("elementwise", (name) => torch[name]);

const x = () =>
  torch.tensor(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    { dtype: "float32" },
  );

describe("attributes", () => {
  it("x.T reverses every dim (PyTorch 1.13, deprecated but working for ndim != 2)", () => {
    expect(x().T.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const y = torch.arange(24).reshape(2, 3, 4);
    expect([...y.T.shape]).toEqual([4, 3, 2]);
    expect(y.T.toArray()).toEqual(y.permute(2, 1, 0).toArray());
    expect(torch.tensor([1, 2]).T.toArray()).toEqual([1, 2]);
    expect(torch.tensor(3).T.item()).toBe(3);
    // a view: writes go through
    const m = x();
    m.T.set([0, 1], 40);
    expect(m.at(1, 0).item()).toBe(40);
  });
  it("x.mT swaps the last two dims and needs ndim >= 2", () => {
    const y = torch.arange(24).reshape(2, 3, 4);
    expect([...y.mT.shape]).toEqual([2, 4, 3]);
    expect(y.mT.toArray()).toEqual(y.transpose(-2, -1).toArray());
    expect(thrown(() => torch.zeros(3).mT).message).toBe(
      "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.",
    );
  });
  it("x.length is Python's len(x): the size of dim 0; a 0-d tensor throws", () => {
    expect(x().length).toBe(2);
    expect(torch.zeros(0, 3).length).toBe(0);
    const e = thrown(() => torch.tensor(1.5).length);
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe("len() of a 0-d tensor");
  });
  it("x.shape is an array that prints as torch.Size", () => {
    const s = x().shape;
    expect(Array.isArray(s)).toBe(true);
    expect(s.length).toBe(2);
    expect([...s]).toEqual([2, 3]);
    expect(s).toEqual([2, 3]);
    expect(String(s)).toBe("torch.Size([2, 3])");
    expect(`${s}`).toBe("torch.Size([2, 3])");
    expect(s.toString()).toBe("torch.Size([2, 3])");
    expect(String(torch.tensor(1).shape)).toBe("torch.Size([])");
    expect(String(x().size())).toBe("torch.Size([2, 3])");
    expect(JSON.stringify(s)).toBe("[2,3]");
    // arrays made from it are plain arrays
    expect(String(s.map((d) => d * 2))).toBe("4,6");
    expect(String(s.slice(1))).toBe("3");
    expect(s instanceof torch.Size).toBe(true);
  });
  it("ndim, dtype, device, size(dim), numel(), dim()", () => {
    const t = x();
    expect(t.ndim).toBe(2);
    expect(t.dim()).toBe(2);
    expect(t.numel()).toBe(6);
    expect(t.dtype).toBe("float32");
    expect(t.dtype).toBe(torch.float32);
    expect(t.device).toBe("cpu");
    expect(t.size(-1)).toBe(3);
    expect(t.size({ dim: 0 })).toBe(2);
    expect(thrown(() => t.size(2)).message).toMatch(/size\(2\): dimension out of range/);
  });
});

describe("dtype constants", () => {
  it("are the dtype strings, with PyTorch's aliases", () => {
    expect([torch.float32, torch.float, torch.float64, torch.double]).toEqual([
      "float32",
      "float32",
      "float64",
      "float64",
    ]);
    expect([torch.int32, torch.int, torch.int64, torch.long, torch.uint8, torch.bool]).toEqual([
      "int32",
      "int32",
      "int64",
      "int64",
      "uint8",
      "bool",
    ]);
  });
  it("work wherever a dtype goes", () => {
    const t = torch.tensor([1, 2]);
    expect(t.type(torch.float).dtype).toBe("float32");
    expect(t.to(torch.double).dtype).toBe("float64");
    expect(t.to(torch.long).dtype).toBe("int64");
    expect(torch.zeros(2, { dtype: torch.bool }).dtype).toBe("bool");
    expect(torch.ones(2, 2, { dtype: torch.uint8 }).dtype).toBe("uint8");
    expect(t.sum({ dtype: torch.float64 }).dtype).toBe("float64");
  });
});

describe("a disposed tensor cannot be used", () => {
  const DISPOSED = /this tensor was disposed/;
  it("in an op, a view, a read, a method", () => {
    const a = torch.ones(2, 2);
    a.dispose();
    expect(a.isDisposed).toBe(true);
    expect(thrown(() => a.add(1)).message).toMatch(DISPOSED);
    expect(thrown(() => torch.add(torch.ones(2, 2), a)).message).toMatch(DISPOSED);
    expect(thrown(() => a.exp()).message).toMatch(DISPOSED);
    expect(thrown(() => a.reshape(4)).message).toMatch(DISPOSED);
    expect(thrown(() => a.item()).message).toMatch(DISPOSED);
    expect(thrown(() => a.toArray()).message).toMatch(DISPOSED);
    expect(thrown(() => a.sum()).message).toMatch(DISPOSED);
    expect(thrown(() => a.dtype).message).toMatch(DISPOSED);
    // what stays: its shape, printing, disposing again
    expect([...a.shape]).toEqual([2, 2]);
    expect(String(a)).toBe("tensor(<disposed>, shape=[2, 2])");
    a.dispose();
  });
  it("other views of the same storage stay usable", () => {
    const a = torch.ones(4);
    const b = a.view(2, 2);
    a.dispose();
    expect(b.add(1).sum().item()).toBe(8);
    expect(b.isDisposed).toBe(false);
  });
  it("an nn Parameter disposed: the module's next use fails clearly", () => {
    const lin = new nn.Linear(3, 2);
    lin.weight.dispose();
    expect(thrown(() => lin(torch.ones(1, 3))).message).toMatch(DISPOSED);
    expect(lin.bias.add(1).shape.length).toBe(1); // the other parameters are untouched
  });
  it("a tensor disposed by tidy() cannot be used after it", () => {
    let inner;
    const kept = torch.tidy(() => {
      inner = torch.ones(2).mul(2);
      return inner.add(1);
    });
    expect(kept.toArray()).toEqual([3, 3]);
    expect(thrown(() => inner.add(1)).message).toMatch(/tidy\(\)/);
  });
});

describe("misuse reads like PyTorch's errors", () => {
  it("an argument to a method that takes none", () => {
    const e = thrown(() => x().exp(1));
    expect(e).toBeInstanceOf(torch.ArgumentError);
    expect(e.message).toBe(
      "exp(): takes 0 positional arguments but 1 was given; keyword arguments go in a final options object",
    );
    expect(thrown(() => x().numel(0))).toBeInstanceOf(torch.ArgumentError);
    expect(thrown(() => x().float("float64"))).toBeInstanceOf(torch.ArgumentError);
  });
  it("too many arguments, a keyword-only one given positionally", () => {
    expect(thrown(() => x().add(1, 2)).message).toBe(
      "add(): takes 1 positional argument (other) but 2 were given; keyword arguments go in a final options object",
    );
    expect(thrown(() => torch.add(x(), 1, 2)).message).toMatch(/add\(\): takes 2 positional arguments/);
  });
  it("an unknown option, with a suggestion", () => {
    expect(thrown(() => x().add(1, { alpah: 2 })).message).toBe(
      'add(): unknown option "alpah"; did you mean "alpha"? (options: other, alpha)',
    );
    expect(thrown(() => x().div(2, { rounding_mode: "floor" })).message).toMatch(
      /unknown option "rounding_mode"; did you mean "roundingMode"\?/,
    );
  });
  it("a value of the wrong kind names the parameter, the expected and the given", () => {
    expect(thrown(() => x().mul("2")).message).toBe(
      'mul(): argument "other" must be Tensor or Number, got str "2"',
    );
    expect(thrown(() => x().pow([2])).message).toBe(
      'pow(): argument "exponent" must be Tensor or Number, got list [2]',
    );
    expect(thrown(() => x().div(2, { roundingMode: "round" })).message).toBe(
      'div(): argument "roundingMode" must be "trunc" | "floor" or null, got str "round"',
    );
    expect(thrown(() => torch.exp(2)).message).toBe('exp(): argument "input" must be Tensor, got int 2');
    expect(thrown(() => x().to("float8")).message).toMatch(/unknown dtype "float8"/);
  });
  it("out= follows PyTorch's rules", () => {
    const o = torch.zeros(2, 3);
    expect(torch.mul(x(), 2, { out: o })).toBe(o);
    expect(o.toArray()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
    expect(thrown(() => torch.add(x(), 1, { out: torch.zeros(2, 3, { dtype: "int32" }) })).message).toBe(
      "add(): result type float32 can't be cast to the desired output type int32",
    );
    expect(thrown(() => torch.add(x(), 1, { out: torch.zeros(3) })).message).toMatch(
      /out= tensor has shape \[3\]/,
    );
    const w = torch.ones(2, { requiresGrad: true });
    expect(thrown(() => torch.exp(w, { out: torch.zeros(2) })).message).toMatch(
      /functions with out=\.\.\. arguments don't support automatic differentiation/,
    );
  });
  it("in-place into an integer tensor of a float result", () => {
    expect(thrown(() => torch.tensor([1, 2]).sqrt_()).message).toMatch(
      /sqrt_: result type float32 can't be cast to the desired output type int64/,
    );
  });
});

describe("the fast paths give the parsed path's results", () => {
  it("x.add(y) equals x.add(y, { alpha: 1 }) and x.add({ other: y })", () => {
    const a = x();
    const b = torch.tensor([0.5, -1, 2]);
    expect(a.add(b).toArray()).toEqual(a.add(b, { alpha: 1 }).toArray());
    expect(a.add(b).toArray()).toEqual(a.add({ other: b }).toArray());
    expect(a.div(2).toArray()).toEqual(a.div(2, { roundingMode: null }).toArray());
    expect(a.exp().toArray()).toEqual(a.exp({}).toArray());
  });
});

describe("named-tuple results destructure", () => {
  it("sort, topk, max(dim)", () => {
    const t = torch.tensor([[3, 1, 2]]);
    const [v, i] = t.sort(1, true);
    expect(v.toArray()).toEqual([[3, 2, 1]]);
    expect(i.toArray()).toEqual([[0, 2, 1]]);
    const { values, indices } = t.topk(2, 1);
    expect(values.toArray()).toEqual([[3, 2]]);
    expect(indices.toArray()).toEqual([[0, 2]]);
    const [mv, mi] = t.max(1);
    expect([mv.toArray(), mi.toArray()]).toEqual([[3], [0]]);
  });
});

describe("backward(gradient=None, retain_graph=None, create_graph=False, inputs=None)", () => {
  it("positional and options forms", () => {
    const w = torch.ones(2, { requiresGrad: true });
    const y = w.mul(3);
    y.backward(torch.ones(2), true);
    y.backward({ gradient: torch.ones(2) });
    expect(w.grad.toArray()).toEqual([6, 6]);
  });
  it("retain_graph defaults to create_graph, as in PyTorch", () => {
    const w = torch.tensor([2], { dtype: "float32", requiresGrad: true });
    const y = w.pow(3).sum();
    y.backward({ createGraph: true });
    y.backward(); // the graph was kept
    expect(w.grad.toArray()).toEqual([24]);
  });
  it("inputs= is refused clearly", () => {
    const w = torch.ones(2, { requiresGrad: true });
    const e = thrown(() => w.sum().backward(null, null, false, [w]));
    expect(e).toBeInstanceOf(torch.ArgumentError);
    expect(e.message).toMatch(/inputs.*autograd\.grad/);
  });
});

describe("detach_(), cpu(), retainGrad(): no parameters, so any argument is refused", () => {
  it("detach_ detaches in place and returns the tensor", () => {
    const w = torch.tensor([1, 2], { requiresGrad: true });
    const y = w.mul(2);
    expect(y.detach_()).toBe(y);
    expect([y.requiresGrad, y.gradFn]).toEqual([false, null]);
    expect(thrown(() => y.detach_(true))).toBeInstanceOf(torch.ArgumentError);
  });
  it("cpu() and retainGrad()", () => {
    const w = torch.tensor([1, 2], { requiresGrad: true });
    expect(w.cpu().device).toBe("cpu");
    expect(thrown(() => w.cpu("webgpu"))).toBeInstanceOf(torch.ArgumentError);
    const y = w.mul(3);
    y.retainGrad();
    y.sum().backward();
    expect(y.grad.toArray()).toEqual([1, 1]);
    expect(thrown(() => y.retainGrad(true))).toBeInstanceOf(torch.ArgumentError);
  });
});
