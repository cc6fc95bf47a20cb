/**
 * A naive reference backend, written against `@cinder/tensor`'s public exports alone, the way a third party
 * would write one. Every required member of the `Backend` protocol (specificationVersion 1) and no optional
 * member: no synchronous reads, no `wrap`, no fast paths. Readable over fast: storage is a plain JS array of
 * numbers, and every kernel walks its output element by element with explicit index arithmetic.
 *
 * Because it can only be read asynchronously, it also stands in for a GPU device in tests: any core code path
 * that assumes synchronous reads fails on it. Freed storage is poisoned, so a use after `free` throws.
 */
import {
  type ArgReduceOp,
  allocTypedArray,
  type Backend,
  type BinaryOp,
  type DType,
  type RandomDist,
  type ReduceOp,
  randomNormal,
  randomUniform,
  type ScanOp,
  type TypedArray,
  type UnaryOp,
  type View,
} from "@cinder/tensor";

/** One storage: `values[i]` already holds a value representable in `dtype`. */
class NaiveStorage {
  freed = false;
  constructor(
    readonly dtype: DType,
    readonly values: number[],
  ) {}
}

function storageOf(v: View | unknown): NaiveStorage {
  const h = (typeof v === "object" && v !== null && "handle" in v ? (v as View).handle : v) as NaiveStorage;
  if (!(h instanceof NaiveStorage)) throw new TypeError("naive backend: handle is not a naive storage");
  if (h.freed) throw new Error("naive backend: use of freed storage");
  return h;
}

// ---------------------------------------------------------------------------------------------- values

/** Convert a JS number to what a slot of `dtype` holds (the protocol's store semantics). */
function convert(dtype: DType, v: number): number {
  switch (dtype) {
    case "float32":
      return Math.fround(v);
    case "float64":
      return v;
    case "int32":
      return v | 0; // truncate toward zero, wrap modulo 2^32, NaN and ±inf to 0
    case "uint8":
      return (v | 0) & 255; // truncate, wrap modulo 2^8
    case "bool":
      return v !== 0 ? 1 : 0; // NaN is true
    default:
      // it declares no `dtypes`, so the core refuses the others (int8, int16) before they get here
      throw new TypeError(`naive backend: no ${dtype} storage`);
  }
}

const isFloat = (d: DType) => d === "float32" || d === "float64";

// ---------------------------------------------------------------------------------------------- indexing

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Call `fn` with every multi-index of `shape` in row-major order (the same array, updated in place). */
function forEachIndex(shape: readonly number[], fn: (idx: number[]) => void): void {
  if (numel(shape) === 0) return;
  const idx = shape.map(() => 0);
  for (;;) {
    fn(idx);
    let k = shape.length - 1;
    while (k >= 0) {
      idx[k]++;
      if (idx[k] < shape[k]) break;
      idx[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

/** Position in storage of element `idx` of view `v`. */
function position(v: View, idx: readonly number[]): number {
  let p = v.offset;
  for (let k = 0; k < idx.length; k++) p += idx[k] * v.strides[k];
  return p;
}

function load(v: View, idx: readonly number[]): number {
  return storageOf(v).values[position(v, idx)];
}

function store(v: View, idx: readonly number[], value: number): void {
  storageOf(v).values[position(v, idx)] = convert(v.dtype, value);
}

// ---------------------------------------------------------------------------------------------- scalar ops

function unaryScalar(op: UnaryOp, x: number, dtype: DType): number {
  const int = !isFloat(dtype);
  switch (op) {
    case "neg":
      return -x;
    case "abs":
      return Math.abs(x);
    case "sqrt":
      return Math.sqrt(x);
    case "rsqrt":
      return 1 / Math.sqrt(x);
    case "exp":
      return Math.exp(x);
    case "expm1":
      return Math.expm1(x);
    case "log":
      return Math.log(x);
    case "log1p":
      return Math.log1p(x);
    case "log2":
      return Math.log2(x);
    case "sin":
      return Math.sin(x);
    case "cos":
      return Math.cos(x);
    case "tan":
      return Math.tan(x);
    case "tanh":
      return Math.tanh(x);
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
    case "relu":
      return Math.max(x, 0); // NaN passes through
    case "floor":
      return Math.floor(x);
    case "ceil":
      return Math.ceil(x);
    case "round":
      return roundHalfToEven(x);
    case "trunc":
      return Math.trunc(x);
    case "sign":
      return x > 0 ? 1 : x < 0 ? -1 : 0; // sign(NaN) = 0
    case "reciprocal":
      return 1 / x;
    case "square":
      return int ? Math.imul(x, x) : x * x;
    case "erf":
      return erf(x);
    case "asin":
      return Math.asin(x);
    case "acos":
      return Math.acos(x);
    case "atan":
      return Math.atan(x);
    case "sinh":
      return Math.sinh(x);
    case "cosh":
      return Math.cosh(x);
    case "asinh":
      return Math.asinh(x);
    case "acosh":
      return Math.acosh(x);
    case "atanh":
      return Math.atanh(x);
    case "exp2":
      return 2 ** x;
    case "log10":
      return Math.log10(x);
    case "erfinv":
      return erfinv(x);
    case "bitwiseNot":
      return dtype === "bool" ? (x === 0 ? 1 : 0) : ~x;
    case "logicalNot":
      return x === 0 ? 1 : 0;
    case "isnan":
      return Number.isNaN(x) ? 1 : 0;
    case "isinf":
      return x === Number.POSITIVE_INFINITY || x === Number.NEGATIVE_INFINITY ? 1 : 0;
  }
}

function roundHalfToEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f === 0 && x < 0 ? -0 : f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? (f === 0 && x < 0 ? -0 : f) : f + 1;
}

/** erf: Taylor series near 0, the continued fraction of erfc further out (evaluated bottom-up). */
function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + ...)))))
  let frac = ax;
  for (let n = 60; n >= 1; n--) frac = ax + n / 2 / frac;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / frac;
  return Math.sign(x) * (1 - erfc);
}

