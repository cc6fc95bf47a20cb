/**
 * Reductions of programs: `sum`/`prod`/`max`/`min` over axes of a fused elementwise program's values (protocol
 * version 2's `elementwise(expr, inputs, out, reduce)`), each value computed where the reduction would have loaded
 * it, so a chain and its reduction are one pass. A version 1 `reduce` is the reduction of a one-input program.
 *
 * The values are seen as (kept dims) x (reduced dims), each group collapsed where contiguous for every input. Three
 * schedules:
 * - serial: one thread per output loops over the reduced elements (few reduced elements, or many outputs whose
 *   reduced stride is not 1, where neighbouring threads read neighbouring memory);
 * - tree: one workgroup per output, threads stride over the reduced elements, then a shared-memory tree;
 * - split: few outputs over very many elements: pass 1 reduces chunks into partials, pass 2 reduces those.
 * The schedule fixes the order of the additions, so a fused reduction picks it as the reduction of the program's
 * values stored contiguously would (`layout`): its sums have the bits of the unfused ops'.
 */
import type { DType, Expr, ReduceOp, View } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import {
  type BindingDecl,
  collapse,
  computeType,
  contiguousStrides,
  decompose,
  entry,
  grid,
  isContiguous,
  type Kind,
  kindOf,
  loadAs,
  numel,
  offsetOf,
  type ParamSpec,
  Params,
  storageType,
  storeAs,
  WG,
} from "./codegen";
import { bindInputs, constParams, constValues, fill, input, inputDecls, unaliased } from "./elementwise";
import { renderExpr, structure } from "./render";
import type { Arg, Runtime } from "./runtime";

// ---- the reduction combiners ----

export function identity(op: ReduceOp, kind: Kind): string {
  if (op === "sum") return kind === "f" ? "0.0" : "0i";
  if (op === "prod") return kind === "f" ? "1.0" : "1i";
  if (op === "max") return kind === "f" ? "-inf_f()" : "(-2147483647i - 1i)";
  return kind === "f" ? "inf_f()" : "2147483647i";
}

export function combine(op: ReduceOp, kind: Kind, a: string, b: string): string {
  if (op === "sum") return `${a} + ${b}`;
  if (op === "prod") return `${a} * ${b}`;
  if (kind === "f") return `${op === "max" ? "fmax_f" : "fmin_f"}(${a}, ${b})`;
  return `${op}(${a}, ${b})`;
}

/** Kept and reduced groups of `shape` for `axes`, collapsed over every stride list in `xs` and the output's. */
export function groups(
  shape: readonly number[],
  xs: readonly (readonly number[])[],
  axes: readonly number[],
  outStrides: readonly number[],
): ReducePlan {
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const pick = (ds: number[], s: readonly number[]) => ds.map((d) => s[d]);
  const k = collapse(pick(kept, shape), [...xs.map((s) => pick(kept, s)), pick(kept, outStrides)]);
  const r = collapse(
    pick(axes as number[], shape),
    xs.map((s) => pick(axes as number[], s)),
  );
  return {
    kshape: k.shape,
    kx: k.strides.slice(0, xs.length),
    ko: k.strides[xs.length],
    rshape: r.shape,
    rx: r.strides,
  };
}

export interface ReducePlan {
  kshape: number[];
  /** Kept strides of each input. */
  kx: number[][];
  ko: number[];
  rshape: number[];
  /** Reduced strides of each input. */
  rx: number[][];
}

function range(n: number, f: (k: number) => string): string {
  let s = "";
  for (let k = 0; k < n; k++) s += f(k);
  return s;
}

/** The i32 element offset of view-param `v` at coordinates c0.. (as WGSL). */
export function ioff(v: string, rank: number): string {
  return offsetOf(v, rank).slice(4, -1);
}

export function covers(out: View): boolean {
  return out.offset === 0 && numel(out.shape) === (out.handle as GpuStorage).length && isContiguous(out);
}

/**
 * One reduction dispatch of `expr` over `inputs` (seen through plan `p`). `split` > 1 makes workgroup w reduce
 * chunk (w % split) of output (w / split) and write it at the output position + (w % split) * `sstride`.
 */
