// torch.nn.functional called as in PyTorch, in plain JavaScript: every call form against PyTorch 1.13
// (tests/fixtures/sigcases-functional.json, made by scripts/fixtures/sigcases_functional.py), and the messages of
// misuse.
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { signatureCases } from "./support/signature-cases.mjs";
import { thrown } from "./support/thrown.mjs";

torch.registerBackend(cpu);
const { F } = nn;

// "nn.functional.dropout" -> nn.functional.dropout (the same object as nn.F.dropout)
signatureCases("functional", (name) => {
  const fn = name.startsWith("nn.functional.") ? nn.functional[name.slice(14)] : undefined;
  if (fn !== undefined && fn !== F[name.slice(14)]) throw new Error(`${name}: nn.F and nn.functional differ`);
  return fn;
});

const x = () =>
  torch.tensor(
    [
      [-2, -0.5, 0, 0.5, 3],
      [1.5, -1, 2, -3, 0.25],
    ],
    { dtype: "float32" },
  );

function message(fn) {
  const e = thrown(fn);
  return `${e.name}: ${e.message}`;
}

describe("nn.functional: misuse reads like PyTorch", () => {
  it("every function of nn.functional is declared", () => {
    const declared = new Set(
      torch
        .signatures()
        .filter((s) => s.name.startsWith("nn.functional."))
        .map((s) => s.name.slice(14)),
    );
    const fns = Object.entries(nn.functional).filter(([, v]) => typeof v === "function");
    expect(fns.length).toBeGreaterThan(40);
    for (const [name] of fns) expect(declared.has(name), `${name} has no declared signature`).toBe(true);
    expect(typeof F.logsigmoid).toBe("function");
  });

  it("an extra argument names the parameters", () => {
    expect(message(() => F.relu(x(), false, 1))).toBe(
      "ArgumentError: relu(): takes 2 positional arguments (input, inplace) but 3 were given; keyword arguments go in a final options object",
    );
  });

  it("a wrong kind names the parameter, the expected and the given", () => {
    expect(message(() => F.dropout(x(), "0.5"))).toBe(
      'ArgumentError: dropout(): argument "p" must be float, got str "0.5"',
    );
    expect(message(() => F.crossEntropy(x(), torch.tensor([0, 1]), { reduction: "avg" }))).toBe(
      'ArgumentError: crossEntropy(): argument "reduction" must be "mean" | "sum" | "none", got str "avg"',
    );
    expect(message(() => F.pad(x(), [1, 1], "zeros"))).toMatch(
      /argument "mode" must be "constant" \| "reflect" \| "replicate" \| "circular", got str "zeros"/,
    );
  });

  it("an unknown option suggests the close one", () => {
    expect(message(() => F.hardtanh(x(), { min_val: -2 }))).toMatch(
      /hardtanh\(\): unknown option "min_val"; did you mean "minVal"\?/,
    );
    expect(message(() => F.crossEntropy(x(), torch.tensor([0, 1]), { ignore_index: 1 }))).toMatch(
      /did you mean "ignoreIndex"/,
    );
  });

  it("unsupported PyTorch parameters accept only their default", () => {
    const idx = torch.tensor([0, 1]);
    const w = torch.ones([3, 2]);
    expect(message(() => F.embedding(idx, w, { sparse: true }))).toMatch(
      /embedding\(\): argument "sparse" must be False \(Cinder has no sparse gradients\), got bool true/,
    );
    expect(message(() => F.softmax(x(), 1, 4))).toMatch(/argument "_stacklevel" must be 3/);
    expect(message(() => F.normalize(x(), { out: x() }))).toMatch(/argument "out" must be None/);
  });

  it("dtype errors say what PyTorch says", () => {
    const ints = torch.tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(message(() => F.crossEntropy(ints, torch.tensor([0, 1])))).toMatch(
      /not implemented for 'Long'.*expected scalar type Float/,
    );
    expect(message(() => F.nllLoss(torch.ones([2, 2]), torch.tensor([0, 1], { dtype: "float32" })))).toMatch(
      /expected scalar type Long but found Float/,
    );
  });

  it("pad: the value is for constant mode only, and circular wraps at most once", () => {
    const s = torch.tensor([[[1, 2, 3, 4, 5]]], { dtype: "float32" });
    expect(message(() => F.pad(s, [1, 1], "reflect", 2))).toMatch(
      /Padding mode "reflect" doesn't take in value argument/,
    );
    expect(message(() => F.pad(s, [2, -4], "circular"))).toMatch(/wrapping around more than once/);
  });

  it("the legacy sizeAverage/reduce decide the reduction as in PyTorch, with its warning", () => {
    const a = x();
    const b = torch.zerosLike(a);
    expect(F.mseLoss(a, b, false).item()).toBeCloseTo(a.square().sum().item(), 4);
    expect(F.mseLoss(a, b, { reduce: false }).shape).toEqual([2, 5]);
    expect(F.mseLoss(a, b, { sizeAverage: true, reduce: true, reduction: "sum" }).item()).toBeCloseTo(
      a.square().mean().item(),
      5,
    );
  });
});
