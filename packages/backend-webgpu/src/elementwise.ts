/**
 * Elementwise kernels: one generator of fused programs (protocol version 2's `Expr`, rendered by render.ts), and the
 * version 1 calls (copy/cast, fill, unary, binary, where) as one-node programs through it.
 *
 * Inputs arrive broadcast to the output's shape with any strides; dims contiguous for every operand are merged
 * first, so pipelines are cached per (program structure, dtypes, collapsed rank, aliasing) and never per shape or
 * constant value. An input that is the output's own storage (in-place ops) is read through the output binding, as
 * WebGPU forbids binding one buffer both read-only and writable in a dispatch.
 */
import type { BinaryOp, DType, Expr, UnaryOp, View } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import {
  type BindingDecl,
  collapse,
  contiguousStrides,
  decompose,
  entry,
  grid,
  isContiguous,
  loadAs,
  numel,
  offsetOf,
  type ParamSpec,
  Params,
  storageType,
  toStored,
  WG,
} from "./codegen";
import { renderExpr, structure } from "./render";
import type { Runtime } from "./runtime";

/** How a kernel binds a program's inputs: the distinct buffers, and each input's binding (-1: the output's). */
export interface InputBindings {
  readonly bufs: readonly GpuStorage[];
  readonly slot: readonly number[];
}

export function bindInputs(inputs: readonly View[], out: GpuStorage | null): InputBindings {
  const bufs: GpuStorage[] = [];
  const slot = inputs.map((v) => {
    const s = v.handle as GpuStorage;
    if (s === out) return -1;
    let k = bufs.indexOf(s);
    if (k < 0) k = bufs.push(s) - 1;
    return k;
  });
  return { bufs, slot };
}

/** The read-only binding declarations of `b`'s buffers (`in0`, `in1`, ...). */
export function inputDecls(b: InputBindings): BindingDecl[] {
  return b.bufs.map((s, i) => ({ name: `in${i}`, type: storageType(s.dtype), access: "read" as const }));
}

/** The uniform parameters of a program's `n` constants (`k0..`, storage words). */
export function constParams(n: number): ParamSpec[] {
  return Array.from({ length: n }, (_, j) => ({ name: `k${j}`, type: "u32" as const }));
}

/** Parameter values of the constants' `words`. */
export function constValues(words: readonly number[]): Record<string, number> {
  const v: Record<string, number> = {};
  for (let j = 0; j < words.length; j++) v[`k${j}`] = words[j];
  return v;
}

/** out = expr(inputs...) in one dispatch; the inputs are broadcast to `out.shape`. */
export function runProgram(rt: Runtime, expr: Expr, inputs: readonly View[], out: View): void {
  const n = numel(out.shape);
  if (n === 0) return;
  const c = collapse(out.shape, [out.strides, ...inputs.map((v) => v.strides)]);
  const rank = c.shape.length;
  const outS = out.handle as GpuStorage;
  const b = bindInputs(inputs, outS);
  const words: number[] = [];
  const dts = inputs.map((v) => v.dtype).join(",");
  const key = `ew|${structure(expr, words)}|${dts}>${out.dtype}|r${rank}|${b.slot.join(",")}`;
  const k = rt.kernel(key, () => {
    const r = renderExpr(expr);
    const params = new Params([
      { name: "n", type: "u32" },
      { name: "o", type: "view", rank },
      ...inputs.map((_, i) => ({ name: `x${i}`, type: "view" as const, rank, shape: false })),
      ...constParams(r.consts),
    ]);
    const bindings: BindingDecl[] = [
      { name: "out", type: storageType(out.dtype), access: "write" },
      ...inputDecls(b),
    ];
    const loads = inputs.map((v, i) => {
      const arr = b.slot[i] < 0 ? "out" : `in${b.slot[i]}`;
      return `let x${i} = ${loadAs(v.dtype, `${arr}[${offsetOf(`x${i}`, rank)}]`)};`;
    });
    const body = [
      entry(WG),
      `  ${params.declare()}`,
      "  if (gid >= n) { return; }",
      `  ${decompose("gid", "o", rank)}`,
      ...loads.map((l) => `  ${l}`),
      ...r.lines.map((l) => `  ${l}`),
      `  out[${offsetOf("o", rank)}] = ${toStored(out.dtype, r.value)};`,
      "}",
    ].join("\n");
    return { params, bindings, body };
  });
  const values: Record<string, number | { offset: number; strides: number[]; shape?: number[] }> = {
    n,
    o: { offset: out.offset, strides: c.strides[0], shape: c.shape },
    ...constValues(words),
  };
  inputs.forEach((v, i) => {
    values[`x${i}`] = { offset: v.offset, strides: c.strides[i + 1] };
  });
  // an input read from the output's storage (an in-place op) reads its stale pooled contents: then it does not cover
  const covers = out.offset === 0 && n === outS.length && isContiguous(out) && !b.slot.includes(-1);
  rt.dispatch(
    k,
    k.params.pack(values),
    [{ s: outS, covers }, ...b.bufs.map((s) => ({ s }))],
    grid(Math.ceil(n / WG)),
  );
}

