/**
 * `einsum(equation, *operands)`: PyTorch's subscript language (letters a-zA-Z, `...` for broadcast dims, `->` with
 * an explicit output or the implicit one: `...` first, then the subscripts seen once, in alphabetical order with
 * capitals first). Contracted like PyTorch without opt_einsum, left to right: repeated subscripts of one operand
 * take a diagonal (a view), subscripts needed by no later operand nor the output are summed as early as possible,
 * and each pair of operands is one (batched, broadcasting) matrix product after permute + reshape. Autograd comes
 * from those ops.
 */
import { DTypeError, ShapeError } from "../errors";
import { ArgumentError, k, op, type Param, signature } from "../signature";
import { Tensor } from "../tensor";
import { sameDevice } from "./kernels";
import { matmul } from "./linalg";
import { diagonal } from "./shape-extra";
import { permute } from "./view";

const ELLIPSIS = -1;
/** Subscript ids: A-Z are 0-25, a-z 26-51 (PyTorch's order); the dims of `...` get ids from 52 on. */
const LETTERS = 52;
const letterId = (c: string): number =>
  c >= "A" && c <= "Z" ? c.charCodeAt(0) - 65 : c >= "a" && c <= "z" ? c.charCodeAt(0) - 97 + 26 : -1;
const letterOf = (id: number): string =>
  id < 26 ? String.fromCharCode(65 + id) : id < LETTERS ? String.fromCharCode(97 + id - 26) : "...";

const fail = (msg: string): never => {
  throw new ShapeError(`einsum(): ${msg}`);
};

/** One side of the equation: the subscripts of each term (ELLIPSIS for `...`), checked character by character. */
function parseTerms(text: string, at: number, output: boolean): number[][] {
  const terms: number[][] = [[]];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const term = terms[terms.length - 1];
    const who = output ? "the output" : `operand ${terms.length - 1}`;
    if (c === " ") continue;
    if (c === "," && !output) terms.push([]);
    else if (c === ".") {
      if (text.slice(i, i + 3) !== "...") fail(`found '.' for ${who} that is not part of any ellipsis`);
      if (term.includes(ELLIPSIS)) fail(`found '.' for ${who} for which an ellipsis was already found`);
      term.push(ELLIPSIS);
      i += 2;
    } else if (letterId(c) >= 0) term.push(letterId(c));
    else
      fail(
        `invalid subscript given at index ${at + i} in the equation string, subscripts must be in [a-zA-Z]`,
      );
  }
  return terms;
}

interface Operand {
  t: Tensor;
  /** The subscript id of each dim of t. */
  syms: number[];
}

/** Sum the dims whose subscripts `drop` selects. */
function sumAway(o: Operand, drop: (s: number) => boolean): Operand {
  const dims = o.syms.flatMap((s, i) => (drop(s) ? [i] : []));
  if (dims.length === 0) return o;
  return { t: o.t.sum(dims), syms: o.syms.filter((s) => !drop(s)) };
}

/** Contract two operands, keeping the subscripts in `keep`: one matmul over [batch, left, k] x [batch, k, right]. */
function contractPair(a: Operand, b: Operand, keep: ReadonlySet<number>): Operand {
  let x = a;
  let y = b;
  const shared = x.syms.filter((s) => y.syms.includes(s));
  const summed = shared.filter((s) => !keep.has(s));
  // a summed subscript of size 1 on one side: sum the other side over it first (broadcasting, as PyTorch)
  for (const s of summed) {
    const nx = x.t.shape[x.syms.indexOf(s)];
    const ny = y.t.shape[y.syms.indexOf(s)];
    if (nx === 1 && ny !== 1) y = { t: y.t.sum(y.syms.indexOf(s), true), syms: y.syms };
    else if (ny === 1 && nx !== 1) x = { t: x.t.sum(x.syms.indexOf(s), true), syms: x.syms };
  }
  const batch = shared.filter((s) => keep.has(s));
  const left = x.syms.filter((s) => !y.syms.includes(s));
  const right = y.syms.filter((s) => !x.syms.includes(s));
  const size = (o: Operand, s: number) => o.t.shape[o.syms.indexOf(s)];
  const prod = (o: Operand, ss: number[]) => ss.reduce((p, s) => p * size(o, s), 1);
  const K = prod(x, summed);
  const xm = permute(
    x.t,
    [...batch, ...left, ...summed].map((s) => x.syms.indexOf(s)),
  ).reshape([...batch.map((s) => size(x, s)), prod(x, left), K]);
  const ym = permute(
    y.t,
    [...batch, ...summed, ...right].map((s) => y.syms.indexOf(s)),
  ).reshape([...batch.map((s) => size(y, s)), K, prod(y, right)]);
  const r = matmul(xm, ym); // broadcasts the batch dims
  const batchSizes = r.shape.slice(0, batch.length);
  return {
    t: r.reshape([...batchSizes, ...left.map((s) => size(x, s)), ...right.map((s) => size(y, s))]),
    syms: [...batch, ...left, ...right],
  };
}

