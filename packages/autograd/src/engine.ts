/**
 * The backward engine, micrograd-sized: each recorded op leaves a node holding its derivative closure;
 * `backward()` walks the graph in dependency order (iteratively: a 10,000-op chain does not touch the
 * stack), sums gradients into each node, reduces broadcast gradients to their input's shape in one place, and
 * accumulates into leaves' `.grad`.
 */
import {
  type AutogradHooks,
  fmtShape,
  type GradFn,
  installAutograd,
  isGradEnabled,
  keep,
  type OpRecord,
  onesLike,
  type RemovableHandle,
  setGradEnabled,
  type Tensor,
  type TensorHook,
  tidyMade,
  zeros,
} from "@cinder/tensor";

interface InputMeta {
  shape: readonly number[];
  dtype: Tensor["dtype"];
}

/** A (node, output number) pair: where a gradient goes (PyTorch's `next_functions` entries). */
export type Edge = readonly [GradFn | null, number];
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
  /** Forward intermediates this node's graph owns (intermediates.ts), disposed by the pass that frees it. */
  owns: readonly Tensor[] | null = null;
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

/** What a custom Function's node knows of one output: enough to make its zero gradient. */
export interface OutputMeta {
  shape: readonly number[];
  dtype: Tensor["dtype"];
  device: Tensor["device"];
}

/**
 * The node of a custom `autograd.Function` (`MyExpBackward`): one node for all of the Function's outputs, whose
 * gradients reach `run` together (a missing one as zeros, as PyTorch materializes them).
 */
export class FunctionNode extends Node {
  /** Each output's edge (the edge of output i is `[this, i]`). */
  readonly outputEdges: readonly Edge[];
  /** Whether outputs no gradient reached get zeros (PyTorch's `ctx.set_materialize_grads`), else null. */
  materialize = true;
  constructor(
    name: string,
    nextFunctions: readonly Edge[],
    inputs: readonly (InputMeta | null)[],
    /** The outputs' metadata (null for a non-tensor output). */
    readonly outputs: readonly (OutputMeta | null)[],
    /** The user's backward, given one gradient per output. */
    readonly run: (grads: readonly (Tensor | null)[]) => readonly (Tensor | null | undefined)[],
    /** Frees the saved tensors (after a backward pass without `retainGraph`). */
    readonly release: () => void,
  ) {
    super(name, nextFunctions, null, inputs, NO_SAVED);
    const edges: Edge[] = [];
    for (let i = 0; i < outputs.length; i++) edges.push([this, i]);
    this.edge = edges[0] ?? null;
    this.outputEdges = edges;
  }
}

/** The output number of tensors made by a custom Function with several outputs (others are output 0). */
const outputNumbers = new WeakMap<Tensor, number>();

