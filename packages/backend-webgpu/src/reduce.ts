/**
 * Arg-reductions, scans and softmax (reductions: reduce-program.ts). Each sees `x` as (kept dims) x (the reduced
 * axis), collapsed where contiguous, with a serial schedule (one thread per output) or a workgroup tree.
 */
import type { ArgReduceOp, ReduceOp, ScanOp, View } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import {
  type BindingDecl,
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
  WG,
} from "./codegen";
import { unaliased } from "./elementwise";
import { combine, covers, groups, identity, ioff } from "./reduce-program";
import type { Arg, Runtime } from "./runtime";

// ---- argmax / argmin ----

/**
 * WGSL `take(v, i, bv, bi)`: should candidate (v, i) replace the best so far (bv, bi)? The first extremum wins,
 * NaN beats everything (the first NaN); i < 0 marks "no element".
 */
function takeFn(op: ArgReduceOp, kind: Kind): string {
  const T = computeType(kind);
  const cmp = op === "argmax" ? ">" : "<";
  const nan =
    kind === "f"
      ? ["  if (isnan_f(bv)) { return isnan_f(v) && i < bi; }", "  if (isnan_f(v)) { return true; }"]
      : [];
  return [
    `fn take(v: ${T}, i: i32, bv: ${T}, bi: i32) -> bool {`,
    "  if (i < 0i) { return false; }",
    "  if (bi < 0i) { return true; }",
    ...nan,
    "  if (v == bv) { return i < bi; }",
    `  return v ${cmp} bv;`,
    "}",
  ].join("\n");
}

export function argReduce(rt: Runtime, op: ArgReduceOp, x0: View, axis: number, out: View): void {
  const nout = numel(out.shape);
  if (nout === 0) return;
  const src = unaliased(rt, x0, out);
  const x = src.view;
  const p = groups(x.shape, [x.strides], [axis], out.strides);
  const kind = kindOf(x.dtype);
  const T = computeType(kind);
  const rk = p.kshape.length;
  const n = x.shape[axis];
  const schedule = n <= 64 || nout >= 1024 ? "serial" : "tree";
  const wgs = schedule === "serial" ? WG : n >= 2048 ? 256 : 64;
  const k = rt.kernel(`arg|${op}|${schedule}|${x.dtype}|k${rk}|${wgs}`, () => {
    const params = new Params([
      { name: "nout", type: "u32" },
      { name: "nred", type: "u32" },
      { name: "xstep", type: "i32" },
      { name: "xk", type: "view", rank: rk },
      { name: "ok", type: "view", rank: rk, shape: false },
    ]);
    const bindings: BindingDecl[] = [
      { name: "out", type: "i32", access: "write" },
      { name: "xin", type: storageType(x.dtype), access: "read" },
    ];
    const load = loadAs(x.dtype, "xin[u32(xbase + i32(r) * xstep)]");
    const L = [takeFn(op, kind)];
    if (schedule === "tree")
      L.push(`var<workgroup> shv: array<${T}, ${wgs}>;`, `var<workgroup> shi: array<i32, ${wgs}>;`);
    L.push(
      entry(wgs),
      `  ${params.declare()}`,
      `  let o = ${schedule === "serial" ? "gid" : "wid"};`,
      "  if (o >= nout) { return; }",
      `  ${decompose("o", "xk", rk)}`,
      `  let xbase = ${ioff("xk", rk)};`,
      `  var bv: ${T} = ${kind === "f" ? "0.0" : "0i"};`,
      "  var bi = -1i;",
      `  for (var r = ${schedule === "serial" ? "0u" : "lid"}; r < nred; r = r + ${schedule === "serial" ? 1 : wgs}u) {`,
      `    let v = ${load};`,
      "    if (take(v, i32(r), bv, bi)) {",
      "      bv = v;",
      "      bi = i32(r);",
      "    }",
      "  }",
    );
    if (schedule === "serial") L.push(`  out[${offsetOf("ok", rk)}] = bi;`, "}");
    else {
      L.push(
        "  shv[lid] = bv;",
        "  shi[lid] = bi;",
        "  workgroupBarrier();",
        `  for (var st = ${wgs / 2}u; st > 0u; st = st >> 1u) {`,
        "    if (lid < st && take(shv[lid + st], shi[lid + st], shv[lid], shi[lid])) {",
        "      shv[lid] = shv[lid + st];",
        "      shi[lid] = shi[lid + st];",
        "    }",
        "    workgroupBarrier();",
        "  }",
        `  if (lid == 0u) { out[${offsetOf("ok", rk)}] = shi[0]; }`,
        "}",
      );
    }
    return { params, bindings, body: L.join("\n") };
  });
  const values = k.params.pack({
    nout,
    nred: n,
    xstep: x.strides[axis],
    xk: { offset: x.offset, strides: p.kx[0], shape: p.kshape },
    ok: { offset: out.offset, strides: p.ko },
  });
  const args: Arg[] = [{ s: out.handle as GpuStorage, covers: covers(out) }, { s: x.handle as GpuStorage }];
  rt.dispatch(k, values, args, grid(schedule === "serial" ? Math.ceil(nout / WG) : nout));
  src.release();
}

