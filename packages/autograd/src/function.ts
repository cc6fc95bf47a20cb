/**
 * Custom autograd functions, PyTorch's static-method style: a class extending `autograd.Function` declares
 * `static forward(ctx, ...args)` and `static backward(ctx, ...grads)`, and is called as `MyExp.apply(x)`. The forward
 * runs without recording; when an input requires grad, its outputs get one `FunctionNode` named
 * `<ClassName>Backward`, whose backward calls the class's `backward` with the context the forward filled.
 */
import { fmtShape, isFloat, isGradEnabled, noGrad, Tensor } from "@cinder/tensor";
import { edgeOf, FunctionNode, type OutputMeta, setOutput } from "./engine";

const FREED =
  "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call backward() or autograd.grad(). Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

/**
 * The context a custom Function's `forward` fills and its `backward` reads (PyTorch's `ctx`): saved tensors,
 * tensors modified in place, non-differentiable outputs and which inputs need a gradient. Other values the
 * backward needs can be set as properties (`ctx.k = k`); declare them on the `ctx` parameter's type
 * (`ctx: FunctionCtx & { k: number }`).
 */
export class FunctionCtx {
  /** For each argument of `forward`: whether it is a tensor whose gradient backward must compute. */
  needsInputGrad: readonly boolean[] = [];
  /** Whether gradients of outputs that received none are given to backward as zeros (the default) or as null. */
  materializeGrads = true;
  /** The tensors given to `saveForBackward` (null after the graph is freed). */
  private saved: readonly (Tensor | null)[] | null = [];
  /** The saved tensors' versions when the forward returned. */
  private versions: readonly number[] = [];
  /** The node name, for error messages. */
  private nodeName = "";
  /** @internal Tensors given to `markDirty`. */
  dirty: readonly Tensor[] = [];
  /** @internal Tensors given to `markNonDifferentiable`. */
  nonDifferentiable: readonly Tensor[] = [];
  // other properties set by forward (`ctx.k = k`)
  [attribute: string]: unknown;

  /**
   * `ctx.save_for_backward(*tensors)`: keep tensors (inputs, outputs or intermediates; null for none) for backward,
   * where `savedTensors` returns them. Call it at most once, in forward. Modifying one of them in place before
   * backward makes `savedTensors` throw, as any saved tensor of the graph.
   */
  saveForBackward(...tensors: (Tensor | null | undefined)[]): void {
    this.saved = tensors.map((t) => t ?? null);
  }

  /** `ctx.saved_tensors`: the tensors given to `saveForBackward`, checked unmodified since the forward. */
  get savedTensors(): readonly (Tensor | null)[] {
    const saved = this.saved;
    if (saved === null) throw new Error(FREED);
    for (let i = 0; i < saved.length; i++) {
      const t = saved[i];
      if (t !== null && t.version !== this.versions[i]) {
        throw new Error(
          `one of the variables needed for gradient computation has been modified by an inplace operation: [${t.dtype} ${fmtShape(t.shape)}], used by ${this.nodeName}, is at version ${t.version}; expected version ${this.versions[i]} instead.`,
        );
      }
    }
    return saved;
  }

  /**
   * `ctx.mark_dirty(*tensors)`: these inputs were modified in place by forward (which must return them): after the
   * call they are outputs of this Function's node.
   */
  markDirty(...tensors: Tensor[]): void {
    this.dirty = tensors;
  }

  /** `ctx.mark_non_differentiable(*tensors)`: these outputs do not require grad (backward gets zeros for them). */
  markNonDifferentiable(...tensors: Tensor[]): void {
    this.nonDifferentiable = tensors;
  }

  /** `ctx.set_materialize_grads(value)`: false gives backward null (not zeros) for outputs no gradient reached. */
  setMaterializeGrads(value: boolean): void {
    this.materializeGrads = value;
  }

  /** @internal Record the saved tensors' versions once forward returned. */
  seal(nodeName: string): void {
    this.nodeName = nodeName;
    this.versions = (this.saved ?? []).map((t) => (t === null ? 0 : t.version));
  }