export const input = (index: number, dtype: DType): Expr => ({ op: "input", index, dtype });

export function unary(rt: Runtime, fn: UnaryOp, x: View, out: View): void {
  runProgram(rt, { op: "unary", fn, x: input(0, x.dtype), dtype: out.dtype }, [x], out);
}

export function binary(rt: Runtime, fn: BinaryOp, a: View, b: View, out: View): void {
  const e: Expr = { op: "binary", fn, a: input(0, a.dtype), b: input(1, b.dtype), dtype: out.dtype };
  runProgram(rt, e, [a, b], out);
}

/** out = a + alpha * b in one dispatch (float32): the optimizers' `p.add_(d, { alpha: -lr })`. */
export function addScaled(rt: Runtime, a: View, b: View, alpha: number, out: View): void {
  const dtype = out.dtype;
  const alphaB: Expr = {
    op: "binary",
    fn: "mul",
    a: { op: "const", value: alpha, dtype },
    b: input(1, b.dtype),
    dtype,
  };
  runProgram(rt, { op: "binary", fn: "add", a: input(0, a.dtype), b: alphaB, dtype }, [a, b], out);
}

export function where(rt: Runtime, cond: View, a: View, b: View, out: View): void {
  const e: Expr = {
    op: "where",
    cond: input(0, cond.dtype),
    a: input(1, a.dtype),
    b: input(2, b.dtype),
    dtype: out.dtype,
  };
  runProgram(rt, e, [cond, a, b], out);
}

export function copy(rt: Runtime, x: View, out: View): void {
  const xs = x.handle as GpuStorage;
  const os = out.handle as GpuStorage;
  const n = numel(out.shape);
  if (n === 0) return;
  if (x.dtype === out.dtype && xs !== os && isContiguous(x) && isContiguous(out)) {
    rt.clear(xs);
    if (os.dirty && !(out.offset === 0 && n === os.length)) rt.clear(os);
    os.dirty = false;
    xs.lastUse = os.lastUse = rt.batch;
    rt.command((enc) => enc.copyBufferToBuffer(xs.buffer, x.offset * 4, os.buffer, out.offset * 4, n * 4));
    return;
  }
  const e = input(0, x.dtype);
  runProgram(rt, x.dtype === out.dtype ? e : { op: "cast", x: e, dtype: out.dtype }, [x], out);
}

export function fill(rt: Runtime, out: View, value: number): void {
  runProgram(rt, { op: "const", value, dtype: out.dtype }, [], out);
}

/**
 * `v` itself, or a contiguous copy when it shares a buffer with one of `outs`: kernels other than the
 * elementwise ones bind inputs and outputs separately, and WebGPU forbids one buffer in both roles.
 */
export function unaliased(rt: Runtime, v: View, ...outs: View[]): { view: View; release(): void } {
  if (!outs.some((o) => o.handle === v.handle)) return { view: v, release() {} };
  const tmp = rt.alloc(v.dtype, numel(v.shape));
  const view: View = {
    handle: tmp,
    dtype: v.dtype,
    shape: v.shape,
    strides: contiguousStrides(v.shape),
    offset: 0,
  };
  copy(rt, v, view);
  return { view, release: () => rt.free(tmp) };
}