/** erfinv: bisection to a bracket of 1e-3, then Newton steps on erf. */
function erfinv(y: number): number {
  if (Number.isNaN(y) || Math.abs(y) > 1) return Number.NaN;
  if (Math.abs(y) === 1) return y * Number.POSITIVE_INFINITY;
  if (y === 0) return y;
  let lo = -6;
  let hi = 6;
  while (hi - lo > 1e-3) {
    const mid = (lo + hi) / 2;
    if (erf(mid) < y) lo = mid;
    else hi = mid;
  }
  let x = (lo + hi) / 2;
  for (let i = 0; i < 4; i++) x -= (erf(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  return x;
}

/** C's pow: pow(1, y) = 1 and pow(-1, ±inf) = 1, where JS's `**` gives NaN. */
function powFloat(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) return 1;
  return a ** b;
}

/** Integer power by repeated multiplication, wrapping at 32 bits; negative exponents as PyTorch. */
function powInt(a: number, b: number): number {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b % 2 === 0 ? 1 : -1) : 0;
  let r = 1;
  for (let i = 0; i < b; i++) r = Math.imul(r, a);
  return r;
}

/** Python's modulo: the result takes the sign of the divisor. */
function pythonMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/** Python's floor division for floats (-0.5 // inf == -1). */
function floorDivFloat(a: number, b: number): number {
  if (b === 0) return a / b;
  const m = a % b;
  let q = (a - m) / b;
  if (m !== 0 && b < 0 !== m < 0) q -= 1;
  if (q === 0) return Object.is(a / b, -0) || a / b < 0 ? -0 : 0;
  const f = Math.floor(q);
  return q - f > 0.5 ? f + 1 : f;
}

