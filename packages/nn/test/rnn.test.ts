/**
 * RNN, LSTM, GRU and their cells against PyTorch 1.13 (test/fixtures/rnn.json, written by
 * scripts/fixtures/rnn_fixtures.py): outputs, final states and the gradients of the input, the initial state and
 * every parameter for each option combination; printouts and state dict keys; shape errors; gradcheck in float64.
 */
import { readFileSync } from "node:fs";
import { gradcheck } from "@cinder/autograd";
import { ArgumentError, cat, manualSeed, noGrad, randn, type Tensor, tensor, zeros } from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import * as nn from "../src";
import { expectClose, fixtureDir, type T, t } from "./helpers";

interface ModuleCase {
  name: string;
  module: "RNN" | "LSTM" | "GRU" | "RNNCell" | "LSTMCell" | "GRUCell";
  args: Record<string, unknown>;
  eval?: boolean;
  stateDict: Record<string, T>;
  input: T;
  lengths?: number[];
  hx?: T | T[];
  packedData?: T;
  output: T | T[];
  hidden?: T | T[];
  gradOutput: T | T[];
  gradHidden?: T[];
  gradInput: T;
  gradHx?: T | T[];
  gradParams: Record<string, T>;
  repr: string;
}
const fx = JSON.parse(readFileSync(new URL("rnn.json", fixtureDir), "utf8")) as {
  modules: ModuleCase[];
  cells: ModuleCase[];
  reprs: Record<string, string>;
  stateKeys: Record<string, string[]>;
};
/** Recurrences accumulate float32 rounding over the steps: compared at 2e-5 relative (1e-5 for single ops). */
const RTOL = 2e-5;

const list = <X>(v: X | X[]): X[] => (Array.isArray(v) ? v : [v]);
type Recurrent = (input: unknown, hx?: unknown) => unknown;

function build(c: ModuleCase): nn.Module & Recurrent {
  const cls = {
    RNN: nn.RNN,
    LSTM: nn.LSTM,
    GRU: nn.GRU,
    RNNCell: nn.RNNCell,
    LSTMCell: nn.LSTMCell,
    GRUCell: nn.GRUCell,
  }[c.module] as unknown as new (
    ...a: unknown[]
  ) => nn.Module & Recurrent;
  const m = new cls(3, 4, c.args);
  m.loadStateDict(new Map(Object.entries(c.stateDict).map(([k, v]) => [k, t(v)])));
  if (c.eval) m.eval();
  return m;
}

function checkGradients(
  c: ModuleCase,
  m: nn.Module,
  x: Tensor,
  hx: Tensor[] | null,
  outs: Tensor[],
  finals: Tensor[],
) {
  let loss = zeros([]);
  list(c.gradOutput).forEach((g, i) => {
    loss = loss.add(outs[i].mul(t(g)).sum());
  });
  (c.gradHidden ?? []).forEach((g, i) => {
    loss = loss.add(finals[i].mul(t(g)).sum());
  });
  loss.backward();
  expectClose(x.grad, c.gradInput, `${c.name}: input gradient`, RTOL);
  if (c.gradHx && hx)
    list(c.gradHx).forEach((g, i) => {
      expectClose(hx[i].grad, g, `${c.name}: hx[${i}] gradient`, RTOL);
    });
  const grads = new Map([...m.namedParameters()].map(([k, p]) => [k, p.grad]));
  expect([...grads.keys()]).toEqual(Object.keys(c.gradParams));
  for (const [k, g] of Object.entries(c.gradParams))
    expectClose(grads.get(k), g, `${c.name}: ${k} gradient`, RTOL);
}

describe("RNN, LSTM and GRU against PyTorch", () => {
  for (const c of fx.modules) {
    it(c.name, () => {
      const m = build(c);
      expect(String(m)).toBe(c.repr);
      expect([...m.stateDict().keys()]).toEqual(Object.keys(c.stateDict));
      const x = t(c.input, true);
      const hx = c.hx ? list(c.hx).map((h) => t(h, true)) : null;
      const batchFirst = c.args.batchFirst === true;
      const input = c.lengths ? nn.utils.rnn.packPaddedSequence(x, c.lengths, batchFirst, false) : x;
      const state = hx ? (c.module === "LSTM" ? hx : hx[0]) : undefined;
      const [out, h] = m(input, state) as [Tensor | nn.utils.rnn.PackedSequence, Tensor | Tensor[]];
      let output: Tensor;
      if (out instanceof nn.utils.rnn.PackedSequence) {
        expectClose(out.data, c.packedData as T, `${c.name}: packed output`, RTOL);
        [output] = nn.utils.rnn.padPackedSequence(out, batchFirst);
      } else output = out;
      expectClose(output, c.output as T, `${c.name}: output`, RTOL);
      const finals = list(h);
      list(c.hidden as T | T[]).forEach((e, i) => {
        expectClose(finals[i], e, `${c.name}: h_n[${i}]`, RTOL);
      });
      checkGradients(c, m, x, hx, [output], finals);
    });
  }
});

