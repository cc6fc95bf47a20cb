/**
 * A small loop generator: the one place where strided iteration is written. A kernel is an expression over
 * the current input elements (`x`, or `a`/`b`, or `c`/`a`/`b`); `generate` wraps it in a loop nest that walks
 * any strided views, and the result is cached per (expression, dtypes, innermost-stride pattern) so every
 * generated function stays monomorphic and the hot loop has neither closures nor switches in it.
 *
 * Before a kernel runs, `plan` removes size-1 dimensions, orders the dimensions by the strides of one
 * "primary" operand (the output for elementwise ops, the input for reductions) and merges dimensions that are
 * contiguous for every operand, so a contiguous op is a single flat loop whatever its rank.
 */
import type { TypedArray, View } from "@cinder/tensor";
import {
  andInt64,
  castToInt64,
  divTruncInt64,
  erfinvScalar,
  floorDivFloat,
  floorDivInt64,
  fmodInt64,
  fromBFloat16Bits,
  fromFloat16Bits,
  i64,
  notInt64,
  orInt64,
  powFloat,
  powInt,
  powInt64,
  remFloat,
  remInt,
  remInt64,
  roundHalfEven,
  shlInt64,
  shrInt64,
  sigmoidScalar,
  toBFloat16Bits,
  toFloat16Bits,
  xorInt64,
} from "@cinder/tensor";
import { erf } from "./erf";

/** One operand of a loop: a typed array, an element offset and one stride per dimension of the loop shape. */
export interface Operand {
  arr: TypedArray;
  offset: number;
  strides: readonly number[];
}

/** What a generated loop computes. */
export interface LoopSpec {
  /** Cache key: must identify `vars`, `expr` and `accumulate`. Dtypes are appended by `runLoop`. */
  key: string;
  /** Names the inputs' current elements are bound to inside `expr`. */
  vars: readonly string[];
  /** JS expression for the value stored to the output. May use `p` (the scalar parameter). */
  expr: string;
  /** When set, the output is read-modify-write: `expr` may use `acc`, the output's current value. */
  accumulate?: boolean;
  /** Statements run once per call before the loops (e.g. `const c0 = p[0];` when `p` is an array). */
  prelude?: string;
  /** Statements run per element before the store (temporaries `expr` reads). */
  body?: string;
}

type Kernel = (
  rank: number,
  shape: readonly number[],
  arrs: TypedArray[],
  offs: number[],
  strides: (readonly number[])[],
  p: number | Float64Array,
) => void;

/** Functions generated kernels may call; V8 inlines them. */
const helpers = {
  erf,
  erfinv: erfinvScalar,
  sigmoid: sigmoidScalar,
  roundHalfEven,
  // float16/bfloat16 loads (bits -> value) and stores (value -> bits, through float32): @cinder/tensor's half.ts
  h2f: fromFloat16Bits,
  f2h: toFloat16Bits,
  b2f: fromBFloat16Bits,
  f2b: toBFloat16Bits,
  powFloat,
  powInt,
  remFloat,
  remInt,
  floorDivFloat,
  // int64 (exact integers in doubles, range-checked: int64.ts in @cinder/tensor)
  i64,
  castToInt64,
  divTruncInt64,
  floorDivInt64,
  remInt64,
  fmodInt64,
  powInt64,
  andInt64,
  orInt64,
  xorInt64,
  notInt64,
  shlInt64,
  shrInt64,
};
const helperNames = Object.keys(helpers);

const cache = new Map<string, Kernel>();

export function operand(v: View): Operand {
  return { arr: v.handle as TypedArray, offset: v.offset, strides: v.strides };
}

/** Row-major contiguous strides for `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

export function numel(shape: readonly number[]): number {
  // an indexed loop: for-of over a `Size` (an Array with its own prototype) takes V8's generic iterator path
  let n = 1;
  for (let d = 0; d < shape.length; d++) n *= shape[d];
  return n;
}

export function isContiguous(v: View): boolean {
  let acc = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== 1 && v.strides[d] !== acc) return false;
    acc *= v.shape[d];
  }
  return true;
}

export interface Plan {
  shape: number[];
  strides: number[][];
}

/**
 * Simplify a loop over `shape` for the given operands' strides: drop size-1 dims, order dims by the primary
 * operand's strides (largest first, so its innermost stride is smallest), merge dims contiguous for all.
 * Returns null when the shape is empty (zero elements). A rank-0 loop becomes shape [1].
 */
