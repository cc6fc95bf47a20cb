/**
 * The tracing seam: one hook that sees every op call with its parsed arguments, installed by a tracer
 * (`@cinder/onnx`'s `torch.jit.trace` and `torch.onnx.export`) for the length of one forward pass. Every callable
 * made by `op()`/`overloads()` and the elementwise fast paths (`x.add(y)`, `x.exp()`) pass through it; ops called
 * inside another op pass through too, and the tracer keeps the outermost. Off (null), it costs one comparison.
 */
import type { Tensor } from "./tensor";

/** A watcher of op calls (see the module's comment). */
export interface OpTracer {
  /**
   * One op call: Cinder's op name (`"sum"`, `"nn.functional.linear"`, `"add"`), its parsed arguments by
   * parameter name, and `run`, which computes it. Returns what `run` returns.
   */
  call(name: string, args: Readonly<Record<string, unknown>>, run: () => unknown): unknown;
  /** A synchronous read of `t`'s values (`item()`, `tolist()`, `data()`): a value a trace cannot capture. */
  read(t: Tensor): void;
}

/** The installed tracer, or null (read by `op()` and the elementwise ops on every call). */
export let opTracer: OpTracer | null = null;

/** Install `tracer` (null removes it); returns the one installed before, to restore afterwards. */
export function setOpTracer(tracer: OpTracer | null): OpTracer | null {
  const prev = opTracer;
  opTracer = tracer;
  return prev;
}
