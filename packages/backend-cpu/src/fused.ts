/**
 * Fused elementwise programs (protocol version 2): an `Expr` tree rendered as the body of one generated loop, one
 * `const tK = ...` per node with the op table's expression (elementwise.ts), rounded to the node's dtype as a store
 * of that dtype would round (`Math.fround`, `| 0`, `& 255`), so a fused program gives the bits of the unfused calls.
 * Constants are hoisted from a parameter array, so kernels are cached per program shape, not per value. With a
 * reduction, the loop accumulates the program's values instead of storing them (reduce.ts).
 */
import type { BinaryOp, DType, Expr, FusedReduce, UnaryOp, View } from "@cinder/tensor";
import { isHalf } from "@cinder/tensor";
import { type LoopSpec, numel, operand, runLoop } from "./codegen";
import {
  BINARY_BOOL,
  binaryExpr,
  castExpr,
  DECODE,
  ENCODE,
  isFloatDType,
  toBool,
  UNARY_BOOL,
  unaryExpr,
  WHERE_EXPR,
} from "./elementwise";
import { reduceProgram } from "./reduce";
import { elementwiseWasm, WASM_FUSED_MIN } from "./wasm/fused-wasm";

/** A JS expression rounding `e` to `dtype` as a store of that dtype would. */
function rounded(e: string, dtype: DType): string {
  switch (dtype) {
    case "float32":
      return `Math.fround(${e})`;
    case "int32":
      return `(${e}) | 0`;
    case "uint8":
      return `(${e}) & 255`;
    case "int16":
      return `(${e}) << 16 >> 16`;
    case "int8":
      return `(${e}) << 24 >> 24`;
    case "float16":
    case "bfloat16":
      // PyTorch's CPU computes a 16-bit float op in float32 and rounds the result to the dtype
      return `${DECODE[dtype]}(${ENCODE[dtype]}(${e}))`;
    case "int64":
      return `i64(${e})`; // a Float64Array store does not round: an int64 node is range-checked (int64.ts)
    default:
      return e; // float64; bool nodes already hold 0 or 1
  }
}

/** `template` with its variables (`x`, or `a`/`b`, or `c`/`a`/`b`) replaced by temporaries. */
function substitute(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\b[xabc]\b/g, (v) => vars[v] ?? v);
}

/** A program as loop source: `body` computes `value` from the inputs `x0, x1, ...` and constants `p[k]`. */
export interface RenderedProgram {
  /** Cache key of the source (constants excluded). */
  readonly key: string;
  readonly prelude: string;
  readonly body: string;
  readonly value: string;
  readonly consts: Float64Array;
  readonly vars: readonly string[];
}

class Renderer {
  readonly lines: string[] = [];
  readonly consts: number[] = [];
  private temps = 0;

  /** The JS value of node `e` (a temporary, an input variable or a constant), emitting its statement. */
  value(e: Expr, exact: boolean): string {
    switch (e.op) {
      case "input":
        // a 16-bit float input holds bits: the program works on their value
        return isHalf(e.dtype)
          ? this.temp(`${DECODE[e.dtype]}(x${e.index})`, "float64", false)
          : `x${e.index}`;
      case "const":
        this.consts.push(e.value);
        return `c${this.consts.length - 1}`;
      case "unary": {
        const x = this.value(e.x, true);
        let expr = substitute(unaryExpr(e.fn, e.x.dtype), { x });
        if (e.dtype === "bool" && !UNARY_BOOL.has(e.fn)) expr = toBool(expr);
        return this.temp(expr, e.dtype, exact);
      }
      case "binary": {
        const a = this.value(e.a, true);
        const b = this.value(e.b, true);
        const fl = isFloatDType(e.a.dtype) || isFloatDType(e.b.dtype);
        let expr = substitute(binaryExpr(e.fn, e.a.dtype, fl), { a, b });
        if (e.dtype === "bool" && !BINARY_BOOL.has(e.fn)) expr = toBool(expr);
        return this.temp(expr, e.dtype, exact);
      }
      case "where": {
        const c = this.value(e.cond, true);
        const a = this.value(e.a, true);
        const b = this.value(e.b, true);
        return this.temp(substitute(WHERE_EXPR, { c, a, b }), e.dtype, exact);
      }
      case "cast": {
        const x = this.value(e.x, true);
        // values, not bits, inside a program: a 16-bit float converts as float32 (the node's rounding makes it 16-bit)
        const [from, to] = [e.x.dtype, e.dtype].map((d) => (isHalf(d) ? "float32" : d));
        return this.temp(substitute(castExpr(from, to), { x }), e.dtype, exact);
      }
    }
  }

  private temp(expr: string, dtype: DType, exact: boolean): string {
    const name = `t${this.temps++}`;
    // an int64 node is always checked: the Float64Array store of the root would keep an inexact value
    this.lines.push(`const ${name} = ${exact || dtype === "int64" ? rounded(expr, dtype) : expr};`);
    return name;
  }
}

/**
 * Renders `expr` over `nInputs` inputs. `storeRoot`: the root's value goes to a store of its dtype, which rounds it,
 * so it is left unrounded; otherwise (a reduction reads it) it is rounded like every other node.
 */
export function renderProgram(expr: Expr, nInputs: number, storeRoot: boolean): RenderedProgram {
  const r = new Renderer();
  let value = r.value(expr, !storeRoot);
  // a 16-bit float root is stored as its bits (the encoder rounds through float32, as the per-node rounding does)
  if (storeRoot && isHalf(expr.dtype)) value = `${ENCODE[expr.dtype]}(${value})`;
  const body = r.lines.join(" ");
  const prelude = r.consts.map((_, k) => `const c${k} = p[${k}];`).join(" ");
  const vars = Array.from({ length: nInputs }, (_, i) => `x${i}`);
  return {
    key: `${prelude}|${body}|${value}`,
    prelude,
    body,
    value,
    consts: Float64Array.from(r.consts),
    vars,
  };
}

