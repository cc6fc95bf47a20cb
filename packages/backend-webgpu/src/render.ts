/**
 * The WGSL renderer of fused elementwise programs (protocol version 2's `Expr`): one `let tK = ...;` per node, each
 * the op's WGSL expression from the one table of node renderings below, converted to the node's dtype and rounded
 * to it (`toCompute`), so a program gives the bits of its ops run one by one. The version 1 calls (`unary`,
 * `binary`, `where`, `copy`, `fill`) are one-node programs rendered here too: this file is the one place per op.
 *
 * Inputs are the variables `x0, x1, ...` (compute values, declared by the kernel that loads them); constants are the
 * parameters `k0, k1, ...` (storage words in the uniform block), so a pipeline serves every value of a constant.
 */
import type { BinaryOp, DType, Expr, UnaryOp } from "@cinder/tensor";
import { type Kind, kindOf, toCompute } from "./codegen";
import { scalarWord } from "./host";

/** One op's WGSL: an expression over `x` (unary) or `a`, `b` (binary). */
interface OpExpr {
  /** float32 expression. */
  f: string;
  /** integer expression (i32); absent: the operands are converted to f32 and `f` is used. */
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
  // integers only (the core refuses floats and runs logicalNot on bool); narrow results wrap (toCompute)
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
  // integer and bool operands only (the core refuses floats; the f forms are never run): i32 ops, narrow results
  // wrap, bool stays 0/1; shift counts modulo 32 (as JS and PyTorch 1.13 on int32)
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

/**
 * The op `e` over operands of compute kind `kind` (variables named in `vars`), converted to the node's `dtype`.
 * Operands are always plain identifiers (temporaries, inputs), so substituting them needs no parentheses.
 */
function apply(e: OpExpr, kind: Kind, vars: Readonly<Record<string, string>>, dtype: DType): string {
  const useF = kind === "f" || e.i === undefined;
  const conv = useF && kind === "i"; // an integer operand of a float-only op: converted to f32 first
  const src = useF ? e.f : (e.i as string);
  const expr = src.replace(/\b[xab]\b/g, (v) => (conv ? `f32(${vars[v]})` : vars[v]));
  return toCompute(e.bool ? "b" : useF ? "f" : "i", dtype, expr);
}

/** A program as WGSL statements computing `value` (a compute value of the root's dtype) from `x0..` and `k0..`. */
export interface RenderedExpr {
  readonly lines: readonly string[];
  readonly value: string;
  /** Number of constants (`k0..`), in the order `structure` lists their words. */
  readonly consts: number;
}

/** Render `expr`: every node is a temporary of its dtype's compute kind, rounded to its dtype. */
export function renderExpr(expr: Expr): RenderedExpr {
  const lines: string[] = [];
  let consts = 0;
  const temp = (v: string): string => {
    const name = `t${lines.length}`;
    lines.push(`let ${name} = ${v};`);
    return name;
  };
  const value = (e: Expr): string => {
    switch (e.op) {
      case "input":
        return `x${e.index}`;
      case "const":
        return temp(`bitcast<${kindOf(e.dtype) === "f" ? "f32" : "i32"}>(k${consts++})`);
      case "unary":
        return temp(apply(UNARY[e.fn], kindOf(e.x.dtype), { x: value(e.x) }, e.dtype));
      case "binary": {
        const a = value(e.a);
        const b = value(e.b);
        return temp(apply(BINARY[e.fn], kindOf(e.a.dtype), { a, b }, e.dtype));
      }
      case "where": {
        const c = value(e.cond);
        const a = value(e.a);
        const b = value(e.b);
        return temp(`select(${b}, ${a}, ${c} != 0i)`);
      }
      case "cast":
        return temp(toCompute(kindOf(e.x.dtype), e.dtype, value(e.x)));
    }
  };
  const v = value(expr);
  return { lines, value: v, consts };
}

/**
 * A key of a program's structure (ops, dtypes, input indices; not constant values), pushing the constants'
 * storage words in the order `renderExpr` numbers them: the pipeline cache is keyed by this walk, so a program is
 * rendered and compiled once per structure.
 */
export function structure(e: Expr, words: number[]): string {
  switch (e.op) {
    case "input":
      return `${e.index}:${e.dtype}`;
    case "const":
      words.push(scalarWord(e.dtype, e.value));
      return `k:${e.dtype}`;
    case "unary":
      return `${e.fn}:${e.dtype}(${structure(e.x, words)})`;
    case "binary": {
      const a = structure(e.a, words);
      return `${e.fn}:${e.dtype}(${a},${structure(e.b, words)})`;
    }
    case "where": {
      const c = structure(e.cond, words);
      const a = structure(e.a, words);
      return `?:${e.dtype}(${c},${a},${structure(e.b, words)})`;
    }
    case "cast":
      return `>:${e.dtype}(${structure(e.x, words)})`;
  }
}
