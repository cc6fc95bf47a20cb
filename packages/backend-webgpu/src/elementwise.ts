/**
 * Elementwise kernels: copy/cast, fill, unary, binary and where, all from one generator. Each op is a WGSL
 * expression over `x` (unary) or `a`, `b` (binary) in tables typed by the protocol's op unions, so a new op
 * does not compile until it has an entry. `f` is the float32 expression; `i` the integer one (int32, uint8 and
 * bool compute in i32); an op without `i` runs on integers converted to f32.
 *
 * Inputs arrive broadcast to the output's shape with any strides; dims contiguous for every operand are merged
 * first, so pipelines are cached per (op, dtypes, collapsed rank, aliasing) and never per shape. An input that
 * is the output's own storage (in-place ops) is read through the output binding, as WebGPU forbids binding one
 * buffer both read-only and writable in a dispatch.
 */
import type { BinaryOp, UnaryOp, View } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import {
  type BindingDecl,
  collapse,
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
import { scalarWord } from "./host";
import type { Runtime } from "./runtime";

interface OpExpr {
  /** float32 expression. */
  f: string;
  /** integer expression (i32); absent: the input is converted to f32 and `f` is used. */
  i?: string;
  /** The expression is a WGSL bool (comparisons, logical ops, predicates). */
  bool?: true;
}

export const UNARY: Record<UnaryOp, OpExpr> = {
  neg: { f: "-x", i: "-x" },
  abs: { f: "fabs_f(x)", i: "abs(x)" },
  sqrt: { f: "sqrt_f(x)" },
  rsqrt: { f: "1.0 / sqrt_f(x)" },
  exp: { f: "exp_f(x)" },
  expm1: { f: "expm1_f(x)" },
  log: { f: "log_f(x)" },
  log1p: { f: "log1p_f(x)" },
  log2: { f: "log2_f(x)" },
  sin: { f: "sin_f(x)" },
  cos: { f: "cos_f(x)" },
  tan: { f: "tan_f(x)" },
  tanh: { f: "tanh_f(x)" },
  sigmoid: { f: "sigmoid_f(x)" },
  // clamp_min(x, 0): NaN and -0 pass through
  relu: { f: "select(x, 0.0, neg_f(x))", i: "max(x, 0i)" },
  floor: { f: "floor_f(x)", i: "x" },
  ceil: { f: "ceil_f(x)", i: "x" },
  round: { f: "round_f(x)", i: "x" },
  trunc: { f: "trunc_f(x)", i: "x" },
  // (0 < x) - (x < 0): sign(NaN) = 0
  sign: { f: "select(select(0.0, -1.0, lt_f(x, 0.0)), 1.0, lt_f(0.0, x))", i: "sign(x)" },
  reciprocal: { f: "1.0 / x" },
  square: { f: "x * x", i: "x * x" },
  erf: { f: "erf_f(x)" },
  asin: { f: "asin_f(x)" },
  acos: { f: "acos_f(x)" },
  atan: { f: "atan_f(x)" },
  sinh: { f: "sinh_f(x)" },
  cosh: { f: "cosh_f(x)" },
  asinh: { f: "asinh_f(x)" },
  acosh: { f: "acosh_f(x)" },
  atanh: { f: "atanh_f(x)" },
  exp2: { f: "exp2_f(x)" },
  log10: { f: "log10_f(x)" },
  erfinv: { f: "erfinv_f(x)" },
  // integers only (the core refuses floats and runs logicalNot on bool); uint8 wraps on store
  bitwiseNot: { f: "bitcast<f32>(~bitcast<u32>(x))", i: "~x" },
  logicalNot: { f: "!nz_f(x)", i: "x == 0i", bool: true },
  isnan: { f: "isnan_f(x)", i: "false", bool: true },
  isinf: { f: "isinf_f(x)", i: "false", bool: true },
};

export const BINARY: Record<BinaryOp, OpExpr> = {
  add: { f: "a + b", i: "a + b" },
  sub: { f: "a - b", i: "a - b" },
  mul: { f: "a * b", i: "a * b" },
  div: { f: "a / b", i: "div_i(a, b)" },
  pow: { f: "pow_f(a, b)", i: "pow_i(a, b)" },
  maximum: { f: "fmax_f(a, b)", i: "max(a, b)" },
  minimum: { f: "fmin_f(a, b)", i: "min(a, b)" },
  remainder: { f: "rem_f(a, b)", i: "rem_i(a, b)" },
  fmod: { f: "fmod_f(a, b)", i: "fmod_i(a, b)" },
  floorDivide: { f: "fdiv_f(a, b)", i: "fdiv_i(a, b)" },
  atan2: { f: "atan2_f(a, b)" },
  hypot: { f: "hypot_f(a, b)" },
  // by bit pattern: the sign bit of b, -0 and -NaN included (as PyTorch)
  copysign: { f: "copysign_f(a, b)" },
  // integer and bool operands only (the core refuses floats; the f forms are never run): i32 ops, uint8 wraps on
  // store, bool stays 0/1; shift counts modulo 32 (as JS and PyTorch 1.13 on int32)
  bitwiseAnd: { f: "a", i: "a & b" },
  bitwiseOr: { f: "a", i: "a | b" },
  bitwiseXor: { f: "a", i: "a ^ b" },
  bitwiseLeftShift: { f: "a", i: "a << (u32(b) & 31u)" },
  bitwiseRightShift: { f: "a", i: "a >> (u32(b) & 31u)" },
  eq: { f: "eq_f(a, b)", i: "a == b", bool: true },
  ne: { f: "!eq_f(a, b)", i: "a != b", bool: true },
  lt: { f: "lt_f(a, b)", i: "a < b", bool: true },
  le: { f: "le_f(a, b)", i: "a <= b", bool: true },
  gt: { f: "lt_f(b, a)", i: "a > b", bool: true },
  ge: { f: "le_f(b, a)", i: "a >= b", bool: true },
  logicalAnd: { f: "nz_f(a) && nz_f(b)", i: "a != 0i && b != 0i", bool: true },
  logicalOr: { f: "nz_f(a) || nz_f(b)", i: "a != 0i || b != 0i", bool: true },
  logicalXor: { f: "nz_f(a) != nz_f(b)", i: "(a != 0i) != (b != 0i)", bool: true },
};

/** One elementwise kernel: inputs bound to names, a WGSL statement list, and the stored word. */
interface EwSpec {
  /** Identifies names/body/result; dtypes, rank and aliasing are appended. */
  key: string;
  /** Variable name each input's element is bound to. */
  names: readonly string[];
  /** How each input is loaded: "raw" storage word, or converted to the dtype's compute kind. */
  load: "raw" | "compute";
  /** WGSL expression for the word stored to `out` (its storage type). */
  result: string;
  /** Extra scalar parameters (e.g. the fill value). */
  extra?: readonly ParamSpec[];
  /** WGSL functions the result calls (the op wrapped as `un(x)` / `bi(a, b)`). */
  fns?: string;
}

/** Run `spec` over `out.shape`: inputs already broadcast to it. */
function run(
  rt: Runtime,
  spec: EwSpec,
  inputs: readonly View[],
  out: View,
  extra: Record<string, number> = {},
): void {
  const n = numel(out.shape);
  if (n === 0) return;
  const c = collapse(out.shape, [out.strides, ...inputs.map((v) => v.strides)]);
  const rank = c.shape.length;
  // binding of each input: "o" (the output's storage) or the index of a distinct input buffer
  const outS = out.handle as GpuStorage;
  const bufs: GpuStorage[] = [];
  const slot = inputs.map((v) => {
    const s = v.handle as GpuStorage;
    if (s === outS) return -1;
    let k = bufs.indexOf(s);
    if (k < 0) k = bufs.push(s) - 1;
    return k;
  });
  const dts = inputs.map((v) => v.dtype).join(",");
  const key = `ew|${spec.key}|${dts}>${out.dtype}|r${rank}|${slot.join(",")}`;
  const k = rt.kernel(key, () => {
    const params = new Params([
      { name: "n", type: "u32" },
      { name: "o", type: "view", rank },
      ...inputs.map((_, i) => ({ name: `x${i}`, type: "view" as const, rank, shape: false })),
      ...(spec.extra ?? []),
    ]);
    const bindings: BindingDecl[] = [
      { name: "out", type: storageType(out.dtype), access: "write" },
      ...bufs.map((s, i) => ({ name: `in${i}`, type: storageType(s.dtype), access: "read" as const })),
    ];
    const loads = inputs.map((v, i) => {
      const arr = slot[i] < 0 ? "out" : `in${slot[i]}`;
      const raw = `${arr}[${offsetOf(`x${i}`, rank)}]`;
      return `let ${spec.names[i]} = ${spec.load === "raw" ? raw : loadAs(v.dtype, raw)};`;
    });
    const body = [
      spec.fns ?? "",
      entry(WG),
      `  ${params.declare()}`,
      "  if (gid >= n) { return; }",
      `  ${decompose("gid", "o", rank)}`,
      ...loads.map((l) => `  ${l}`),
      `  out[${offsetOf("o", rank)}] = ${spec.result};`,
      "}",
    ].join("\n");
    return { params, bindings, body };
  });
  const values: Record<string, number | { offset: number; strides: number[]; shape?: number[] }> = {
    n,
    o: { offset: out.offset, strides: c.strides[0], shape: c.shape },
    ...extra,
  };
  inputs.forEach((v, i) => {
    values[`x${i}`] = { offset: v.offset, strides: c.strides[i + 1] };
  });
  // an input read from the output's storage (an in-place op) reads its stale pooled contents: then it does not cover
  const covers = out.offset === 0 && n === outS.length && isContiguous(out) && !slot.includes(-1);
  rt.dispatch(
    k,
    k.params.pack(values),
    [{ s: outS, covers }, ...bufs.map((s) => ({ s }))],
    grid(Math.ceil(n / WG)),
  );
}

/**
 * The op's expression for inputs of compute kind `kind`, as a WGSL function `name(params)`; `conv` when
 * integer inputs must be converted to f32 first.
 */
function opFn(
  e: OpExpr,
  kind: Kind,
  name: string,
  params: string[],
): { fn: string; conv: boolean; kind: Kind | "b" } {
  const useF = kind === "f" || e.i === undefined;
  const rk: Kind | "b" = e.bool ? "b" : useF ? "f" : "i";
  const t = useF ? "f32" : "i32";
  const r = rk === "b" ? "bool" : rk === "f" ? "f32" : "i32";
  const fn = `fn ${name}(${params.map((p) => `${p}: ${t}`).join(", ")}) -> ${r} { return ${useF ? e.f : e.i}; }`;
  return { fn, conv: useF && kind === "i", kind: rk };
}

export function unary(rt: Runtime, op: UnaryOp, x: View, out: View): void {
  const p = opFn(UNARY[op], kindOf(x.dtype), "un", ["x"]);
  const xv = p.conv ? "f32(xin)" : "xin";
  const result = storeAs(p.kind, out.dtype, `un(${xv})`);
  run(rt, { key: `u:${op}`, names: ["xin"], load: "compute", result, fns: p.fn }, [x], out);
}

export function binary(rt: Runtime, op: BinaryOp, a: View, b: View, out: View): void {
  const p = opFn(BINARY[op], kindOf(a.dtype), "bi", ["a", "b"]);
  const cv = (v: string) => (p.conv ? `f32(${v})` : v);
  const result = storeAs(p.kind, out.dtype, `bi(${cv("ain")}, ${cv("bin")})`);
  run(rt, { key: `b:${op}`, names: ["ain", "bin"], load: "compute", result, fns: p.fn }, [a, b], out);
}

/** out = a + alpha * b in one dispatch (float32): the optimizers' `p.add_(d, { alpha: -lr })`. */
export function addScaled(rt: Runtime, a: View, b: View, alpha: number, out: View): void {
  run(
    rt,
    {
      key: "addScaled",
      names: ["ain", "bin"],
      load: "compute",
      result: storeAs("f", out.dtype, "ain + alpha * bin"),
      extra: [{ name: "alpha", type: "f32" }],
    },
    [a, b],
    out,
    { alpha },
  );
}

export function where(rt: Runtime, cond: View, a: View, b: View, out: View): void {
  run(
    rt,
    { key: "where", names: ["c", "a", "b"], load: "raw", result: "select(b, a, c != 0u)" },
    [cond, a, b],
    out,
  );
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
  const result = x.dtype === out.dtype ? "x" : storeAs(kindOf(x.dtype), out.dtype, "x");
  run(rt, { key: "copy", names: ["x"], load: x.dtype === out.dtype ? "raw" : "compute", result }, [x], out);
}

export function fill(rt: Runtime, out: View, value: number): void {
  const word = scalarWord(out.dtype, value);
  const t = storageType(out.dtype);
  run(
    rt,
    {
      key: "fill",
      names: [],
      load: "raw",
      result: t === "u32" ? "fv" : `bitcast<${t}>(fv)`,
      extra: [{ name: "fv", type: "u32" }],
    },
    [],
    out,
    { fv: word },
  );
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