  /** @internal Free the saved tensors (the graph was freed). */
  release(): void {
    this.saved = null;
  }
}

/** The static side of a custom Function: its `forward` and `backward` (what `apply` calls). */
export interface FunctionClass {
  /** The class name, which names the node (`MyExp` -> `MyExpBackward`). */
  readonly name: string;
  /** The computation (run without recording): the context, then the arguments given to `apply`. */
  forward(ctx: never, ...args: never[]): unknown;
  /** The gradients w.r.t. `forward`'s arguments given the context and one gradient per output. */
  backward?(ctx: never, ...grads: never[]): unknown;
}

/** The arguments of a custom Function's `apply`: its `forward`'s, after the context. */
export type ApplyArgs<F extends FunctionClass> = F["forward"] extends (
  ctx: never,
  ...args: infer A
) => unknown
  ? A
  : never;

/**
 * `torch.autograd.Function`: extend it with static `forward(ctx, ...args)` and `backward(ctx, ...grads)`, then call
 * `MyFn.apply(...args)`.
 *
 * ```ts
 * class MyExp extends autograd.Function {
 *   static forward(ctx: FunctionCtx, x: Tensor): Tensor {
 *     const y = x.exp();
 *     ctx.saveForBackward(y);
 *     return y;
 *   }
 *   static backward(ctx: FunctionCtx, g: Tensor): Tensor {
 *     const [y] = ctx.savedTensors;
 *     return g.mul(y!);
 *   }
 * }
 * const y = MyExp.apply(x); // y.gradFn.name === "MyExpBackward"
 * ```
 *
 * - `forward` runs without recording. It returns a tensor or an array of values (tensors among them are the
 *   outputs; several outputs share one node, and backward gets one gradient per returned value, zeros where none
 *   arrived). An input returned unchanged comes back as a new tensor sharing its storage.
 * - `backward` returns one gradient per argument of `forward` (a tensor, or a single tensor for one argument), null or
 *   undefined for non-tensor arguments and inputs that need none; a gradient may have a broadcast shape of its
 *   input's. It runs with recording on under `createGraph`, so a backward made of tensor ops is differentiable.
 */
// biome-ignore lint/suspicious/noShadowRestrictedNames: PyTorch's name (torch.autograd.Function); this module uses no global Function
// biome-ignore lint/complexity/noStaticOnlyClass: PyTorch's shape: users extend it with static forward and backward
export class Function {
  /**
   * Compute the forward and, when an input requires grad (and recording is on), attach the outputs to a new
   * `<ClassName>Backward` node. Takes `forward`'s arguments after the context.
   */
  static apply<F extends FunctionClass>(this: F, ...args: ApplyArgs<F>): ReturnType<F["forward"]> {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the user's subclass, whose forward and backward run
    return applyFunction(this, args as readonly unknown[]) as ReturnType<F["forward"]>;
  }
}

