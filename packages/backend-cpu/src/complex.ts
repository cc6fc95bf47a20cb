/**
 * Complex tensors on the CPU (complex64, complex128). A complex element is two words of its real dtype, (re, im)
 * interleaved in a Float32Array/Float64Array of 2 x length words; views keep their shape, strides and offset in
 * complex elements. So a complex view is a real view with a trailing dimension of 2 (`asReal`: strides and
 * offset doubled, stride 1 for the pair), and a part (re or im) is a real view with doubled strides (`part`).
 *
 * The layout primitives (copy, fill, where, gather, scatter, sum) run the real kernels on those real views; the
 * arithmetic (unary, binary, prod, matmul) runs the loops below, in float64, rounded to the part dtype on store.
 * The real kernels are untouched: `index.ts` tests a view's dtype once per call and sends complex views here.
 */
import {
  allocTypedArray,
  type BinaryOp,
  type DType,
  DTypeError,
  isComplex,
  realDtype,
  type TypedArray,
  takeBuffer,
  type UnaryOp,
  type View,
} from "@cinder/tensor";
import { contiguousStrides, isContiguous, numel } from "./codegen";
import { binary as realBinary, copy as realCopy, fill as realFill, where as realWhere } from "./elementwise";
import { gather as realGather, scatter as realScatter } from "./indexing";
import { matmul as realMatmul } from "./matmul";
import { reduce as realReduce, scan as realScan } from "./reduce";

type Words = Float32Array | Float64Array;

/** Whether the view's dtype is complex (one check per primitive call, never per element). */
export function isComplexView(v: View): boolean {
  return v.dtype === "complex64" || v.dtype === "complex128";
}

/** The complex view as a real view with a trailing (re, im) dimension of 2. */
export function asReal(v: View): View {
  return {
    handle: v.handle,
    dtype: realDtype(v.dtype),
    shape: [...v.shape, 2],
    strides: [...v.strides.map((s) => 2 * s), 1],
    offset: 2 * v.offset,
  };
}

/** The real (k = 0) or imaginary (k = 1) parts of a complex view, as a real view of the same shape. */
export function part(v: View, k: 0 | 1): View {
  return {
    handle: v.handle,
    dtype: realDtype(v.dtype),
    shape: v.shape,
    strides: v.strides.map((s) => 2 * s),
    offset: 2 * v.offset + k,
  };
}

/** A view with a trailing dimension of 2 that repeats each element (stride 0): an index or mask for both parts. */
function pairs(v: View): View {
  return { ...v, shape: [...v.shape, 2], strides: [...v.strides, 0] };
}

/** Storage of `length` complex elements: 2 x length words of the part dtype (buffer pool included). */
export function allocComplex(dtype: DType, length: number, zero: boolean): TypedArray {
  return takeBuffer(realDtype(dtype), 2 * length, zero);
}

/** The view's elements, row-major, as interleaved words. */
export function readComplex(view: View): TypedArray {
  const n = numel(view.shape);
  if (isContiguous(view)) {
    return (view.handle as TypedArray).slice(2 * view.offset, 2 * (view.offset + n));
  }
  const out = allocTypedArray(realDtype(view.dtype), 2 * n);
  const dst = {
    handle: out,
    dtype: view.dtype,
    shape: view.shape,
    strides: contiguousStrides(view.shape),
    offset: 0,
  };
  realCopy(asReal(view), asReal(dst));
  return out;
}

/** Copy with conversion: complex to complex, real to complex (imaginary part 0), complex to real (real part). */
export function copyComplex(x: View, out: View): void {
  const cx = isComplexView(x);
  const co = isComplexView(out);
  if (cx && co) realCopy(asReal(x), asReal(out));
  else if (co) {
    realCopy(x, part(out, 0));
    realFill(part(out, 1), 0);
  } else if (out.dtype === "bool") {
    // true where either part is nonzero (PyTorch's complex -> bool); the rest keep the real part
    realCopy(part(x, 0), out);
    const im = {
      ...out,
      handle: new Uint8Array(numel(out.shape)),
      strides: contiguousStrides(out.shape),
      offset: 0,
    };
    realCopy(part(x, 1), im);
    realBinary("logicalOr", out, im, out);
  } else realCopy(part(x, 0), out);
}

