/**
 * Programs within the device's binding limit. A dispatch may bind at most `maxStorageBuffersPerShaderStage` storage
 * buffers (8 on many devices, 12 on SwiftShader), one of them the output, while the core hands a fused program up to
 * 8 inputs. A program reading more distinct buffers than the limit leaves has operand subtrees run first, each into
 * a temporary of the program's shape, and reads those instead: every node is rounded to its dtype, so a value stored
 * and loaded again is the same value, and the result has the same bits.
 */
import type { Expr, View } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import { contiguousStrides, numel } from "./codegen";
import { runProgram } from "./elementwise";
import type { Runtime } from "./runtime";

/** The buffers `e` reads (its inputs' handles, without `out`'s, which the output binding serves). */
function buffers(e: Expr, inputs: readonly View[], out: unknown, into = new Set<unknown>()): Set<unknown> {
  switch (e.op) {
    case "input":
      if (inputs[e.index].handle !== out) into.add(inputs[e.index].handle);
      break;
    case "const":
      break;
    case "unary":
    case "cast":
      buffers(e.x, inputs, out, into);
      break;
    case "binary":
      buffers(e.a, inputs, out, into);
      buffers(e.b, inputs, out, into);
      break;
    case "where":
      buffers(e.cond, inputs, out, into);
      buffers(e.a, inputs, out, into);
      buffers(e.b, inputs, out, into);
  }
  return into;
}

/** The operands of a node. */
function children(e: Expr): readonly Expr[] {
  switch (e.op) {
    case "input":
    case "const":
      return [];
    case "unary":
    case "cast":
      return [e.x];
    case "binary":
      return [e.a, e.b];
    case "where":
      return [e.cond, e.a, e.b];
  }
}

/** `e` with node `from` replaced by `to`, and input indices renumbered by `map` (an input missing from it is added). */
function rewrite(e: Expr, from: Expr | null, to: Expr | null, map: Map<number, number>): Expr {
  if (e === from) return rewrite(to as Expr, null, null, map);
  switch (e.op) {
    case "input": {
      let i = map.get(e.index);
      if (i === undefined) {
        i = map.size;
        map.set(e.index, i);
      }
      return { op: "input", index: i, dtype: e.dtype };
    }
    case "const":
      return e;
    case "unary":
    case "cast":
      return { ...e, x: rewrite(e.x, from, to, map) };
    case "binary":
      return { ...e, a: rewrite(e.a, from, to, map), b: rewrite(e.b, from, to, map) };
    case "where":
      return {
        ...e,
        cond: rewrite(e.cond, from, to, map),
        a: rewrite(e.a, from, to, map),
        b: rewrite(e.b, from, to, map),
      };
  }
}

/** The operand subtree reading the most buffers, at least 2 and at most `max` (one exists while the root reads more). */
function pick(e: Expr, inputs: readonly View[], out: unknown, max: number): Expr | null {
  let best: Expr | null = null;
  let bestN = 1;
  const visit = (n: Expr) => {
    for (const c of children(n)) {
      const k = buffers(c, inputs, out).size;
      if (k > max) visit(c);
      else if (k > bestN) {
        best = c;
        bestN = k;
      }
    }
  };
  visit(e);
  return best;
}

/** A program reading at most `max` buffers besides `out`'s: `expr` itself, or with subtrees computed into `temps`. */
export interface Within {
  readonly expr: Expr;
  readonly inputs: readonly View[];
  /** Temporaries the caller frees after its dispatch. */
  readonly temps: readonly GpuStorage[];
}

/**
 * `expr` over `inputs` (broadcast to `shape`) within `max` buffers besides `out`: subtrees that read several buffers
 * run first into temporaries (see the file comment).
 */
export function withinBindings(
  rt: Runtime,
  expr: Expr,
  inputs: readonly View[],
  shape: readonly number[],
  out: unknown,
  max: number,
): Within {
  let e = expr;
  let ins = inputs;
  const temps: GpuStorage[] = [];
  while (buffers(e, ins, out).size > max) {
    const sub = pick(e, ins, out, max);
    if (sub === null) throw new Error(`webgpu: a program reads more buffers than the device binds (${max})`);
    const subMap = new Map<number, number>();
    const subExpr = rewrite(sub, null, null, subMap);
    const subInputs: View[] = [];
    for (const [from, to] of subMap) subInputs[to] = ins[from];
    const tmp = rt.alloc(sub.dtype, numel(shape));
    temps.push(tmp);
    const view: View = { handle: tmp, dtype: sub.dtype, shape, strides: contiguousStrides(shape), offset: 0 };
    runProgram(rt, subExpr, subInputs, view);
    // the rest of the program reads the temporary in place of the subtree: one input more, the subtree's gone
    const map = new Map<number, number>();
    const marker: Expr = { op: "input", index: ins.length, dtype: sub.dtype };
    e = rewrite(e, sub, marker, map);
    const next: View[] = [];
    for (const [from, to] of map) next[to] = from === ins.length ? view : ins[from];
    ins = next;
  }
  return { expr: e, inputs: ins, temps };
}
