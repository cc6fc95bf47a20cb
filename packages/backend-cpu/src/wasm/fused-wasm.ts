/**
 * Fused elementwise programs in WebAssembly SIMD: the second renderer of the fusion IR (`Expr`), beside the JS
 * one (fused.ts). A program is rendered once per structure (ops, dtypes, which inputs are scalars; not constant
 * values) into a module of one loop over 4 lanes at a time, compiled and cached; every program's instance works on
 * one small module memory. A call streams the data through that memory in blocks of BLOCK elements: each vector
 * input's block is copied in (a memcpy, ~100 GB/s from cache), the loop runs, the output block is copied out. The
 * copies cost far less than the JS loop they replace (about 1 ns per element per op).
 *
 * What it takes: float32 and bool values (bool as lane masks), inputs read whole (contiguous over the loop shape)
 * or as one broadcast value, the nodes whose float32 results WebAssembly computes with the same rounding as the JS
 * renderer's `Math.fround` of a float64 operation (add, sub, mul, div, sqrt, min/max, abs, neg, relu, floor, ceil,
 * trunc, round, reciprocal, square, comparisons, logical ops, `where`, bool<->float32 casts), and a `sum` of every
 * element at the end. Anything else (transcendentals, integer and float64 programs, strided or partly broadcast
 * inputs, other reductions) returns false and runs on the JS renderer. Results equal the JS renderer's bit for bit
 * (NaN payloads aside); a sum adds in four float64 lanes instead of one, so it may differ in the last float64 bits
 * before its rounding to float32.
 */
import type { BinaryOp, DType, Expr, FusedReduce, TypedArray, UnaryOp, View } from "@cinder/tensor";
import { numel } from "../codegen";
import { FnBuilder, moduleBytes, OP, SIMD, T, uleb } from "./emit";

/** Elements per streamed block (a float32 block is 32 KiB: ten of them stay in L2). */
export const BLOCK = 8192;
/** Programs over fewer elements stay on the JS renderer (a WASM call and its copies cost ~1 us). */
export const WASM_FUSED_MIN = 256;
/**
 * Byte layout of the memory: reduction accumulators, constant slots, one block per operand (up to 8 inputs and
 * the output), then the float64 sums of a reduction that keeps its innermost axes (ROWS_MAX of them).
 */
const ACC = 16;
export const CONSTS = 64;
const MAX_CONSTS = 240;
const BUFS = CONSTS + 4 * MAX_CONSTS;
const MAX_OPERANDS = 8;
const ROWS_MAX = 8192;
const PAGES = 6;
export const bufAt = (k: number): number => BUFS + 4 * BLOCK * k;
const ROWS = bufAt(MAX_OPERANDS + 1);

const F32_UNARY: Partial<Record<UnaryOp, number>> = {
  neg: SIMD.f32x4_neg,
  abs: SIMD.f32x4_abs,
  sqrt: SIMD.f32x4_sqrt,
  floor: SIMD.f32x4_floor,
  ceil: SIMD.f32x4_ceil,
  trunc: SIMD.f32x4_trunc,
  round: SIMD.f32x4_nearest,
};
const F32_BINARY: Partial<Record<BinaryOp, number>> = {
  add: SIMD.f32x4_add,
  sub: SIMD.f32x4_sub,
  mul: SIMD.f32x4_mul,
  div: SIMD.f32x4_div,
  maximum: SIMD.f32x4_max,
  minimum: SIMD.f32x4_min,
};
const F32_COMPARE: Partial<Record<BinaryOp, number>> = {
  eq: SIMD.f32x4_eq,
  ne: SIMD.f32x4_ne,
  lt: SIMD.f32x4_lt,
  le: SIMD.f32x4_le,
  gt: SIMD.f32x4_gt,
  ge: SIMD.f32x4_ge,
};
const MASK_BINARY: Partial<Record<BinaryOp, number>> = {
  logicalAnd: SIMD.v128_and,
  logicalOr: SIMD.v128_or,
  logicalXor: SIMD.v128_xor,
  ne: SIMD.v128_xor,
};