function einsumImpl(equation: string, operands: readonly Tensor[]): Tensor {
  const arrow = equation.indexOf("->");
  const lhs = arrow < 0 ? equation : equation.slice(0, arrow);
  const terms = parseTerms(lhs, 0, false);
  if (terms.length > operands.length) fail("fewer operands were provided than specified in the equation");
  if (terms.length < operands.length) fail("more operands were provided than specified in the equation");
  if (operands.length === 0) fail("must provide at least one operand");
  sameDevice("einsum", ...operands);
  for (const t of operands) {
    if (t.dtype !== operands[0].dtype) {
      throw new DTypeError(
        `einsum(): expected all operands to have the same dtype, got ${operands[0].dtype} and ${t.dtype}`,
      );
    }
  }
  // how many dims each operand's `...` covers; the ellipsis dims are right-aligned across operands (broadcast)
  const ellDims = terms.map((term, i) => {
    const labels = term.filter((s) => s !== ELLIPSIS).length;
    const nd = operands[i].ndim;
    if (term.includes(ELLIPSIS)) {
      if (labels > nd) {
        fail(
          `the number of subscripts in the equation (${labels}) is more than the number of dimensions (${nd}) for operand ${i}`,
        );
      }
      return nd - labels;
    }
    if (labels !== nd) {
      fail(
        `the number of subscripts in the equation (${labels}) does not match the number of dimensions (${nd}) for operand ${i} and no ellipsis was given`,
      );
    }
    return 0;
  });
  const ellNd = Math.max(0, ...ellDims);
  const ellSyms = Array.from({ length: ellNd }, (_, j) => LETTERS + j);
  const symsOf = terms.map((term, i) =>
    term.flatMap((s) => (s === ELLIPSIS ? ellSyms.slice(ellNd - ellDims[i]) : [s])),
  );
  // the size of each subscript: equal across operands, or 1 (broadcast)
  const sizes = new Map<number, number>();
  symsOf.forEach((syms, i) => {
    const seen = new Map<number, number>();
    syms.forEach((s, d) => {
      const n = operands[i].shape[d];
      const mine = seen.get(s);
      if (mine !== undefined && mine !== n) {
        fail(
          `subscript ${letterOf(s)} is repeated for operand ${i} but the sizes don't match, ${n} != ${mine}`,
        );
      }
      seen.set(s, n);
      const prev = sizes.get(s);
      if (prev === undefined || prev === 1) sizes.set(s, n);
      else if (n !== 1 && n !== prev) {
        fail(
          `subscript ${letterOf(s)} has size ${n} for operand ${i} which does not broadcast with previously seen size ${prev}`,
        );
      }
    });
  });
  // the output's subscripts
  let out: number[];
  if (arrow >= 0) {
    const rhs = parseTerms(equation.slice(arrow + 2), arrow + 2, true)[0];
    out = [];
    for (const s of rhs) {
      if (s === ELLIPSIS) out.push(...ellSyms);
      else {
        if (!sizes.has(s))
          fail(`output subscript ${letterOf(s)} does not appear in the equation for any input operand`);
        if (out.includes(s)) fail(`output subscript ${letterOf(s)} appears more than once in the output`);
        out.push(s);
      }
    }
  } else {
    const count = new Map<number, number>();
    for (const term of terms) for (const s of term) if (s !== ELLIPSIS) count.set(s, (count.get(s) ?? 0) + 1);
    out = [
      ...ellSyms,
      ...[...count.entries()]
        .filter(([, c]) => c === 1)
        .map(([s]) => s)
        .sort((p, q) => p - q),
    ];
  }
  // each operand with its repeated subscripts reduced to their diagonal
  const ops: Operand[] = operands.map((t, i) => {
    let o: Operand = { t, syms: symsOf[i] };
    for (;;) {
      const j = o.syms.findIndex((s, d) => o.syms.indexOf(s) !== d);
      if (j < 0) return o;
      const first = o.syms.indexOf(o.syms[j]);
      o = {
        t: diagonal(o.t, 0, first, j),
        syms: [...o.syms.filter((_, d) => d !== first && d !== j), o.syms[j]],
      };
    }
  });
  const outSet = new Set(out);
  /** Subscripts still needed after operand k: the output's and those of the later operands. */
  const keepAfter = (k: number) => new Set([...out, ...ops.slice(k + 1).flatMap((o) => o.syms)]);
  let cur = sumAway(ops[0], (s) => !keepAfter(0).has(s));
  for (let i = 1; i < ops.length; i++) {
    const keep = keepAfter(i);
    const next = sumAway(ops[i], (s) => !keep.has(s) && !cur.syms.includes(s));
    cur = sumAway(cur, (s) => !keep.has(s) && !next.syms.includes(s));
    cur = contractPair(cur, next, keep);
  }
  cur = sumAway(cur, (s) => !outSet.has(s));
  return permute(
    cur.t,
    out.map((s) => cur.syms.indexOf(s)),
  );
}

const isTensor = (v: unknown): v is Tensor => v instanceof Tensor;
type EinsumArgs = readonly (string | Tensor | readonly Tensor[])[];
const argsParam: Param<"args", EinsumArgs, false> & { readonly varargs: true } = {
  name: "args",
  kind: k.test<EinsumArgs>(
    "equation (str) followed by Tensors (or one list of Tensors)",
    (v) =>
      Array.isArray(v) &&
      typeof v[0] === "string" &&
      (v.slice(1).every(isTensor) || (v.length === 2 && Array.isArray(v[1]) && v[1].every(isTensor))),
  ),
  optional: false,
  default: undefined,
  varargs: true,
};

/**
 * `einsum(equation, *operands)`: `einsum("ij,jk->ik", a, b)`, `einsum("bij,bjk", [a, b])`, `einsum("ii", m)`,
 * `einsum("...ij->...ji", x)`. PyTorch's sublist form (`einsum(a, [0, 1], b, [1, 2])`) is not supported.
 */
export const einsum = op(signature("einsum", [argsParam]), ({ args }): Tensor => {
  const [equation, ...rest] = args;
  if (typeof equation !== "string")
    throw new ArgumentError("einsum(): the first argument must be the equation");
  const operands = (rest.length === 1 && Array.isArray(rest[0]) ? rest[0] : rest) as readonly Tensor[];
  return einsumImpl(equation, operands);
});