function binaryScalar(op: BinaryOp, a: number, b: number, dtype: DType): number {
  const int = !isFloat(dtype);
  switch (op) {
    case "add":
      return a + b;
    case "sub":
      return a - b;
    case "mul":
      return dtype === "int32" ? Math.imul(a, b) : a * b;
    case "div":
      return int ? Math.trunc(a / b) : a / b;
    case "pow":
      return int ? powInt(a, b) : powFloat(a, b);
    case "maximum":
      return Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b);
    case "minimum":
      return Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b);
    case "remainder":
      return pythonMod(a, b);
    case "fmod":
      return a % b;
    case "floorDivide":
      return int ? Math.floor(a / b) : floorDivFloat(a, b);
    case "atan2":
      return Math.atan2(a, b);
    case "hypot":
      return Math.hypot(a, b);
    case "copysign":
      return b < 0 || Object.is(b, -0) ? -Math.abs(a) : Math.abs(a);
    case "bitwiseAnd":
      return a & b;
    case "bitwiseOr":
      return a | b;
    case "bitwiseXor":
      return a ^ b;
    case "bitwiseLeftShift":
      return a << (b & 31);
    case "bitwiseRightShift":
      return a >> (b & 31);
    case "eq":
      return a === b ? 1 : 0;
    case "ne":
      return a !== b ? 1 : 0;
    case "lt":
      return a < b ? 1 : 0;
    case "le":
      return a <= b ? 1 : 0;
    case "gt":
      return a > b ? 1 : 0;
    case "ge":
      return a >= b ? 1 : 0;
    case "logicalAnd":
      return a !== 0 && b !== 0 ? 1 : 0;
    case "logicalOr":
      return a !== 0 || b !== 0 ? 1 : 0;
    case "logicalXor":
      return (a !== 0) !== (b !== 0) ? 1 : 0;
  }
}

/** `v` is a better max (or min) than `best`: NaN beats everything and, once reached, stays. */
function better(op: "max" | "min", v: number, best: number): boolean {
  if (Number.isNaN(best)) return false;
  if (Number.isNaN(v)) return true;
  return op === "max" ? v > best : v < best;
}