describe("RNNCell, LSTMCell and GRUCell against PyTorch", () => {
  for (const c of fx.cells) {
    it(c.name, () => {
      const m = build(c);
      expect(String(m)).toBe(c.repr);
      const x = t(c.input, true);
      const hx = c.hx ? list(c.hx).map((h) => t(h, true)) : null;
      const state = hx ? (c.module === "LSTMCell" ? hx : hx[0]) : undefined;
      const outs = list(m(x, state) as Tensor | Tensor[]);
      list(c.output).forEach((e, i) => {
        expectClose(outs[i], e, `${c.name}: output[${i}]`);
      });
      checkGradients(c, m, x, hx, outs, []);
    });
  }
});

describe("printouts and state dicts", () => {
  const made: Record<string, () => nn.Module> = {
    "LSTM(10, 20, 2)": () => new nn.LSTM(10, 20, 2),
    "GRU(3, 5, bias=False, batch_first=True, dropout=0.25, bidirectional=True)": () =>
      new nn.GRU(3, 5, 2, { bias: false, batchFirst: true, dropout: 0.25, bidirectional: true }),
    "RNN(3, 5, nonlinearity='relu')": () => new nn.RNN(3, 5, { nonlinearity: "relu" }),
    "LSTM(3, 5, proj_size=2)": () => new nn.LSTM(3, 5, { projSize: 2 }),
    "RNNCell(3, 5, nonlinearity='relu', bias=False)": () => new nn.RNNCell(3, 5, false, "relu"),
    "GRUCell(3, 5)": () => new nn.GRUCell(3, 5),
  };
  it("print(module) is PyTorch's", () => {
    for (const [k, repr] of Object.entries(fx.reprs)) expect(String(made[k]()), k).toBe(repr);
  });
  it("state dict keys are PyTorch's, in its order", () => {
    expect([...new nn.LSTM(3, 4, 2, { bidirectional: true, projSize: 2 }).stateDict().keys()]).toEqual(
      fx.stateKeys["LSTM(3, 4, 2, bidirectional=True, proj_size=2)"],
    );
    expect([...new nn.GRU(3, 4, 2, false).stateDict().keys()]).toEqual(
      fx.stateKeys["GRU(3, 4, 2, bias=False)"],
    );
    expect([...new nn.LSTMCell(3, 4).stateDict().keys()]).toEqual(fx.stateKeys["LSTMCell(3, 4)"]);
  });
  it("initialisation is U(-1/sqrt(hidden), 1/sqrt(hidden)) for every parameter", () => {
    manualSeed(3);
    const m = new nn.LSTM(8, 16, 2, { bidirectional: true, projSize: 4 });
    for (const p of m.parameters()) {
      const v = Array.from(p.data() as Float32Array);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(0.25);
    }
    const all = m.parameters().flatMap((p) => Array.from(p.data() as Float32Array));
    expect(Math.max(...all)).toBeGreaterThan(0.2);
    expect(Math.min(...all)).toBeLessThan(-0.2);
    expect(m.allWeights.map((w) => w.length)).toEqual([5, 5, 5, 5]);
    m.flattenParameters();
  });
});

const msg = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
};

