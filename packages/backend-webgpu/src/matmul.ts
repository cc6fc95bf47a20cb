/**
 * Batched matmul a [B, M, K] @ b [B, K, N] -> out [B, M, N] over any strides: transposed operands and
 * broadcast batches (stride 0) are read in place, never copied.
 *
 * - tiled: a workgroup of 16 x 16 threads computes a 64 x 64 output tile, each thread a 4 x 4 block (rows
 *   ty + 16i, columns tx + 16j, so shared-memory reads are conflict-free); K advances in slices of 16 staged
 *   through workgroup memory. Edge tiles load zeros and skip out-of-range stores.
 *   float32 operands whose innermost dim is contiguous with offset, row and batch strides multiples of 4
 *   (and K, resp. N, a multiple of 4) are staged with `vec4<f32>` loads, through a pipeline variant that
 *   binds that operand as `array<vec4<f32>>` (see `matmulVariant`).
 * - simple: one thread per output for skinny products (matrix-vector, tiny matrices).
 */
import type { View } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import {
  type BindingDecl,
  computeType,
  entry,
  grid,
  isContiguous,
  kindOf,
  loadAs,
  numel,
  Params,
  storageType,
  storeAs,
  WG,
} from "./codegen";
import { unaliased } from "./elementwise";
import type { Runtime } from "./runtime";

const TM = 64;
const TN = 64;
const TK = 16;
const MAX_Z = 65535;

function params(): Params {
  return new Params([
    { name: "M", type: "u32" },
    { name: "N", type: "u32" },
    { name: "K", type: "u32" },
    { name: "B", type: "u32" },
    { name: "b0", type: "u32" },
    { name: "gx", type: "u32" },
    { name: "a", type: "view", rank: 3, shape: false },
    { name: "b", type: "view", rank: 3, shape: false },
    { name: "o", type: "view", rank: 3, shape: false },
  ]);
}

/**
 * The element type of a binding read as vec4s. `header` interpolates the type verbatim; BindingDecl's union
 * only lists the scalar storage types, hence the cast.
 */
const VEC4 = "vec4<f32>" as const;

/**
 * Whether `v` (rank 3, float32) can be read as whole vec4s along its last dim of `extent` elements: stride 1
 * there, and offset, row and batch strides and the extent all multiples of 4, so every vec4 lies within one
 * row and is aligned in the buffer.
 */
function vec4able(v: View, extent: number): boolean {
  const [s0, s1, s2] = v.strides;
  return (
    v.dtype === "float32" &&
    s2 === 1 &&
    extent % 4 === 0 &&
    v.offset % 4 === 0 &&
    s1 % 4 === 0 &&
    s0 % 4 === 0
  );
}

/** The kernel variant `matmul` picks for `a` [B, M, K] @ `b` [B, K, N] -> `out` [B, M, N]. Internal, for tests. */
export function matmulVariant(a: View, b: View, out: View): { tiled: boolean; a4: boolean; b4: boolean } {
  const [, M, N] = out.shape;
  const K = a.shape[2];
  const tiled = M >= 16 && N >= 16 && M * N >= 4096;
  const f = tiled && out.dtype === "float32";
  return { tiled, a4: f && vec4able(a, K), b4: f && vec4able(b, N) };
}

/** Dispatches per variant (`scalar`, `a4`, `b4`, `a4b4` tiled; `simple`). Internal, for tests. */
export const matmulCounts: Record<string, number> = {};

/** A's 64 x 16 tile: four scalar loads per thread, or one vec4 (4 consecutive k) per thread. */
function loadA(T: string, zero: string, la: (i: string) => string, vec: boolean): string[] {
  if (vec)
    return [
      "    {",
      "      let ar = lid / 4u;",
      "      let ak = (lid % 4u) * 4u;",
      "      var av = vec4<f32>(0.0);",
      "      if (m0 + ar < M && k0 + ak < K) {",
      "        av = ain[u32(abase + i32(m0 + ar) * a_s1 + i32(k0 + ak)) / 4u];",
      "      }",
      `      As[ak * ${TM}u + ar] = av.x;`,
      `      As[(ak + 1u) * ${TM}u + ar] = av.y;`,
      `      As[(ak + 2u) * ${TM}u + ar] = av.z;`,
      `      As[(ak + 3u) * ${TM}u + ar] = av.w;`,
      "    }",
    ];
  return [
    "    for (var t = 0u; t < 4u; t = t + 1u) {",
    "      let e = lid + t * 256u;",
    `      let ar = e / ${TK}u;`,
    `      let ak = e % ${TK}u;`,
    `      var av: ${T} = ${zero};`,
    "      if (m0 + ar < M && k0 + ak < K) {",
    `        av = ${la("u32(abase + i32(m0 + ar) * a_s1 + i32(k0 + ak) * a_s2)")};`,
    "      }",
    `      As[ak * ${TM}u + ar] = av;`,
    "    }",
  ];
}

