/**
 * The WebAssembly SIMD renderer of the fusion IR (`Expr`), beside the JS one (fused.ts): a program becomes one
 * function, a loop over 4 lanes at a time on the module memory laid out below (fused-wasm.ts streams the data
 * through it). It renders float32 and bool values (bool as lane masks) and only the nodes whose float32 results
 * WebAssembly computes with the same rounding as the JS renderer's `Math.fround` of a float64 operation (add, sub,
 * mul, div, sqrt, min/max, abs, neg, relu, floor, ceil, trunc, round, reciprocal, square, comparisons, logical ops,
 * `where`, bool<->float32 casts), so results equal the JS renderer's bit for bit (NaN payloads aside). `structure`
 * says whether a program qualifies (and is its cache key).
 */
import type { BinaryOp, DType, Expr, TypedArray, UnaryOp, View } from "@cinder/tensor";
import { FnBuilder, OP, SIMD, T, uleb } from "./emit";

/** Elements per streamed block (a float32 block is 32 KiB: ten of them stay in L2). */
export const BLOCK = 8192;
/**
 * Byte layout of the memory: reduction accumulators, constant slots, one block per operand (up to 8 inputs and
 * the output), then the float64 sums of a reduction that keeps its innermost axes (ROWS_MAX of them).
 */
export const ACC = 16;
export const CONSTS = 64;
export const MAX_CONSTS = 240;
const BUFS = CONSTS + 4 * MAX_CONSTS;
export const MAX_OPERANDS = 8;
export const ROWS_MAX = 8192;
export const PAGES = 6;
export const bufAt = (k: number): number => BUFS + 4 * BLOCK * k;
export const ROWS = bufAt(MAX_OPERANDS + 1);
/**
 * Kernels that work in place on heap.ts's memory (`resident`) keep ACC and CONSTS at these offsets plus the base
 * they are rendered for (the heap's KERNEL_ARGS), and the byte address of each operand (inputs, then the output) at
 * PTRS + 4 * k from it; they read and write the operands where they are instead of in the blocks above. An operand
 * of one value per run (a per-channel bias) is read from a table of those values, the run's value at
 * table + 4 * (i / (4 * run)): no block is filled with it; one whose runs are contiguous (a bias over rows) from the
 * table of its runs' addresses, at table[i / (4 * run)] + i % (4 * run).
 */
export const PTRS = BUFS;

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

/**
 * How each input is read: a whole block per call ("vec"), one value in a constant slot ("scalar"), or a block put
 * together from runs ("runs": `run` elements at a time, each a contiguous stretch of the input or, with `repeat`, one
 * value repeated; a bias broadcast over a batch or over channels' pixels).
 */
export type Slot =
  | { kind: "vec" | "scalar"; dtype: DType }
  | { kind: "runs"; dtype: DType; run: number; repeat: boolean };

const isF32Const = (v: number): boolean => Math.fround(v) === v || Number.isNaN(v);

/**
 * The structure key of a program the renderer supports (constant values excluded), or null.
 */