describe("errors as PyTorch's", () => {
  const lstm = new nn.LSTM(3, 4);
  const gru = new nn.GRU(3, 4, { batchFirst: true });
  it("input rank and size", () => {
    // 4-D input is taken as unbatched and unsqueezed, as PyTorch does (so its message says 5)
    expect(msg(() => lstm(randn(2, 3, 3, 3)))).toBe("LSTM: input must have 3 dimensions, got 5");
    expect(msg(() => lstm(randn(5, 2, 2)))).toBe(
      "LSTM: input.size(-1) must be equal to input_size. Expected 3, got 2",
    );
    expect(msg(() => gru(randn(2, 5, 3).double()))).toBe(
      "GRU: input must have the parameters' dtype float32, got float64",
    );
  });
  it("hidden state shapes", () => {
    expect(msg(() => gru(randn(2, 5, 3), randn(1, 3, 4)))).toBe(
      "GRU: Expected hidden size (1, 2, 4), got [1, 3, 4]",
    );
    expect(msg(() => gru(randn(2, 5, 3), randn(2, 4)))).toBe(
      "GRU: For batched 3-D input, hx should also be 3-D but got 2-D tensor",
    );
    expect(msg(() => lstm(randn(5, 2, 3), [zeros(1, 2, 4), zeros(1, 2, 5)]))).toBe(
      "LSTM: Expected hidden[1] size (1, 2, 4), got [1, 2, 5]",
    );
    expect(msg(() => lstm(randn(5, 3), [zeros(1, 2, 4), zeros(1, 2, 4)]))).toBe(
      "LSTM: For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors",
    );
    expect(msg(() => lstm(randn(5, 2, 3), zeros(1, 2, 4) as never))).toMatch(
      /^LSTM.forward\(\): argument "hx" must be \(Tensor, Tensor\) or null, got/,
    );
  });
  it("constructor arguments", () => {
    expect(msg(() => new nn.LSTM(3, 4, { projSize: 4 }))).toMatch(
      /proj_size has to be smaller than hidden_size/,
    );
    expect(msg(() => new nn.GRU(3, 4, { dropout: 1.5 }))).toMatch(
      /dropout should be a number in range \[0, 1\]/,
    );
    expect(msg(() => new nn.GRU(3, 4, 1, true, false, 0, false, 2))).toMatch(/only LSTM has projections/);
    expect(msg(() => new nn.RNN(3, 4, { nonlinearity: "gelu" as never }))).toMatch(/nonlinearity/);
    expect(msg(() => new nn.LSTM(3, 4, { numLayer: 2 } as never))).toMatch(/did you mean "numLayers"/);
    expect(msg(() => new nn.LSTMCell(3 as never))).toMatch(/missing required argument "hiddenSize"/);
  });
  it("cells", () => {
    const cell = new nn.GRUCell(2, 3);
    expect(msg(() => cell(randn(3, 2), randn(2, 3)))).toBe(
      "GRUCell: Input batch size 3 doesn't match hidden0 batch size 2",
    );
    expect(msg(() => cell(randn(3, 4)))).toBe("GRUCell: input has inconsistent input_size: got 4 expected 2");
    expect(msg(() => cell(randn(1, 3, 2)))).toBe(
      "GRUCell: Expected input to be 1-D or 2-D but received 3-D tensor",
    );
  });
});

describe("forward(input, hx=None) in every call form", () => {
  it("positional, hx as an option, everything as options; extra arguments and unknown options throw", () => {
    manualSeed(2);
    const x = randn(4, 2, 3);
    const h = randn(1, 2, 5);
    const c = randn(1, 2, 5);
    const lstm = new nn.LSTM(3, 5);
    const [want, [wh]] = lstm(x, [h, c]);
    for (const [got, [gh]] of [lstm(x, { hx: [h, c] }), lstm({ input: x, hx: [h, c] })]) {
      expect((got as Tensor).equal(want) && gh.equal(wh)).toBe(true);
    }
    const gru = new nn.GRU(3, 5);
    expect(gru(x, { hx: h })[0].equal(gru(x, h)[0])).toBe(true);
    const rnn = new nn.RNN(3, 5);
    expect(rnn({ input: x })[1].equal(rnn(x)[1])).toBe(true);
    for (const [cell, state] of [
      [new nn.RNNCell(3, 5), h.select(0, 0)],
      [new nn.GRUCell(3, 5), h.select(0, 0)],
      [new nn.LSTMCell(3, 5), [h.select(0, 0), c.select(0, 0)]],
    ] as const) {
      const f = cell as unknown as (...a: unknown[]) => Tensor | Tensor[];
      const a = list(f(x.select(0, 0), state));
      const b = list(f(x.select(0, 0), { hx: state }));
      a.forEach((t0, i) => {
        expect(t0.equal(b[i])).toBe(true);
      });
      expect(() => f(x.select(0, 0), state, 1)).toThrow(ArgumentError);
      expect(() => f(x.select(0, 0), { h: state })).toThrow(/unknown option "h"/);
    }
    expect(() => (lstm as unknown as (...a: unknown[]) => unknown)(x, [h, c], 1)).toThrow(ArgumentError);
    expect(msg(() => gru(x, { hidden: h } as never))).toMatch(/unknown option "hidden"/);
    expect(msg(() => gru("x" as never))).toMatch(/argument "input" must be Tensor or PackedSequence/);
  });
});