/** The module memory and its views (shared by every kernel built at run time). */
export interface Host {
  memory: WebAssembly.Memory;
  f32: Float32Array;
  i32: Int32Array;
  u8: Uint8Array;
  f64: Float64Array;
}

/**
 * A compiled kernel: `run(start, end, n, rows)` walks byte offsets i = start, start + 16, ... < end of each block
 * (4 lanes per step); a sum adds only the first `n` elements from `start`, a sum of rows adds element i into the
 * float64 at `rows + 2 * (i - start)` of the ROWS area.
 */
export interface Kernel {
  run(start: number, end: number, n: number, rows: number): void;
}

/** `CINDER_WASM_KERNELS=0` in the environment starts with this path off (for comparisons and debugging). */
let enabled =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.CINDER_WASM_KERNELS !== "0";
let host: Host | null | undefined;
const kernels = new Map<string, Kernel | null>();
/** Kernels (programs and optimizer updates) run on WebAssembly since load: tests check the fast path is taken. */
export const wasmFusedStats = { run: 0 };

/** Allow (default) or forbid this path; forbidding it runs every program on the JS renderer, as without SIMD. */
export function setWasmFusedEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether run-time generated kernels are allowed (`setWasmFusedEnabled`). */
export const wasmFusedEnabled = (): boolean => enabled;

/** The memory, created on first use; null where WebAssembly SIMD is unavailable. */
export function getHost(): Host | null {
  if (host !== undefined) return host;
  host = null;
  try {
    if (typeof WebAssembly === "object") {
      const memory = new WebAssembly.Memory({ initial: PAGES, maximum: PAGES });
      const b = memory.buffer;
      const h = { memory, f32: new Float32Array(b), i32: new Int32Array(b), u8: new Uint8Array(b) };
      host = { ...h, f64: new Float64Array(b) };
      // Probe: a module with SIMD instructions compiles only where the engine has SIMD.
      if (compile(new FnBuilder(4).i32(0).simd(SIMD.v128_load, { align: 4, offset: 0 }).op(0x1a)) === null) {
        host = null;
      }
    }
  } catch {
    host = null;
  }
  return host;
}

/** `fn` (parameters end, n) as a kernel on the host memory; null when the engine refuses it. */
export function compile(fn: FnBuilder): Kernel | null {
  try {
    const m = new WebAssembly.Module(moduleBytes([T.i32, T.i32, T.i32, T.i32], fn, PAGES));
    const h = host as Host;
    return new WebAssembly.Instance(m, { env: { memory: h.memory } }).exports as unknown as Kernel;
  } catch {
    return null;
  }
}

/**
 * How each input is read: a whole block per call ("vec"), one value in a constant slot ("scalar"), or a block put
 * together from runs ("runs": `run` elements at a time, each a contiguous stretch of the input or, with `repeat`, one
 * value repeated; a bias broadcast over a batch or over channels' pixels).
 */
type Slot =
  | { kind: "vec" | "scalar"; dtype: DType }
  | { kind: "runs"; dtype: DType; run: number; repeat: boolean };

/** Runs shorter than this are not worth their per-run cost: such inputs stay on the JS renderer. */
const MIN_RUN = 16;

/** Classify `v` over `shape` (see `Slot`), or null. */
function slotOf(v: View, shape: readonly number[]): Slot | null {
  if (v.dtype !== "float32" && v.dtype !== "bool") return null;
  let run = 1;
  let repeat: boolean | null = null;
  let d = shape.length - 1;
  for (; d >= 0; d--) {
    if (shape[d] === 1) continue;
    const st = v.strides[d];
    if (repeat === null) {
      if (st !== 0 && st !== 1) return null;
      repeat = st === 0;
    } else if (st !== (repeat ? 0 : run)) break;
    run *= shape[d];
  }
  if (d < 0) return { kind: repeat ? "scalar" : "vec", dtype: v.dtype };
  return run >= MIN_RUN ? { kind: "runs", dtype: v.dtype, run, repeat: repeat === true } : null;
}

