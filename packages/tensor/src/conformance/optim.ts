/**
 * Conformance cases for the optional fused optimizer updates (`Backend.adamStep` / `Backend.sgdStep`): three
 * steps of each configuration against a float64 host computation of PyTorch 1.13's formulas (state rounded
 * to the dtype after each step). Skipped silently when the backend lacks the member or declines the call.
 */
import type { AdamStepOptions, SgdStepOptions } from "../backend";
import { getBackend } from "../backend";
import type { DType } from "../dtype";
import "../methods";
import { tensor } from "../ops/creation";
import type { Tensor } from "../tensor";
import {
  assertClose,
  type ConformanceCase,
  data,
  logical,
  roundTo,
  type Supports,
  type Tolerance,
} from "./support";

const N = 37;
const STEPS = 3;
/** Several dependent float32 operations per element and three steps: looser than one op's tolerance. */
const tolOf = (dtype: DType): Tolerance =>
  dtype === "float32" ? { rtol: 1e-4, atol: 1e-6 } : { rtol: 1e-10, atol: 1e-12 };

type AdamCfg = Omit<AdamStepOptions, "step"> & { amsgrad: boolean };
type SgdCfg = Omit<SgdStepOptions, "first">;

const ADAM: [string, AdamCfg][] = [
  [
    "adam",
    {
      lr: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      decoupled: false,
      maximize: false,
      amsgrad: false,
    },
  ],
  [
    "adam amsgrad, L2 decay, maximize",
    {
      lr: 0.05,
      beta1: 0.8,
      beta2: 0.99,
      eps: 1e-6,
      weightDecay: 0.1,
      decoupled: false,
      maximize: true,
      amsgrad: true,
    },
  ],
  [
    "adamw amsgrad",
    {
      lr: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.5,
      decoupled: true,
      maximize: false,
      amsgrad: true,
    },
  ],
];

const SGD: [string, SgdCfg][] = [
  ["plain", { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false }],
  [
    "momentum, dampening, decay",
    { lr: 0.1, momentum: 0.9, dampening: 0.3, nesterov: false, weightDecay: 0.01, maximize: false },
  ],
  [
    "nesterov, maximize",
    { lr: 0.05, momentum: 0.8, dampening: 0, nesterov: true, weightDecay: 0, maximize: true },
  ],
];

function hostAdam(
  dtype: DType,
  p: number[],
  g: number[],
  m: number[],
  v: number[],
  vm: number[] | null,
  c: AdamCfg,
  step: number,
): void {
  const r = (x: number) => roundTo(x, dtype);
  const stepSize = c.lr / (1 - c.beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - c.beta2 ** step);
  for (let i = 0; i < p.length; i++) {
    let d = c.maximize ? -g[i] : g[i];
    let x = p[i];
    if (c.weightDecay !== 0) {
      if (c.decoupled) x *= 1 - c.lr * c.weightDecay;
      else d += c.weightDecay * x;
    }
    m[i] = r(c.beta1 * m[i] + (1 - c.beta1) * d);
    v[i] = r(c.beta2 * v[i] + (1 - c.beta2) * d * d);
    let vv = v[i];
    if (vm) vv = vm[i] = Math.max(vm[i], vv);
    p[i] = r(x - (stepSize * m[i]) / (Math.sqrt(vv) / bc2Sqrt + c.eps));
  }
}

function hostSgd(
  dtype: DType,
  p: number[],
  g: number[],
  b: number[] | null,
  c: SgdCfg,
  first: boolean,
): void {
  const r = (x: number) => roundTo(x, dtype);
  for (let i = 0; i < p.length; i++) {
    let d = c.maximize ? -g[i] : g[i];
    if (c.weightDecay !== 0) d += c.weightDecay * p[i];
    if (b) {
      b[i] = r(first ? d : c.momentum * b[i] + (1 - c.dampening) * d);
      d = c.nesterov ? d + c.momentum * b[i] : b[i];
    }
    p[i] = r(p[i] - c.lr * d);
  }
}

const floatDTypes = (has: Supports): DType[] => (["float32", "float64"] as DType[]).filter(has);

export function optimCases(has: Supports): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const dtype of floatDTypes(has)) {
    const tol = tolOf(dtype);
    const make = (values: number[], device: string): Tensor => tensor(values, { dtype, device });
    const rounded = (xs: number[]) => xs.map((x) => roundTo(x, dtype));
    for (const [label, c] of ADAM) {
      cases.push({
        name: `fused adamStep (${label}), ${dtype}`,
        async run(device) {
          const b = getBackend(device);
          if (!b.adamStep) return;
          const hp = rounded(data(N, 11, -2, 2));
          const hm = new Array<number>(N).fill(0);
          const hv = new Array<number>(N).fill(0);
          const hvm = c.amsgrad ? new Array<number>(N).fill(0) : null;
          const [p, m, v] = [make(hp, device), make(hm, device), make(hv, device)];
          const vm = hvm ? make(hvm, device) : null;
          for (let step = 1; step <= STEPS; step++) {
            const hg = rounded(data(N, 20 + step, -1, 1));
            const g = make(hg, device);
            const { amsgrad: _, ...o } = c;
            if (!b.adamStep(p.view_, g.view_, m.view_, v.view_, vm ? vm.view_ : null, { ...o, step })) return;
            hostAdam(dtype, hp, hg, hm, hv, hvm, c, step);
            assertClose(await logical(p), hp, tol, `adamStep ${label} step ${step}: p`);
            assertClose(await logical(m), hm, tol, `adamStep ${label} step ${step}: expAvg`);
            assertClose(await logical(v), hv, tol, `adamStep ${label} step ${step}: expAvgSq`);
            if (vm && hvm)
              assertClose(await logical(vm), hvm, tol, `adamStep ${label} step ${step}: maxExpAvgSq`);
          }
        },
      });
    }
    for (const [label, c] of SGD) {
      cases.push({
        name: `fused sgdStep (${label}), ${dtype}`,
        async run(device) {
          const b = getBackend(device);
          if (!b.sgdStep) return;
          const hp = rounded(data(N, 12, -2, 2));
          // the buffer starts as garbage: the first step must overwrite it
          const hb = c.momentum !== 0 ? rounded(data(N, 13, -5, 5)) : null;
          const p = make(hp, device);
          const buf = hb ? make(hb, device) : null;
          for (let step = 1; step <= STEPS; step++) {
            const hg = rounded(data(N, 30 + step, -1, 1));
            const g = make(hg, device);
            const first = step === 1;
            if (!b.sgdStep(p.view_, g.view_, buf ? buf.view_ : null, { ...c, first })) return;
            hostSgd(dtype, hp, hg, hb, c, first);
            assertClose(await logical(p), hp, tol, `sgdStep ${label} step ${step}: p`);
            if (buf && hb) assertClose(await logical(buf), hb, tol, `sgdStep ${label} step ${step}: buffer`);
          }
        },
      });
    }
  }
  return cases;
}