/** B's 16 x 64 tile: four scalar loads per thread, or one vec4 (4 consecutive n) per thread. */
function loadB(T: string, zero: string, lb: (i: string) => string, vec: boolean): string[] {
  if (vec)
    return [
      "    {",
      `      let bk = lid / ${TN / 4}u;`,
      `      let bc = (lid % ${TN / 4}u) * 4u;`,
      "      var bv = vec4<f32>(0.0);",
      "      if (k0 + bk < K && n0 + bc < N) {",
      "        bv = bin[u32(bbase + i32(k0 + bk) * b_s1 + i32(n0 + bc)) / 4u];",
      "      }",
      `      let bs = bk * ${TN}u + bc;`,
      "      Bs[bs] = bv.x; Bs[bs + 1u] = bv.y; Bs[bs + 2u] = bv.z; Bs[bs + 3u] = bv.w;",
      "    }",
    ];
  return [
    "    for (var t = 0u; t < 4u; t = t + 1u) {",
    "      let e = lid + t * 256u;",
    `      let bk = e / ${TN}u;`,
    `      let bc = e % ${TN}u;`,
    `      var bv: ${T} = ${zero};`,
    "      if (k0 + bk < K && n0 + bc < N) {",
    `        bv = ${lb("u32(bbase + i32(k0 + bk) * b_s1 + i32(n0 + bc) * b_s2)")};`,
    "      }",
    `      Bs[bk * ${TN}u + bc] = bv;`,
    "    }",
  ];
}

function tiledBody(
  p: Params,
  T: string,
  la: (i: string) => string,
  lb: (i: string) => string,
  st: (v: string) => string,
  a4 = false,
  b4 = false,
): string {
  const zero = T === "f32" ? "0.0" : "0i";
  return [
    `var<workgroup> As: array<${T}, ${TK * TM}>;`,
    `var<workgroup> Bs: array<${T}, ${TK * TN}>;`,
    "@compute @workgroup_size(16, 16)",
    "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,",
    "        @builtin(local_invocation_index) lid: u32) {",
    `  ${p.declare()}`,
    "  let bt = b0 + wg.z;",
    "  let m0 = wg.y * 64u;",
    "  let n0 = wg.x * 64u;",
    "  let tx = l.x;",
    "  let ty = l.y;",
    "  let abase = a_off + i32(bt) * a_s0;",
    "  let bbase = b_off + i32(bt) * b_s0;",
    `  var acc: array<${T}, 16>;`,
    `  for (var i = 0u; i < 16u; i = i + 1u) { acc[i] = ${zero}; }`,
    `  for (var k0 = 0u; k0 < K; k0 = k0 + ${TK}u) {`,
    ...loadA(T, zero, la, a4),
    ...loadB(T, zero, lb, b4),
    "    workgroupBarrier();",
    `    for (var kk = 0u; kk < ${TK}u; kk = kk + 1u) {`,
    `      let ar = kk * ${TM}u + ty;`,
    `      let bc = kk * ${TN}u + tx;`,
    "      let a0 = As[ar]; let a1 = As[ar + 16u]; let a2 = As[ar + 32u]; let a3 = As[ar + 48u];",
    "      let c0 = Bs[bc]; let c1 = Bs[bc + 16u]; let c2 = Bs[bc + 32u]; let c3 = Bs[bc + 48u];",
    "      acc[0] += a0 * c0; acc[1] += a0 * c1; acc[2] += a0 * c2; acc[3] += a0 * c3;",
    "      acc[4] += a1 * c0; acc[5] += a1 * c1; acc[6] += a1 * c2; acc[7] += a1 * c3;",
    "      acc[8] += a2 * c0; acc[9] += a2 * c1; acc[10] += a2 * c2; acc[11] += a2 * c3;",
    "      acc[12] += a3 * c0; acc[13] += a3 * c1; acc[14] += a3 * c2; acc[15] += a3 * c3;",
    "    }",
    "    workgroupBarrier();",
    "  }",
    "  let obase = o_off + i32(bt) * o_s0;",
    "  for (var i = 0u; i < 4u; i = i + 1u) {",
    "    let m = m0 + ty + 16u * i;",
    "    for (var j = 0u; j < 4u; j = j + 1u) {",
    "      let n = n0 + tx + 16u * j;",
    "      if (m < M && n < N) {",
    `        out[u32(obase + i32(m) * o_s1 + i32(n) * o_s2)] = ${st("acc[i * 4u + j]")};`,
    "      }",
    "    }",
    "  }",
    "}",
  ].join("\n");
}

