/** The hand-written optimizer loops (`optim.ts`) are the ones taken for contiguous params and equal the generated kernels bit for bit. */
import type { AdamStepOptions, SgdStepOptions, View } from "@cinder/tensor";
import { afterEach, describe, expect, it } from "vitest";
import { adamStep, optimLoopStats, setPlainLoops, sgdStep } from "../src/optim";

type FArray = Float32Array | Float64Array;
type Dtype = "float32" | "float64";

function filled(dtype: Dtype, n: number, seed: number, scale = 1, positive = false): FArray {
  const a = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const u = (x >>> 0) / 2 ** 32;
    a[i] = positive ? u * scale : (u - 0.5) * scale;
  }
  return a;
}

/** A contiguous view of `a` from `offset`, `n` elements. */
function view(a: FArray, dtype: Dtype, n: number, offset = 0): View {
  return { handle: a, dtype, shape: [n], strides: [1], offset } as unknown as View;
}

function bits(a: FArray): number[] {
  const out = new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
  return Array.from(out);
}

afterEach(() => {
  setPlainLoops(true);
});

const N = 1037;

describe("plain optimizer loops", () => {
  const sgdConfigs: [string, Partial<SgdStepOptions>, boolean][] = [
    ["plain", { momentum: 0 }, false],
    ["weight decay", { momentum: 0, weightDecay: 0.01 }, false],
    ["momentum", { momentum: 0.9 }, true],
    ["momentum dampening weight decay", { momentum: 0.8, dampening: 0.3, weightDecay: 0.05 }, true],
  ];
  for (const dtype of ["float32", "float64"] as const) {
    for (const [name, cfg, hasBuf] of sgdConfigs) {
      for (const offset of [0, 3]) {
        it(`SGD ${name}, ${dtype}, offset ${offset}: plain loop taken, bit-identical to the generated kernel`, () => {
          const opts: SgdStepOptions = {
            lr: 0.07,
            momentum: 0,
            dampening: 0,
            nesterov: false,
            weightDecay: 0,
            maximize: false,
            first: false,
            ...cfg,
          };
          const run = (plain: boolean) => {
            setPlainLoops(plain);
            const p = filled(dtype, N + offset, 1);
            const g = filled(dtype, N + offset, 2);
            const b = hasBuf ? filled(dtype, N + offset, 3) : null;
            const before = { ...optimLoopStats };
            for (let step = 0; step < 3; step++) {
              const ok = sgdStep(
                view(p, dtype, N, offset),
                view(g, dtype, N, offset),
                b ? view(b, dtype, N, offset) : null,
                opts,
              );
              expect(ok).toBe(true);
            }
            return {
              p,
              b,
              plain: optimLoopStats.plain - before.plain,
              generated: optimLoopStats.generated - before.generated,
            };
          };
          const fast = run(true);
          const slow = run(false);
          expect(fast.plain, "the plain loop ran").toBe(3);
          expect(fast.generated).toBe(0);
          expect(slow.generated, "the generated kernel ran").toBe(3);
          expect(bits(fast.p)).toEqual(bits(slow.p));
          if (fast.b && slow.b) expect(bits(fast.b)).toEqual(bits(slow.b));
        });
      }
    }
  }

  const adamConfigs: [string, Partial<AdamStepOptions>][] = [
    ["Adam", {}],
    ["Adam L2", { weightDecay: 0.1 }],
    ["AdamW", { weightDecay: 0.01, decoupled: true }],
  ];
  for (const dtype of ["float32", "float64"] as const) {
    for (const [name, cfg] of adamConfigs) {
      it(`${name}, ${dtype}: plain loop taken, bit-identical to the generated kernel`, () => {
        const run = (plain: boolean) => {
          setPlainLoops(plain);
          const p = filled(dtype, N, 4);
          const g = filled(dtype, N, 5, 2);
          const m = filled(dtype, N, 6, 0.1);
          const v = filled(dtype, N, 7, 0.01, true);
          const before = { ...optimLoopStats };
          for (let step = 1; step <= 4; step++) {
            const opts: AdamStepOptions = {
              lr: 0.003,
              beta1: 0.9,
              beta2: 0.999,
              eps: 1e-8,
              weightDecay: 0,
              decoupled: false,
              maximize: false,
              step,
              ...cfg,
            };
            expect(
              adamStep(
                view(p, dtype, N),
                view(g, dtype, N),
                view(m, dtype, N),
                view(v, dtype, N),
                null,
                opts,
              ),
            ).toBe(true);
          }
          return {
            arrays: [p, m, v],
            plain: optimLoopStats.plain - before.plain,
            generated: optimLoopStats.generated - before.generated,
          };
        };
        const fast = run(true);
        const slow = run(false);
        expect(fast.plain, "the plain loop ran").toBe(4);
        expect(fast.generated).toBe(0);
        expect(slow.generated).toBe(4);
        fast.arrays.forEach((a, i) => {
          expect(bits(a)).toEqual(bits(slow.arrays[i]));
        });
      });
    }
  }

  it("other settings (Nesterov, maximize, AMSGrad, first momentum step) use the generated kernels", () => {
    const p = filled("float32", N, 1);
    const g = filled("float32", N, 2);
    const b = filled("float32", N, 3);
    const v = (a: FArray) => view(a, "float32", N);
    const before = { ...optimLoopStats };
    const base = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, maximize: false, first: false };
    sgdStep(v(p), v(g), v(b), { ...base, nesterov: true });
    sgdStep(v(p), v(g), v(b), { ...base, nesterov: false, maximize: true });
    sgdStep(v(p), v(g), v(b), { ...base, nesterov: false, first: true });
    expect(optimLoopStats.generated - before.generated).toBe(3);
    expect(optimLoopStats.plain - before.plain).toBe(0);
  });

  it("non-contiguous views decline (the optimizer composes the update)", () => {
    const a = filled("float32", 2 * N, 1);
    const strided = { handle: a, dtype: "float32", shape: [N], strides: [2], offset: 0 } as unknown as View;
    const opts = {
      lr: 0.1,
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
      maximize: false,
      first: false,
    };
    expect(sgdStep(strided, view(filled("float32", N, 2), "float32", N), null, opts)).toBe(false);
  });
});