/** Elements [s, s + len) of the loop over `shape` read through `v` into `dst` at `at`, run by run. */
function gather(
  v: View,
  shape: readonly number[],
  slot: { run: number; repeat: boolean },
  s: number,
  len: number,
  dst: TypedArray,
  at: number,
): void {
  const src = v.handle as TypedArray;
  const { run, repeat } = slot;
  const end = s + len;
  for (let f = s; f < end; ) {
    const within = f % run;
    const take = Math.min(run - within, end - f);
    let rem = f - within;
    let off = v.offset;
    for (let d = shape.length - 1; d >= 0 && rem > 0; d--) {
      const q = rem % shape[d];
      rem = (rem - q) / shape[d];
      off += q * v.strides[d];
    }
    if (repeat) dst.fill(src[off], at + f - s, at + f - s + take);
    else dst.set(src.subarray(off + within, off + within + take), at + f - s);
    f += take;
  }
}

const isF32Const = (v: number): boolean => Math.fround(v) === v || Number.isNaN(v);

/**
 * The structure key of a program the renderer supports (constant values excluded), or null.
 */
function structure(e: Expr, slots: readonly Slot[]): string | null {
  const d = e.dtype;
  if (d !== "float32" && d !== "bool") return null;
  switch (e.op) {
    case "input":
      return `${slots[e.index].kind === "scalar" ? "s" : "v"}${e.index}${d[0]}`;
    case "const":
      return d === "float32" && !isF32Const(e.value) ? null : `c${d[0]}`;
    case "unary": {
      const x = structure(e.x, slots);
      if (x === null) return null;
      const xd = e.x.dtype;
      const ok =
        xd === "float32"
          ? d === "float32"
            ? F32_UNARY[e.fn] !== undefined || ["relu", "square", "reciprocal"].includes(e.fn)
            : ["isnan", "isinf", "logicalNot"].includes(e.fn)
          : xd === "bool" && d === "bool" && e.fn === "logicalNot";
      return ok ? `${e.fn}${d[0]}(${x})` : null;
    }
    case "binary": {
      const a = structure(e.a, slots);
      const b = a === null ? null : structure(e.b, slots);
      if (b === null) return null;
      const ad = e.a.dtype;
      if (ad !== e.b.dtype) return null;
      const ok =
        ad === "float32"
          ? d === "float32"
            ? F32_BINARY[e.fn] !== undefined
            : F32_COMPARE[e.fn] !== undefined
          : d === "bool" && (MASK_BINARY[e.fn] !== undefined || e.fn === "eq");
      return ok ? `${e.fn}${d[0]}(${a},${b})` : null;
    }
    case "where": {
      const c = structure(e.cond, slots);
      const a = c === null ? null : structure(e.a, slots);
      const b = a === null ? null : structure(e.b, slots);
      if (b === null || e.cond.dtype !== "bool" || e.a.dtype !== d || e.b.dtype !== d) return null;
      return `?${d[0]}(${c},${a},${b})`;
    }
    case "cast": {
      const x = structure(e.x, slots);
      return x === null ? null : `>${d[0]}(${x})`;
    }
  }
}

/**
 * Renders a supported program as the body of `run(start, end, n, rows)` (see `Kernel`): its values stored, summed
 * into the ACC lanes, or summed into ROWS (one float64 per element position: a sum over leading axes).
 */
class Render {
  readonly f = new FnBuilder(4);
  private readonly i = this.f.local(T.i32);
  private readonly j = this.f.local(T.i32);
  private nConst = 0;
  private readonly scalars = new Map<number, number>();

