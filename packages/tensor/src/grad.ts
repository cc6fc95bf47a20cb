import type { Tensor } from "./tensor";

/**
 * The seam between the core and `@cinder/autograd`. Every differentiable op of the core calls `recordOp`
 * after computing its output; without an installed autograd layer this costs one null check, so tensors carry
 * no autograd cost. The derivative itself is declared next to the op (the `backward` closure), in terms of
 * tensor ops, and is never run by the core.
 */
export interface OpRecord {
  /** PyTorch's node name, e.g. "MulBackward0". */
  name: string;
  /** Differentiable inputs, positionally matching the gradients `backward` returns. */
  inputs: readonly (Tensor | null)[];
  output: Tensor;
  /**
   * Gradients w.r.t. `inputs` given the gradient of `output`. A gradient may have a broadcast shape: the
   * autograd engine reduces it to the input's shape (broadcasting is undone in one place). null = no gradient.
   */
  backward: (grad: Tensor) => readonly (Tensor | null | undefined)[];
  /** Tensors the backward closure reads; autograd checks they were not modified in place since. */
  saved?: readonly Tensor[];
  /** The op wrote into inputs[0] (an `op_` variant or an indexed assignment). */
  inplace?: boolean;
}

/**
 * What `@cinder/autograd` installs into the core: recording ops, running backward and retaining gradients.
 * The core holds no autograd code of its own.
 */
export interface AutogradHooks {
  /** Record one op into the graph. */
  record(rec: OpRecord): void;
  /** Run the backward pass from `t` (`t.backward()`). */
  backward(t: Tensor, gradient?: Tensor, options?: { retainGraph?: boolean; createGraph?: boolean }): void;
  /** Keep the gradient of the non-leaf `t` in `t.grad` during the next backward passes. */
  retainGrad(t: Tensor): void;
  /** Register a hook on the gradient w.r.t. `t` (`t.registerHook(hook)`); `t` requires grad. */
  registerHook?(t: Tensor, hook: TensorHook): RemovableHandle;
  /**
   * Give the graph of `result` the tensors in `made` that a library call made and did not return
   * (`graphOwned`): the backward pass that frees that graph disposes them.
   */
  adopt?(result: unknown, made: ReadonlySet<Tensor>): void;
}

/**
 * A hook on the gradient w.r.t. a tensor (`x.registerHook(hook)`): it receives the gradient during backward and
 * returns a replacement of the same shape and dtype, or nothing to keep it.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that only observes returns nothing (`void`)
export type TensorHook = (grad: Tensor) => Tensor | undefined | void;

/** What registering a hook returns: `remove()` unregisters it (PyTorch's `RemovableHandle`); a second call does nothing. */
export interface RemovableHandle {
  /** Unregister the hook. */
  remove(): void;
}

let hooks: AutogradHooks | null = null;
let enabled = true;

/** Install the autograd hooks; `@cinder/autograd` calls it when imported. */
export function installAutograd(h: AutogradHooks): void {
  hooks = h;
}

/** The installed autograd hooks, or null without `@cinder/autograd`. */
export function autogradHooks(): AutogradHooks | null {
  return hooks;
}

/** Whether ops are recorded for autograd now (false inside `noGrad`), as `torch.is_grad_enabled()`. */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Turn gradient recording on or off globally, as `torch.set_grad_enabled(mode)`; prefer `noGrad(fn)`. */
export function setGradEnabled(on: boolean): void {
  enabled = on;
}

/** True when an op over these inputs must be recorded. */
export function needsGrad(a: Tensor | null | undefined, b?: Tensor | null, c?: Tensor | null): boolean {
  return (
    hooks !== null &&
    enabled &&
    (a?.requiresGrad === true || b?.requiresGrad === true || c?.requiresGrad === true)
  );
}

export function needsGradAny(ts: readonly (Tensor | null | undefined)[]): boolean {
  return hooks !== null && enabled && anyRequiresGrad(ts);
}

function anyRequiresGrad(ts: readonly (Tensor | null | undefined)[]): boolean {
  for (let i = 0; i < ts.length; i++) if (ts[i]?.requiresGrad === true) return true;
  return false;
}

/** Record `rec` if any input requires grad; returns the output for chaining. */
export function recordOp(rec: OpRecord): Tensor {
  if (hooks !== null && enabled && anyRequiresGrad(rec.inputs)) hooks.record(rec);
  return rec.output;
}

function runWith<T>(on: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = on;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    enabled = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      enabled = prev;
    }) as T;
  }
  enabled = prev;
  return result;
}

/**
 * Run `fn` without recording gradients (torch.no_grad). Works with async callbacks: recording stays off
 * until the returned promise settles (avoid interleaving other grad-recording work meanwhile).
 */
export function noGrad<T>(fn: () => T): T {
  return runWith(false, fn);
}

/** Run `fn` with gradient recording on, e.g. inside a `noGrad` scope (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return runWith(true, fn);
}
