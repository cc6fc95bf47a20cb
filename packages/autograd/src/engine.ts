/**
 * The backward engine, micrograd-sized: each recorded op leaves a node holding its derivative closure;
 * `backward()` walks the graph in dependency order (iteratively: a 10,000-op chain does not touch the
 * stack), sums gradients into each node, reduces broadcast gradients to their input's shape in one place, and
 * accumulates into leaves' `.grad`.
 */
import {
  enableGrad,
  fmtShape,
  type GradFn,
  installAutograd,
  keep,
  noGrad,
  type OpRecord,
  onesLike,
  type Tensor,
} from "@cinder/tensor";

interface InputMeta {
  shape: readonly number[];
  dtype: Tensor["dtype"];
}

/** An interior node: PyTorch's `MulBackward0` and friends. */
export class Node implements GradFn {
  constructor(
    readonly name: string,
    readonly nextFunctions: readonly (readonly [GradFn | null, number])[],
    /** Derivative closure; null once the graph is freed. */
    public backwardFn: OpRecord["backward"] | null,
    readonly inputs: readonly (InputMeta | null)[],
    readonly saved: readonly { tensor: Tensor; version: number }[],
  ) {}
  toString(): string {
    return `<${this.name}>`;
  }
}

/** The node that accumulates into a leaf's `.grad`. */
export class AccumulateGrad implements GradFn {
  readonly name = "AccumulateGrad";
  readonly nextFunctions = [] as const;
  constructor(readonly variable: Tensor) {}
  toString(): string {
    return "<AccumulateGrad>";
  }
}

const accumulators = new WeakMap<Tensor, AccumulateGrad>();
/** Non-leaf tensors whose gradient `retainGrad()` asked to keep, by their node. */
const retained = new WeakMap<GradFn, WeakRef<Tensor>>();

function edgeOf(t: Tensor | null): readonly [GradFn | null, number] {
  if (!t || !t.requiresGrad) return [null, 0];
  if (t.gradFn) return [t.gradFn, 0];
  let acc = accumulators.get(t);
  if (!acc) {
    acc = new AccumulateGrad(t);
    accumulators.set(t, acc);
  }
  return [acc, 0];
}

function record(rec: OpRecord): void {
  const node = new Node(
    rec.name,
    rec.inputs.map(edgeOf),
    rec.backward,
    rec.inputs.map((t) => (t ? { shape: t.shape, dtype: t.dtype } : null)),
    (rec.saved ?? []).map((tensor) => ({ tensor, version: tensor.version })),
  );
  rec.output.gradFn = node;
  rec.output.requiresGrad = true;
}

/** Sum a broadcast gradient down to `shape` (the one place broadcasting is undone). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.ndim === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.ndim - shape.length;
  let r = g;
  if (lead > 0) r = r.sum({ dim: Array.from({ length: lead }, (_, i) => i) });
  const dims = shape.map((d, i) => (d === 1 && r.shape[i] !== 1 ? i : -1)).filter((i) => i >= 0);
  if (dims.length) r = r.sum({ dim: dims, keepdim: true });
  return r.ndim === shape.length ? r : r.reshape(shape);
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
  const handed = new Set<unknown>(seeds.map((t) => t.storage));
  const add = (node: GradFn, g: Tensor) => {
    const cur = grads.get(node);
    grads.set(node, cur ? cur.add(g) : g);
  };
  const starts: GradFn[] = [];
  roots.forEach((r, i) => {
    const [node] = edgeOf(r);
    if (!node) {
      throw new Error(
        "element 0 of tensors does not require grad and does not have a grad_fn (set requiresGrad on an input, or call backward on a result computed from one)",
      );
    }
    add(node, seeds[i]);
    starts.push(node);
  });

  // count, for every reachable node, the edges that lead into it
  const deps = new Map<GradFn, number>();
  const seen = new Set<GradFn>(starts);
  const stack = [...starts];
  while (stack.length) {
    const n = stack.pop()!;
    for (const [next] of n.nextFunctions) {
      if (!next) continue;
      deps.set(next, (deps.get(next) ?? 0) + 1);
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }

  const captured = new Map<GradFn, Tensor>();
  const captureSet = capture ? new Set(capture) : null;
  const ready = starts.filter((n) => !deps.get(n));
  const run = opts.createGraph ? enableGrad : noGrad;
  while (ready.length) {
    const node = ready.pop()!;
    const g = grads.get(node);
    grads.delete(node);
    if (captureSet?.has(node) && g) captured.set(node, g);
    const keepT = retained.get(node)?.deref();
    if (keepT && g) {
      keepT.grad = keep(g.detach());
      handed.add(g.storage);
    }
    if (node instanceof AccumulateGrad) {
      if (g && !captureSet) accumulate(node.variable, g, opts.createGraph ?? false, handed);
    } else if (node instanceof Node && g) {
      if (!node.backwardFn) {
        throw new Error(
          `Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed) at ${node.name}. Specify retainGraph: true if you need to backward through the graph a second time.`,
        );
      }
      for (const s of node.saved) {
        if (s.tensor.version !== s.version) {
          throw new Error(
            `one of the variables needed for gradient computation has been modified by an inplace operation: [${s.tensor.dtype} ${fmtShape(s.tensor.shape)}], used by ${node.name}, is at version ${s.tensor.version}; expected version ${s.version} instead.`,
          );
        }
      }
      const fn = node.backwardFn;
      const inGrads = run(() => fn(g));
      if (!opts.retainGraph) node.backwardFn = null;
      node.nextFunctions.forEach(([next], i) => {
        const gi = inGrads[i];
        const meta = node.inputs[i];
        if (!next || !gi || !meta) return;
        let r = run(() => sumToShape(gi, meta.shape));
        if (r.dtype !== meta.dtype) r = run(() => r.to(meta.dtype));
        add(next, r);
      });
    }
    for (const [next] of node.nextFunctions) {
      if (!next) continue;
      const left = deps.get(next)! - 1;
      deps.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return captured;
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
    else leaf.grad = keep(noGrad(() => g.detach().clone()));
    handed.add(leaf.grad.storage);
  } else if (createGraph) {
    leaf.grad = keep(leaf.grad.add(g));
  } else {
    const prev = leaf.grad;
    noGrad(() => prev.add_(g));
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