  constructor(private readonly slots: readonly Slot[]) {}

  /** A v128 local holding constant slot `k` splatted (loaded once, before the loop). */
  private splat(k: number, pre: FnBuilder): number {
    const l = this.f.local(T.v128);
    pre
      .i32(0)
      .simd(SIMD.v128_load32_splat, { align: 2, offset: CONSTS + 4 * k })
      .set(l);
    return l;
  }

  /**
   * Emit `e` into the loop body (`body`), hoisting constants into `pre`; returns the local holding it. A node
   * reached twice (a DAG) is emitted twice, as the JS renderer does, so constant slots follow the tree walk.
   */
  node(e: Expr, pre: FnBuilder, body: FnBuilder): number {
    const f = this.f;
    let out: number;
    switch (e.op) {
      case "input": {
        if (this.slots[e.index].kind === "scalar") {
          let l = this.scalars.get(e.index);
          if (l === undefined) {
            l = this.splat(this.nConst++, pre);
            this.scalars.set(e.index, l);
          }
          out = l;
          break;
        }
        out = f.local(T.v128);
        const at = bufAt(e.index);
        if (e.dtype === "float32") body.get(this.i).simd(SIMD.v128_load, { align: 4, offset: at });
        else {
          body.get(this.j).simd(SIMD.v128_load32_zero, { align: 0, offset: at });
          body.simd(SIMD.i16x8_extend_low_i8x16_u).simd(SIMD.i32x4_extend_low_i16x8_u);
          body.v128i32([0, 0, 0, 0]).simd(SIMD.i32x4_ne);
        }
        body.set(out);
        break;
      }
      case "const":
        out = this.splat(this.nConst++, pre);
        break;
      case "unary": {
        const x = this.node(e.x, pre, body);
        out = f.local(T.v128);
        const fn = e.fn;
        if (e.x.dtype === "bool") body.get(x).simd(SIMD.v128_not);
        else if (fn === "relu")
          body.get(x).get(x).v128i32([0, 0, 0, 0]).simd(SIMD.f32x4_lt).simd(SIMD.v128_andnot);
        else if (fn === "square") body.get(x).get(x).simd(SIMD.f32x4_mul);
        else if (fn === "reciprocal") body.v128i32([ONE, ONE, ONE, ONE]).get(x).simd(SIMD.f32x4_div);
        else if (fn === "isnan") body.get(x).get(x).simd(SIMD.f32x4_ne);
        else if (fn === "isinf")
          body.get(x).simd(SIMD.f32x4_abs).v128i32([INF, INF, INF, INF]).simd(SIMD.f32x4_eq);
        else if (fn === "logicalNot") body.get(x).v128i32([0, 0, 0, 0]).simd(SIMD.f32x4_eq);
        else body.get(x).simd(F32_UNARY[fn] as number);
        body.set(out);
        break;
      }
      case "binary": {
        const a = this.node(e.a, pre, body);
        const b = this.node(e.b, pre, body);
        out = f.local(T.v128);
        body.get(a).get(b);
        if (e.a.dtype === "float32")
          body.simd((e.dtype === "float32" ? F32_BINARY : F32_COMPARE)[e.fn] as number);
        else if (e.fn === "eq") body.simd(SIMD.v128_xor).simd(SIMD.v128_not);
        else body.simd(MASK_BINARY[e.fn] as number);
        body.set(out);
        break;
      }
      case "where": {
        const c = this.node(e.cond, pre, body);
        const a = this.node(e.a, pre, body);
        const b = this.node(e.b, pre, body);
        out = f.local(T.v128);
        body.get(a).get(b).get(c).simd(SIMD.v128_bitselect).set(out);
        break;
      }
      case "cast": {
        const x = this.node(e.x, pre, body);
        const from = e.x.dtype;
        if (from === e.dtype) out = x;
        else {
          out = f.local(T.v128);
          if (e.dtype === "float32") body.get(x).v128i32([ONE, ONE, ONE, ONE]).simd(SIMD.v128_and);
          else body.get(x).v128i32([0, 0, 0, 0]).simd(SIMD.f32x4_ne);
          body.set(out);
        }
        break;
      }
    }
    return out;
  }

