/**
 * Index kernels: gather, scatter (set / add) and sort.
 *
 * - gather and scatter run one thread per index element. An out-of-range index (negative included: the core
 *   hands kernels indices already wrapped where PyTorch allows negatives) costs one unsigned compare on the
 *   in-range path; the offender reads 0 (gather) or is skipped (scatter) and the first one is recorded in the
 *   runtime's bounds-error buffer, which the next read or `sync()` turns into an `IndexError` (a kernel cannot
 *   raise: PyTorch's device-side assert, with the op, index and size in the message). scatter "add" accumulates with atomics: atomicAdd for int32, a
 *   compare-exchange loop on the u32 bit pattern for float32 and uint8, atomicOr for bool (float sums are
 *   therefore order-nondeterministic in the last bits). With "set" and duplicate indices any one write wins.
 * - sort is a bitonic network over (value, original index) pairs, which makes it stable and total (NaN
 *   largest); lines up to 2048 sort in workgroup memory, one workgroup per line; longer lines sort in global
 *   memory with one dispatch per network stage.
 */
import type { DType, View } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import {
  type BindingDecl,
  collapse,
  computeType,
  decompose,
  entry,
  grid,
  type Kind,
  kindOf,
  loadAs,
  numel,
  offsetOf,
  Params,
  storageType,
  storeAs,
  toCompute,
  WG,
} from "./codegen";
import { unaliased } from "./elementwise";
import { type Arg, BOUNDS_OPS, type Runtime } from "./runtime";

/** The bounds-error binding of index kernels (always the last binding; see `Runtime.boundsArg`). */
const ERR_BINDING: BindingDecl = { name: "err", type: "u32", access: "atomic" };

/** WGSL `oob(iv)`: record the first out-of-range index of this op (only reached off the in-range path). */
function boundsCheckFn(op: (typeof BOUNDS_OPS)[number], axis: number): string {
  return [
    "fn oob(iv: i32, lim: u32) {",
    "  if (atomicOr(&err[0], 1u) == 0u) {",
    `    atomicStore(&err[1], ${BOUNDS_OPS.indexOf(op)}u);`,
    `    atomicStore(&err[2], ${axis}u);`,
    "    atomicStore(&err[3], bitcast<u32>(iv));",
    "    atomicStore(&err[4], lim);",
    "  }",
    "}",
  ].join("\n");
}

function isWhole(v: View, n: number): boolean {
  const s = v.handle as GpuStorage;
  let acc = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== 1 && v.strides[d] !== acc) return false;
    acc *= v.shape[d];
  }
  return v.offset === 0 && n === s.length;
}

function rank1(v: View): View {
  return v.shape.length > 0 ? v : { ...v, shape: [1], strides: [1] };
}

export function gather(rt: Runtime, x0: View, axis: number, index0: View, out0: View): void {
  const out = rank1(out0);
  const n = numel(out.shape);
  if (n === 0) return;
  const sx = unaliased(rt, rank1(x0), out);
  const si = unaliased(rt, rank1(index0), out);
  const x = sx.view;
  const index = si.view;
  const r = out.shape.length;
  const t = storageType(out.dtype);
  const k = rt.kernel(`gather|${out.dtype}|r${r}|a${axis}`, () => {
    const params = new Params([
      { name: "n", type: "u32" },
      { name: "lim", type: "u32" },
      { name: "o", type: "view", rank: r },
      { name: "x", type: "view", rank: r, shape: false },
      { name: "ix", type: "view", rank: r, shape: false },
    ]);
    const bindings: BindingDecl[] = [
      { name: "out", type: t, access: "write" },
      { name: "xin", type: t, access: "read" },
      { name: "idx", type: "i32", access: "read" },
      ERR_BINDING,
    ];
    const body = [
      boundsCheckFn("gather", axis),
      entry(WG),
      `  ${params.declare()}`,
      "  if (gid >= n) { return; }",
      `  ${decompose("gid", "o", r)}`,
      `  let iv = idx[${offsetOf("ix", r)}];`,
      `  let oo = ${offsetOf("o", r)};`,
      `  if (u32(iv) >= lim) { oob(iv, lim); out[oo] = bitcast<${t}>(0u); return; }`,
      `  out[oo] = xin[u32(i32(${offsetOf("x", r, "c", axis)}) + iv * x_s${axis})];`,
      "}",
    ].join("\n");
    return { params, bindings, body };
  });
  const values = k.params.pack({
    n,
    lim: x.shape[axis],
    o: { offset: out.offset, strides: out.strides, shape: out.shape },
    x: { offset: x.offset, strides: x.strides },
    ix: { offset: index.offset, strides: index.strides },
  });
  const args: Arg[] = [
    { s: out.handle as GpuStorage, covers: isWhole(out, n) },
    { s: x.handle as GpuStorage },
    { s: index.handle as GpuStorage },
    rt.boundsArg(),
  ];
  rt.dispatch(k, values, args, grid(Math.ceil(n / WG)));
  sx.release();
  si.release();
}