/** Sort order with NaN largest. */
function compareAscending(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------- the backend

export interface NaiveBackendOptions {
  /** The device name it registers (default "naive"). */
  device?: string;
  /** Dtypes it refuses to allocate, to play a device without them (WebGPU has no float64). */
  unsupported?: readonly DType[];
}

export class NaiveBackend implements Backend {
  readonly specificationVersion = 1 as const;
  readonly device: string;
  /** Storages allocated and not yet freed. */
  liveStorages = 0;

  private readonly unsupported: readonly DType[];

  constructor(options: NaiveBackendOptions = {}) {
    this.device = options.device ?? "naive";
    this.unsupported = options.unsupported ?? [];
  }

  alloc(dtype: DType, length: number): unknown {
    if (this.unsupported.includes(dtype))
      throw new TypeError(`${this.device} backend: ${dtype} is not supported`);
    this.liveStorages++;
    return new NaiveStorage(dtype, new Array<number>(length).fill(0));
  }

  free(handle: unknown): void {
    const s = storageOf(handle);
    s.freed = true;
    s.values.length = 0;
    this.liveStorages--;
  }

  write(handle: unknown, dtype: DType, data: TypedArray, offset: number): void {
    const s = storageOf(handle);
    if (s.dtype !== dtype)
      throw new TypeError(`naive backend: writing ${dtype} data into ${s.dtype} storage`);
    if (offset + data.length > s.values.length)
      throw new RangeError("naive backend: write past the end of storage");
    for (let i = 0; i < data.length; i++) s.values[offset + i] = convert(dtype, data[i]);
  }

  read(view: View): Promise<TypedArray> {
    // Snapshot now (a read sees every write issued before it), deliver later, as a GPU would.
    const out = allocTypedArray(view.dtype, numel(view.shape));
    let i = 0;
    try {
      forEachIndex(view.shape, (idx) => {
        out[i++] = load(view, idx);
      });
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve) => setImmediate(() => resolve(out)));
  }

  copy(x: View, out: View): void {
    forEachIndex(out.shape, (idx) => store(out, idx, load(x, idx)));
  }

  fill(out: View, value: number): void {
    forEachIndex(out.shape, (idx) => store(out, idx, value));
  }

  unary(op: UnaryOp, x: View, out: View): void {
    forEachIndex(out.shape, (idx) => store(out, idx, unaryScalar(op, load(x, idx), x.dtype)));
  }

  binary(op: BinaryOp, a: View, b: View, out: View): void {
    forEachIndex(out.shape, (idx) => store(out, idx, binaryScalar(op, load(a, idx), load(b, idx), a.dtype)));
  }

  where(cond: View, a: View, b: View, out: View): void {
    forEachIndex(out.shape, (idx) => store(out, idx, load(cond, idx) !== 0 ? load(a, idx) : load(b, idx)));
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
    const init = op === "sum" ? 0 : op === "prod" ? 1 : op === "max" ? -Infinity : Infinity;
    const acc = new Array<number>(numel(out.shape)).fill(init);
    const outStrides = contiguousStrides(out.shape);
    forEachIndex(x.shape, (idx) => {
      let j = 0;
      for (let k = 0; k < idx.length; k++) if (!axes.includes(k)) j += idx[k] * outStrides[k];
      const v = load(x, idx);
      if (op === "sum") acc[j] += v;
      else if (op === "prod") acc[j] = out.dtype === "int32" ? Math.imul(acc[j], v) : acc[j] * v;
      else if (better(op, v, acc[j])) acc[j] = v;
    });
    let i = 0;
    forEachIndex(out.shape, (idx) => store(out, idx, acc[i++]));
  }

  argReduce(op: ArgReduceOp, x: View, axis: number, out: View): void {
    const kind = op === "argmax" ? "max" : "min";
    forEachIndex(out.shape, (idx) => {
      const at = [...idx];
      let best = 0;
      at[axis] = 0;
      let bestValue = load(x, at);
      for (let k = 1; k < x.shape[axis]; k++) {
        at[axis] = k;
        const v = load(x, at);
        if (better(kind, v, bestValue)) {
          best = k;
          bestValue = v;
        }
      }
      store(out, idx, best);
    });
  }

  scan(op: ScanOp, x: View, axis: number, out: View): void {
    const lineShape = x.shape.map((d, k) => (k === axis ? 1 : d));
    forEachIndex(lineShape, (idx) => {
      const at = [...idx];
      let acc = op === "cumsum" ? 0 : 1;
      for (let k = 0; k < x.shape[axis]; k++) {
        at[axis] = k;
        const v = load(x, at);
        if (op === "cumsum") acc += v;
        else acc = out.dtype === "int32" ? Math.imul(acc, v) : acc * v;
        store(out, at, acc);
      }
    });
  }

  matmul(a: View, b: View, out: View): void {
    const K = a.shape[2];
    const int = out.dtype === "int32";
    forEachIndex(out.shape, ([batch, i, j]) => {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const x = load(a, [batch, i, k]);
        const y = load(b, [batch, k, j]);
        acc = int ? (acc + Math.imul(x, y)) | 0 : acc + x * y;
      }
      store(out, [batch, i, j], acc);
    });
  }

  gather(x: View, axis: number, index: View, out: View): void {
    forEachIndex(out.shape, (idx) => {
      const at = [...idx];
      at[axis] = this.checkedIndex(load(index, idx), x.shape[axis], "gather");
      store(out, idx, load(x, at));
    });
  }

  scatter(mode: "set" | "add", out: View, axis: number, index: View, src: View): void {
    forEachIndex(index.shape, (idx) => {
      const at = [...idx];
      at[axis] = this.checkedIndex(load(index, idx), out.shape[axis], "scatter");
      const v = load(src, idx);
      store(out, at, mode === "set" ? v : load(out, at) + v);
    });
  }

  sort(x: View, axis: number, descending: boolean, values: View, indices: View): void {
    const lineShape = x.shape.map((d, k) => (k === axis ? 1 : d));
    forEachIndex(lineShape, (idx) => {
      const at = [...idx];
      const line: { value: number; from: number }[] = [];
      for (let k = 0; k < x.shape[axis]; k++) {
        at[axis] = k;
        line.push({ value: load(x, at), from: k });
      }
      // Array.prototype.sort is stable, so equal values keep their order in both directions.
      line.sort((p, q) => (descending ? -1 : 1) * compareAscending(p.value, q.value));
      line.forEach((entry, k) => {
        at[axis] = k;
        store(values, at, entry.value);
        store(indices, at, entry.from);
      });
    });
  }

  random(dist: RandomDist, key: number, counter: number, out: View): void {
    let i = 0;
    forEachIndex(out.shape, (idx) => {
      const r = dist === "uniform" ? randomUniform(key, counter + i) : randomNormal(key, counter + i);
      store(out, idx, r);
      i++;
    });
  }

  private checkedIndex(i: number, size: number, what: string): number {
    if (i < 0 || i >= size) {
      throw new RangeError(`naive backend ${what}: index ${i} is out of bounds for size ${size}`);
    }
    return i;
  }
}

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k];
  }
  return strides;
}

/** A naive backend instance registering device "naive". */
export const naive = new NaiveBackend();