  /** Zero the lanes of `v` past the `rem` elements left (mask = rem > [0, 1, 2, 3]); rem -= 4. */
  private mask(body: FnBuilder, v: number, rem: number): void {
    body.get(v).get(rem).simd(SIMD.i32x4_splat).v128i32([0, 1, 2, 3]).simd(SIMD.i32x4_gt_s);
    body.simd(SIMD.v128_and).set(v);
    body.get(rem).i32(4).op(OP.i32_sub).set(rem);
  }

  /** The whole function: hoisted constants, then the loop storing (or summing) the root. */
  finish(root: Expr, mode: Mode): FnBuilder {
    const sum = mode !== "store";
    const pre = new FnBuilder(0);
    const body = new FnBuilder(0);
    const f = this.f;
    body.get(this.i).i32(2).op(OP.i32_shr_u).set(this.j);
    const v = this.node(root, pre, body);
    let acc0 = 0;
    let acc1 = 0;
    let rem = 0;
    if (mode === "rows") {
      rem = f.local(T.i32);
      const k = f.local(T.i32);
      pre.get(2).set(rem).get(3).set(k);
      this.mask(body, v, rem);
      for (const high of [false, true]) {
        const at = { align: 3, offset: ROWS + (high ? 16 : 0) };
        body.get(k).get(k).simd(SIMD.v128_load, at).get(v);
        if (high)
          body
            .get(v)
            .simd(SHUFFLE)
            .op(...HIGH_TO_LOW);
        body.simd(SIMD.f64x2_promote_low_f32x4).simd(SIMD.f64x2_add).simd(SIMD.v128_store, at);
      }
      body.get(k).i32(32).op(OP.i32_add).set(k);
    } else if (sum) {
      acc0 = f.local(T.v128);
      acc1 = f.local(T.v128);
      rem = f.local(T.i32);
      pre.i32(0).simd(SIMD.v128_load, { align: 3, offset: ACC }).set(acc0);
      pre
        .i32(0)
        .simd(SIMD.v128_load, { align: 3, offset: ACC + 16 })
        .set(acc1);
      pre.get(2).set(rem);
      this.mask(body, v, rem);
      body.get(acc0).get(v).simd(SIMD.f64x2_promote_low_f32x4).simd(SIMD.f64x2_add).set(acc0);
      body
        .get(acc1)
        .get(v)
        .get(v)
        .simd(SHUFFLE)
        .op(...HIGH_TO_LOW);
      body.simd(SIMD.f64x2_promote_low_f32x4).simd(SIMD.f64x2_add).set(acc1);
    } else if (root.dtype === "float32") {
      body
        .get(this.i)
        .get(v)
        .simd(SIMD.v128_store, { align: 4, offset: bufAt(this.slots.length) });
    } else {
      const t = f.local(T.v128);
      body.get(v).v128i32([1, 1, 1, 1]).simd(SIMD.v128_and).set(t);
      body.get(t).get(t).simd(SIMD.i16x8_narrow_i32x4_u).set(t);
      body.get(this.j).get(t).get(t).simd(SIMD.i8x16_narrow_i16x8_u);
      body.simd(SIMD.v128_store32_lane, { align: 0, offset: bufAt(this.slots.length) }).op(0);
    }
    f.get(0).set(this.i);
    f.op(...pre.code);
    f.op(OP.loop, 0x40, ...body.code);
    f.get(this.i)
      .i32(16)
      .op(OP.i32_add)
      .op(OP.local_tee, ...uleb(this.i))
      .get(1)
      .op(OP.i32_lt_s, OP.br_if, 0, OP.end);
    if (mode === "sum") {
      f.i32(0).get(acc0).simd(SIMD.v128_store, { align: 3, offset: ACC });
      f.i32(0)
        .get(acc1)
        .simd(SIMD.v128_store, { align: 3, offset: ACC + 16 });
    }
    return f;
  }
}