function reduceDispatch(
  rt: Runtime,
  op: ReduceOp,
  expr: Expr,
  inputs: readonly View[],
  out: { handle: unknown; dtype: DType; offset: number },
  p: ReducePlan,
  schedule: "serial" | "tree",
  opts: { covers: boolean; split?: number; sstride?: number },
): void {
  const split = opts.split ?? 1;
  const kind = kindOf(expr.dtype);
  const T = computeType(kind);
  const rk = p.kshape.length;
  const rr = p.rshape.length;
  const nout = numel(p.kshape);
  const nred = numel(p.rshape);
  const wgs = schedule === "serial" ? WG : nred / split >= 2048 ? 256 : 64;
  const b = bindInputs(inputs, null);
  const words: number[] = [];
  const dts = inputs.map((v) => v.dtype).join(",");
  const shape = `${structure(expr, words)}|${dts}>${out.dtype}|${b.slot.join(",")}`;
  const key = `reduce|${op}|${schedule}|${shape}|k${rk}|r${rr}|${wgs}`;
  const k = rt.kernel(key, () => {
    const r = renderExpr(expr);
    const views: ParamSpec[] = [];
    // only the first input's views carry the sizes (the dims are the same for all)
    inputs.forEach((_, i) => {
      views.push({ name: `xk${i}`, type: "view", rank: rk, shape: i === 0 });
      views.push({ name: `xr${i}`, type: "view", rank: rr, shape: i === 0 });
    });
    const params = new Params([
      { name: "nout", type: "u32" },
      { name: "nred", type: "u32" },
      { name: "split", type: "u32" },
      { name: "chunk", type: "u32" },
      { name: "sstride", type: "i32" },
      { name: "ok", type: "view", rank: rk, shape: false },
      ...views,
      ...constParams(r.consts),
    ]);
    const bindings: BindingDecl[] = [
      { name: "out", type: storageType(out.dtype), access: "write" },
      ...inputDecls(b),
    ];
    // each value of the program where the reduction reads it: the inputs' elements, then the program's nodes
    const value = [
      decompose("r", "xr0", rr, "d"),
      ...inputs.map((v, i) => {
        const at = `u32(xbase${i}${range(rr, (d) => ` + i32(d${d}) * xr${i}_s${d}`)})`;
        return `let x${i} = ${loadAs(v.dtype, `in${b.slot[i]}[${at}]`)};`;
      }),
      ...r.lines,
    ].join("\n    ");
    const store = storeAs(kind, out.dtype, "acc");
    const L: string[] = [];
    if (schedule === "tree") L.push(`var<workgroup> sh: array<${T}, ${wgs}>;`);
    L.push(entry(wgs), `  ${params.declare()}`);
    const head =
      schedule === "serial"
        ? ["  let o = gid;", "  let part = 0u;"]
        : ["  let o = wid / split;", "  let part = wid % split;"];
    L.push(
      ...head,
      "  if (o >= nout) { return; }",
      `  ${decompose("o", "xk0", rk)}`,
      ...inputs.map((_, i) => `  let xbase${i} = ${ioff(`xk${i}`, rk)};`),
      `  var acc: ${T} = ${identity(op, kind)};`,
    );
    if (schedule === "serial") {
      L.push("  for (var r = 0u; r < nred; r = r + 1u) {");
    } else {
      L.push(
        "  let lo = part * chunk;",
        "  let hi = min(nred, lo + chunk);",
        `  for (var r = lo + lid; r < hi; r = r + ${wgs}u) {`,
      );
    }
    L.push(`    ${value}`, `    acc = ${combine(op, kind, "acc", r.value)};`, "  }");
    const write = `out[u32(${ioff("ok", rk)} + i32(part) * sstride)] = ${store};`;
    if (schedule === "serial") L.push(`  ${write}`, "}");
    else {
      L.push(
        "  sh[lid] = acc;",
        "  workgroupBarrier();",
        `  for (var st = ${wgs / 2}u; st > 0u; st = st >> 1u) {`,
        `    if (lid < st) { sh[lid] = ${combine(op, kind, "sh[lid]", "sh[lid + st]")}; }`,
        "    workgroupBarrier();",
        "  }",
        "  if (lid == 0u) {",
        "    acc = sh[0];",
        `    ${write}`,
        "  }",
        "}",
      );
    }
    return { params, bindings, body: L.join("\n") };
  });
  const values: Record<string, number | { offset: number; strides: number[]; shape?: number[] }> = {
    nout,
    nred,
    split,
    chunk: Math.ceil(nred / split),
    sstride: opts.sstride ?? 0,
    ok: { offset: out.offset, strides: p.ko },
    ...constValues(words),
  };
  inputs.forEach((v, i) => {
    values[`xk${i}`] = { offset: v.offset, strides: p.kx[i], shape: p.kshape };
    values[`xr${i}`] = { offset: 0, strides: p.rx[i], shape: p.rshape };
  });
  const args: Arg[] = [{ s: out.handle as GpuStorage, covers: opts.covers }, ...b.bufs.map((s) => ({ s }))];
  rt.dispatch(
    k,
    k.params.pack(values),
    args,
    grid(schedule === "serial" ? Math.ceil(nout / WG) : nout * split),
  );
}

