/**
 * The backward engine, micrograd-sized: each recorded op leaves a node holding its derivative closure;
 * `backward()` walks the graph in dependency order (iteratively: a 10,000-op chain does not touch the
 * stack), sums gradients into each node, reduces broadcast gradients to their input's shape in one place, and
 * accumulates into leaves' `.grad`.
 */
import {
  fmtShape,
  type GradFn,
  installAutograd,
  isGradEnabled,
  keep,
  type OpRecord,
  onesLike,
  setGradEnabled,
  type Tensor,
} from "@cinder/tensor";

interface InputMeta {
  shape: readonly number[];
  dtype: Tensor["dtype"];
}

type Edge = readonly [GradFn | null, number];
/** The edge of an input that needs no gradient (shared: edges are read-only). */
const NO_EDGE: Edge = Object.freeze([null, 0] as const);
const NO_SAVED: readonly Tensor[] = Object.freeze([]);
const NO_VERSIONS: readonly number[] = Object.freeze([]);

/** An interior node: PyTorch's `MulBackward0` and friends. */
export class Node implements GradFn {
  /** This node as the edge of the tensor it produced (made once, at its first use as an input). */
  edge: Edge | null = null;
  /** The versions of `saved` when recorded (checked before the derivative runs). */
  versions: readonly number[];
  constructor(
    readonly name: string,
    readonly nextFunctions: readonly Edge[],
    /** Derivative closure; null once the graph is freed. */
    public backwardFn: OpRecord["backward"] | null,
    readonly inputs: readonly (InputMeta | null)[],
    /** Tensors the derivative reads; released with the closure when the graph is freed. */
    public saved: readonly Tensor[],
  ) {
    if (saved.length === 0) this.versions = NO_VERSIONS;
    else {
      const v: number[] = [];
      for (let i = 0; i < saved.length; i++) v.push(saved[i].version);
      this.versions = v;
    }
  }
  toString(): string {
    return `<${this.name}>`;
  }
}

/** The node that accumulates into a leaf's `.grad`. */
export class AccumulateGrad implements GradFn {
  readonly name = "AccumulateGrad";
  readonly nextFunctions = [] as const;
  /** The leaf's edge, shared by every node that uses the leaf. */
  readonly edge: Edge = [this, 0];
  constructor(readonly variable: Tensor) {}
  toString(): string {
    return "<AccumulateGrad>";
  }
}

const accumulators = new WeakMap<Tensor, AccumulateGrad>();
/** Non-leaf tensors whose gradient `retainGrad()` asked to keep, by their node. */
const retained = new WeakMap<GradFn, WeakRef<Tensor>>();

function edgeOf(t: Tensor | null): Edge {
  if (t === null || !t.requiresGrad) return NO_EDGE;
  const fn = t.gradFn;
  if (fn !== null) {
    if (fn instanceof Node) {
      if (fn.edge === null) fn.edge = [fn, 0];
      return fn.edge;
    }
    return [fn, 0];
  }
  let acc = accumulators.get(t);
  if (acc === undefined) {
    acc = new AccumulateGrad(t);
    accumulators.set(t, acc);
  }
  return acc.edge;
}

/** The hook `recordOp` calls: one node per recorded op (no closures or temporary arrays made here). */
function record(rec: OpRecord): void {
  const ins = rec.inputs;
  const next: Edge[] = [];
  const meta: (InputMeta | null)[] = [];
  for (let i = 0; i < ins.length; i++) {
    const t = ins[i];
    next.push(edgeOf(t));
    meta.push(t ? { shape: t.shape, dtype: t.dtype } : null);
  }
  const saved = rec.saved;
  const node = new Node(
    rec.name,
    next,
    rec.backward,
    meta,
    saved === undefined || saved.length === 0 ? NO_SAVED : saved,
  );
  rec.output.gradFn = node;
  rec.output.requiresGrad = true;
}

