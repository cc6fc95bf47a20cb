/**
 * `nn.utils.rnn` (padding and packing) and `nn.utils` (gradient clipping, parameter vectors) against PyTorch 1.13
 * (test/fixtures/rnn.json, written by scripts/fixtures/rnn_fixtures.py), their call forms and their errors.
 */
import { readFileSync } from "node:fs";
import { ArgumentError, type Tensor, tensor, zeros } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as nn from "../src";
import { expectClose, fixtureDir, type T, t } from "./helpers";

const { rnn } = nn.utils;
const fx = JSON.parse(readFileSync(new URL("rnn.json", fixtureDir), "utf8"));
const P = fx.packing as {
  sequences: T[];
  padSequence: T;
  padSequenceBatchFirst: T;
  lengths: number[];
  packed: { data: T; batchSizes: number[]; sortedIndices: number[]; unsortedIndices: number[] };
  padPacked: [T, T];
  packSequenceSorted: { data: T; batchSizes: number[] };
  gradWeight: T;
  gradInput: T;
};
const ints = (x: Tensor | null): number[] => (x ? Array.from(x.data() as Int32Array) : []);
const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("nothing was thrown");
};

describe("padding and packing against PyTorch", () => {
  const seqs = () => P.sequences.map((s) => t(s));
  it("padSequence, time-major and batch-first with a padding value; one tensor is split along dim 0", () => {
    expectClose(rnn.padSequence(seqs()), P.padSequence, "padSequence");
    expectClose(rnn.padSequence(seqs(), true, -1.5), P.padSequenceBatchFirst, "batchFirst");
    expectClose(
      rnn.padSequence(seqs(), { batchFirst: true, paddingValue: -1.5 }),
      P.padSequenceBatchFirst,
      "options",
    );
    expect([...rnn.padSequence(zeros(2, 3)).shape]).toEqual([3, 2]);
  });
  it("packPaddedSequence with unsorted lengths, and back with padPackedSequence", () => {
    const padded = t(P.padSequence);
    for (const lengths of [P.lengths, tensor(P.lengths)]) {
      const p = rnn.packPaddedSequence(padded, lengths, { enforceSorted: false });
      expectClose(p.data, P.packed.data, "data");
      expect(ints(p.batchSizes)).toEqual(P.packed.batchSizes);
      expect(ints(p.sortedIndices)).toEqual(P.packed.sortedIndices);
      expect(ints(p.unsortedIndices)).toEqual(P.packed.unsortedIndices);
      const [data, batchSizes, sorted, unsorted] = p; // a named tuple, as PyTorch's
      expect([data, batchSizes, sorted, unsorted]).toEqual([p[0], p[1], p[2], p[3]]);
      expect(data).toBe(p.data);
      const [out, lens] = rnn.padPackedSequence(p, true, 9, 7);
      expectClose(out, P.padPacked[0], "padPackedSequence");
      expectClose(lens, P.padPacked[1], "lengths");
    }
  });
  it("packSequence of sorted sequences, and unpackSequence / unpadSequence", () => {
    const sorted = seqs().sort((a, b) => b.shape[0] - a.shape[0]);
    const p = rnn.packSequence(sorted);
    expectClose(p.data, P.packSequenceSorted.data, "packSequence");
    expect(ints(p.batchSizes)).toEqual(P.packSequenceSorted.batchSizes);
    expect(p.sortedIndices).toBe(null);
    const back = rnn.unpackSequence(rnn.packSequence(seqs(), false));
    back.forEach((s, i) => {
      expectClose(s, P.sequences[i], `unpackSequence[${i}]`);
    });
    const un = rnn.unpadSequence(t(P.padSequence), P.lengths);
    un.forEach((s, i) => {
      expectClose(s, P.sequences[i], `unpadSequence[${i}]`);
    });
  });
  it("gradients flow through packing and padding", () => {
    const x = t(P.padSequence).transpose(0, 1).contiguous().requiresGrad_(true);
    const p = rnn.packPaddedSequence(x, P.lengths, true, false);
    const [out] = rnn.padPackedSequence(p);
    out.mul(t(P.gradWeight)).sum().backward();
    expectClose(x.grad, P.gradInput, "gradient");
  });
  it("a PackedSequence from its parts, PyTorch's two forms", () => {
    const p = rnn.packPaddedSequence(t(P.padSequence), P.lengths, false, false);
    const q = new rnn.PackedSequence(p.data, p.batchSizes, p.sortedIndices);
    expect(ints(q.unsortedIndices)).toEqual(P.packed.unsortedIndices);
    const r = new rnn.PackedSequence([p.data, p.batchSizes]);
    expect(r.batchSizes).toBe(p.batchSizes);
    expect(String(r)).toMatch(/^PackedSequence\(data=tensor\(/);
  });
  it("errors name what was expected and what was given", () => {
    const padded = t(P.padSequence);
    expect(thrown(() => rnn.packPaddedSequence(padded, P.lengths)).message).toMatch(
      /must be sorted in decreasing order when `enforce_sorted` is True/,
    );
    expect(thrown(() => rnn.packPaddedSequence(padded, [5, 4, 2])).message).toMatch(
      /Expected `len\(lengths\)` to be equal to batch_size, but got 3 \(batch_size=4\)/,
    );
    expect(thrown(() => rnn.packPaddedSequence(padded, [5, 4, 0, 0])).message).toMatch(/greater than 0/);
    expect(thrown(() => rnn.packPaddedSequence(padded, [6, 4, 2, 1])).message).toMatch(
      /exceeds the input's 5 time steps/,
    );
    const p = rnn.packPaddedSequence(padded, P.lengths, false, false);
    expect(thrown(() => rnn.padPackedSequence(p, false, 0, 3)).message).toMatch(
      /Expected total_length to be at least the length of the longest sequence in input, but got total_length=3 and max sequence length being 5/,
    );
    expect(thrown(() => rnn.padSequence([zeros(2, 3), zeros(2, 4)])).message).toMatch(
      /every sequence must be/,
    );
    expect(thrown(() => rnn.padPackedSequence(padded as never))).toBeInstanceOf(ArgumentError);
    expect(thrown(() => rnn.padSequence(seqsOf(), false, 0, 1 as never))).toBeInstanceOf(ArgumentError);
    expect(thrown(() => rnn.packSequence(seqsOf(), { enforcedSorted: true } as never)).message).toMatch(
      /did you mean "enforceSorted"/,
    );
  });
});
const seqsOf = () => P.sequences.map((s) => t(s));

describe("the recurrent modules take and return PackedSequences", () => {
  it("an LSTM on packed input equals the LSTM run on each sequence alone", () => {
    const m = new nn.LSTM(2, 3, { bidirectional: true });
    const seqs = seqsOf();
    const [out, [h]] = m(rnn.packSequence(seqs, false));
    expect(out).toBeInstanceOf(rnn.PackedSequence);
    const [padded, lengths] = rnn.padPackedSequence(out);
    expect(ints(lengths)).toEqual(P.lengths);
    seqs.forEach((s, i) => {
      const [alone, [hAlone]] = m(s);
      const l = s.shape[0];
      expect(padded.narrow(0, 0, l).select(1, i).sub(alone).abs().max().item()).toBeLessThan(1e-6);
      expect(h.select(1, i).sub(hAlone).abs().max().item()).toBeLessThan(1e-6);
    });
  });
});

describe("clipGradNorm_ and clipGradValue_ against PyTorch", () => {
  for (const c of fx.clipping as {
    normType: number | "inf";
    maxNorm: number;
    grads: T[];
    total: number;
    clipped: T[];
  }[]) {
    it(`normType ${c.normType}, maxNorm ${c.maxNorm}`, () => {
      const params = [
        zeros(3, 2).requiresGrad_(true),
        zeros(4).requiresGrad_(true),
        zeros(2).requiresGrad_(true),
      ];
      params[0].grad = t(c.grads[0]);
      params[1].grad = t(c.grads[1]);
      const normType = c.normType === "inf" ? Number.POSITIVE_INFINITY : c.normType;
      const total = nn.utils.clipGradNorm_(params, c.maxNorm, normType);
      expect(total.ndim).toBe(0);
      expect(Math.abs((total.item() as number) - c.total)).toBeLessThanOrEqual(1e-5 * c.total);
      expectClose(params[0].grad, c.clipped[0], "grad 0");
      expectClose(params[1].grad, c.clipped[1], "grad 1");
      expect(params[2].grad).toBe(null);
    });
  }
  it("clipGradValue_ and parametersToVector", () => {
    const cv = fx.clipValue as { grads: T[]; clipValue: number; clipped: T[]; params: T[]; vector: T };
    const params = cv.params.map((p) => t(p, true));
    params.forEach((p, i) => {
      p.grad = t(cv.grads[i]);
    });
    expect(nn.utils.clipGradValue_(params, { clipValue: cv.clipValue })).toBe(undefined);
    params.forEach((p, i) => {
      expectClose(p.grad, cv.clipped[i], `grad ${i}`);
    });
    expectClose(nn.utils.parametersToVector(params), cv.vector, "parametersToVector");
  });
  it("vectorToParameters is the inverse of parametersToVector (positional and options forms)", () => {
    const m = new nn.Linear(3, 2);
    const v = nn.utils.parametersToVector(m.parameters());
    expect([...v.shape]).toEqual([8]);
    const target = new nn.Linear(3, 2);
    nn.utils.vectorToParameters(v, target.parameters());
    expect(nn.utils.parametersToVector(target.parameters()).equal(v)).toBe(true);
    nn.utils.vectorToParameters({ vec: v.mul(2), parameters: target.parameters() });
    expect(Array.from(target.weight.data())).toEqual(Array.from(m.weight.mul(2).data()));
    expect(target.weight.requiresGrad && target.weight.gradFn === null).toBe(true);
    expect(thrown(() => nn.utils.vectorToParameters(zeros(7), target.parameters())).message).toMatch(
      /expected a 1-D vector of 8 elements/,
    );
    expect(thrown(() => nn.utils.vectorToParameters([1, 2] as never, target.parameters()))).toBeInstanceOf(
      ArgumentError,
    );
    expect(thrown(() => nn.utils.vectorToParameters(v, target.parameters(), 1 as never))).toBeInstanceOf(
      ArgumentError,
    );
  });
  it("clipGradValue_ call forms and bad arguments", () => {
    const p = zeros(3).requiresGrad_(true);
    p.grad = tensor([-3, 0.5, 2], { dtype: "float32" });
    nn.utils.clipGradValue_(p, 1);
    expect(Array.from(p.grad.data())).toEqual([-1, 0.5, 1]);
    nn.utils.clipGradValue_({ parameters: [p], clipValue: 0.25 });
    expect(Array.from(p.grad.data())).toEqual([-0.25, 0.25, 0.25]);
    expect(thrown(() => nn.utils.clipGradValue_([p], 1, 2 as never))).toBeInstanceOf(ArgumentError);
    expect(thrown(() => nn.utils.clipGradValue_([p], { clipValu: 1 } as never)).message).toMatch(
      /did you mean/,
    );
    expect(thrown(() => nn.utils.clipGradValue_(7 as never, 1))).toBeInstanceOf(ArgumentError);
  });
  it("call forms: a single tensor, a generator, options; bad arguments", () => {
    const p = zeros(3).requiresGrad_(true);
    p.grad = tensor([3, 4, 0], { dtype: "float32" });
    expect(nn.utils.clipGradNorm_(p, { maxNorm: 1 }).item()).toBeCloseTo(5, 5);
    expect(Array.from(p.grad!.data())).toEqual(
      Array.from(
        tensor([3, 4, 0])
          .mul(1 / (5 + 1e-6))
          .data(),
      ),
    );
    const m = new nn.Linear(2, 2);
    expect(nn.utils.clipGradNorm_(m.parameters(), 1).item()).toBe(0); // no gradients yet
    function* gen() {
      yield p;
    }
    expect(nn.utils.clipGradNorm_(gen(), 10, Number.POSITIVE_INFINITY).item()).toBeCloseTo(0.8, 5);
    expect(thrown(() => nn.utils.clipGradNorm_(gen(), 10, "inf" as never))).toBeInstanceOf(ArgumentError);
    expect(thrown(() => nn.utils.clipGradValue_(p as never))).toBeInstanceOf(ArgumentError);
    p.grad = tensor([Number.NaN, 1, 2]);
    expect(thrown(() => nn.utils.clipGradNorm_([p], 1, 2, true)).message).toMatch(
      /is non-finite, so it cannot be clipped/,
    );
    expect(nn.utils.clipGradNorm_([p], 1).item()).toBeNaN();
  });
});