function simpleBody(
  p: Params,
  T: string,
  la: (i: string) => string,
  lb: (i: string) => string,
  st: (v: string) => string,
): string {
  return [
    entry(WG, false),
    `  ${p.declare()}`,
    "  if (gid >= M * N) { return; }",
    "  let bt = b0 + wg3.z;",
    "  let m = gid / N;",
    "  let n = gid % N;",
    "  let abase = a_off + i32(bt) * a_s0 + i32(m) * a_s1;",
    "  let bbase = b_off + i32(bt) * b_s0 + i32(n) * b_s2;",
    `  var acc: ${T} = ${T === "f32" ? "0.0" : "0i"};`,
    "  for (var k = 0u; k < K; k = k + 1u) {",
    `    acc += ${la("u32(abase + i32(k) * a_s2)")} * ${lb("u32(bbase + i32(k) * b_s1)")};`,
    "  }",
    `  out[u32(o_off + i32(bt) * o_s0 + i32(m) * o_s1 + i32(n) * o_s2)] = ${st("acc")};`,
    "}",
  ].join("\n");
}

export function matmul(rt: Runtime, a0: View, b0: View, out: View): void {
  const [B, M, N] = out.shape;
  const K = a0.shape[2];
  if (B * M * N === 0) return;
  const sa = unaliased(rt, a0, out);
  const sb = unaliased(rt, b0, out);
  const a = sa.view;
  const b = sb.view;
  const kind = kindOf(out.dtype);
  const T = computeType(kind);
  const { tiled, a4, b4 } = matmulVariant(a, b, out);
  const variant = tiled ? `${a4 ? "a4" : ""}${b4 ? "b4" : ""}` || "scalar" : "simple";
  matmulCounts[variant] = (matmulCounts[variant] ?? 0) + 1;
  const key = `matmul|${variant}|${a.dtype},${b.dtype}>${out.dtype}`;
  const k = rt.kernel(key, () => {
    const p = params();
    const bindings: BindingDecl[] = [
      { name: "out", type: storageType(out.dtype), access: "write" },
      { name: "ain", type: a4 ? VEC4 : storageType(a.dtype), access: "read" },
      { name: "bin", type: b4 ? VEC4 : storageType(b.dtype), access: "read" },
    ];
    const la = (i: string) => loadAs(a.dtype, `ain[${i}]`);
    const lb = (i: string) => loadAs(b.dtype, `bin[${i}]`);
    const st = (v: string) => storeAs(kind, out.dtype, v);
    return {
      params: p,
      bindings,
      body: tiled ? tiledBody(p, T, la, lb, st, a4, b4) : simpleBody(p, T, la, lb, st),
    };
  });
  const outS = out.handle as GpuStorage;
  const covers = out.offset === 0 && numel(out.shape) === outS.length && isContiguous(out);
  const gx = tiled ? Math.ceil(N / TN) : 0;
  for (let start = 0; start < B; start += MAX_Z) {
    const nb = Math.min(MAX_Z, B - start);
    const values = k.params.pack({
      M,
      N,
      K,
      B,
      b0: start,
      gx,
      a: { offset: a.offset, strides: a.strides },
      b: { offset: b.offset, strides: b.strides },
      o: { offset: out.offset, strides: out.strides },
    });
    const g = tiled ? [gx, Math.ceil(M / TM), nb] : [...grid(Math.ceil((M * N) / WG)).slice(0, 2), nb];
    const args = [{ s: outS, covers }, { s: a.handle as GpuStorage }, { s: b.handle as GpuStorage }];
    rt.dispatch(k, values, args, g as [number, number, number]);
  }
  sa.release();
  sb.release();
}
