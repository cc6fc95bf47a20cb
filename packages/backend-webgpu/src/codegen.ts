/**
 * WGSL generation helpers shared by every kernel family: how each dtype is stored and computed, the
 * parameter block (shapes, strides, offsets and scalars in one uniform buffer, so pipelines are cached per
 * (op, rank, dtypes) and never per shape), strided index math, and the binding declarations.
 *
 * Storage: every dtype is one 32-bit word per element. float32 is `f32`; int32, int16 and int8 are `i32` (the narrow
 * ones sign-extended); uint8 and bool are `u32` (bool holds 0 or 1, uint8 holds 0..255). Arithmetic runs in two
 * compute kinds: "f" (`f32`) for float32 and "i" (`i32`) for the integers and bool. A value is rounded to its dtype
 * after every op (`toCompute`: uint8 wraps modulo 256, int8/int16 wrap by sign-extending shifts, bool is `!= 0`), as
 * the CPU's stores round, so a fused program gives the bits of the ops run one by one. float64 has no WGSL type and
 * is rejected at allocation.
 */
import type { DType, View } from "@cinder/tensor";

export type Kind = "f" | "i";

export function kindOf(dtype: DType): Kind {
  return dtype === "float32" ? "f" : "i";
}

/** WGSL element type of a storage buffer holding `dtype`. */
export function storageType(dtype: DType): "f32" | "i32" | "u32" {
  return dtype === "float32" ? "f32" : dtype === "uint8" || dtype === "bool" ? "u32" : "i32";
}

export function computeType(kind: Kind): "f32" | "i32" {
  return kind === "f" ? "f32" : "i32";
}

/** A raw storage word (`storageType(dtype)`) as a value of the dtype's compute kind. */
export function loadAs(dtype: DType, raw: string): string {
  return dtype === "uint8" || dtype === "bool" ? `i32(${raw})` : raw;
}

/** Sign-extending shift counts of the narrow signed integers (32 minus their bits). */
const NARROW: Partial<Record<DType, number>> = { int8: 24, int16: 16 };

/**
 * A value of compute kind `from` (or a WGSL `bool` when `from` is "b") converted to `to`'s compute kind and rounded
 * to `to`, with the semantics of the protocol's `copy`: float to int32 truncates toward zero and saturates (NaN ->
 * 0); float to uint8/int8/int16 goes through int32 as x86 PyTorch does and keeps the low bits (out of int32's range:
 * 0); integers wrap to the narrow types; to bool is `!= 0` with NaN true.
 */
export function toCompute(from: Kind | "b", to: DType, v: string): string {
  const fl = to === "float32";
  if (from === "b") return fl ? `select(0.0, 1.0, ${v})` : `select(0i, 1i, ${v})`;
  if (to === "bool") return `select(0i, 1i, ${from === "f" ? `nz_f(${v})` : `(${v}) != 0i`})`;
  if (from === "f") {
    if (fl) return v;
    if (to === "int32") return `f2i_f(${v})`;
    return wrap(to, `f2w_f(${v})`);
  }
  if (fl) return `f32(${v})`;
  return to === "int32" ? v : wrap(to, v);
}

/** An i32 value wrapped to the narrow integer `to` (uint8, int8, int16; others unchanged). */
function wrap(to: DType, v: string): string {
  if (to === "uint8") return `(${v}) & 255i`;
  const s = NARROW[to];
  return s === undefined ? v : `((${v}) << ${s}u) >> ${s}u`;
}

/** A compute value already rounded to `to` as its storage word. */
export function toStored(to: DType, v: string): string {
  return to === "uint8" || to === "bool" ? `u32(${v})` : v;
}

/** Convert a value of compute kind `from` (or a WGSL `bool`) to the storage word of `to` (see `toCompute`). */
export function storeAs(from: Kind | "b", to: DType, v: string): string {
  return toStored(to, toCompute(from, to, v));
}

// ---- the parameter block ----

