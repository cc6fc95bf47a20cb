/**
 * Fused optimizer updates (`Backend.adamStep` / `Backend.sgdStep`): one pass over contiguous arrays instead of
 * the eight to ten elementwise kernels (and their temporaries) the composed update runs. For float32 every
 * intermediate is rounded with `Math.fround` where the composed path would store a float32 temporary, so the
 * fused result matches it to within an ulp or so.
 */
import type { AdamStepOptions, SgdStepOptions, TypedArray, View } from "@cinder/tensor";
import { isContiguous, numel } from "./codegen";
import { adamStepWasm, sgdStepWasm } from "./wasm/optim-wasm";

type AdamKernel = (
  n: number,
  p: TypedArray,
  po: number,
  g: TypedArray,
  go: number,
  m: TypedArray,
  mo: number,
  v: TypedArray,
  vo: number,
  vm: TypedArray | null,
  vmo: number,
  s: Float64Array,
) => void;
type SgdKernel = (
  n: number,
  p: TypedArray,
  po: number,
  g: TypedArray,
  go: number,
  b: TypedArray | null,
  bo: number,
  s: Float64Array,
) => void;

/** Adam loop source; `R(...)` marks a float32 rounding point. Flags are constant per call, hoisted by V8. */
const ADAM_SRC = `
  const beta1 = s[1], beta2 = s[2], eps = s[3], wd = s[4], negStepSize = s[7], bc2Sqrt = s[8], decay = s[9],
    c1 = s[10], c2 = s[11];
  for (let i = 0; i < n; i++) {
    let x = p[po + i];
    let d = MAXIMIZE ? -g[go + i] : g[go + i];
    if (HAS_WD) {
      if (DECOUPLED) x = R(x * decay);
      else d = R(d + wd * x);
    }
    const mi = R(R(m[mo + i] * beta1) + c1 * d);
    m[mo + i] = mi;
    let vi = R(R(v[vo + i] * beta2) + R(R(d * d) * c2));
    v[vo + i] = vi;
    if (AMS) {
      vi = Math.max(vm[vmo + i], vi);
      vm[vmo + i] = vi;
    }
    const denom = R(R(R(Math.sqrt(vi)) / bc2Sqrt) + eps);
    p[po + i] = R(x + R(R(mi / denom) * negStepSize));
  }
`;

const SGD_SRC = `
  const negLr = -s[0], momentum = s[1], damp = s[2], wd = s[4], nesterovMomentum = s[7];
  for (let i = 0; i < n; i++) {
    const x = p[po + i];
    let d = MAXIMIZE ? -g[go + i] : g[go + i];
    if (HAS_WD) d = R(d + wd * x);
    if (MOMENTUM) {
      const bi = FIRST ? d : R(R(b[bo + i] * momentum) + damp * d);
      b[bo + i] = bi;
      d = NESTEROV ? R(d + nesterovMomentum * bi) : bi;
    }
    p[po + i] = R(x + negLr * d);
  }
`;

/**
 * The loop for one dtype and one setting of the boolean options: flags become literal constants, so each
 * variant is a branch-free loop (a loop testing them per element ran about 3x slower).
 */
