/**
 * A small WebAssembly binary emitter: enough to build, at run time, modules of one exported function over an
 * imported memory (the fused elementwise kernels of `fused-wasm.ts`). No toolchain: the bytes are written here.
 * Opcodes are named as in the WebAssembly SIMD specification (`f32x4.add` -> `SIMD.f32x4_add`).
 */

/** Core (non-SIMD) opcodes used by the kernels. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  i32_load: 0x28,
  i32_store: 0x36,
  f64_load: 0x2b,
  f64_store: 0x39,
  i32_const: 0x41,
  i32_eqz: 0x45,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  i32_add: 0x6a,
  i32_mul: 0x6c,
  i32_div_u: 0x6e,
  i32_rem_u: 0x70,
  i32_sub: 0x6b,
  i32_shl: 0x74,
  i32_shr_u: 0x76,
} as const;

/** SIMD opcodes (after the 0xfd prefix). */
export const SIMD = {
  v128_load: 0x00,
  v128_load32_splat: 0x09,
  v128_load64_splat: 0x0a,
  v128_store: 0x0b,
  v128_const: 0x0c,
  i8x16_shuffle: 0x0d,
  i32x4_splat: 0x11,
  f32x4_splat: 0x13,
  f32x4_eq: 0x41,
  f32x4_ne: 0x42,
  f32x4_lt: 0x43,
  f32x4_gt: 0x44,
  f32x4_le: 0x45,
  f32x4_ge: 0x46,
  v128_not: 0x4d,
  v128_and: 0x4e,
  v128_andnot: 0x4f,
  v128_or: 0x50,
  v128_xor: 0x51,
  v128_bitselect: 0x52,
  v128_store32_lane: 0x5a,
  v128_load32_zero: 0x5c,
  f32x4_demote_f64x2_zero: 0x5e,
  f64x2_promote_low_f32x4: 0x5f,
  i8x16_narrow_i16x8_u: 0x66,
  f32x4_ceil: 0x67,
  f32x4_floor: 0x68,
  f32x4_trunc: 0x69,
  f32x4_nearest: 0x6a,
  i16x8_narrow_i32x4_u: 0x86,
  i16x8_extend_low_i8x16_u: 0x89,
  i32x4_extend_low_i16x8_u: 0xa9,
  i32x4_ne: 0x38,
  i32x4_add: 0xae,
  i32x4_gt_s: 0x3b,
  f32x4_abs: 0xe0,
  f32x4_neg: 0xe1,
  f32x4_sqrt: 0xe3,
  f32x4_add: 0xe4,
  f32x4_sub: 0xe5,
  f32x4_mul: 0xe6,
  f32x4_div: 0xe7,
  f32x4_min: 0xe8,
  f32x4_max: 0xe9,
  f64x2_add: 0xf0,
  f64x2_mul: 0xf2,
} as const;

/** Value types. */
export const T = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A function body under construction: locals by type, then instructions. */
export class FnBuilder {
  readonly code: number[] = [];
  private readonly locals: number[] = [];
  constructor(private readonly nParams: number) {}

  /** A new local of type `t`; returns its index. */
  local(t: number): number {
    this.locals.push(t);
    return this.nParams + this.locals.length - 1;
  }
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  get(i: number): this {
    return this.op(OP.local_get, ...uleb(i));
  }
  set(i: number): this {
    return this.op(OP.local_set, ...uleb(i));
  }
  i32(v: number): this {
    return this.op(OP.i32_const, ...sleb(v));
  }
  /** A SIMD instruction, with its memory argument (alignment log2, offset) for loads and stores. */
  simd(opcode: number, mem?: { align: number; offset: number }): this {
    this.op(0xfd, ...uleb(opcode));
    if (mem) this.op(...uleb(mem.align), ...uleb(mem.offset));
    return this;
  }
  /** `v128.const` of four i32 lanes. */
  v128i32(lanes: readonly number[]): this {
    this.simd(SIMD.v128_const);
    for (const v of lanes) this.op(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
    return this;
  }
  /** The function body as the code section wants it (size-prefixed, locals run-length encoded). */
  body(): number[] {
    const groups: number[][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const bytes = [...uleb(groups.length)];
    for (const [n, t] of groups) bytes.push(...uleb(n), t);
    bytes.push(...this.code, OP.end);
    return [...uleb(bytes.length), ...bytes];
  }
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/**
 * A module importing `env.memory` (at least `minPages`; with `sharedMax`, a shared memory of at most that many pages,
 * heap.ts's) and exporting `run`, a function of `params` (value types) returning nothing, whose body is `fn`.
 */
export function moduleBytes(
  params: readonly number[],
  fn: FnBuilder,
  minPages: number,
  sharedMax?: number,
): Uint8Array<ArrayBuffer> {
  const type = [1, 0x60, ...uleb(params.length), ...params, 0];
  const limits =
    sharedMax === undefined ? [0x00, ...uleb(minPages)] : [0x03, ...uleb(minPages), ...uleb(sharedMax)];
  const imports = [1, ...name("env"), ...name("memory"), 0x02, ...limits];
  const exports = [1, ...name("run"), 0x00, 0];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, type),
    ...section(2, imports),
    ...section(3, [1, 0]),
    ...section(7, exports),
    ...section(10, [1, ...fn.body()]),
  ]);
}