/**
 * `out` = the `op` reduction over `axes` of `expr`'s values; the inputs have the values' shape and `out` is the
 * keepdim result, `shape` the values'. `layout`: the strides the schedule is chosen for (the values' own layout; contiguous for a fused
 * program, whose unfused form reduces a contiguous result).
 */
export function reduceProgram(
  rt: Runtime,
  op: ReduceOp,
  expr: Expr,
  inputs0: readonly View[],
  shape: readonly number[],
  axes: readonly number[],
  out: View,
  layout: readonly number[],
): void {
  const nout = numel(out.shape);
  if (nout === 0) return;
  const srcs = inputs0.map((v) => unaliased(rt, v, out));
  const inputs = srcs.map((s) => s.view);
  const p = groups(
    shape,
    inputs.map((v) => v.strides),
    axes,
    out.strides,
  );
  const nred = numel(p.rshape);
  const rx = groups(shape, [layout], axes, out.strides).rx[0];
  if (nred === 0) fill(rt, out, op === "prod" ? 1 : 0);
  else if (nred <= 32 || (nout >= 1024 && rx[rx.length - 1] !== 1)) {
    reduceDispatch(rt, op, expr, inputs, out, p, "serial", { covers: covers(out) });
  } else if (nout <= 16 && nred >= 65536) {
    // pass 1: partials [nout, split] in a temporary of the compute dtype; pass 2 reduces them into out
    const split = Math.min(256, Math.ceil(nred / 16384));
    const dtype: DType = kindOf(expr.dtype) === "f" ? "float32" : "int32";
    const tmp = rt.alloc(dtype, nout * split);
    const t = { handle: tmp, dtype, offset: 0 };
    const tstrides = contiguousStrides(p.kshape).map((s) => s * split);
    reduceDispatch(rt, op, expr, inputs, t, { ...p, ko: tstrides }, "tree", {
      covers: true,
      split,
      sstride: 1,
    });
    const tv: View = {
      handle: tmp,
      dtype,
      shape: [...p.kshape, split],
      strides: [...tstrides, 1],
      offset: 0,
    };
    const q: ReducePlan = { kshape: p.kshape, kx: [tstrides], ko: p.ko, rshape: [split], rx: [[1]] };
    reduceDispatch(rt, op, input(0, dtype), [tv], out, q, "tree", { covers: covers(out) });
    rt.free(tmp);
  } else {
    reduceDispatch(rt, op, expr, inputs, out, p, "tree", { covers: covers(out) });
  }
  for (const s of srcs) s.release();
}

/** Protocol version 1's `reduce`: the reduction of the one-input program that reads `x`. */
export function reduce(rt: Runtime, op: ReduceOp, x: View, axes: readonly number[], out: View): void {
  reduceProgram(rt, op, input(0, x.dtype), [x], x.shape, axes, out, x.strides);
}