function compile<K>(params: string, src: string, f32: boolean, flags: Record<string, boolean>): K {
  let body = src.replace(/\bR\(/g, f32 ? "Math.fround(" : "(");
  for (const [k, v] of Object.entries(flags)) body = body.replace(new RegExp(`\\b${k}\\b`, "g"), String(v));
  return new Function(`return function(${params}) {${body}}`)() as K;
}

const kernels = new Map<string, AdamKernel | SgdKernel>();
function kernel<K>(params: string, src: string, f32: boolean, flags: Record<string, boolean>): K {
  const key = `${src === ADAM_SRC ? "adam" : "sgd"}|${f32}|${Object.values(flags).join(",")}`;
  let k = kernels.get(key);
  if (!k) {
    k = compile<AdamKernel | SgdKernel>(params, src, f32, flags);
    kernels.set(key, k);
  }
  return k as K;
}

/** All views contiguous, of `p`'s float dtype and element count. */
function fusable(p: View, ...rest: (View | null)[]): boolean {
  if (p.dtype !== "float32" && p.dtype !== "float64") return false;
  if (!isContiguous(p)) return false;
  const n = numel(p.shape);
  for (const v of rest) {
    if (v === null) continue;
    if (v.dtype !== p.dtype || !isContiguous(v) || numel(v.shape) !== n) return false;
  }
  return true;
}

const adamScalars = new Float64Array(12);
const sgdScalars = new Float64Array(8);

export function adamStep(
  p: View,
  grad: View,
  expAvg: View,
  expAvgSq: View,
  maxExpAvgSq: View | null,
  o: AdamStepOptions,
): boolean {
  if (!fusable(p, grad, expAvg, expAvgSq, maxExpAvgSq)) return false;
  const s = adamScalars;
  // Scalars the composed path applies as 0-dim tensors of p's dtype are rounded to it here too (`r`);
  // `alpha` arguments (addScaled) stay float64.
  const r = p.dtype === "float32" ? Math.fround : (x: number) => x;
  s[0] = o.lr;
  s[1] = r(o.beta1);
  s[2] = r(o.beta2);
  s[3] = r(o.eps);
  s[4] = o.weightDecay;
  s[5] = o.decoupled ? 1 : 0;
  s[6] = o.maximize ? 1 : 0;
  s[7] = r(-(o.lr / (1 - o.beta1 ** o.step)));
  s[8] = r(Math.sqrt(1 - o.beta2 ** o.step));
  s[9] = r(1 - o.lr * o.weightDecay);
  s[10] = 1 - o.beta1;
  s[11] = r(1 - o.beta2);
  if (adamStepWasm(p, grad, expAvg, expAvgSq, maxExpAvgSq, o, s)) return true;
  const k = kernel<AdamKernel>("n, p, po, g, go, m, mo, v, vo, vm, vmo, s", ADAM_SRC, p.dtype === "float32", {
    MAXIMIZE: o.maximize,
    HAS_WD: o.weightDecay !== 0,
    DECOUPLED: o.decoupled,
    AMS: maxExpAvgSq !== null,
  });
  k(
    numel(p.shape),
    p.handle as TypedArray,
    p.offset,
    grad.handle as TypedArray,
    grad.offset,
    expAvg.handle as TypedArray,
    expAvg.offset,
    expAvgSq.handle as TypedArray,
    expAvgSq.offset,
    maxExpAvgSq ? (maxExpAvgSq.handle as TypedArray) : null,
    maxExpAvgSq ? maxExpAvgSq.offset : 0,
    s,
  );
  return true;
}

export function sgdStep(p: View, grad: View, momentumBuffer: View | null, o: SgdStepOptions): boolean {
  if (!fusable(p, grad, momentumBuffer)) return false;
  const s = sgdScalars;
  s[0] = o.lr;
  s[1] = p.dtype === "float32" ? Math.fround(o.momentum) : o.momentum; // buf.mul_(momentum): a 0-dim tensor
  s[2] = 1 - o.dampening;
  s[3] = o.nesterov ? 1 : 0;
  s[4] = o.weightDecay;
  s[5] = o.maximize ? 1 : 0;
  s[6] = o.first ? 1 : 0;
  s[7] = o.momentum;
  if (sgdStepWasm(p, grad, momentumBuffer, o, s)) return true;
  const k = kernel<SgdKernel>("n, p, po, g, go, b, bo, s", SGD_SRC, p.dtype === "float32", {
    MAXIMIZE: o.maximize,
    HAS_WD: o.weightDecay !== 0,
    MOMENTUM: momentumBuffer !== null,
    FIRST: o.first,
    NESTEROV: o.nesterov,
  });
  k(
    numel(p.shape),
    p.handle as TypedArray,
    p.offset,
    grad.handle as TypedArray,
    grad.offset,
    momentumBuffer ? (momentumBuffer.handle as TypedArray) : null,
    momentumBuffer ? momentumBuffer.offset : 0,
    s,
  );
  return true;
}
