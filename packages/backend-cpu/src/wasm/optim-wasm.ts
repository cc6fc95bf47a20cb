/**
 * The fused optimizer updates (optim.ts) in WebAssembly SIMD, for float32 parameters: the same formulas with the
 * same roundings, streamed through the module memory of fused-wasm.ts block by block (parameter, gradient and state
 * copied in, parameter and state copied out). Where the JS loop rounds to float32 after each operation, a float32
 * SIMD operation gives the same bits; where it keeps a float64 product (`d + wd * x`, `x + -lr * d`, the dampened
 * and Adam's `(1 - beta1) * d` terms), the lanes are widened to float64 for it, so results equal the JS loop's bit for
 * bit. One kernel per setting of the boolean options, built on first use. When every operand lives in heap.ts's
 * memory (CPU storage of 4 KiB or more), a resident build of the kernel updates them there in place instead
 * (`runResident`: no copies in or out), with the same bits.
 */
import type { AdamStepOptions, SgdStepOptions, TypedArray, View } from "@cinder/tensor";
import { FnBuilder, OP, SIMD, T, uleb } from "./emit";
import {
  BLOCK,
  bufAt,
  CONSTS,
  compile,
  getHost,
  type Kernel,
  wasmFusedEnabled,
  wasmFusedStats,
} from "./fused-wasm";
import { heapCounters, KERNEL_ARGS } from "./heap";
import { PTRS } from "./render-wasm";
import { resident, residentArgs, runResident } from "./resident";

/** Updates of fewer elements stay on the JS loop. */
const MIN = 1024;

/**
 * Builds a kernel body: operands are v128 locals; `slot` constants live at CONSTS + 8 * k. With a `base` (resident
 * kernels) the constants are at base + CONSTS + 8 * k and operand k is read and written at its own address (held at
 * base + PTRS + 4 * k) instead of in block k.
 */
class Body {
  readonly f = new FnBuilder(4);
  readonly i = this.f.local(T.i32);
  private readonly pre: number[] = [];
  private readonly loop: number[] = [];
  private readonly ptrs = new Map<number, number>();
  constructor(private readonly base: number | null) {}

  /** Push operand `buf`'s address at the loop's offset; returns the memory argument for its load or store. */
  private at(b: FnBuilder, buf: number): { align: number; offset: number } {
    b.get(this.i);
    if (this.base === null) return { align: 4, offset: bufAt(buf) };
    let l = this.ptrs.get(buf);
    if (l === undefined) {
      l = this.f.local(T.i32);
      const p = new FnBuilder(0)
        .i32(0)
        .op(OP.i32_load, 2, ...uleb(this.base + PTRS + 4 * buf))
        .set(l);
      this.pre.push(...p.code);
      this.ptrs.set(buf, l);
    }
    b.get(l).op(OP.i32_add);
    return { align: 2, offset: 0 };
  }