export function structure(e: Expr, slots: readonly Slot[]): string | null {
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
export class Render {
  readonly f = new FnBuilder(4);
  private readonly i = this.f.local(T.i32);
  private readonly j = this.f.local(T.i32);
  private nConst = 0;
  private readonly scalars = new Map<number, number>();

  /** The locals holding the operands' addresses (resident kernels), by operand. */
  private readonly ptrs = new Map<number, number>();

  /**
   * `base`: null for a kernel on the streamed blocks of fused-wasm.ts's memory; else the address of the argument
   * area of a resident kernel (see PTRS), which reads and writes whole float32 operands in place.
   */
  constructor(
    private readonly slots: readonly Slot[],
    private readonly base: number | null = null,
  ) {}

  /** Offset of the ACC/CONSTS areas in the memory. */
  private get at0(): number {
    return this.base ?? 0;
  }

  /** Push the address of operand `k`'s lanes at the loop's byte offset i (resident: i + its address). */
  private address(k: number, pre: FnBuilder, body: FnBuilder): number {
    if (this.base === null) {
      body.get(this.i);
      return bufAt(k);
    }
    body.get(this.i);
    this.pointer(k, pre, body);
    body.op(OP.i32_add);
    return 0;
  }

  /** Push operand `k`'s address from the pointer table (loaded once, before the loop). */
  private pointer(k: number, pre: FnBuilder, body: FnBuilder): void {
    let l = this.ptrs.get(k);
    if (l === undefined) {
      l = this.f.local(T.i32);
      pre
        .i32(0)
        .op(OP.i32_load, 2, ...uleb((this.base as number) + PTRS + 4 * k))
        .set(l);
      this.ptrs.set(k, l);
    }
    body.get(l);
  }

  /** A v128 local holding constant slot `k` splatted (loaded once, before the loop). */
  private splat(k: number, pre: FnBuilder): number {
    const l = this.f.local(T.v128);
    pre
      .i32(0)
      .simd(SIMD.v128_load32_splat, { align: 2, offset: this.at0 + CONSTS + 4 * k })
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
        const slot = this.slots[e.index];
        if (this.base !== null && slot.kind === "runs") {
          // the run's entry of the table (a division by a constant compiles to a multiply)
          body
            .get(this.i)
            .i32(4 * slot.run)
            .op(OP.i32_div_u)
            .i32(2)
            .op(OP.i32_shl);
          this.pointer(e.index, pre, body);
          body.op(OP.i32_add);
          if (slot.repeat) body.simd(SIMD.v128_load32_splat, { align: 2, offset: 0 });
          else {
            // the run's address, plus the offset into the run
            body
              .op(OP.i32_load, 2, 0)
              .get(this.i)
              .i32(4 * slot.run)
              .op(OP.i32_rem_u)
              .op(OP.i32_add);
            body.simd(SIMD.v128_load, { align: 2, offset: 0 });
          }
        } else if (e.dtype === "float32") {
          const at = this.address(e.index, pre, body);
          body.simd(SIMD.v128_load, { align: this.base === null ? 4 : 2, offset: at });
        } else {
          if (this.base !== null)
            throw new Error("internal error: resident kernels read float32 operands only");
          const at = bufAt(e.index);
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
            .simd(SIMD.i8x16_shuffle)
            .op(...HIGH_TO_LOW);
        body.simd(SIMD.f64x2_promote_low_f32x4).simd(SIMD.f64x2_add).simd(SIMD.v128_store, at);
      }
      body.get(k).i32(32).op(OP.i32_add).set(k);
    } else if (sum) {
      acc0 = f.local(T.v128);
      acc1 = f.local(T.v128);
      rem = f.local(T.i32);
      pre
        .i32(0)
        .simd(SIMD.v128_load, { align: 3, offset: this.at0 + ACC })
        .set(acc0);
      pre
        .i32(0)
        .simd(SIMD.v128_load, { align: 3, offset: this.at0 + ACC + 16 })
        .set(acc1);
      pre.get(2).set(rem);
      this.mask(body, v, rem);
      body.get(acc0).get(v).simd(SIMD.f64x2_promote_low_f32x4).simd(SIMD.f64x2_add).set(acc0);
      body
        .get(acc1)
        .get(v)
        .get(v)
        .simd(SIMD.i8x16_shuffle)
        .op(...HIGH_TO_LOW);
      body.simd(SIMD.f64x2_promote_low_f32x4).simd(SIMD.f64x2_add).set(acc1);
    } else if (root.dtype === "float32") {
      const at = this.address(this.slots.length, pre, body);
      body.get(v).simd(SIMD.v128_store, { align: this.base === null ? 4 : 2, offset: at });
    } else {
      if (this.base !== null) throw new Error("internal error: resident kernels write float32 results only");
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
      f.i32(0)
        .get(acc0)
        .simd(SIMD.v128_store, { align: 3, offset: this.at0 + ACC });
      f.i32(0)
        .get(acc1)
        .simd(SIMD.v128_store, { align: 3, offset: this.at0 + ACC + 16 });
    }
    return f;
  }
}

const ONE = 0x3f800000;
const INF = 0x7f800000;
/** i8x16.shuffle lanes moving the high 8 bytes of the first operand to the low half. */
const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/** What a kernel does with the program's values. */
export type Mode = "store" | "sum" | "rows";

/** Constant slot values in Render's order: constants at each visit, scalar inputs at their first. */
export function constSlots(expr: Expr, slots: readonly Slot[], inputs: readonly View[]): [number, DType][] {
  const out: [number, DType][] = [];
  collectConsts(expr, slots, inputs, new Set<number>(), out);
  return out;
}

// (a function of its own rather than a closure: esbuild's keepNames would name a closure at every call)
function collectConsts(
  e: Expr,
  slots: readonly Slot[],
  inputs: readonly View[],
  scalarSeen: Set<number>,
  out: [number, DType][],
): void {
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
      collectConsts(e.x, slots, inputs, scalarSeen, out);
      return;
    case "binary":
      collectConsts(e.a, slots, inputs, scalarSeen, out);
      collectConsts(e.b, slots, inputs, scalarSeen, out);
      return;
    case "where":
      collectConsts(e.cond, slots, inputs, scalarSeen, out);
      collectConsts(e.a, slots, inputs, scalarSeen, out);
      collectConsts(e.b, slots, inputs, scalarSeen, out);
      return;
  }
}