export function plan(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  primary: number,
): Plan | null {
  const dims: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 0) return null;
    if (shape[d] !== 1) dims.push(d);
  }
  const ps = strides[primary];
  // Stable insertion sort by descending |stride| of the primary operand.
  for (let i = 1; i < dims.length; i++) {
    const d = dims[i];
    const key = Math.abs(ps[d]);
    let j = i - 1;
    while (j >= 0 && Math.abs(ps[dims[j]]) < key) {
      dims[j + 1] = dims[j];
      j--;
    }
    dims[j + 1] = d;
  }
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (const d of dims) {
    const r = outShape.length;
    if (r > 0 && strides.every((s, k) => outStrides[k][r - 1] === s[d] * shape[d])) {
      outShape[r - 1] *= shape[d];
      for (let k = 0; k < strides.length; k++) outStrides[k][r - 1] = strides[k][d];
    } else {
      outShape.push(shape[d]);
      for (let k = 0; k < strides.length; k++) outStrides[k].push(strides[k][d]);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (const s of outStrides) s.push(0);
  }
  return { shape: outShape, strides: outStrides };
}

/** Innermost-stride classes (see `strideClass`) as numbers for the kernel cache: "1", "0", "s". */
const DENSE = 0;
const BROADCAST = 1;
const STRIDED = 2;
const CLASS_CHAR = ["1", "0", "s"];

/** Classify an innermost stride: "1" (contiguous), "0" (broadcast, hoisted out of the loop) or "s" (kernelFor). */
function strideClass(s: number): number {
  return s === 1 ? DENSE : s === 0 ? BROADCAST : STRIDED;
}

function generate(spec: LoopSpec, pattern: string): Kernel {
  const nOps = pattern.length;
  const L: string[] = ['"use strict";'];
  L.push(`const {${helperNames.join(", ")}} = h;`);
  // a kernel's own scratch for branch-free selects (elementwise.ts): SEL[+cond] picks SEL[1] or SEL[0]
  L.push("const SEL = new Float64Array(2);");
  L.push("const NO_IDX = new Int32Array(0);");
  L.push(`return function kernel_${pattern}_${cache.size}(rank, shape, arrs, offs, strides, p) {`);
  if (spec.prelude) L.push(spec.prelude);
  for (let k = 0; k < nOps; k++) {
    L.push(`const A${k} = arrs[${k}], S${k} = strides[${k}]; let P${k} = offs[${k}];`);
  }
  L.push("const last = rank - 1, n = shape[last];");
  for (let k = 0; k < nOps; k++) if (pattern[k] === "s") L.push(`const I${k} = S${k}[last];`);
  L.push("let outer = 1; for (let d = 0; d < last; d++) outer *= shape[d];");
  // (a flat loop never touches idx: no per-call allocation for it)
  L.push("const idx = last > 0 ? new Int32Array(last) : NO_IDX;");
  L.push("for (let r = 0; r < outer; r++) {");
  const at = (k: number) =>
    pattern[k] === "1"
      ? `A${k}[P${k} + i]`
      : pattern[k] === "0"
        ? `A${k}[P${k}]`
        : `A${k}[P${k} + i * I${k}]`;
  for (let k = 1; k < nOps; k++) if (pattern[k] === "0") L.push(`const ${spec.vars[k - 1]} = ${at(k)};`);
  const hoistAcc = spec.accumulate && pattern[0] === "0";
  if (hoistAcc) L.push("let acc = A0[P0];");
  L.push("for (let i = 0; i < n; i++) {");
  for (let k = 1; k < nOps; k++) if (pattern[k] !== "0") L.push(`const ${spec.vars[k - 1]} = ${at(k)};`);
  if (spec.body) L.push(spec.body);
  if (hoistAcc) {
    L.push(`acc = ${spec.expr};`);
  } else if (spec.accumulate) {
    const q = pattern[0] === "1" ? "P0 + i" : "P0 + i * I0";
    L.push(`const q = ${q}; const acc = A0[q]; A0[q] = ${spec.expr};`);
  } else {
    L.push(`${at(0)} = ${spec.expr};`);
  }
  L.push("}");
  if (hoistAcc) L.push("A0[P0] = acc;");
  L.push("for (let d = last - 1; d >= 0; d--) {");
  for (let k = 0; k < nOps; k++) L.push(`P${k} += S${k}[d];`);
  L.push("if (++idx[d] < shape[d]) break;");
  L.push("idx[d] = 0;");
  for (let k = 0; k < nOps; k++) L.push(`P${k} -= S${k}[d] * shape[d];`);
  L.push("}");
  L.push("}");
  L.push("};");
  return new Function("h", L.join("\n"))(helpers) as Kernel;
}