  private emit(fn: (b: FnBuilder) => void, into: number[]): number {
    const l = this.f.local(T.v128);
    const b = new FnBuilder(0);
    fn(b);
    b.set(l);
    into.push(...b.code);
    return l;
  }
  /** Constant slot `k` as f64x2, or rounded to float32 as f32x4 (`stream` writes both forms). */
  const(k: number, f32: boolean): number {
    return this.emit((b) => {
      const at0 = this.base ?? 0;
      if (f32) b.i32(0).simd(SIMD.v128_load32_splat, { align: 2, offset: at0 + F32_CONSTS + 4 * k });
      else b.i32(0).simd(SIMD.v128_load64_splat, { align: 3, offset: at0 + CONSTS + 8 * k });
    }, this.pre);
  }
  load(buf: number): number {
    return this.emit((b) => b.simd(SIMD.v128_load, this.at(b, buf)), this.loop);
  }
  store(buf: number, v: number): void {
    const b = new FnBuilder(0);
    const mem = this.at(b, buf);
    b.get(v).simd(SIMD.v128_store, mem);
    this.loop.push(...b.code);
  }
  /** A float32 lane operation on locals. */
  op(opcode: number, ...args: number[]): number {
    return this.emit((b) => {
      for (const a of args) b.get(a);
      b.simd(opcode);
    }, this.loop);
  }
  /** `fround(a + s * x)` with the product and sum in float64 (s: an f64x2 constant), as the JS loop computes it. */
  axpy(a: number, s: number, x: number): number {
    const half = (b: FnBuilder, v: number, high: boolean) => {
      b.get(v);
      if (high)
        b.get(v)
          .simd(SIMD.i8x16_shuffle)
          .op(...HIGH);
      b.simd(SIMD.f64x2_promote_low_f32x4);
    };
    return this.emit((b) => {
      for (const high of [false, true]) {
        half(b, a, high);
        b.get(s);
        half(b, x, high);
        b.simd(SIMD.f64x2_mul).simd(SIMD.f64x2_add).simd(SIMD.f32x4_demote_f64x2_zero);
      }
      b.simd(SIMD.i8x16_shuffle).op(...LOW_HALVES);
    }, this.loop);
  }
  finish(): FnBuilder {
    const f = this.f;
    f.op(...this.pre, OP.loop, 0x40, ...this.loop);
    f.get(this.i).i32(16).op(OP.i32_add, OP.local_tee, this.i).get(1).op(OP.i32_lt_s, OP.br_if, 0, OP.end);
    return f;
  }
}

const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
/** The constants as float64 at CONSTS + 8k and as float32 at F32_CONSTS + 4k (at most 16 of them). */
const F32_CONSTS = CONSTS + 128;

const kernels = new Map<string, Kernel | null>();

/** The kernel `build(base)` makes: streamed (base null), or resident when every operand is in heap.ts's memory. */
function kernel(
  key: string,
  views: readonly (View | null)[],
  build: (base: number | null) => FnBuilder,
): Kernel | null {
  const res = views.every((v) => v === null || resident(v));
  const full = res ? `r${key}` : key;
  let k = kernels.get(full);
  if (k === undefined) {
    k = compile(build(res ? KERNEL_ARGS : null), res);
    kernels.set(full, k);
  }
  return k;
}

/** Float32, contiguous, at least MIN elements, and the module available: the views' arrays, else null. */
function arrays(views: readonly (View | null)[]): TypedArray[] | null {
  if (!wasmFusedEnabled() || getHost() === null) return null;
  const p = views[0] as View;
  const n = p.shape.reduce((a, b) => a * b, 1);
  if (n < MIN) return null;
  for (const v of views) if (v !== null && v.dtype !== "float32") return null;
  return views.filter((v) => v !== null).map((v) => v.handle as TypedArray);
}

/**
 * Stream `n` elements of the operands (views, contiguous) through the kernel: operand k in block k; `written`
 * operands are copied back.
 */
function stream(
  k: Kernel,
  views: readonly View[],
  written: readonly number[],
  consts: readonly number[],
): void {
  const n = views[0].shape.reduce((a, b) => a * b, 1);
  if (views.every(resident)) {
    const a = residentArgs();
    a.f64.set(consts, (KERNEL_ARGS + CONSTS) / 8);
    a.f32.set(consts, (KERNEL_ARGS + F32_CONSTS) / 4);
    runResident(k, views, written, n);
    heapCounters.optimInPlace++;
    return;
  }
  const h = getHost();
  if (h === null) return;
  h.f64.set(consts, CONSTS / 8);
  h.f32.set(consts, F32_CONSTS / 4);
  for (let s = 0; s < n; s += BLOCK) {
    const len = Math.min(BLOCK, n - s);
    for (let j = 0; j < views.length; j++) {
      const o = views[j].offset + s;
      h.f32.set((views[j].handle as Float32Array).subarray(o, o + len), bufAt(j) / 4);
    }
    k.run(0, ((len + 3) >> 2) << 4, len, 0);
    for (const j of written) {
      const at = bufAt(j) / 4;
      (views[j].handle as Float32Array).set(h.f32.subarray(at, at + len), views[j].offset + s);
    }
  }
  wasmFusedStats.run++;
}