describe("step by step, as a sampling loop runs", () => {
  it("one step at a time, carrying the state under noGrad, equals the whole sequence at once", () => {
    manualSeed(9);
    const m = new nn.LSTM(3, 4, 2, { batchFirst: true });
    const x = randn(2, 6, 3);
    const [whole, [h, c]] = m(x);
    let state: [Tensor, Tensor] | null = null;
    const outs: Tensor[] = [];
    noGrad(() => {
      for (let t = 0; t < 6; t++) {
        const [o, s]: [Tensor, [Tensor, Tensor]] = m(x.narrow(1, t, 1), state);
        outs.push(o);
        state = s;
      }
    });
    expect(whole.sub(cat(outs, 1)).abs().max().item()).toBeLessThan(1e-6);
    const [hs, cs] = state as unknown as [Tensor, Tensor];
    expect(h.sub(hs).abs().max().item()).toBeLessThan(1e-6);
    expect(c.sub(cs).abs().max().item()).toBeLessThan(1e-6);
  });
});

describe("dropout between layers", () => {
  it("is applied in training mode only, and not after the last layer", () => {
    manualSeed(0);
    const m = new nn.GRU(3, 6, 2, { dropout: 0.5 });
    const x = randn(4, 2, 3);
    const [a] = m(x);
    const [b] = m(x);
    expect(a.sub(b).abs().max().item()).toBeGreaterThan(0); // a fresh mask each call
    m.eval();
    const [c] = m(x);
    const [d] = m(x);
    expect(c.equal(d)).toBe(true);
    const one = new nn.GRU(3, 6, 2, { dropout: 1 });
    const [e, h] = one(x); // the second layer sees zeros only: its output is its bias-driven recurrence
    const zero = new nn.GRU(3, 6, 2);
    zero.loadStateDict(one.stateDict());
    noGrad(() => zero.getParameter("weight_ih_l1").zero_());
    const [f, h2] = zero(x);
    expect(e.sub(f).abs().max().item()).toBeLessThan(1e-6);
    expect(h.sub(h2).abs().max().item()).toBeLessThan(1e-6);
  });
});

describe("gradcheck (float64, finite differences)", () => {
  beforeAll(() => manualSeed(7));
  const f64 = { dtype: "float64" as const };
  for (const [name, make, hidden] of [
    [
      "LSTM 2 layers bidirectional proj",
      () => new nn.LSTM(2, 3, 2, { bidirectional: true, projSize: 2, dtype: "float64" }),
      [
        [4, 2, 2],
        [4, 2, 3],
      ],
    ],
    ["GRU bidirectional", () => new nn.GRU(2, 3, { bidirectional: true, dtype: "float64" }), [[2, 2, 3]]],
    ["RNN relu 2 layers", () => new nn.RNN(2, 3, 2, { nonlinearity: "relu", dtype: "float64" }), [[2, 2, 3]]],
  ] as const) {
    it(`${name}: input, initial state and parameters`, () => {
      const m = make() as nn.Module & Recurrent;
      const x = randn(3, 2, 2, f64).requiresGrad_(true);
      const hs = hidden.map((s) => randn([...s], f64).requiresGrad_(true));
      const params = m.parameters();
      const run = (...args: Tensor[]) => {
        const [xi, ...rest] = args;
        const state = name.startsWith("LSTM") ? [rest[0], rest[1]] : rest[0];
        const [out, h] = m(xi, state) as [Tensor, Tensor | Tensor[]];
        return [out, ...list(h)].map((o) => o.mul(o).sum()).reduce((a, b) => a.add(b));
      };
      expect(gradcheck(run, [x, ...hs])).toBe(true);
      // every parameter: through the module's own parameters (perturbed in place by gradcheck)
      expect(gradcheck(() => run(x.detach(), ...hs.map((h) => h.detach())), params)).toBe(true);
    });
  }
  it("packed input with unsorted lengths (LSTM, bidirectional)", () => {
    const m = new nn.LSTM(2, 3, { bidirectional: true, dtype: "float64" });
    const x = randn(4, 3, 2, f64).requiresGrad_(true);
    const run = (xi: Tensor) => {
      const packed = nn.utils.rnn.packPaddedSequence(xi, [2, 4, 1], false, false);
      const [out, [h, c]] = m(packed);
      const [padded] = nn.utils.rnn.padPackedSequence(out);
      return padded.mul(padded).sum().add(h.sum()).add(c.mul(c).sum());
    };
    expect(gradcheck(run, [x])).toBe(true);
  });
  it("cells", () => {
    const x = randn(2, 3, f64).requiresGrad_(true);
    const h = randn(2, 4, f64).requiresGrad_(true);
    const c = randn(2, 4, f64).requiresGrad_(true);
    const lstm = new nn.LSTMCell(3, 4, { dtype: "float64" });
    const gru = new nn.GRUCell(3, 4, { dtype: "float64" });
    expect(gradcheck((a, b, d) => lstm(a, [b, d])[0].add(lstm(a, [b, d])[1]), [x, h, c])).toBe(true);
    expect(gradcheck((a, b) => gru(a, b), [x, h])).toBe(true);
  });
});