/** One entry of a kernel's parameter block. */
export type ParamSpec =
  | { name: string; type: "u32" | "i32" | "f32" }
  /** A strided view of `rank` dims: offset, then `rank` strides (and `rank` sizes unless `shape` is false). */
  | { name: string; type: "view"; rank: number; shape?: boolean };

export type ParamValue = number | { offset: number; strides: readonly number[]; shape?: readonly number[] };

/** Words occupied by each spec, in order. */
function words(spec: ParamSpec): number {
  return spec.type === "view" ? 1 + spec.rank * (spec.shape === false ? 1 : 2) : 1;
}

/**
 * A parameter block layout: WGSL `let` declarations for the kernel's `main` and a packer for the values, both
 * from one list so they cannot disagree. A view `x` of rank 2 declares `x_off: i32`, `x_n0, x_n1: u32` and
 * `x_s0, x_s1: i32`.
 */
export class Params {
  readonly size: number;
  constructor(readonly specs: readonly ParamSpec[]) {
    this.size = specs.reduce((n, s) => n + words(s), 0);
  }

  /** Number of vec4 slots the uniform array needs (at least one). */
  get vec4s(): number {
    return Math.max(1, Math.ceil(this.size / 4));
  }

  /** `let` declarations reading every parameter (put at the top of `main`). */
  declare(): string {
    const L: string[] = [];
    let at = 0;
    for (const s of this.specs) {
      if (s.type === "view") {
        L.push(`let ${s.name}_off = bitcast<i32>(pu(${at}u));`);
        for (let k = 0; k < s.rank; k++) {
          L.push(`let ${s.name}_s${k} = bitcast<i32>(pu(${at + 1 + k}u));`);
          if (s.shape !== false) L.push(`let ${s.name}_n${k} = pu(${at + 1 + s.rank + k}u);`);
        }
      } else if (s.type === "u32") L.push(`let ${s.name} = pu(${at}u);`);
      else L.push(`let ${s.name} = bitcast<${s.type}>(pu(${at}u));`);
      at += words(s);
    }
    return L.join("\n  ");
  }

  /** Pack values (by spec name) into words. */
  pack(values: Record<string, ParamValue>): Uint32Array {
    const out = new Uint32Array(this.vec4s * 4);
    const f = new Float32Array(out.buffer);
    let at = 0;
    for (const s of this.specs) {
      const v = values[s.name];
      if (v === undefined) throw new Error(`webgpu kernel: missing parameter ${s.name}`);
      if (s.type === "view") {
        if (typeof v === "number") throw new Error(`webgpu kernel: parameter ${s.name} must be a view`);
        out[at] = v.offset | 0;
        for (let k = 0; k < s.rank; k++) {
          out[at + 1 + k] = v.strides[k] | 0;
          if (s.shape !== false) out[at + 1 + s.rank + k] = v.shape ? v.shape[k] : 0;
        }
      } else if (typeof v !== "number")
        throw new Error(`webgpu kernel: parameter ${s.name} must be a number`);
      else if (s.type === "f32") f[at] = v;
      else out[at] = s.type === "i32" ? v | 0 : v >>> 0;
      at += words(s);
    }
    return out;
  }
}

/** Access of one storage binding. "atomic" is read_write declared with atomic elements. */
export type Access = "read" | "write" | "atomic";

export interface BindingDecl {
  name: string;
  /** Element type of the bound array; `vec4<f32>` for the vectorised matmul loads. */
  type: "f32" | "i32" | "u32" | "vec4<f32>";
  access: Access;
}

