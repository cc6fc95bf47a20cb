/**
 * Module state dicts with the layers: strict loading errors, names, sharing, non-persistent buffers, hooks; a
 * submodule under two names and a module that contains itself, against PyTorch (fixtures/module-sharing.json,
 * written by scripts/fixtures/module_sharing.py).
 */
import { readFileSync } from "node:fs";
import { full, noGrad, ones, randn, type Tensor, tensor, zeros } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as nn from "../src";
import { fixtureDir } from "./helpers";

const sharing = JSON.parse(readFileSync(new URL("module-sharing.json", fixtureDir), "utf8"));

class TwoLayer extends nn.Module {
  fc1 = new nn.Linear(3, 4);
  bn = new nn.BatchNorm1d(4);
  fc2 = new nn.Linear(4, 2);
  override forward(x: Tensor): Tensor {
    return this.fc2(this.bn(this.fc1(x)).relu());
  }
}

describe("stateDict / loadStateDict", () => {
  it("round-trips every parameter and buffer into a fresh model", () => {
    const a = new TwoLayer();
    a(randn(8, 3));
    const b = new TwoLayer();
    const res = b.loadStateDict(a.stateDict());
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [k, v] of a.stateDict())
      expect(Array.from(b.stateDict().get(k)!.data()), k).toEqual(Array.from(v.data()));
    a.eval();
    b.eval();
    const x = randn(2, 3);
    expect(Array.from(b(x).data())).toEqual(Array.from(a(x).data()));
  });
  it("strict loading names missing and unexpected keys", () => {
    const sd = new TwoLayer().stateDict();
    sd.delete("fc1.bias");
    sd.delete("bn.running_var");
    sd.set("fc3.weight", zeros(2));
    expect(() => new TwoLayer().loadStateDict(sd)).toThrow(
      'Error(s) in loading state_dict for TwoLayer:\n\tMissing key(s) in state_dict: "fc1.bias", "bn.running_var".\n\tUnexpected key(s) in state_dict: "fc3.weight".',
    );
  });
  it("non-strict loading returns the missing and unexpected keys and loads the rest", () => {
    const src = new TwoLayer();
    const sd = src.stateDict();
    sd.delete("fc2.weight");
    sd.set("extra", zeros(1));
    const dst = new TwoLayer();
    expect(dst.loadStateDict(sd, { strict: false })).toEqual({
      missingKeys: ["fc2.weight"],
      unexpectedKeys: ["extra"],
    });
    expect(Array.from(dst.fc1.weight.data())).toEqual(Array.from(src.fc1.weight.data()));
  });
  it("a size mismatch is an error naming the key and both shapes, even when not strict", () => {
    const sd = new TwoLayer().stateDict();
    sd.set("fc1.weight", zeros(5, 3));
    const msg =
      /size mismatch for fc1.weight: copying a param with shape torch\.Size\(\[5, 3\]\) from checkpoint, the shape in current model is torch\.Size\(\[4, 3\]\)\./;
    expect(() => new TwoLayer().loadStateDict(sd)).toThrow(msg);
    expect(() => new TwoLayer().loadStateDict(sd, { strict: false })).toThrow(msg);
  });
  it("accepts a plain object, and loading keeps parameters leaves that require grad", () => {
    const l = new nn.Linear(2, 1);
    l.loadStateDict({ weight: tensor([[1, 2]], { dtype: "float32" }), bias: tensor([0.5]) });
    expect(l.weight.toArray()).toEqual([[1, 2]]);
    expect(l.bias!.toArray()).toEqual([0.5]);
    expect(l.weight.isLeaf && l.weight.requiresGrad).toBe(true);
  });
  it("stateDict values share storage with the model, detached", () => {
    const l = new nn.Linear(2, 2);
    const w = l.stateDict().get("weight")!;
    expect(w.requiresGrad).toBe(false);
    noGrad(() => w.fill_(3));
    expect(Array.from(l.weight.data())).toEqual([3, 3, 3, 3]);
  });
  it("non-persistent buffers stay out of the state dict; user modules can rename state keys", () => {
    class M extends nn.Module {
      static override stateNames = { hiddenState: "hidden_state" };
      hiddenState = nn.buffer(zeros(2));
      cache = nn.buffer(ones(2), false);
      proj = new nn.Linear(2, 2);
    }
    const m = new M();
    expect([...m.stateDict().keys()]).toEqual(["hidden_state", "proj.weight", "proj.bias"]);
    expect([...m.namedBuffers()].map(([k]) => k)).toEqual(["hidden_state", "cache"]);
  });
  it("shared modules and parameters are listed once", () => {
    const shared = new nn.Linear(2, 2);
    const seq = new nn.Sequential(shared, new nn.ReLU(), shared);
    expect(seq.parameters().length).toBe(2);
    expect([...seq.modules()].length).toBe(3);
  });
  it("zeroGrad, train/eval and apply reach every layer", () => {
    const m = new TwoLayer();
    m(randn(4, 3)).sum().backward();
    expect(m.fc1.weight.grad).not.toBeNull();
    m.zeroGrad();
    // PyTorch 1.13's default: zeroed in place; setToNone drops them
    expect(m.parameters().every((p) => p.grad !== null && p.grad.abs().sum().item() === 0)).toBe(true);
    m.zeroGrad(true);
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
    m.eval();
    expect([...m.modules()].every((x) => !x.training)).toBe(true);
    const names: string[] = [];
    m.apply((x) => names.push(x.constructor.name));
    expect(names).toEqual(["Linear", "BatchNorm1d", "Linear", "TwoLayer"]);
  });
  it("forward hooks see the output of a layer", () => {
    const l = new nn.Linear(2, 3);
    const shapes: number[][] = [];
    const remove = l.registerForwardHook((_m, _in, out) => {
      shapes.push([...(out as Tensor).shape]);
    });
    l(randn(5, 2));
    remove();
    l(randn(5, 2));
    expect(shapes).toEqual([[5, 3]]);
  });
});