/** `Backend.sgdStep` for contiguous float32 views (checked by the caller); false when this path cannot run it. */
export function sgdStepWasm(
  p: View,
  grad: View,
  buf: View | null,
  o: SgdStepOptions,
  s: Float64Array,
): boolean {
  if (arrays([p, grad, buf]) === null) return false;
  // Without dampening, `fround(fround(b * m) + 1 * d)` is a float32 addition: a double holds the exact sum of two
  // float32 values rounded once (53 >= 2 * 24 + 2 bits), so rounding it again to float32 gives the float32 sum.
  const flags = [o.maximize, o.weightDecay !== 0, buf !== null, o.first, o.nesterov, s[2] === 1];
  const k = kernel(`sgd${flags.join()}`, [p, grad, buf], (base) => {
    const [maximize, wd, momentum, first, nesterov, undamped] = flags;
    const b = new Body(base);
    const x = b.load(0);
    let d = b.load(1);
    if (maximize) d = b.op(SIMD.f32x4_neg, d);
    if (wd) d = b.axpy(d, b.const(4, false), x);
    if (momentum) {
      const decayed = () => b.op(SIMD.f32x4_mul, b.load(2), b.const(1, true));
      const bi = first
        ? d
        : undamped
          ? b.op(SIMD.f32x4_add, decayed(), d)
          : b.axpy(decayed(), b.const(2, false), d);
      b.store(2, bi);
      d = nesterov ? b.axpy(d, b.const(7, false), bi) : bi;
    }
    b.store(0, b.axpy(x, b.const(0, false), d));
    return b.finish();
  });
  if (k === null) return false;
  const consts = Array.from(s);
  consts[0] = -s[0]; // the JS loop's negLr
  stream(k, buf ? [p, grad, buf] : [p, grad], buf ? [0, 2] : [0], consts);
  return true;
}

/** `Backend.adamStep` for contiguous float32 views (checked by the caller); false when this path cannot run it. */
export function adamStepWasm(
  p: View,
  grad: View,
  m: View,
  v: View,
  vmax: View | null,
  o: AdamStepOptions,
  s: Float64Array,
): boolean {
  if (arrays([p, grad, m, v, vmax]) === null) return false;
  const flags = [o.maximize, o.weightDecay !== 0, o.decoupled, vmax !== null];
  const k = kernel(`adam${flags.join()}`, [p, grad, m, v, vmax], (base) => {
    const [maximize, wd, decoupled, ams] = flags;
    const b = new Body(base);
    let x = b.load(0);
    let d = b.load(1);
    if (maximize) d = b.op(SIMD.f32x4_neg, d);
    if (wd) {
      if (decoupled) x = b.op(SIMD.f32x4_mul, x, b.const(9, true));
      else d = b.axpy(d, b.const(4, false), x);
    }
    const mi = b.axpy(b.op(SIMD.f32x4_mul, b.load(2), b.const(1, true)), b.const(10, false), d);
    b.store(2, mi);
    const dd = b.op(SIMD.f32x4_mul, b.op(SIMD.f32x4_mul, d, d), b.const(11, true));
    let vi = b.op(SIMD.f32x4_add, b.op(SIMD.f32x4_mul, b.load(3), b.const(2, true)), dd);
    b.store(3, vi);
    if (ams) {
      vi = b.op(SIMD.f32x4_max, b.load(4), vi);
      b.store(4, vi);
    }
    const denom = b.op(
      SIMD.f32x4_add,
      b.op(SIMD.f32x4_div, b.op(SIMD.f32x4_sqrt, vi), b.const(8, true)),
      b.const(3, true),
    );
    const step = b.op(SIMD.f32x4_mul, b.op(SIMD.f32x4_div, mi, denom), b.const(7, true));
    b.store(0, b.op(SIMD.f32x4_add, x, step));
    return b.finish();
  });
  if (k === null) return false;
  const views = vmax ? [p, grad, m, v, vmax] : [p, grad, m, v];
  stream(k, views, vmax ? [0, 2, 3, 4] : [0, 2, 3], Array.from(s));
  return true;
}