const UNIT_STRIDES: (readonly number[])[][] = [0, 1, 2, 3, 4, 5].map((k) =>
  Array.from({ length: k }, () => [1]),
);

/** Whether `o` walks `shape` in row-major order with no gaps (size-1 dims may have any stride). */
function denseOver(shape: readonly number[], o: Operand): boolean {
  let acc = 1;
  const st = o.strides;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && st[d] !== acc) return false;
    acc *= shape[d];
  }
  return true;
}

/**
 * Typed-array constructors numbered for the kernel cache. A small op is over in ~100 ns, so the cache key must cost
 * less than a string built and hashed per call (`spec.key|Float32Array|...|11s`): each spec's kernels are keyed
 * by a number made of its operands' array types and innermost-stride classes.
 */
const ARRAY_CODE = new Map<unknown, number>([
  [Float32Array, 1],
  [Float64Array, 2],
  [Int32Array, 3],
  [Uint8Array, 4],
  [Int8Array, 5],
  [Int16Array, 6],
  [Uint16Array, 7],
]);
const kernelsBySpec = new WeakMap<LoopSpec, Map<number, Kernel>>();

/** Calls of `runLoop` by path since load: tests check that the flat path is taken and equals the strided one. */
export const loopStats = { flat: 0, strided: 0 };

/**
 * The kernel of `spec` for these arrays and innermost-stride classes (one per operand), found by a number made of
 * the operands' array and stride codes; generated (and kept under the string key) on first use.
 */
function kernelFor(spec: LoopSpec, arrs: readonly TypedArray[], classes: readonly number[]): Kernel {
  let byCode = kernelsBySpec.get(spec);
  if (byCode === undefined) {
    byCode = new Map();
    kernelsBySpec.set(spec, byCode);
  }
  let code = 0;
  let known = true;
  for (let k = 0; k < arrs.length; k++) {
    const c = ARRAY_CODE.get(arrs[k].constructor);
    if (c === undefined) known = false;
    else code = code * 32 + c * 3 + classes[k];
  }
  let kernel = known ? byCode.get(code) : undefined;
  if (kernel === undefined) {
    let pattern = "";
    for (let k = 0; k < classes.length; k++) pattern += CLASS_CHAR[classes[k]];
    kernel = cachedKernel(spec, arrs, pattern);
    // (an array type outside the table, none that Cinder allocates, goes by the string key every time)
    if (known) byCode.set(code, kernel);
  }
  return kernel;
}

/** Whether every stride of `o` over `shape`'s dims of size > 1 is 0 (a value broadcast over the whole loop). */
function broadcastOver(shape: readonly number[], o: Operand): boolean {
  const st = o.strides;
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1 && st[d] !== 0) return false;
  return true;
}

/** The kernel of `spec` for these arrays and stride pattern, generated on first use. */
function cachedKernel(spec: LoopSpec, arrs: readonly TypedArray[], pattern: string): Kernel {
  let key = spec.key;
  for (const a of arrs) key += `|${a.constructor.name}`;
  key += `|${pattern}`;
  let kernel = cache.get(key);
  if (kernel === undefined) {
    kernel = generate(spec, pattern);
    cache.set(key, kernel);
  }
  return kernel;
}

