/**
 * Lazy elementwise fusion. On a backend that runs fused programs (protocol version 2, `elementwise`), an elementwise
 * op does not run: its result is a tensor whose storage holds a pending program (`Pending`), an `Expr` over concrete
 * input views. A later elementwise op that consumes the whole pending
 * tensor inlines its program instead of reading it, so `relu(x * 2 + 1)` becomes one program, one pass and one
 * allocation. Anything that needs the data (a read, any other kernel, a view that is not the whole tensor) reaches
 * `Storage.handle`, which runs the program then; a pending tensor nobody reads never runs.
 *
 * Why this stays eager in meaning:
 * - Shapes, dtypes and devices are checked when the op is called, so errors surface there, as before.
 * - A program captures its inputs' buffers. An in-place write to a captured storage (every write site takes
 *   `Tensor.writeView_`, which calls `Storage.beforeWrite`) first moves that storage to a copy of its buffer
 *   (copy-on-write), so pending programs keep reading the values they were given. Each program records its inputs'
 *   versions; a program that finds an input written in place without that copy throws instead of computing a wrong
 *   answer (the test suite would catch a write site that forgot `writeView_`).
 * - Buffers the user owns (`fromTypedArray` wraps them without a copy) are never captured: an op reading one runs
 *   at once, so later writes to the user's array do not reach it.
 * - Each node rounds to its dtype, so a fused program gives the same bits as the ops run one by one.
 *
 * Fan-out: a pending result is inlined into one program only. A second program reading it computes it first and
 * reads its buffer; the first program, which inlined it, reads that buffer too when it runs (`lower`), so a shared
 * node (an LSTM gate, `tanh` in GELU and its gradient) is evaluated once, not once per consumer. A program that has
 * run cannot hand back what it inlined, so one that runs into its own buffer first computes the costly results
 * (transcendental unary ops, `COSTLY`) it inlined: read again later, they are not evaluated again.
 */
import type { Backend, Expr, FusedReduce, View } from "./backend";
import type { DType } from "./dtype";
import { contiguousStrides, isContiguous, sameShape } from "./shape";
import type { Storage } from "./storage";

/** A program waiting to run: `expr` over `inputs` (views broadcast to `shape`). */
export interface Pending {
  readonly expr: Expr;
  readonly inputs: readonly View[];
  /** Each input's storage and its version when captured (the missed copy-on-write check). */
  readonly sources: readonly Storage[];
  readonly versions: readonly number[];
  readonly shape: readonly number[];
  /** Node count of `expr`. */
  readonly size: number;
  /** The pending results inlined into `expr` (transitively): their subtrees, read from their buffers once computed. */
  readonly shared: readonly Inlined[];
  /** Whether `expr` has a `COSTLY` node (a reduction reading this program computes it into its buffer first). */
  readonly costly: boolean;
  /** Whether a program has inlined this one (a second consumer computes it instead). */
  inlined: boolean;
}

/** A pending result inlined into a program: `expr` is its subtree there, valid while `storage` is at `version`. */
export interface Inlined {
  readonly storage: Storage;
  readonly version: number;
  readonly expr: Expr;
}

/** Programs grow by inlining up to this many nodes and inputs; beyond that an operand is computed first. */
const MAX_NODES = 48;
const MAX_INPUTS = 8;

let enabled = readEnv();

function readEnv(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.CINDER_FUSION !== "0";
}

/**
 * Turn lazy elementwise fusion on or off (on by default; `CINDER_FUSION=0` in the environment starts with it off).
 * Off, every op runs as it is called. Returns the previous setting. Results are the same bits either way.
 */