// ---- cumsum / cumprod ----

const SCAN_WG = 256;
const SCAN_PER_THREAD = 4;

export function scan(rt: Runtime, op: ScanOp, x0: View, axis: number, out: View): void {
  const n = numel(out.shape);
  if (n === 0) return;
  const src = unaliased(rt, x0, out);
  const x = src.view;
  const p = groups(x.shape, [x.strides], [axis], out.strides);
  const kind = kindOf(x.dtype);
  const T = computeType(kind);
  const rk = p.kshape.length;
  const len = x.shape[axis];
  const lines = numel(p.kshape);
  const schedule = len <= 256 || lines >= 1024 ? "serial" : "tree";
  const red: ReduceOp = op === "cumsum" ? "sum" : "prod";
  const id = identity(red, kind);
  const comb = (a: string, b: string) => combine(red, kind, a, b);
  const k = rt.kernel(`scan|${op}|${schedule}|${x.dtype}>${out.dtype}|k${rk}`, () => {
    const params = new Params([
      { name: "nlines", type: "u32" },
      { name: "len", type: "u32" },
      { name: "xstep", type: "i32" },
      { name: "ostep", type: "i32" },
      { name: "xk", type: "view", rank: rk },
      { name: "ok", type: "view", rank: rk, shape: false },
    ]);
    const bindings: BindingDecl[] = [
      { name: "out", type: storageType(out.dtype), access: "write" },
      { name: "xin", type: storageType(x.dtype), access: "read" },
    ];
    const load = (j: string) => loadAs(x.dtype, `xin[u32(xbase + i32(${j}) * xstep)]`);
    const store = (j: string, v: string) =>
      `out[u32(obase + i32(${j}) * ostep)] = ${storeAs(kind, out.dtype, v)};`;
    const wgs = schedule === "serial" ? WG : SCAN_WG;
    const L: string[] = [];
    if (schedule === "tree") L.push(`var<workgroup> sh: array<${T}, ${SCAN_WG}>;`);
    L.push(
      entry(wgs),
      `  ${params.declare()}`,
      `  let o = ${schedule === "serial" ? "gid" : "wid"};`,
      "  if (o >= nlines) { return; }",
      `  ${decompose("o", "xk", rk)}`,
      `  let xbase = ${ioff("xk", rk)};`,
      `  let obase = ${ioff("ok", rk)};`,
    );
    if (schedule === "serial") {
      L.push(
        `  var acc: ${T} = ${id};`,
        "  for (var j = 0u; j < len; j = j + 1u) {",
        `    acc = ${comb("acc", load("j"))};`,
        `    ${store("j", "acc")}`,
        "  }",
        "}",
      );
    } else {
      // chunks of SCAN_WG * SCAN_PER_THREAD: each thread scans its run, the workgroup scans the run totals
      // (Hillis-Steele in shared memory), and a carry links the chunks.
      const E = SCAN_PER_THREAD;
      L.push(
        `  var carry: ${T} = ${id};`,
        `  for (var base = 0u; base < len; base = base + ${SCAN_WG * E}u) {`,
        `    var run: array<${T}, ${E}>;`,
        `    var acc: ${T} = ${id};`,
        `    for (var e = 0u; e < ${E}u; e = e + 1u) {`,
        `      let j = base + lid * ${E}u + e;`,
        `      if (j < len) { acc = ${comb("acc", load("j"))}; }`,
        "      run[e] = acc;",
        "    }",
        "    sh[lid] = acc;",
        "    workgroupBarrier();",
        `    for (var off = 1u; off < ${SCAN_WG}u; off = off << 1u) {`,
        `      let t = select(${id}, sh[max(lid, off) - off], lid >= off);`,
        "      workgroupBarrier();",
        `      sh[lid] = ${comb("sh[lid]", "t")};`,
        "      workgroupBarrier();",
        "    }",
        `    let prefix = ${comb("carry", `select(${id}, sh[max(lid, 1u) - 1u], lid > 0u)`)};`,
        `    for (var e = 0u; e < ${E}u; e = e + 1u) {`,
        `      let j = base + lid * ${E}u + e;`,
        `      if (j < len) { ${store("j", comb("prefix", "run[e]"))} }`,
        "    }",
        `    carry = ${comb("carry", `sh[${SCAN_WG - 1}u]`)};`,
        "    workgroupBarrier();",
        "  }",
        "}",
      );
    }
    return { params, bindings, body: L.join("\n") };
  });
  const values = k.params.pack({
    nlines: lines,
    len,
    xstep: x.strides[axis],
    ostep: out.strides[axis],
    xk: { offset: x.offset, strides: p.kx[0], shape: p.kshape },
    ok: { offset: out.offset, strides: p.ko },
  });
  const args: Arg[] = [{ s: out.handle as GpuStorage, covers: covers(out) }, { s: x.handle as GpuStorage }];
  rt.dispatch(k, values, args, grid(schedule === "serial" ? Math.ceil(lines / WG) : lines));
  src.release();
}