/**
 * Run `spec` over `shape`: out (operand 0) and inputs, each with strides for `shape`. `primary` picks the
 * operand whose memory order the loop follows (0 = out).
 */
export function runLoop(
  spec: LoopSpec,
  out: Operand,
  inputs: readonly Operand[],
  shape: readonly number[],
  p: number | Float64Array = 0,
  primary = 0,
): void {
  // the common case: a dense output and inputs each dense in its order or one broadcast value (a scalar operand):
  // one flat loop, no planning (`plan` would merge such a loop into this very one)
  const nOps = inputs.length + 1;
  let flat = denseOver(shape, out);
  const classes = new Array<number>(nOps);
  classes[0] = DENSE;
  for (let k = 0; flat && k < inputs.length; k++) {
    const o = inputs[k];
    if (denseOver(shape, o)) classes[k + 1] = DENSE;
    else if (broadcastOver(shape, o)) classes[k + 1] = BROADCAST;
    else flat = false;
  }
  if (flat) {
    let n = 1;
    for (let d = 0; d < shape.length; d++) n *= shape[d];
    if (n === 0) return;
    const arrs = new Array<TypedArray>(nOps);
    const offs = new Array<number>(nOps);
    arrs[0] = out.arr;
    offs[0] = out.offset;
    for (let k = 1; k < nOps; k++) {
      arrs[k] = inputs[k - 1].arr;
      offs[k] = inputs[k - 1].offset;
    }
    loopStats.flat++;
    // (a rank-1 kernel reads strides only for "s" operands: unit strides serve every operand here)
    kernelFor(spec, arrs, classes)(1, [n], arrs, offs, UNIT_STRIDES[nOps] ?? arrs.map(() => [1]), p);
    return;
  }
  loopStats.strided++;
  const ops = [out, ...inputs];
  const pl = plan(
    shape,
    ops.map((o) => o.strides),
    primary,
  );
  if (pl === null) return;
  const last = pl.shape.length - 1;
  const strided = new Array<number>(ops.length);
  for (let k = 0; k < ops.length; k++) {
    let c = strideClass(pl.strides[k][last]);
    // A written output with stride 0 only happens for accumulation; otherwise treat it as generic.
    if (k === 0 && c === BROADCAST && !spec.accumulate) c = STRIDED;
    strided[k] = c;
  }
  const arrs = ops.map((o) => o.arr);
  kernelFor(spec, arrs, strided)(
    pl.shape.length,
    pl.shape,
    arrs,
    ops.map((o) => o.offset),
    pl.strides,
    p,
  );
}

/**
 * Call `fn` once per line along `axis`: every position of the other dimensions, with each operand's element
 * offset at index 0 of the line in `offs` (reused between calls; read it before returning). Operands give
 * strides for `shape`; only their non-`axis` strides are used. Nothing is called when a non-axis dim is 0.
 */
export function forEachLine(
  shape: readonly number[],
  axis: number,
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  fn: (offs: number[]) => void,
): void {
  const dims: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (d === axis) continue;
    if (shape[d] === 0) return;
    if (shape[d] !== 1) dims.push(d);
  }
  const offs = offsets.slice();
  const nOps = offs.length;
  const idx = new Int32Array(dims.length);
  for (;;) {
    fn(offs);
    let k = dims.length - 1;
    for (; k >= 0; k--) {
      const d = dims[k];
      for (let j = 0; j < nOps; j++) offs[j] += strides[j][d];
      if (++idx[k] < shape[d]) break;
      idx[k] = 0;
      for (let j = 0; j < nOps; j++) offs[j] -= strides[j][d] * shape[d];
    }
    if (k < 0) return;
  }
}

/** A rank-0 view as a one-element rank-1 view, so axis 0 of a scalar means "the scalar" (as in PyTorch). */
export function atLeast1d(v: View): View {
  return v.shape.length > 0 ? v : { ...v, shape: [1], strides: [1] };
}