function applyFunction(cls: FunctionClass, args: readonly unknown[]): unknown {
  const ctx = new FunctionCtx();
  const recording = isGradEnabled() && args.some((a) => a instanceof Tensor && a.requiresGrad);
  ctx.needsInputGrad = args.map((a) => recording && a instanceof Tensor && a.requiresGrad);
  const forward = cls.forward as unknown as ((ctx: FunctionCtx, ...a: unknown[]) => unknown) | undefined;
  if (typeof forward !== "function") {
    throw new Error(
      `You must implement the forward function for custom autograd.Function (a static forward(ctx, ...args) on ${cls.name}).`,
    );
  }
  const result = noGrad(() => forward.call(cls, ctx, ...args));
  if (result instanceof Promise) throw new TypeError(`${cls.name}.forward must be synchronous`);
  const single = !Array.isArray(result);
  const outs: unknown[] = single ? [result] : (result as unknown[]).slice();
  const inputs = new Set<unknown>(args.filter((a) => a instanceof Tensor));
  for (const t of ctx.dirty) {
    if (!outs.includes(t)) {
      throw new Error(
        "Some elements marked as dirty during the forward method were not returned as output. The inputs that are modified inplace must all be outputs of the Function.",
      );
    }
  }
  if (!recording) return result;

  const name = `${cls.name}Backward`;
  // the inputs' edges are taken before any dirty input is rebased onto the new node
  const next = args.map((a) => edgeOf(a instanceof Tensor ? a : null));
  const inputMeta = args.map((a) => (a instanceof Tensor ? { shape: a.shape, dtype: a.dtype } : null));
  for (const t of ctx.dirty) {
    if (t.requiresGrad && t.isLeaf) {
      throw new Error("a leaf Variable that requires grad has been used in an in-place operation.");
    }
  }
  const outputMeta: (OutputMeta | null)[] = [];
  for (let i = 0; i < outs.length; i++) {
    const given = outs[i];
    if (!(given instanceof Tensor)) {
      outputMeta.push(null);
      continue;
    }
    // an input returned as it is (not modified in place) comes back as a new tensor (PyTorch returns a view)
    const o = inputs.has(given) && !ctx.dirty.includes(given) ? given.detach() : given;
    outs[i] = o;
    outputMeta.push({ shape: o.shape, dtype: o.dtype, device: o.device });
  }
  ctx.seal(name);
  const nArgs = args.length;
  const backward = cls.backward as unknown as
    | ((ctx: FunctionCtx, ...g: (Tensor | null)[]) => unknown)
    | undefined;
  const node = new FunctionNode(
    name,
    next,
    inputMeta,
    outputMeta,
    (grads) => {
      if (typeof backward !== "function") {
        throw new Error(
          "You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.",
        );
      }
      const r = backward.call(cls, ctx, ...grads);
      return checkGrads(name, Array.isArray(r) ? r : [r], args, nArgs);
    },
    () => ctx.release(),
  );
  for (let i = 0; i < outs.length; i++) {
    const o = outs[i];
    if (!(o instanceof Tensor)) continue;
    // non-differentiable: marked, or not floating point (as PyTorch's integer outputs)
    if (ctx.nonDifferentiable.includes(o) || !isFloat(o.dtype)) {
      if (!ctx.dirty.includes(o)) {
        o.requiresGrad = false;
        continue;
      }
    }
    setOutput(o, node, i);
  }
  if (!ctx.materializeGrads) node.materialize = false;
  return single ? outs[0] : outs;
}

/** PyTorch's checks of what a custom backward returned: the count, non-tensor inputs, shapes. */
function checkGrads(
  name: string,
  grads: readonly unknown[],
  args: readonly unknown[],
  nArgs: number,
): (Tensor | null)[] {
  if (grads.length < nArgs || grads.slice(nArgs).some((g) => g != null)) {
    throw new Error(
      `function ${name} returned an incorrect number of gradients (expected ${nArgs}, got ${grads.length})`,
    );
  }
  const out: (Tensor | null)[] = [];
  for (let i = 0; i < nArgs; i++) {
    const g = grads[i];
    const a = args[i];
    if (g == null) {
      out.push(null);
      continue;
    }
    if (!(a instanceof Tensor)) {
      throw new Error(
        `function ${name} returned a gradient different than None at position ${i + 1}, but the corresponding forward input was not a Variable`,
      );
    }
    if (!(g instanceof Tensor)) {
      throw new TypeError(`function ${name} returned a gradient that is not a Tensor at position ${i + 1}`);
    }
    if (!expandable(a.shape, g.shape)) {
      throw new Error(
        `Function ${name} returned an invalid gradient at index ${i} - got ${fmtShape(g.shape)} but expected shape compatible with ${fmtShape(a.shape)}`,
      );
    }
    out.push(g);
  }
  return out;
}

/** Whether `shape` broadcasts to `to` (so a gradient of shape `to` sums down to `shape`). */
function expandable(shape: readonly number[], to: readonly number[]): boolean {
  if (shape.length > to.length) return false;
  for (let i = 1; i <= shape.length; i++) {
    const s = shape[shape.length - i];
    if (s !== 1 && s !== to[to.length - i]) return false;
  }
  return true;
}