/** Every element set to the real number `value` (imaginary part 0). */
export function fillComplex(out: View, value: number): void {
  realFill(part(out, 0), value);
  realFill(part(out, 1), 0);
}

export function whereComplex(cond: View, a: View, b: View, out: View): void {
  realWhere(pairs(cond), asReal(a), asReal(b), asReal(out));
}

export function gatherComplex(x: View, axis: number, index: View, out: View): void {
  realGather(asReal(x), axis, pairs(index), asReal(out));
}

export function scatterComplex(mode: "set" | "add", out: View, axis: number, index: View, src: View): void {
  realScatter(mode, asReal(out), axis, pairs(index), asReal(src));
}

/** Sums add the parts on their own (the real kernel over the real views); products multiply pairs here. */
export function reduceComplex(op: string, x: View, axes: readonly number[], out: View): void {
  if (op === "sum") {
    realReduce("sum", asReal(x), axes, asReal(out));
    return;
  }
  if (op !== "prod") throw notSupported(op, x.dtype);
  // start every output at 1 + 0j, then multiply each input element into its output: the output seen at the
  // input's shape, stride 0 along the reduced axes (the core gives it the input's rank, size 1 there)
  fillComplex(out, 1);
  const acc: View = {
    ...out,
    shape: x.shape,
    strides: x.shape.map((_, d) => (axes.includes(d) ? 0 : out.strides[d])),
  };
  const xa = x.handle as Words;
  const o = out.handle as Words;
  forEachRow(x.shape, [x, acc], (offs, steps, n) => {
    let xo = offs[0];
    let oo = offs[1];
    for (let i = 0; i < n; i++, xo += steps[0], oo += steps[1]) {
      const ar = o[oo];
      const ai = o[oo + 1];
      const br = xa[xo];
      const bi = xa[xo + 1];
      o[oo] = ar * br - ai * bi;
      o[oo + 1] = ar * bi + ai * br;
    }
  });
}

/** Batched product of [B, M, K] and [B, K, N] complex views: four real products of the parts, combined. */
export function matmulComplex(a: View, b: View, out: View): void {
  const [B, M, N] = out.shape;
  const real = realDtype(out.dtype);
  const tmp = (): View => ({
    handle: allocTypedArray(real, B * M * N),
    dtype: real,
    shape: out.shape,
    strides: contiguousStrides(out.shape),
    offset: 0,
  });
  const [rr, ii, ri, ir] = [tmp(), tmp(), tmp(), tmp()];
  realMatmul(part(a, 0), part(b, 0), rr);
  realMatmul(part(a, 1), part(b, 1), ii);
  realMatmul(part(a, 0), part(b, 1), ri);
  realMatmul(part(a, 1), part(b, 0), ir);
  realBinary("sub", rr, ii, part(out, 0));
  realBinary("add", ri, ir, part(out, 1));
}

/** Cumulative sums add the parts on their own; products of complex numbers are not a scan of the parts. */
export function scanComplex(op: string, x: View, axis: number, out: View): void {
  if (op !== "cumsum") throw notSupported(op, x.dtype);
  realScan("cumsum", asReal(x), axis, asReal(out));
}

/** The error for a primitive the CPU does not run on complex views (the core refuses these ops first). */
export function notSupported(op: string, dtype: DType): DTypeError {
  return new DTypeError(`${op}: not supported for complex tensors (dtype ${dtype}) on the cpu`);
}

/**
 * Calls `row(offsets, steps, n)` for every row (the last dimension) of `shape`, with each view's word offset of the
 * row's first element and its word step along the row: the loops over a row then advance offsets by addition
 * instead of recomputing them from an index (complex views count 2 words per element).
 */