export function setFusion(on: boolean): boolean {
  if (typeof on !== "boolean") throw new TypeError(`setFusion: expected a boolean, got ${typeof on}`);
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether lazy elementwise fusion is on (`setFusion`, `CINDER_FUSION=0`). */
export function fusionEnabled(): boolean {
  return enabled;
}

/**
 * Results with fewer elements than this run when called: for them building and later running a program costs more
 * than the kernel (a 4-element add: ~1 us eager). Scalars (constant programs) stay lazy at any size.
 */
export const FUSE_MIN_NUMEL = 64;

/**
 * Whether ops on this backend build programs instead of running, for a result of `numel` elements; without a size,
 * whether the backend fuses at all (constant programs, which cost no kernel, stay lazy at any size).
 */
export function fuses(b: Backend, numel = FUSE_MIN_NUMEL): boolean {
  return enabled && numel >= FUSE_MIN_NUMEL && b.elementwise !== undefined;
}

/**
 * What `fusionStats()` counts: programs built, programs run, nodes run, copy-on-write copies, inlined results a
 * program read from their buffer instead of computing them again (`reused`), and programs inlined with their input
 * numbers unchanged, so their nodes were reused without a renumbering walk (`inlinedAsIs`).
 */
const counters = { built: 0, run: 0, nodes: 0, copies: 0, reused: 0, inlinedAsIs: 0 };

/**
 * Counters of the fused path since the start (for tests and profiling): programs built and run, nodes run, copies on
 * write, and shared results reused from their buffer.
 */
export function fusionStats(): Readonly<typeof counters> {
  return { ...counters };
}

/** The part of a tensor a program operand needs (kept structural so this module does not import Tensor). */
export interface Operand {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /** This tensor as a kernel view broadcast to `shape` (realizes a pending storage). */
  kernelView(shape: readonly number[]): View;
}

/** Builds one program: operands become inputs or inlined programs. */
export class ProgramBuilder {
  readonly inputs: View[] = [];
  readonly sources: Storage[] = [];
  readonly versions: number[] = [];
  readonly shared: Inlined[] = [];
  size = 0;
  /** Whether a `COSTLY` node was added or inlined. */
  costly = false;
  /** Set when an operand is a user-owned buffer: the program must run now. */
  eager = false;

  constructor(readonly shape: readonly number[]) {}

  /** An operand, seen broadcast to the program's shape. */
  operand(t: Operand): Expr {
    const st = t.storage;
    const p = st.pending;
    if (p !== null && this.inlinable(t, p)) return this.inline(st, p);
    const v = t.kernelView(this.shape);
    if (st.external) this.eager = true;
    return this.input(v, st);
  }

  constant(value: number, dtype: DType): Expr {
    this.size++;
    return { op: "const", value, dtype };
  }

  node<E extends Expr>(e: E): E {
    this.size++;
    if (e.op === "unary" && COSTLY.has(e.fn)) this.costly = true;
    return e;
  }

  private inlinable(t: Operand, p: Pending): boolean {
    if (this.size + p.size > MAX_NODES || this.inputs.length + p.inputs.length > MAX_INPUTS) return false;
    // an input-free program (a constant) reads the same value everywhere: any view of it is that value
    if (p.inputs.length === 0) return true;
    // inlined by another program already: computing it once and reading the buffer beats evaluating it twice
    if (p.inlined && !this.shared.some((s) => s.storage.pending === p)) return false;
    return (
      t.offset === 0 &&
      sameShape(t.shape, this.shape) &&
      sameShape(t.shape, p.shape) &&
      isContiguous(t.shape, t.strides)
    );
  }

  private input(v: View, st: Storage): Expr {
    this.size++;
    return { op: "input", index: this.indexOf(v, st), dtype: v.dtype };
  }

  /** The input number of view `v` of `st`, added when new (the same view read twice is one input). */
  private indexOf(v: View, st: Storage): number {
    const ins = this.inputs;
    for (let i = 0; i < ins.length; i++) {
      const u = ins[i];
      if (u.handle === v.handle && u.offset === v.offset && sameShape(u.strides, v.strides)) return i;
    }
    ins.push(v);
    this.sources.push(st);
    this.versions.push(st.version);
    return ins.length - 1;
  }

  private inline(st: Storage, p: Pending): Expr {
    // p's input i becomes input map[i] here; map stays null while every input keeps its number
    let map: number[] | null = null;
    for (let i = 0; i < p.inputs.length; i++) {
      const k = this.indexOf(p.inputs[i], p.sources[i]);
      if (map === null && k !== i) map = Array.from({ length: i }, (_, j) => j);
      map?.push(k);
    }
    this.size += p.size;
    if (p.costly) this.costly = true;
    if (map === null) {
      // p's inputs keep their numbers here (the first operand of a program, or a constant): remap would return
      // every node of p as it is, so skip its walk and map (counted, constants aside: tests check the bits)
      if (p.inputs.length > 0) {
        counters.inlinedAsIs++;
        p.inlined = true;
        this.shared.push({ storage: st, version: st.version, expr: p.expr });
        for (const s of p.shared) this.shared.push(s);
      }
      return p.expr;
    }
    const memo = new Map<Expr, Expr>();
    const expr = remap(p.expr, map, memo);
    p.inlined = true;
    this.shared.push({ storage: st, version: st.version, expr });
    for (const s of p.shared) this.shared.push({ ...s, expr: memo.get(s.expr) ?? s.expr });
    return expr;
  }

  /** The finished program for a result of `dtype` stored as `st`. */
  finish(expr: Expr): Pending {
    counters.built++;
    for (const s of this.sources) s.captured = true;
    return {
      expr,
      inputs: this.inputs,
      sources: this.sources,
      versions: this.versions,
      shape: this.shape,
      size: this.size,
      shared: this.shared,
      costly: this.costly,
      inlined: false,
    };
  }
}

/** `e` with its inputs renumbered by `map`; `memo` maps each node of `e` to its copy (shared subtrees stay shared). */
function remap(e: Expr, map: readonly number[], memo: Map<Expr, Expr>): Expr {
  let r = memo.get(e);
  if (r === undefined) {
    r =
      e.op === "input"
        ? map[e.index] === e.index
          ? e
          : { op: "input", index: map[e.index], dtype: e.dtype }
        : withChildren(e, (c) => remap(c, map, memo));
    memo.set(e, r);
  }
  return r;
}

/** `e` with `f` applied to its operands (`e` itself when none changes). */
function withChildren(e: Expr, f: (c: Expr) => Expr): Expr {
  switch (e.op) {
    case "input":
    case "const":
      return e;
    case "unary":
    case "cast": {
      const x = f(e.x);
      return x === e.x ? e : { ...e, x };
    }
    case "binary": {
      const a = f(e.a);
      const b = f(e.b);
      return a === e.a && b === e.b ? e : { ...e, a, b };
    }
    case "where": {
      const cond = f(e.cond);
      const a = f(e.a);
      const b = f(e.b);
      return cond === e.cond && a === e.a && b === e.b ? e : { ...e, cond, a, b };
    }
  }
}

/** A program ready to run: its expression, inputs and node count. */
interface Lowered {
  readonly expr: Expr;
  readonly inputs: readonly View[];
  readonly size: number;
}

/**
 * The program `expr` over `inputs` reading the buffers of the inlined results in `shared` that have been computed
 * since it was built (a later consumer computed them), rather than evaluating them again. Inputs no longer read are
 * dropped; a program that would need more inputs than a program may have stays as it was.
 */
function lower(
  expr: Expr,
  inputs: readonly View[],
  size: number,
  shared: readonly Inlined[],
  shape: readonly number[],
): Lowered {
  // most programs inlined nothing computed since: no map for them
  let done: Map<Expr, Storage> | null = null;
  for (const s of shared) {
    if (!s.storage.ready || s.storage.version !== s.version) continue;
    done ??= new Map();
    done.set(s.expr, s.storage);
  }
  if (done === null) return { expr, inputs, size };
  const l = new Lowering(inputs, shape, done);
  const lowered = l.walk(expr);
  if (l.used.length > MAX_INPUTS) return { expr, inputs, size };
  for (const k of l.ids.keys()) if (typeof k !== "number") counters.reused++;
  return { expr: lowered, inputs: l.used, size: l.nodes };
}

/**
 * `lower`'s walk: methods of a class rather than closures made per call, which esbuild's keepNames (tsup's build,
 * tsx) would wrap in `__name()`, a defineProperty each.
 */
class Lowering {
  readonly used: View[] = [];
  readonly ids = new Map<number | Storage, number>();
  readonly memo = new Map<Expr, Expr>();
  nodes = 0;
  private readonly visit: (e: Expr) => Expr;

  constructor(
    readonly inputs: readonly View[],
    readonly shape: readonly number[],
    readonly done: ReadonlyMap<Expr, Storage>,
  ) {
    // assigned, not a class field: keepNames names a field's arrow function (a defineProperty per instance)
    this.visit = (e) => this.walk(e);
  }

  read(key: number | Storage, dtype: DType): Expr {
    let i = this.ids.get(key);
    if (i === undefined) {
      i = this.used.length;
      this.ids.set(key, i);
      if (typeof key === "number") this.used.push(this.inputs[key]);
      else {
        const shape = this.shape;
        this.used.push({
          handle: key.handle,
          dtype: key.dtype,
          shape,
          strides: contiguousStrides(shape),
          offset: 0,
        });
      }
    }
    return { op: "input", index: i, dtype };
  }

  walk(e: Expr): Expr {
    let r = this.memo.get(e);
    if (r === undefined) {
      const st = this.done.get(e);
      if (st !== undefined) r = this.read(st, e.dtype);
      else r = e.op === "input" ? this.read(e.index, e.dtype) : withChildren(e, this.visit);
      this.memo.set(e, r);
    }
    this.nodes++;
    return r;
  }
}

/**
 * Unary ops costing far more than a store and a load (~20 ns an element in JS against ~1 ns). A program that runs
 * into its own buffer computes the results of these it inlined into their buffers first and reads them: a later
 * reader (an activation's gradient reading the activation) then finds them computed instead of evaluating them again.
 */
const COSTLY: ReadonlySet<string> = new Set([
  "exp",
  "expm1",
  "log",
  "log1p",
  "log2",
  "log10",
  "exp2",
  "sin",
  "cos",
  "tan",
  "tanh",
  "sigmoid",
  "erf",
  "erfinv",
  "asin",
  "acos",
  "atan",
  "sinh",
  "cosh",
  "asinh",
  "acosh",
  "atanh",
]);

/** Run a pending program into `out` (a fresh buffer of the pending storage). */
export function runPending(b: Backend, p: Pending, out: View): void {
  for (let i = 0; i < p.sources.length; i++) {
    const s = p.sources[i];
    if (s.version !== p.versions[i] && s.handleIs(p.inputs[i].handle)) {
      throw new Error(
        "internal error: a tensor read by a pending fused op was written in place without copy-on-write (a write site in Cinder does not use writeView_); please report this",
      );
    }
  }
  counters.run++;
  if (p.expr.op === "const") {
    counters.nodes += p.size;
    b.fill(out, p.expr.value);
    return;
  }
  for (const s of p.shared) {
    const q = s.storage.pending;
    if (q !== null && q.expr.op === "unary" && COSTLY.has(q.expr.fn)) void s.storage.handle; // computed (see COSTLY)
  }
  const l = lower(p.expr, p.inputs, p.size, p.shared, p.shape);
  counters.nodes += l.size;
  (b.elementwise as NonNullable<Backend["elementwise"]>)(l.expr, l.inputs, out);
}

/**
 * Run a program now into `out` (a reduction at the end of a pending chain: nothing is left pending).
 *
 * A reduction of a whole pending result leaves that result pending, so a later reader (the matmuls reading the
 * gradient whose batch sum is a bias gradient; `e.div(e.sum(1))`) would evaluate its program a second time. When
 * the program has a `COSTLY` node, it is computed into its own buffer first and the reduction reads that buffer:
 * a store and a load per element against a transcendental per element for every later reader. Cheap programs are
 * inlined as before (storing them costs about what evaluating them again does).
 */
export function runNow(b: Backend, pb: ProgramBuilder, expr: Expr, out: View, reduce?: FusedReduce): void {
  if (reduce !== undefined) {
    for (const s of pb.shared) {
      // the reduced tensor itself is the inlined result whose subtree is the whole expression
      if (s.expr === expr && s.storage.pending?.costly === true) void s.storage.handle;
    }
  }
  counters.built++;
  counters.run++;
  const l = lower(expr, pb.inputs, pb.size, pb.shared, pb.shape);
  counters.nodes += l.size;
  (b.elementwise as NonNullable<Backend["elementwise"]>)(l.expr, l.inputs, out, reduce);
}

/** Whether `t` is a whole pending result a program would inline (rather than compute first). */
export function isWholePending(t: Operand): boolean {
  const p = t.storage.pending;
  return (
    p !== null &&
    t.offset === 0 &&
    sameShape(t.shape, p.shape) &&
    isContiguous(t.shape, t.strides) &&
    p.size < MAX_NODES
  );
}

export function countCopy(): void {
  counters.copies++;
}