/** The module header: the uniform block with its accessor and the storage bindings (binding 1, 2, ...). */
export function header(params: Params, bindings: readonly BindingDecl[]): string {
  const L = [
    `@group(0) @binding(0) var<uniform> P: array<vec4<u32>, ${params.vec4s}>;`,
    "fn pu(i: u32) -> u32 { return P[i / 4u][i % 4u]; }",
  ];
  bindings.forEach((b, i) => {
    if (b.access === "read")
      L.push(`@group(0) @binding(${i + 1}) var<storage, read> ${b.name}: array<${b.type}>;`);
    else if (b.access === "write") {
      L.push(`@group(0) @binding(${i + 1}) var<storage, read_write> ${b.name}: array<${b.type}>;`);
    } else {
      const t = b.type === "i32" ? "i32" : "u32";
      L.push(`@group(0) @binding(${i + 1}) var<storage, read_write> ${b.name}: array<atomic<${t}>>;`);
    }
  });
  return L.join("\n");
}

/** Threads per workgroup of the one-thread-per-element kernels. */
export const WG = 256;

/**
 * The entry point signature of a kernel with a linear thread id `gid` over a (possibly 2-D) grid of
 * workgroups of `size` threads, plus `lid` (local index) and `wid` (linear workgroup id). `useZ` false
 * leaves the z dimension to the kernel (e.g. as a batch index).
 */
export function entry(size: number, useZ = true): string {
  return [
    `@compute @workgroup_size(${size})`,
    "fn main(@builtin(workgroup_id) wg3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,",
    "        @builtin(local_invocation_index) lid: u32) {",
    `  let wid = wg3.x + wg3.y * nwg.x${useZ ? " + wg3.z * nwg.x * nwg.y" : ""};`,
    `  let gid = wid * ${size}u + lid;`,
  ].join("\n");
}

/** Workgroup counts for `groups` workgroups, folded into 2-D when one dimension is not enough. */
export function grid(groups: number, maxPerDim = 65535): [number, number, number] {
  if (groups <= maxPerDim) return [Math.max(groups, 0), 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) throw new RangeError(`webgpu: ${groups} workgroups exceed the dispatch limit`);
  return [Math.ceil(groups / y), y, 1];
}

/**
 * WGSL that decomposes the linear index `lin` (u32) over the dims `n0..n{rank-1}` of view-param `shapeOf`
 * (row-major), declaring `c0..c{rank-1}` (u32) with the given prefix.
 */
export function decompose(lin: string, shapeOf: string, rank: number, prefix = "c"): string {
  if (rank === 0) return "";
  const L = [`var ${prefix}rem = ${lin};`];
  for (let k = rank - 1; k >= 1; k--) {
    L.push(
      `let ${prefix}${k} = ${prefix}rem % ${shapeOf}_n${k}; ${prefix}rem = ${prefix}rem / ${shapeOf}_n${k};`,
    );
  }
  L.push(`let ${prefix}0 = ${prefix}rem;`);
  return L.join("\n  ");
}

/** WGSL u32 element index of view-param `v` at coordinates `c0..` (prefix), skipping dim `skip`. */
export function offsetOf(v: string, rank: number, prefix = "c", skip = -1): string {
  let e = `${v}_off`;
  for (let k = 0; k < rank; k++) if (k !== skip) e += ` + i32(${prefix}${k}) * ${v}_s${k}`;
  return `u32(${e})`;
}

// ---- shapes ----

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

export function isContiguous(v: Pick<View, "shape" | "strides">): boolean {
  let acc = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== 1 && v.strides[d] !== acc) return false;
    acc *= v.shape[d];
  }
  return true;
}

/**
 * Merge dims of `shape` that are contiguous for every operand's strides and drop size-1 dims, so that e.g.
 * any contiguous elementwise op becomes rank 1 and shares one pipeline. Order is kept.
 */
export function collapse(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const r = outShape.length;
    if (r > 0 && strides.every((s, k) => outStrides[k][r - 1] === s[d] * shape[d])) {
      outShape[r - 1] *= shape[d];
      for (let k = 0; k < strides.length; k++) outStrides[k][r - 1] = strides[k][d];
    } else {
      outShape.push(shape[d]);
      for (let k = 0; k < strides.length; k++) outStrides[k].push(strides[k][d]);
    }
  }
  return { shape: outShape, strides: outStrides };
}