function forEachRow(
  shape: readonly number[],
  views: readonly View[],
  row: (offs: readonly number[], steps: readonly number[], n: number) => void,
): void {
  const nd = shape.length;
  const total = numel(shape);
  if (total === 0) return;
  const words = views.map((v) => (isComplex(v.dtype) ? 2 : 1));
  const steps = views.map((v, k) => (nd === 0 ? 0 : v.strides[nd - 1] * words[k]));
  const n = nd === 0 ? 1 : shape[nd - 1];
  const offs = views.map((v, k) => v.offset * words[k]);
  const idx = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  for (let r = 0; r < total / n; r++) {
    row(offs, steps, n);
    // next row: the odometer over the leading dims, offsets moved by the strides of the dims that changed
    for (let d = nd - 2; d >= 0; d--) {
      for (let k = 0; k < views.length; k++) offs[k] += views[k].strides[d] * words[k];
      if (++idx[d] < shape[d]) break;
      for (let k = 0; k < views.length; k++) offs[k] -= views[k].strides[d] * words[k] * shape[d];
      idx[d] = 0;
    }
  }
}

// ---- the scalar math (c10::complex's formulas where PyTorch's results depend on them) ----

type C = [number, number];

function cdiv(a: number, b: number, c: number, d: number): C {
  // as PyTorch's vectorized CPU kernel: both operands scaled by 1 / max(|c|, |d|) (no overflow in c*c + d*d);
  // a zero divisor gives NaN + NaN j, as PyTorch's
  const sc = Math.max(Math.abs(c), Math.abs(d));
  const a2 = a / sc;
  const b2 = b / sc;
  const c2 = c / sc;
  const d2 = d / sc;
  const den = c2 * c2 + d2 * d2;
  return [(a2 * c2 + b2 * d2) / den, (b2 * c2 - a2 * d2) / den];
}

/** 1 / z as PyTorch's kernel computes it, conj(z) / |z|^2 (so 1 / (inf + 1j) is NaN - 0j, as PyTorch's). */
function crecip(a: number, b: number): C {
  const den = a * a + b * b;
  return [a / den, -b / den];
}

function cexp(a: number, b: number): C {
  if (b === 0) return [Math.exp(a), b]; // exp of a real number stays real (keeps a signed zero imaginary part)
  const e = Math.exp(a);
  return [e * Math.cos(b), e * Math.sin(b)];
}

function clog(a: number, b: number): C {
  return [Math.log(Math.hypot(a, b)), Math.atan2(b, a)];
}

function csqrt(a: number, b: number): C {
  // principal root: re >= 0, the imaginary part keeps b's sign (Kahan's branch cut)
  if (a === 0 && b === 0) return [0, b];
  if (b === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY) return [Number.POSITIVE_INFINITY, b];
  const m = Math.hypot(a, b);
  const t = Math.sqrt((m + Math.abs(a)) / 2);
  if (a >= 0) return [t, b / (2 * t)];
  return [Math.abs(b) / (2 * t), b >= 0 || Object.is(b, 0) ? t : -t];
}

function cpow(a: number, b: number, c: number, d: number): C {
  if (d === 0 && c === 2) return [a * a - b * b, 2 * a * b];
  if (c === 0 && d === 0) return [1, 0];
  if (a === 0 && b === 0) return d === 0 && c > 0 ? [0, 0] : [Number.NaN, Number.NaN];
  const [lr, li] = clog(a, b);
  return cexp(c * lr - d * li, c * li + d * lr);
}

function csin(a: number, b: number): C {
  return [Math.sin(a) * Math.cosh(b), Math.cos(a) * Math.sinh(b)];
}

function ccos(a: number, b: number): C {
  return [Math.cos(a) * Math.cosh(b), -Math.sin(a) * Math.sinh(b)];
}

function ctanh(a: number, b: number): C {
  // tanh(a + bi) = (sinh 2a + i sin 2b) / (cosh 2a + cos 2b), with the limit +-1 for large |a|
  if (Math.abs(a) > 20) return [Math.sign(a), 0 * Math.sin(2 * b)];
  const den = Math.cosh(2 * a) + Math.cos(2 * b);
  return [Math.sinh(2 * a) / den, Math.sin(2 * b) / den];
}