describe("the hidden weights' gathered gradient", () => {
  it("equals autograd.grad's, and a second backward through a retained graph adds the same again", async () => {
    const { grad } = await import("@cinder/autograd");
    manualSeed(5);
    const m = new nn.LSTM(3, 4, 2, { bidirectional: true });
    const x = randn(5, 2, 3);
    const [out] = m(x);
    const loss = out.mul(out).sum();
    const w = m.getParameter("weight_hh_l1_reverse");
    const [g] = grad(loss, [w], { retainGraph: true });
    loss.backward(undefined, true);
    expect(w.grad!.sub(g!).abs().max().item()).toBeLessThan(1e-6);
    loss.backward();
    expect(w.grad!.sub(g!.mul(2)).abs().max().item()).toBeLessThan(1e-5);
  });
});

describe("state dicts move both ways", () => {
  it("a PyTorch state dict loads (the fixtures), and Cinder's loads into PyTorch", async () => {
    const { execFileSync } = await import("node:child_process");
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    manualSeed(11);
    const config = { input_size: 3, hidden_size: 5, num_layers: 2, bidirectional: true, proj_size: 2 };
    const m = new nn.LSTM(3, 5, 2, { bidirectional: true, projSize: 2 }).eval();
    const x = randn(4, 2, 3);
    const [out, [h]] = m(x);
    const dir = mkdtempSync(join(tmpdir(), "cinder-rnn-"));
    try {
      const file = join(dir, "lstm.safetensors");
      const tensors = new Map(m.stateDict());
      tensors.set("input", x);
      await nn.saveSafetensors(tensors, file, { module: "LSTM", config: JSON.stringify(config) });
      const script = new URL("../../../scripts/fixtures/rnn_fixtures.py", import.meta.url).pathname;
      let printed: string;
      try {
        printed = execFileSync("/usr/bin/python3", [script, "--check", file], {
          encoding: "utf8",
          stdio: "pipe",
        });
      } catch (e) {
        // the fixture direction is covered above; this one needs PyTorch (scripts/setup.sh installs it)
        if (/No module named 'torch'|ENOENT/.test(String((e as { stderr?: string }).stderr ?? e))) return;
        throw e;
      }
      const r = JSON.parse(printed);
      expect(r.keys).toEqual([...m.stateDict().keys()]);
      expectClose(out, r.output, "PyTorch's output from Cinder's weights");
      expectClose(h, r.hidden[0], "PyTorch's h_n from Cinder's weights");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

it("a hand-computed Elman recurrence: h_t = tanh(x_t + 0.5 h_{t-1})", () => {
  const m = new nn.RNN(1, 1, { bias: false });
  m.loadStateDict({
    weight_ih_l0: tensor([[1]], { dtype: "float32" }),
    weight_hh_l0: tensor([[0.5]], { dtype: "float32" }),
  });
  const [out] = m(tensor([[[1]], [[0]], [[0]]], { dtype: "float32" }));
  expect(Array.from(out.data() as Float32Array).map((v) => Number(v.toFixed(6)))).toEqual([
    0.761594, 0.3634, 0.179726,
  ]);
});