function accumulate(dtype: DType): string {
  if (dtype === "int32") return "atomicAdd(&out[oo], sv);";
  if (dtype === "bool") return "atomicOr(&out[oo], sv);";
  // float32 adds by its u32 bit pattern; uint8 (u32 words) and int8/int16 (i32 words) wrap the sum to their range
  const next =
    dtype === "float32"
      ? "bitcast<u32>(bitcast<f32>(old) + sv)"
      : dtype === "uint8"
        ? "(old + sv) & 255u"
        : toCompute("i", dtype, "old + sv");
  return [
    "loop {",
    "    let old = atomicLoad(&out[oo]);",
    `    if (atomicCompareExchangeWeak(&out[oo], old, ${next}).exchanged) { break; }`,
    "  }",
  ].join("\n");
}

export function scatter(
  rt: Runtime,
  mode: "set" | "add",
  out0: View,
  axis: number,
  index0: View,
  src0: View,
): void {
  const out = rank1(out0);
  const index = rank1(index0);
  const n = numel(index.shape);
  if (n === 0) return;
  const ss = unaliased(rt, rank1(src0), out);
  const si = unaliased(rt, index, out);
  const src = ss.view;
  const ix = si.view;
  const r = out.shape.length;
  const t = storageType(out.dtype);
  const k = rt.kernel(`scatter|${mode}|${out.dtype}|r${r}|a${axis}`, () => {
    const params = new Params([
      { name: "n", type: "u32" },
      { name: "lim", type: "u32" },
      { name: "ix", type: "view", rank: r },
      { name: "o", type: "view", rank: r, shape: false },
      { name: "s", type: "view", rank: r, shape: false },
    ]);
    const bindings: BindingDecl[] = [
      { name: "out", type: t, access: mode === "add" ? "atomic" : "write" },
      { name: "src", type: t, access: "read" },
      { name: "idx", type: "i32", access: "read" },
      ERR_BINDING,
    ];
    const body = [
      boundsCheckFn(mode === "add" ? "scatter_add" : "scatter", axis),
      entry(WG),
      `  ${params.declare()}`,
      "  if (gid >= n) { return; }",
      `  ${decompose("gid", "ix", r)}`,
      `  let iv = idx[${offsetOf("ix", r)}];`,
      "  if (u32(iv) >= lim) { oob(iv, lim); return; }",
      `  let oo = u32(i32(${offsetOf("o", r, "c", axis)}) + iv * o_s${axis});`,
      `  let sv = src[${offsetOf("s", r)}];`,
      mode === "set" ? "  out[oo] = sv;" : `  ${accumulate(out.dtype)}`,
      "}",
    ].join("\n");
    return { params, bindings, body };
  });
  const values = k.params.pack({
    n,
    lim: out.shape[axis],
    ix: { offset: ix.offset, strides: ix.strides, shape: ix.shape },
    o: { offset: out.offset, strides: out.strides },
    s: { offset: src.offset, strides: src.strides },
  });
  const args: Arg[] = [
    { s: out.handle as GpuStorage },
    { s: src.handle as GpuStorage },
    { s: ix.handle as GpuStorage },
    rt.boundsArg(),
  ];
  rt.dispatch(k, values, args, grid(Math.ceil(n / WG)));
  ss.release();
  si.release();
}

// ---- sort ----

/** WGSL `before(va, ia, vb, ib)`: does (va, ia) sort before (vb, ib)? ia < 0 marks padding (always last). */
function beforeFn(kind: Kind, descending: boolean): string {
  const T = computeType(kind);
  const nan =
    kind === "f"
      ? [
          "  let na = isnan_f(va);",
          "  let nb = isnan_f(vb);",
          `  if (na || nb) { if (na && nb) { return ia < ib; } return ${descending ? "na" : "nb"}; }`,
        ]
      : [];
  return [
    `fn before(va: ${T}, ia: i32, vb: ${T}, ib: i32) -> bool {`,
    "  if (ia < 0i) { return false; }",
    "  if (ib < 0i) { return true; }",
    ...nan,
    "  if (va == vb) { return ia < ib; }",
    `  return va ${descending ? ">" : "<"} vb;`,
    "}",
  ].join("\n");
}