// ---- softmax / logSoftmax along the last axis ----

export function softmax(rt: Runtime, x0: View, log: boolean, out: View): void {
  const n = numel(out.shape);
  if (n === 0) return;
  if (x0.dtype !== "float32")
    throw new TypeError(`softmax: expected a float32 input on webgpu, got ${x0.dtype}`);
  const src = unaliased(rt, x0, out);
  const x = src.view;
  const len = x.shape[x.shape.length - 1];
  const rows = n / len;
  const wgs = len >= 1024 ? 256 : 64;
  const k = rt.kernel(`softmax|${log}|${wgs}`, () => {
    const params = new Params([
      { name: "rows", type: "u32" },
      { name: "len", type: "u32" },
      { name: "xoff", type: "u32" },
      { name: "ooff", type: "u32" },
    ]);
    const bindings: BindingDecl[] = [
      { name: "out", type: "f32", access: "write" },
      { name: "xin", type: "f32", access: "read" },
    ];
    const tree = (comb: string) => [
      "  workgroupBarrier();",
      `  for (var st = ${wgs / 2}u; st > 0u; st = st >> 1u) {`,
      `    if (lid < st) { sh[lid] = ${comb}; }`,
      "    workgroupBarrier();",
      "  }",
    ];
    const L = [
      `var<workgroup> sh: array<f32, ${wgs}>;`,
      entry(wgs),
      `  ${params.declare()}`,
      "  if (wid >= rows) { return; }",
      "  let xb = xoff + wid * len;",
      "  let ob = ooff + wid * len;",
      "  var m = -inf_f();",
      `  for (var j = lid; j < len; j = j + ${wgs}u) { m = fmax_f(m, xin[xb + j]); }`,
      "  sh[lid] = m;",
      ...tree("fmax_f(sh[lid], sh[lid + st])"),
      "  m = sh[0];",
      "  workgroupBarrier();",
      "  var s = 0.0;",
      `  for (var j = lid; j < len; j = j + ${wgs}u) { s = s + exp_f(xin[xb + j] - m); }`,
      "  sh[lid] = s;",
      ...tree("sh[lid] + sh[lid + st]"),
      "  s = sh[0];",
      log ? "  let ls = log_f(s);" : "  let inv = 1.0 / s;",
      `  for (var j = lid; j < len; j = j + ${wgs}u) {`,
      log ? "    out[ob + j] = (xin[xb + j] - m) - ls;" : "    out[ob + j] = exp_f(xin[xb + j] - m) * inv;",
      "  }",
      "}",
    ];
    return { params, bindings, body: L.join("\n") };
  });
  const values = k.params.pack({ rows, len, xoff: x.offset, ooff: out.offset });
  const args: Arg[] = [{ s: out.handle as GpuStorage, covers: covers(out) }, { s: x.handle as GpuStorage }];
  rt.dispatch(k, values, args, grid(rows));
  src.release();
}