const ONE = 0x3f800000;
const INF = 0x7f800000;
const SHUFFLE = 0x0d;
/** i8x16.shuffle lanes moving the high 8 bytes of the first operand to the low half. */
const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/** What a kernel does with the program's values. */
type Mode = "store" | "sum" | "rows";

function kernelFor(key: string, expr: Expr, slots: readonly Slot[], mode: Mode): Kernel | null {
  let k = kernels.get(key);
  if (k === undefined) {
    k = compile(new Render(slots).finish(expr, mode));
    kernels.set(key, k);
  }
  return k;
}

/**
 * Run `expr` (Backend.elementwise's arguments) on WebAssembly SIMD; false (having written nothing) when the program,
 * its operands or the platform are not supported here.
 */
export function elementwiseWasm(
  expr: Expr,
  inputs: readonly View[],
  out: View,
  reduce?: FusedReduce,
): boolean {
  if (!enabled) return false;
  const shape = reduce ? reduce.shape : out.shape;
  const n = numel(shape);
  if (n < WASM_FUSED_MIN || inputs.length > MAX_OPERANDS) return false;
  // A reduction keeping some axes: its float64 sums walk the loop through `accStrides` (0 on reduced axes), either
  // one sum per run (innermost axes reduced: a per-channel sum over pixels) or one per position of a run of
  // kept axes (innermost axes kept: a bias gradient summed over the batch, in the JS loop's order).
  let sums: Slot | null = null;
  let accStrides: number[] = [];
  let mode: Mode = reduce ? "sum" : "store";
  if (reduce) {
    if (reduce.op !== "sum" || expr.dtype !== "float32" || out.dtype !== "float32") return false;
    const kept = numel(out.shape);
    if (kept > 1) {
      accStrides = out.strides.map((st, d) => (reduce.axes.includes(d) ? 0 : st));
      sums = slotOf({ ...out, strides: accStrides }, shape);
      if (sums?.kind !== "runs" || slotOf(out, out.shape)?.kind !== "vec") return false;
      if (!sums.repeat) {
        if (kept > ROWS_MAX - 4) return false;
        mode = "rows";
      }
    }
  } else if (out.dtype !== expr.dtype || slotOf(out, shape)?.kind !== "vec") return false;
  const slots: Slot[] = [];
  for (const v of inputs) {
    const s = slotOf(v, shape);
    if (s === null) return false;
    slots.push(s);
  }
  const key = structure(expr, slots);
  if (key === null) return false;
  const h = getHost();
  if (h === null) return false;
  // Scalar inputs take constant slots after the program's constants, in order of first use (as Render assigns).
  const all = constSlots(expr, slots, inputs);
  if (all.length > MAX_CONSTS) return false;
  const kernel = kernelFor(`${mode}:${key}`, expr, slots, mode);
  if (kernel === null) return false;
  for (let k = 0; k < all.length; k++) {
    const [v, dtype] = all[k];
    if (dtype === "bool") h.i32[CONSTS / 4 + k] = v !== 0 ? -1 : 0;
    else h.f32[CONSTS / 4 + k] = v;
  }
  if (reduce) h.f64.fill(0, ACC / 8, ACC / 8 + 4);
  if (mode === "rows") h.f64.fill(0, ROWS / 8, ROWS / 8 + numel(out.shape) + 4);
  const acc = sums ? new Float64Array(numel(out.shape)) : null;
  for (let s = 0; s < n; s += BLOCK) {
    const len = Math.min(BLOCK, n - s);
    for (let k = 0; k < inputs.length; k++) {
      const slot = slots[k];
      if (slot.kind === "scalar") continue;
      const v = inputs[k];
      const [mem, at] = v.dtype === "float32" ? [h.f32, bufAt(k) / 4] : [h.u8, bufAt(k)];
      if (slot.kind === "runs") gather(v, shape, slot, s, len, mem, at);
      else {
        const o = v.offset + s;
        mem.set((v.handle as TypedArray).subarray(o, o + len), at);
      }
    }
    if (acc !== null) {
      runSums(
        kernel,
        mode === "rows" ? null : h,
        shape,
        accStrides,
        (sums as { run: number }).run,
        s,
        len,
        acc,
      );
      continue;
    }
    kernel.run(0, ((len + 3) >> 2) << 4, len, 0);
    if (reduce) continue;
    const dst = out.handle as TypedArray;
    const at = bufAt(inputs.length);
    if (out.dtype === "float32") dst.set(h.f32.subarray(at / 4, at / 4 + len), out.offset + s);
    else dst.set(h.u8.subarray(at, at + len), out.offset + s);
  }
  if (acc !== null) {
    const dst = out.handle as Float32Array;
    const sumsOf = mode === "rows" ? h.f64.subarray(ROWS / 8) : acc;
    for (let k = 0; k < acc.length; k++) dst[out.offset + k] = sumsOf[k];
  } else if (reduce) (out.handle as Float32Array)[out.offset] = takeSum(h);
  wasmFusedStats.run++;
  return true;
}