/** Sum a broadcast gradient down to `shape` (the one place broadcasting is undone). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  let r = g;
  if (lead > 0) r = r.sum({ dim: Array.from({ length: lead }, (_, i) => i) });
  const dims = shape.map((d, i) => (d === 1 && r.shape[i] !== 1 ? i : -1)).filter((i) => i >= 0);
  if (dims.length) r = r.sum({ dim: dims, keepdim: true });
  return r.ndim === shape.length ? r : r.reshape(shape);
}

/** An indexed loop (array methods take generic paths on `Size`, an Array subclass). */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Options of `tensor.backward()` and `autograd.backward()`: PyTorch's `retain_graph` and `create_graph`. */
export interface BackwardOptions {
  /** Keep the graph (its saved tensors) for another backward pass. */
  retainGraph?: boolean;
  /** Record the backward computation itself, for higher-order gradients. */
  createGraph?: boolean;
}

/**
 * Run the graph backwards from `roots` with seed gradients. With `capture`, gradients reaching those nodes are
 * returned instead of being accumulated into leaves (autograd.grad).
 */
export function runBackward(
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  opts: BackwardOptions,
  capture?: readonly GradFn[],
): Map<GradFn, Tensor> {
  const grads = new Map<GradFn, Tensor>();
  // storages a leaf (or a retained gradient, or the caller) already owns: never given to a second leaf
  const handed = new Set<unknown>();
  for (const t of seeds) handed.add(t.storage);
  const starts: GradFn[] = [];
  for (let i = 0; i < roots.length; i++) {
    const node = edgeOf(roots[i])[0];
    if (!node) {
      throw new Error(
        "element 0 of tensors does not require grad and does not have a grad_fn (set requiresGrad on an input, or call backward on a result computed from one)",
      );
    }
    addGrad(grads, node, seeds[i]);
    starts.push(node);
  }

  // count, for every reachable node, the edges that lead into it (a node is seen once it has an entry)
  const deps = new Map<GradFn, number>();
  for (const n of starts) deps.set(n, 0);
  const stack = starts.slice();
  while (stack.length) {
    const edges = (stack.pop() as GradFn).nextFunctions;
    for (let i = 0; i < edges.length; i++) {
      const next = edges[i][0];
      if (!next) continue;
      const d = deps.get(next);
      if (d === undefined) {
        deps.set(next, 1);
        stack.push(next);
      } else deps.set(next, d + 1);
    }
  }

  const captured = new Map<GradFn, Tensor>();
  const captureSet = capture ? new Set(capture) : null;
  const ready = starts.filter((n) => !deps.get(n));
  // derivatives run with gradient recording on only for createGraph (as `enableGrad`/`noGrad` would set it)
  const mode = opts.createGraph === true;
  const createGraph = opts.createGraph ?? false;
  while (ready.length) {
    const node = ready.pop() as GradFn;
    const g = grads.get(node);
    grads.delete(node);
    if (captureSet?.has(node) && g) captured.set(node, g);
    const keepT = retained.get(node)?.deref();
    if (keepT && g) {
      keepT.grad = keep(g.detach());
      handed.add(g.storage);
    }
    if (node instanceof AccumulateGrad) {
      if (g && !captureSet) accumulate(node.variable, g, createGraph, handed);
    } else if (node instanceof Node && g) {
      const fn = node.backwardFn;
      if (!fn) {
        throw new Error(
          `Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed) at ${node.name}. Specify retainGraph: true if you need to backward through the graph a second time.`,
        );
      }
      const saved = node.saved;
      for (let i = 0; i < saved.length; i++) {
        const t = saved[i];
        if (t.version !== node.versions[i]) {
          throw new Error(
            `one of the variables needed for gradient computation has been modified by an inplace operation: [${t.dtype} ${fmtShape(t.shape)}], used by ${node.name}, is at version ${t.version}; expected version ${node.versions[i]} instead.`,
          );
        }
      }
      const prev = isGradEnabled();
      setGradEnabled(mode);
      try {
        const inGrads = fn(g);
        if (!opts.retainGraph) {
          node.backwardFn = null;
          node.saved = NO_SAVED;
        }
        const edges = node.nextFunctions;
        for (let i = 0; i < edges.length; i++) {
          const next = edges[i][0];
          const gi = inGrads[i];
          const meta = node.inputs[i];
          if (!next || !gi || !meta) continue;
          let r = sumToShape(gi, meta.shape);
          if (r.dtype !== meta.dtype) r = r.to(meta.dtype);
          setGradEnabled(prev); // gradients are summed in the caller's mode, as before
          addGrad(grads, next, r);
          setGradEnabled(mode);
        }
      } finally {
        setGradEnabled(prev);
      }
    }
    const edges = node.nextFunctions;
    for (let i = 0; i < edges.length; i++) {
      const next = edges[i][0];
      if (!next) continue;
      const left = (deps.get(next) as number) - 1;
      deps.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return captured;
}

function addGrad(grads: Map<GradFn, Tensor>, node: GradFn, g: Tensor): void {
  const cur = grads.get(node);
  grads.set(node, cur ? cur.add(g) : g);
}

/**
 * Add `g` into `leaf.grad`. The first gradient becomes the leaf's own buffer (kept out of any enclosing tidy()
 * scope, like the parameter itself): `g` itself when it is a dense tensor no one else was given (`handed`
 * tracks storages already owned by a leaf, a retained gradient or the caller's seed), else a copy.
 */
function accumulate(leaf: Tensor, g: Tensor, createGraph: boolean, handed: Set<unknown>): void {
  if (leaf.grad === null) {
    const dense =
      g.offset === 0 && g.isContiguous() && g.storage.length === g.numel() && g.dtype === leaf.dtype;
    if (createGraph) leaf.grad = keep(g.clone());
    else if (dense && !handed.has(g.storage)) leaf.grad = keep(g.detach());
    else leaf.grad = keep(withoutGrad(copyDetached, g));
    handed.add(leaf.grad.storage);
  } else if (createGraph) {
    leaf.grad = keep(leaf.grad.add(g));
  } else {
    withoutGrad(addInto, leaf.grad, g);
  }
}

const copyDetached = (g: Tensor): Tensor => g.detach().clone();
const addInto = (acc: Tensor, g: Tensor): Tensor => acc.add_(g);

/** `noGrad(() => f(a, b))` without a closure per call (f is synchronous). */
function withoutGrad(f: (a: Tensor, b: Tensor) => Tensor, a: Tensor, b?: Tensor): Tensor {
  const prev = isGradEnabled();
  setGradEnabled(false);
  try {
    return f(a, b as Tensor);
  } finally {
    setGradEnabled(prev);
  }
}

function backward(t: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  let seed = gradient;
  if (!seed) {
    if (t.numel() !== 1) {
      throw new Error(
        `grad can be implicitly created only for scalar outputs: backward() was called on a tensor of shape ${fmtShape(t.shape)}; pass a gradient of that shape, e.g. t.backward(onesLike(t))`,
      );
    }
    seed = onesLike(t);
  } else if (gradient && (gradient.ndim !== t.ndim || gradient.shape.some((d, i) => d !== t.shape[i]))) {
    throw new Error(
      `backward(gradient): gradient has shape ${fmtShape(gradient.shape)} but the tensor has shape ${fmtShape(t.shape)}`,
    );
  }
  runBackward([t], [seed], options);
}

/** Keep the gradient of a non-leaf tensor in `.grad` after backward. */
export function retainGradOf(t: Tensor): void {
  if (t.gradFn) retained.set(t.gradFn, new WeakRef(t));
}

export function accumulatorOf(t: Tensor): GradFn | null {
  return edgeOf(t)[0];
}

export function install(): void {
  installAutograd({ record, backward, retainGrad: retainGradOf });
}