/** Line structure shared by the sort kernels: kept dims collapsed over x, values and indices. */
function lineParams(rk: number): Params {
  return new Params([
    { name: "lines", type: "u32" },
    { name: "len", type: "u32" },
    { name: "pw", type: "u32" },
    { name: "kk", type: "u32" },
    { name: "jj", type: "u32" },
    { name: "xstep", type: "i32" },
    { name: "vstep", type: "i32" },
    { name: "istep", type: "i32" },
    { name: "xk", type: "view", rank: rk },
    { name: "vk", type: "view", rank: rk, shape: false },
    { name: "ik", type: "view", rank: rk, shape: false },
  ]);
}

const SHARED_MAX = 2048;

export function sort(
  rt: Runtime,
  x0: View,
  axis: number,
  descending: boolean,
  values: View,
  indices: View,
): void {
  const n = numel(x0.shape);
  if (n === 0) return;
  const sx = unaliased(rt, x0, values, indices);
  const x = sx.view;
  const len = x.shape[axis];
  const kept = x.shape.map((_, d) => d).filter((d) => d !== axis);
  const c = collapse(
    kept.map((d) => x.shape[d]),
    [kept.map((d) => x.strides[d]), kept.map((d) => values.strides[d]), kept.map((d) => indices.strides[d])],
  );
  const rk = c.shape.length;
  const lines = numel(c.shape);
  let pw = 2;
  while (pw < len) pw *= 2;
  const kind = kindOf(x.dtype);
  const T = computeType(kind);
  const head = (wgs: number, line: string) => [
    entry(wgs),
    `  ${lineParams(rk).declare()}`,
    `  let line = ${line};`,
    "  if (line >= lines) { return; }",
    `  ${decompose("line", "xk", rk)}`,
    `  let xb = ${offsetOf("xk", rk).slice(4, -1)};`,
    `  let vb = ${offsetOf("vk", rk).slice(4, -1)};`,
    `  let ib = ${offsetOf("ik", rk).slice(4, -1)};`,
  ];
  const load = (p: string) => loadAs(x.dtype, `xin[u32(xb + i32(${p}) * xstep)]`);
  const storeV = (p: string, v: string) =>
    `vout[u32(vb + i32(${p}) * vstep)] = ${storeAs(kind, values.dtype, v)};`;
  const storeI = (p: string, v: string) => `iout[u32(ib + i32(${p}) * istep)] = ${v};`;
  const outBindings: BindingDecl[] = [
    { name: "vout", type: storageType(values.dtype), access: "write" },
    { name: "iout", type: "i32", access: "write" },
  ];
  const packed = (kk: number, jj: number) =>
    lineParams(rk).pack({
      lines,
      len,
      pw,
      kk,
      jj,
      xstep: x.strides[axis],
      vstep: values.strides[axis],
      istep: indices.strides[axis],
      xk: { offset: x.offset, strides: c.strides[0], shape: c.shape },
      vk: { offset: values.offset, strides: c.strides[1] },
      ik: { offset: indices.offset, strides: c.strides[2] },
    });
  const vS = values.handle as GpuStorage;
  const iS = indices.handle as GpuStorage;
  const outArgs: Arg[] = [
    { s: vS, covers: isWhole(values, n) },
    { s: iS, covers: isWhole(indices, n) },
  ];
  const step = [
    "      let i = (t / jj) * 2u * jj + (t % jj);",
    "      let l = i + jj;",
    "      let asc = (i & kk) == 0u;",
    "      if (select(before(sv[i], si[i], sv[l], si[l]), before(sv[l], si[l], sv[i], si[i]), asc)) {",
    "        let tv = sv[i]; sv[i] = sv[l]; sv[l] = tv;",
    "        let ti = si[i]; si[i] = si[l]; si[l] = ti;",
    "      }",
  ];
  if (pw <= SHARED_MAX) {
    const cap = pw <= 64 ? 64 : pw <= 256 ? 256 : pw <= 1024 ? 1024 : SHARED_MAX;
    const wgs = Math.min(256, cap / 2);
    const k = rt.kernel(`sort|shared|${x.dtype}>${values.dtype}|${descending}|k${rk}|${cap}`, () => {
      const params = lineParams(rk);
      const bindings: BindingDecl[] = [
        ...outBindings,
        { name: "xin", type: storageType(x.dtype), access: "read" },
      ];
      const body = [
        beforeFn(kind, descending),
        `var<workgroup> sv: array<${T}, ${cap}>;`,
        `var<workgroup> si: array<i32, ${cap}>;`,
        ...head(wgs, "wid"),
        `  for (var p = lid; p < pw; p = p + ${wgs}u) {`,
        `    if (p < len) { sv[p] = ${load("p")}; si[p] = i32(p); } else { si[p] = -1i; }`,
        "  }",
        "  workgroupBarrier();",
        "  for (var kk = 2u; kk <= pw; kk = kk << 1u) {",
        "    for (var jj = kk >> 1u; jj > 0u; jj = jj >> 1u) {",
        `      for (var t = lid; t < pw / 2u; t = t + ${wgs}u) {`,
        ...step.map((s) => `  ${s}`),
        "      }",
        "      workgroupBarrier();",
        "    }",
        "  }",
        `  for (var p = lid; p < len; p = p + ${wgs}u) {`,
        `    ${storeV("p", "sv[p]")}`,
        `    ${storeI("p", "si[p]")}`,
        "  }",
        "}",
      ].join("\n");
      return { params, bindings, body };
    });
    rt.dispatch(k, packed(0, 0), [...outArgs, { s: x.handle as GpuStorage }], grid(lines));
    sx.release();
    return;
  }
  // global memory: init (load + pad), one dispatch per (kk, jj) network stage, then write out
  const tdt: DType = kind === "f" ? "float32" : "int32";
  const tv = rt.alloc(tdt, lines * pw);
  const ti = rt.alloc("int32", lines * pw);
  const tBindings: BindingDecl[] = [
    { name: "sv", type: computeType(kind), access: "write" },
    { name: "si", type: "i32", access: "write" },
  ];
  const tArgs: Arg[] = [
    { s: tv, covers: true },
    { s: ti, covers: true },
  ];
  const perLine = (wgs: number) => [
    ...head(wgs, "wid / ((pw + 255u) / 256u)"),
    "  let t0 = (wid % ((pw + 255u) / 256u)) * 256u + lid;",
    "  let tb = line * pw;",
  ];
  const init = rt.kernel(`sort|init|${x.dtype}|k${rk}`, () => ({
    params: lineParams(rk),
    bindings: [...tBindings, { name: "xin", type: storageType(x.dtype), access: "read" }],
    body: [
      ...perLine(256),
      "  if (t0 >= pw) { return; }",
      `  if (t0 < len) { sv[tb + t0] = ${load("t0")}; si[tb + t0] = i32(t0); } else { si[tb + t0] = -1i; }`,
      "}",
    ].join("\n"),
  }));
  const blocks = Math.ceil(pw / 256);
  rt.dispatch(init, packed(0, 0), [...tArgs, { s: x.handle as GpuStorage }], grid(lines * blocks));
  const stage = rt.kernel(`sort|stage|${kind}|${descending}|k${rk}`, () => ({
    params: lineParams(rk),
    bindings: tBindings,
    body: [
      beforeFn(kind, descending),
      ...perLine(256),
      "  let t = t0;",
      "  if (t >= pw / 2u) { return; }",
      ...step.map((s) => s.replaceAll("sv[", "sv[tb + ").replaceAll("si[", "si[tb + ")),
      "}",
    ].join("\n"),
  }));
  for (let kk = 2; kk <= pw; kk *= 2) {
    for (let jj = kk / 2; jj > 0; jj = Math.floor(jj / 2)) {
      rt.dispatch(stage, packed(kk, jj), [{ s: tv }, { s: ti }], grid(lines * blocks));
    }
  }
  const fin = rt.kernel(`sort|final|${tdt}>${values.dtype}|k${rk}`, () => ({
    params: lineParams(rk),
    bindings: [
      ...outBindings,
      { name: "sv", type: computeType(kind), access: "read" },
      { name: "si", type: "i32", access: "read" },
    ],
    body: [
      ...perLine(256),
      "  if (t0 >= len) { return; }",
      `  ${storeV("t0", "sv[tb + t0]")}`,
      `  ${storeI("t0", "si[tb + t0]")}`,
      "}",
    ].join("\n"),
  }));
  rt.dispatch(fin, packed(0, 0), [...outArgs, { s: tv }, { s: ti }], grid(lines * blocks));
  rt.free(tv);
  rt.free(ti);
  sx.release();
}