/** The models of scripts/fixtures/module_sharing.py, in Cinder. */
class TwoNames extends nn.Module {
  x: nn.Linear;
  bn: nn.BatchNorm1d;
  y: nn.Linear;
  constructor() {
    super();
    const shared = new nn.Linear(2, 3);
    this.x = shared;
    this.bn = new nn.BatchNorm1d(3);
    this.y = shared;
  }
}
class Nested extends nn.Module {
  a: nn.Sequential;
  b: nn.Linear;
  constructor() {
    super();
    const lin = new nn.Linear(2, 2);
    this.a = new nn.Sequential(lin, new nn.ReLU());
    this.b = lin;
  }
}
const sequential = () => {
  const shared = new nn.Linear(2, 2);
  return new nn.Sequential(shared, new nn.ReLU(), shared);
};
const makers: Record<string, () => nn.Module> = {
  two_names: () => new TwoNames(),
  nested: () => new Nested(),
  sequential,
};
const names = (it: Iterable<[string, unknown]>) => [...it].map(([k]) => k);

describe("a submodule registered under two names, as PyTorch", () => {
  interface Case {
    name: string;
    state_dict: string[];
    named_parameters: string[];
    named_buffers: string[];
    named_modules: string[];
    named_modules_all: string[];
    repr: string;
    load_first_prefix_only: { missing: string[]; unexpected: string[] };
  }
  for (const c of sharing.shared as Case[]) {
    it(`${c.name}: stateDict lists every prefix, namedParameters/namedModules each module once`, () => {
      const m = makers[c.name]();
      expect([...m.stateDict().keys()]).toEqual(c.state_dict);
      expect(names(m.namedParameters())).toEqual(c.named_parameters);
      expect(names(m.namedBuffers())).toEqual(c.named_buffers);
      expect(names(m.namedModules())).toEqual(c.named_modules);
      expect(names(m.namedModules({ removeDuplicate: false }))).toEqual(c.named_modules_all);
      expect(m.parameters().length).toBe(c.named_parameters.length);
      expect(String(m)).toBe(c.repr);
    });
    it(`${c.name}: PyTorch's checkpoint (both prefixes) loads strictly; the first prefix alone misses the second`, () => {
      const src = makers[c.name]();
      const sd = new Map(c.state_dict.map((k) => [k, src.stateDict().get(k)!]));
      expect(makers[c.name]().loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
      const first = new Map([...sd].filter(([k]) => k.startsWith(`${c.state_dict[0].split(".")[0]}.`)));
      expect(makers[c.name]().loadStateDict(first, { strict: false })).toEqual({
        missingKeys: c.load_first_prefix_only.missing,
        unexpectedKeys: c.load_first_prefix_only.unexpected,
      });
    });
  }
  it("when the two prefixes disagree, the later one wins, as in PyTorch", () => {
    const m = new TwoNames();
    const sd = m.stateDict();
    sd.set("x.weight", full([3, 2], sharing.disagreeing["x.weight"]));
    sd.set("y.weight", full([3, 2], sharing.disagreeing["y.weight"]));
    m.loadStateDict(sd);
    expect(Array.from(m.x.weight.data())).toEqual(sharing.disagreeing.loaded);
  });
});

describe("a module that contains itself", () => {
  const cycles = sharing.cycles;
  it("PyTorch raises for print, state_dict and load_state_dict (the fixture)", () => {
    expect(cycles.empty_sequential).toEqual({ repr: "RecursionError", state_dict: "RecursionError" });
    expect(cycles.sequential_with_linear.load_state_dict).toBe("RecursionError");
  });
  it("String(), stateDict() and loadStateDict() throw an error naming the cycle, not a stack overflow", () => {
    const m = new nn.Sequential();
    m.addModule("self", m);
    const msg = /module cycle: the Sequential at the root contains itself as "self" \(\(root\) -> self\)/;
    expect(() => String(m)).toThrow(msg);
    expect(() => m.stateDict()).toThrow(msg);
    const m2 = new nn.Sequential(new nn.Linear(2, 2));
    m2.addModule("loop", m2);
    expect(() => String(m2)).toThrow(/contains itself as "loop"/);
    expect(() => m2.stateDict()).toThrow(/contains itself as "loop"/);
    expect(() => m2.loadStateDict({})).toThrow(/contains itself as "loop"/);
    expect(() => m2.apply(() => {})).toThrow(/contains itself as "loop"/);
    expect(() => [...m2.namedModules({ removeDuplicate: false })]).toThrow(/contains itself as "loop"/);
    // the deduplicating walks terminate, as PyTorch's
    expect(names(m2.namedParameters())).toEqual(cycles.sequential_with_linear.named_parameters);
    expect(names(m2.namedModules())).toEqual(cycles.sequential_with_linear.named_modules);
  });
  it("a deeper cycle is named by its path", () => {
    const inner = new nn.Sequential(new nn.ReLU());
    const outer = new nn.Sequential(new nn.Linear(1, 1), inner);
    inner.addModule("back", outer);
    const msg =
      /module cycle: the Sequential at the root contains itself as "1\.back" \(\(root\) -> 1 -> 1\.back\)/;
    expect(() => String(outer)).toThrow(msg);
    expect(() => outer.stateDict()).toThrow(msg);
    const holder = new nn.Sequential(outer);
    expect(() => holder.stateDict()).toThrow(
      /the Sequential at "0" contains itself as "0\.1\.back" \(0 -> 0\.1 -> 0\.1\.back\)/,
    );
  });
});