const CODE: Record<DType, string> = {
  float32: "f",
  float64: "d",
  int32: "i",
  uint8: "u",
  bool: "b",
  int8: "c",
  int16: "s",
  float16: "h",
  bfloat16: "g",
  int64: "l",
  // the core never fuses complex ops (complex.ts runs them); listed so the table covers every dtype
  complex64: "x",
  complex128: "y",
};

/**
 * A compact key of a program's structure (ops, dtypes, input indices; not constant values), pushing the constants
 * in the order the renderer numbers them. Rendering the source costs several microseconds; this walk far less.
 */
function structure(e: Expr, consts: number[]): string {
  switch (e.op) {
    case "input":
      return `${e.index}${CODE[e.dtype]}`;
    case "const":
      consts.push(e.value);
      return `c${CODE[e.dtype]}`;
    case "unary":
      return `${e.fn}${CODE[e.dtype]}(${structure(e.x, consts)})`;
    case "binary": {
      const a = structure(e.a, consts);
      return `${e.fn}${CODE[e.dtype]}(${a},${structure(e.b, consts)})`;
    }
    case "where": {
      const c = structure(e.cond, consts);
      const a = structure(e.a, consts);
      return `?${CODE[e.dtype]}(${c},${a},${structure(e.b, consts)})`;
    }
    case "cast":
      return `>${CODE[e.dtype]}(${structure(e.x, consts)})`;
  }
}

/** Rendered programs by structure: `s:` stored, `r:` reduced (the root rounded). */
const rendered = new Map<string, RenderedProgram & { spec: LoopSpec }>();

function program(
  expr: Expr,
  nInputs: number,
  store: boolean,
  consts: number[],
): RenderedProgram & { spec: LoopSpec } {
  const key = `${store ? "s" : "r"}${nInputs}:${structure(expr, consts)}`;
  let prog = rendered.get(key);
  if (prog === undefined) {
    const r = renderProgram(expr, nInputs, store);
    const spec = { key: `f:${r.key}`, vars: r.vars, expr: r.value, prelude: r.prelude, body: r.body };
    prog = { ...r, spec };
    rendered.set(key, prog);
  }
  return prog;
}

/**
 * Protocol version 2: the whole program per element in one loop, stored to `out` or reduced into it; on WebAssembly
 * SIMD (wasm/fused-wasm.ts) when the program and its operands allow, else as generated JS.
 */
export function elementwise(expr: Expr, inputs: readonly View[], out: View, reduce?: FusedReduce): void {
  if (elementwiseWasm(expr, inputs, out, reduce)) return;
  const values: number[] = [];
  const prog = program(expr, inputs.length, reduce === undefined, values);
  const consts = values.length === 0 ? 0 : Float64Array.from(values);
  if (reduce !== undefined) {
    const src = { ...prog, consts: values.length === 0 ? undefined : (consts as Float64Array) };
    // (a 16-bit float program's values are float32 ones, rounded per node: reduced as float32, stored encoded)
    const valuesDtype = isHalf(expr.dtype) ? "float32" : expr.dtype;
    reduceProgram(reduce.op, valuesDtype, src, inputs.map(operand), reduce.shape, reduce.axes, out);
    return;
  }
  runLoop(prog.spec, operand(out), inputs.map(operand), out.shape, consts);
}

const input = (index: number, dtype: DType): Expr => ({ op: "input", index, dtype });

/** Whether a version 1 call over `out` is too small for WebAssembly (checked before building its program). */
const tooSmall = (out: View): boolean => numel(out.shape) < WASM_FUSED_MIN;

/** A version 1 `unary` call on the WebAssembly path when it can take it (see `elementwiseWasm`); false otherwise. */
export function unaryWasm(fn: UnaryOp, x: View, out: View): boolean {
  if (tooSmall(out)) return false;
  return elementwiseWasm({ op: "unary", fn, x: input(0, x.dtype), dtype: out.dtype }, [x], out);
}

/** A version 1 `binary` call on the WebAssembly path when it can take it; false otherwise. `out` may alias `a`. */
export function binaryWasm(fn: BinaryOp, a: View, b: View, out: View): boolean {
  if (tooSmall(out)) return false;
  const e: Expr = { op: "binary", fn, a: input(0, a.dtype), b: input(1, b.dtype), dtype: out.dtype };
  return elementwiseWasm(e, [a, b], out);
}

/** A version 1 `where` call on the WebAssembly path when it can take it; false otherwise. */
export function whereWasm(cond: View, a: View, b: View, out: View): boolean {
  if (tooSmall(out)) return false;
  const e: Expr = {
    op: "where",
    cond: input(0, cond.dtype),
    a: input(1, a.dtype),
    b: input(2, b.dtype),
    dtype: out.dtype,
  };
  return elementwiseWasm(e, [cond, a, b], out);
}

/** A version 1 float32 `reduce("sum")` on the WebAssembly path when it can take it (whole, or per run); false otherwise. */
export function sumWasm(x: View, axes: readonly number[], out: View): boolean {
  if (x.dtype !== "float32") return false;
  return elementwiseWasm(input(0, "float32"), [x], out, { op: "sum", axes, shape: x.shape });
}

/** A version 1 `copy` (float32/bool, with their casts) on the WebAssembly path when it can take it; false otherwise. */
export function copyWasm(x: View, out: View): boolean {
  if (tooSmall(out)) return false;
  const e = input(0, x.dtype);
  return elementwiseWasm(x.dtype === out.dtype ? e : { op: "cast", x: e, dtype: out.dtype }, [x], out);
}