/** The kernel's four float64 partial sums, added, and the accumulators reset. */
function takeSum(h: Host): number {
  const f64 = h.f64;
  const a = ACC / 8;
  const total = f64[a] + f64[a + 2] + (f64[a + 1] + f64[a + 3]);
  f64.fill(0, a, a + 4);
  return total;
}

/**
 * Block [s, s + len) of a reduction that keeps axes, run by run (`run` elements: see `sums` in elementwiseWasm).
 * With `h` (sums per run), each run's piece is summed by one kernel call and added to its accumulator in `acc`;
 * without (sums per position, the "rows" kernel), the kernel adds each element to its float64 in ROWS.
 */
function runSums(
  kernel: Kernel,
  h: Host | null,
  shape: readonly number[],
  accStrides: readonly number[],
  run: number,
  s: number,
  len: number,
  acc: Float64Array,
): void {
  const end = s + len;
  for (let f = s; f < end; ) {
    const within = f % run;
    const take = Math.min(run - within, end - f);
    const start = (f - s) * 4;
    let rem = f - within;
    let at = 0;
    for (let d = shape.length - 1; d >= 0 && rem > 0; d--) {
      const q = rem % shape[d];
      rem = (rem - q) / shape[d];
      at += q * accStrides[d];
    }
    kernel.run(start, start + (((take + 3) >> 2) << 4), take, 8 * (at + within));
    if (h !== null) acc[at] += takeSum(h);
    f += take;
  }
}

/** Constant slot values in Render's order: constants at each visit, scalar inputs at their first. */
function constSlots(expr: Expr, slots: readonly Slot[], inputs: readonly View[]): [number, DType][] {
  const out: [number, DType][] = [];
  const scalarSeen = new Set<number>();
  const walk = (e: Expr): void => {
    switch (e.op) {
      case "input":
        if (slots[e.index].kind === "scalar" && !scalarSeen.has(e.index)) {
          scalarSeen.add(e.index);
          const v = inputs[e.index];
          out.push([(v.handle as TypedArray)[v.offset], v.dtype]);
        }
        return;
      case "const":
        out.push([e.value, e.dtype]);
        return;
      case "unary":
      case "cast":
        walk(e.x);
        return;
      case "binary":
        walk(e.a);
        walk(e.b);
        return;
      case "where":
        walk(e.cond);
        walk(e.a);
        walk(e.b);
        return;
    }
  };
  walk(expr);
  return out;
}