const UNARY: Partial<Record<UnaryOp, (a: number, b: number) => C>> = {
  neg: (a, b) => [-a, -b],
  exp: cexp,
  log: clog,
  log2: (a, b) => {
    const [r, i] = clog(a, b);
    return [r / Math.LN2, i / Math.LN2];
  },
  log10: (a, b) => {
    const [r, i] = clog(a, b);
    return [r / Math.LN10, i / Math.LN10];
  },
  sqrt: csqrt,
  rsqrt: (a, b) => {
    const [r, i] = csqrt(a, b);
    return crecip(r, i);
  },
  sin: csin,
  cos: ccos,
  tan: (a, b) => {
    const [sr, si] = csin(a, b);
    const [cr, ci] = ccos(a, b);
    return cdiv(sr, si, cr, ci);
  },
  sinh: (a, b) => [Math.sinh(a) * Math.cos(b), Math.cosh(a) * Math.sin(b)],
  cosh: (a, b) => [Math.cosh(a) * Math.cos(b), Math.sinh(a) * Math.sin(b)],
  tanh: ctanh,
  sigmoid: (a, b) => {
    const [er, ei] = cexp(-a, -b);
    return cdiv(1, 0, 1 + er, ei);
  },
  reciprocal: crecip,
  square: (a, b) => [a * a - b * b, 2 * a * b],
};

/** The unary ops with a complex input whose result is real or bool (abs, isnan, isinf). */
const TO_REAL: Partial<Record<UnaryOp, (a: number, b: number) => number>> = {
  abs: Math.hypot,
  isnan: (a, b) => +(Number.isNaN(a) || Number.isNaN(b)),
  isinf: (a, b) => +(Math.abs(a) === Number.POSITIVE_INFINITY || Math.abs(b) === Number.POSITIVE_INFINITY),
};

/** The unary ops the CPU computes on complex inputs. */
export const COMPLEX_UNARY: readonly UnaryOp[] = [
  ...(Object.keys(UNARY) as UnaryOp[]),
  ...(Object.keys(TO_REAL) as UnaryOp[]),
];

export function unaryComplex(op: UnaryOp, x: View, out: View): void {
  const f = UNARY[op];
  const g = TO_REAL[op];
  if (!f && !g) throw notSupported(op, x.dtype);
  const xa = x.handle as Words;
  const oa = out.handle as TypedArray;
  forEachRow(out.shape, [x, out], (offs, steps, n) => {
    let xo = offs[0];
    let oo = offs[1];
    for (let i = 0; i < n; i++, xo += steps[0], oo += steps[1]) {
      if (g) oa[oo] = g(xa[xo], xa[xo + 1]);
      else {
        const [r, im] = (f as (a: number, b: number) => C)(xa[xo], xa[xo + 1]);
        oa[oo] = r;
        oa[oo + 1] = im;
      }
    }
  });
}

const BINARY: Partial<Record<BinaryOp, (a: number, b: number, c: number, d: number) => C>> = {
  add: (a, b, c, d) => [a + c, b + d],
  sub: (a, b, c, d) => [a - c, b - d],
  mul: (a, b, c, d) => [a * c - b * d, a * d + b * c],
  div: cdiv,
  pow: cpow,
};

const COMPARE: Partial<Record<BinaryOp, (a: number, b: number, c: number, d: number) => boolean>> = {
  eq: (a, b, c, d) => a === c && b === d,
  ne: (a, b, c, d) => a !== c || b !== d,
};

/** The binary ops the CPU computes on complex inputs (both operands complex, of one dtype). */
export const COMPLEX_BINARY: readonly BinaryOp[] = [
  ...(Object.keys(BINARY) as BinaryOp[]),
  ...(Object.keys(COMPARE) as BinaryOp[]),
];

export function binaryComplex(op: BinaryOp, x: View, y: View, out: View): void {
  const f = BINARY[op];
  const g = COMPARE[op];
  if (!f && !g) throw notSupported(op, x.dtype);
  const xa = x.handle as Words;
  const ya = y.handle as Words;
  const oa = out.handle as TypedArray;
  forEachRow(out.shape, [x, y, out], (offs, steps, n) => {
    let xo = offs[0];
    let yo = offs[1];
    let oo = offs[2];
    for (let i = 0; i < n; i++, xo += steps[0], yo += steps[1], oo += steps[2]) {
      if (g) oa[oo] = +g(xa[xo], xa[xo + 1], ya[yo], ya[yo + 1]);
      else {
        const [r, im] = (f as (a: number, b: number, c: number, d: number) => C)(
          xa[xo],
          xa[xo + 1],
          ya[yo],
          ya[yo + 1],
        );
        oa[oo] = r;
        oa[oo + 1] = im;
      }
    }
  });
}