/** Make `t` output `i` of `node` (a custom Function's output, or an input it modified in place). */
export function setOutput(t: Tensor, node: FunctionNode, i: number): void {
  t.gradFn = node;
  t.requiresGrad = true;
  if (node.outputs.length > 1) outputNumbers.set(t, i);
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
/**
 * Non-leaf tensors whose gradient `retainGrad()` asked to keep, by their slot: the node, or for an output of a
 * custom Function with several outputs, that output's edge.
 */
const retained = new WeakMap<object, WeakRef<Tensor>>();
/** Tensor hooks (`registerHook`), by slot as `retained` (a leaf's slot is its AccumulateGrad), in order. */
const tensorHooks = new WeakMap<object, { hook: TensorHook }[]>();
/** Whether any hook was ever registered (until then backward looks none up). */
let anyHooks = false;

/** The key of the gradient slot an edge leads to (see `retained`). */
function slotOf(edge: Edge): object | null {
  const node = edge[0];
  if (node instanceof FunctionNode && node.outputs.length > 1) return edge;
  return node;
}

/** The edge a gradient w.r.t. `t` goes to: its node and output number, its AccumulateGrad, or none. */
export function edgeOf(t: Tensor | null): Edge {
  if (t === null || !t.requiresGrad) return NO_EDGE;
  const fn = t.gradFn;
  if (fn !== null) {
    if (fn instanceof Node) {
      if (fn instanceof FunctionNode && fn.outputs.length > 1)
        return fn.outputEdges[outputNumbers.get(t) ?? 0];
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

/** A gradient summed down to its input's shape and cast to its dtype (a one-tensor array, for `tidyMade`). */
function conform([g, meta]: readonly [Tensor, InputMeta]): [Tensor] {
  const r = sumToShape(g, meta.shape);
  return [r.dtype === meta.dtype ? r : r.to(meta.dtype)];
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
 *
 * The gradient tensors the engine makes and consumes (derivative outputs, their broadcast reductions, partial
 * sums, a seed it was given to own) are disposed when the pass ends, and a formula's own temporaries as soon as
 * it returns: without a garbage collection they would hold device memory. Only tensors made here and never
 * shown to the caller are disposed: a hook's argument and result, an autograd.grad output, a retained or
 * accumulated `.grad` (a separate tensor object) are not. With `createGraph` nothing is (the new graph uses them).
 */
export function runBackward(
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  opts: BackwardOptions,
  capture?: readonly object[],
  ownedSeeds = false,
): Map<object, Tensor> {
  const pass = { accumulates: capture === undefined, callbacks: [] as (() => void)[] };
  passes.push(pass);
  try {
    const captured = runNodes(roots, seeds, opts, capture, ownedSeeds);
    // (a callback may queue another: it runs too, as PyTorch's final callbacks)
    for (let i = 0; i < pass.callbacks.length; i++) pass.callbacks[i]();
    return captured;
  } finally {
    passes.pop();
  }
}

/** A backward pass in progress, as {@link currentBackwardPass} shows it. */
export interface BackwardPass {
  /** True for `backward()` (gradients accumulate into leaves), false for `autograd.grad` (they are returned). */
  readonly accumulates: boolean;
  /**
   * PyTorch's `Variable._execution_engine.queue_callback`: run `callback` once every node of this pass has run,
   * before `backward()` returns (a node that hands work to another thread collects its result there).
   */
  queueCallback(callback: () => void): void;
}

const passes: { accumulates: boolean; callbacks: (() => void)[] }[] = [];

/** The innermost backward pass running now (a node's backward asks), or null outside backward. */
export function currentBackwardPass(): BackwardPass | null {
  const pass = passes[passes.length - 1];
  if (pass === undefined) return null;
  return { accumulates: pass.accumulates, queueCallback: (cb) => void pass.callbacks.push(cb) };
}

function runNodes(
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  opts: BackwardOptions,
  capture?: readonly object[],
  ownedSeeds = false,
): Map<object, Tensor> {
  const grads = new Map<GradFn, Pending>();
  // tensors this pass made and no one else can reach, disposed at the end (null: keep all, for createGraph)
  const owned: Set<Tensor> | null = opts.createGraph ? null : new Set();
  if (owned && ownedSeeds) for (const t of seeds) owned.add(t);
  // storages a leaf (or a retained gradient, or the caller) already owns: never given to a second leaf
  const handed = new Set<unknown>();
  for (const t of seeds) handed.add(t.storage);
  const starts: GradFn[] = [];
  for (let i = 0; i < roots.length; i++) {
    const edge = edgeOf(roots[i]);
    const node = edge[0];
    if (!node) {
      throw new Error(
        "element 0 of tensors does not require grad and does not have a grad_fn (set requiresGrad on an input, or call backward on a result computed from one)",
      );
    }
    addGrad(grads, edge, seeds[i]);
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

  const captured = new Map<object, Tensor>();
  const captureSet: Set<object> | null = capture ? new Set(capture) : null;
  const ready = starts.filter((n) => !deps.get(n));
  // derivatives run with gradient recording on only for createGraph (as `enableGrad`/`noGrad` would set it)
  const mode = opts.createGraph === true;
  const createGraph = opts.createGraph ?? false;
  while (ready.length) {
    const node = ready.pop() as GradFn;
    const pending = grads.get(node);
    grads.delete(node);
    let g: Tensor | undefined;
    let slots: (Tensor | null)[] | null = null;
    if (pending instanceof Slots) {
      // a custom Function's outputs: each slot is captured, hooked and retained on its own
      slots = [];
      const edges = (node as FunctionNode).outputEdges;
      for (let i = 0; i < edges.length; i++) {
        slots.push(
          pending.g[i]
            ? prepare(edges[i], pending.g[i] as Tensor, captureSet, captured, mode, handed, owned)
            : null,
        );
      }
    } else if (pending) {
      // (autograd.grad runs no AccumulateGrad, so a leaf's hooks do not run for it, as in PyTorch)
      g =
        node instanceof AccumulateGrad && captureSet
          ? capture1(node, pending, captureSet, captured, owned)
          : prepare(node, pending, captureSet, captured, mode, handed, owned);
    }
    if (node instanceof AccumulateGrad) {
      if (g && !captureSet) accumulate(node.variable, g, createGraph, handed);
    } else if (node instanceof Node && (g || slots)) {
      const fnode = node instanceof FunctionNode ? node : null;
      const fn = node.backwardFn;
      if (!fn && !fnode) {
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
        // (a custom Function's backward is the user's code: what it makes or returns may be kept, so none is owned)
        const inGrads = fnode
          ? fnode.run(materialize(fnode, slots ?? [g as Tensor]))
          : owned
            ? tidyMade(fn as NonNullable<typeof fn>, g as Tensor, owned)
            : (fn as NonNullable<typeof fn>)(g as Tensor);
        if (!opts.retainGraph) {
          if (fnode) fnode.release();
          else node.backwardFn = null;
          node.saved = NO_SAVED;
          // the intermediates are disposed when the pass ends (a node below may still read them)
          if (owned && node.owns) for (const t of node.owns) owned.add(t);
          node.owns = null;
        }
        const edges = node.nextFunctions;
        for (let i = 0; i < edges.length; i++) {
          const edge = edges[i];
          const gi = inGrads[i];
          const meta = node.inputs[i];
          if (!edge[0] || !gi || !meta) continue;
          // reduced in a scope when needed: the reductions' own internal tensors are disposed at once
          const r =
            gi.dtype === meta.dtype && sameShape(gi.shape, meta.shape)
              ? gi
              : owned
                ? tidyMade(conform, [gi, meta], owned)[0]
                : conform([gi, meta])[0];
          setGradEnabled(prev); // gradients are summed in the caller's mode, as before
          addGrad(grads, edge, r, owned);
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
  if (owned) for (const t of owned) t.dispose();
  return captured;
}

/** The gradients pending for a custom Function's node with several outputs, one slot per output. */
class Slots {
  readonly g: (Tensor | undefined)[] = [];
}
type Pending = Tensor | Slots;

function addGrad(grads: Map<GradFn, Pending>, edge: Edge, g: Tensor, owned: Set<Tensor> | null = null): void {
  const node = edge[0] as GradFn;
  const cur = grads.get(node);
  if (node instanceof FunctionNode && node.outputs.length > 1) {
    let slots = cur as Slots | undefined;
    if (slots === undefined) {
      slots = new Slots();
      grads.set(node, slots);
    }
    const i = edge[1];
    const s = slots.g[i];
    const sum = s ? s.add(g) : g;
    if (owned && s) owned.add(sum);
    slots.g[i] = sum;
    return;
  }
  const sum = cur ? (cur as Tensor).add(g) : g;
  if (owned && cur) owned.add(sum);
  grads.set(node, sum);
}

/** autograd.grad's capture of a leaf's gradient (before any hook, as PyTorch captures it). */
function capture1(
  node: object,
  g: Tensor,
  captureSet: Set<object>,
  captured: Map<object, Tensor>,
  owned: Set<Tensor> | null,
): Tensor {
  if (captureSet.has(node)) {
    captured.set(node, g);
    owned?.delete(g);
  }
  return g;
}

/**
 * The gradient of one slot (a node, or an output edge of a custom Function) once complete: captured for
 * autograd.grad, then passed through the slot's tensor hooks in registration order, then kept in the `.grad` of
 * a tensor that asked to retain it (PyTorch 1.13 retains the gradient after every hook).
 */
function prepare(
  slot: object,
  g: Tensor,
  captureSet: Set<object> | null,
  captured: Map<object, Tensor>,
  mode: boolean,
  handed: Set<unknown>,
  owned: Set<Tensor> | null,
): Tensor {
  if (captureSet?.has(slot)) {
    captured.set(slot, g);
    owned?.delete(g);
  }
  if (anyHooks) {
    const hooks = tensorHooks.get(slot);
    if (hooks !== undefined && hooks.length > 0) {
      // the hooks see the gradient and may keep it or what they return: neither is disposed
      owned?.delete(g);
      g = runHooks(hooks, g, mode);
      owned?.delete(g);
    }
  }
  const keepT = retained.get(slot)?.deref();
  if (keepT) {
    keepT.grad = keep(g.detach());
    handed.add(g.storage);
  }
  return g;
}

function runHooks(hooks: readonly { hook: TensorHook }[], g: Tensor, mode: boolean): Tensor {
  const prev = isGradEnabled();
  setGradEnabled(mode);
  try {
    for (const { hook } of hooks.slice()) {
      const r = hook(g);
      if (r === undefined || r === null) continue;
      const name = hook.name || "<anonymous>";
      if (!sameShape(r.shape, g.shape)) throw new Error(`hook '${name}' has changed the size of value`);
      if (r.dtype !== g.dtype) {
        throw new Error(`hook '${name}' has changed the type of value (was ${g.dtype} got ${r.dtype})`);
      }
      if (r.device !== g.device) {
        throw new Error(`hook '${name}' has changed the device of value (was ${g.device} got ${r.device})`);
      }
      g = r;
    }
  } finally {
    setGradEnabled(prev);
  }
  return g;
}

/** One gradient per output of a custom Function: zeros for an output no gradient reached (PyTorch's default). */
function materialize(node: FunctionNode, grads: readonly (Tensor | null | undefined)[]): (Tensor | null)[] {
  const out: (Tensor | null)[] = [];
  for (let i = 0; i < node.outputs.length; i++) {
    const m = node.outputs[i];
    const g = grads[i];
    out.push(
      g ? g : m && node.materialize ? zeros(m.shape as number[], { dtype: m.dtype, device: m.device }) : null,
    );
  }
  return out;
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
  let owned = false;
  if (!seed) {
    if (t.numel() !== 1) {
      throw new Error(
        `grad can be implicitly created only for scalar outputs: backward() was called on a tensor of shape ${fmtShape(t.shape)}; pass a gradient of that shape, e.g. t.backward(onesLike(t))`,
      );
    }
    seed = onesLike(t);
    owned = true;
  } else if (gradient && (gradient.ndim !== t.ndim || gradient.shape.some((d, i) => d !== t.shape[i]))) {
    throw new Error(
      `backward(gradient): gradient has shape ${fmtShape(gradient.shape)} but the tensor has shape ${fmtShape(t.shape)}`,
    );
  }
  runBackward([t], [seed], options, undefined, owned);
}

/** Keep the gradient of a non-leaf tensor in `.grad` after backward. */
export function retainGradOf(t: Tensor): void {
  if (t.gradFn) retained.set(slotOf(edgeOf(t)) as object, new WeakRef(t));
}

/** The gradient slot of `t` (its node, or its AccumulateGrad for a leaf) as autograd.grad captures it. */
export function accumulatorOf(t: Tensor): object | null {
  return slotOf(edgeOf(t));
}

/**
 * `t.registerHook(hook)`: the hook joins its slot's list (a leaf's AccumulateGrad, a non-leaf's node or output);
 * `remove()` takes it out again.
 */
export function registerHook(t: Tensor, hook: TensorHook): RemovableHandle {
  const slot = slotOf(edgeOf(t));
  if (slot === null) throw new Error("cannot register a hook on a tensor that doesn't require gradient");
  let hooks = tensorHooks.get(slot);
  if (hooks === undefined) {
    hooks = [];
    tensorHooks.set(slot, hooks);
  }
  const entry = { hook };
  hooks.push(entry);
  anyHooks = true;
  const list = hooks;
  return {
    remove(): void {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
    },
  };
}

export function install(adopt: AutogradHooks["adopt"]): void {
  installAutograd({ record, backward, retainGrad: retainGradOf, registerHook, adopt });
}
