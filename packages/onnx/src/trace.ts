/**
 * Tracing a model: it runs once (eval mode) with a tracer installed on the core's seam (`setOpTracer`), which
 * sees every op call with its parsed arguments. Each outermost call (ops an op calls internally are not seen
 * again) is written as ONNX node(s) by its exporter (`export-tensor.ts`, `export-nn.ts`) and kept as a record
 * for the TorchScript-style text of `jit.trace`. What a trace cannot capture is reported:
 *   - an op without an exporter fails, naming the op;
 *   - a tensor computed from the inputs by something the tracer did not see (a value reaching a node with an
 *     autograd history but no name) fails, naming its autograd node;
 *   - reading values inside forward (`item()`, `tolist()`, `data()`), or an op returning a JS value, gives a
 *     `TracerWarning`: the value is frozen into the trace, as is any branch taken on it.
 */
import type * as nn from "@cinder/nn";
import { enableGrad, type OpTracer, setOpTracer, Tensor } from "@cinder/tensor";
import { NN_EXPORTERS } from "./export-nn";
import { TENSOR_EXPORTERS } from "./export-tensor";
import type { Emit, Exporter } from "./export-util";
import { GraphBuilder, OnnxExportError } from "./graph";
import { probeShapes } from "./probe";

/** Every op the exporter maps, by Cinder's op name. */
export const EXPORTERS: Readonly<Record<string, Exporter>> = { ...TENSOR_EXPORTERS, ...NN_EXPORTERS };

/**
 * Composite ops traced as the ops they call (no exporter of their own), each checked at two batch sizes: only
 * these, since a composite may build constants from the traced shapes, which a dynamic axis would then contradict.
 */
const TRACED_THROUGH = new Set([
  "nn.functional.multiHeadAttentionForward",
  "nn.functional.scaledDotProductAttention",
  "nn.functional.normalize",
]);

/** PyTorch's `torch.jit.TracerWarning`: something the trace records as a constant. */
export class TracerWarning extends Error {
  override name = "TracerWarning";
}

/** Report a `TracerWarning` (Node's `process.emitWarning`, `console.warn` elsewhere). */
export function warn(message: string): void {
  const w = new TracerWarning(message);
  const proc = (globalThis as { process?: { emitWarning?: (w: Error) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(w);
  else console.warn(`TracerWarning: ${message}`);
}

/** One traced op call, for the graph text. */
export interface TraceRecord {
  readonly name: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly out: unknown;
}

/** A finished trace. */
export interface Trace {
  readonly graph: GraphBuilder;
  /** The (detached) inputs the model ran on, as the graph's inputs. */
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly records: readonly TraceRecord[];
  /** The parameters and buffers by tensor, with their `stateDict()` names. */
  readonly stateNames: ReadonlyMap<Tensor, string>;
}

const tensorsIn = (v: unknown): Tensor[] =>
  v instanceof Tensor ? [v] : Array.isArray(v) ? v.flatMap(tensorsIn) : [];

class ModelTracer implements OpTracer {
  depth = 0;
  readonly records: TraceRecord[] = [];
  private warned = false;
  /** The outermost calls so far (the index into the probe's shapes). */
  private calls = 0;
  /** Each value's shape in the probe run (one larger along the dynamic axes). */
  readonly probed = new Map<Tensor, readonly number[]>();
  private readonly emit: Emit;

  constructor(
    private readonly g: GraphBuilder,
    opset: number,
    private readonly who: string,
    private readonly probe: (readonly number[])[][] | null,
  ) {
    this.emit = { g, opset, varies: (t) => this.varies(t) };
  }

  /** Which dims of `t` vary with the dynamic axes (null: not known). */
  private varies(t: Tensor): readonly boolean[] | null {
    const p = this.probed.get(t);
    if (p === undefined || p.length !== t.ndim) return null;
    return p.map((d, i) => d !== t.shape[i]);
  }

  /** Pair the call's outputs with the probe's shapes of the same call. */
  private probeCall(outs: readonly Tensor[]): void {
    const shapes = this.probe?.[this.calls++];
    if (shapes?.length !== outs.length) return;
    for (const [i, t] of outs.entries()) this.probed.set(t, shapes[i]);
  }

  call(name: string, args: Readonly<Record<string, unknown>>, run: () => unknown): unknown {
    if (this.depth > 0) return run();
    const exporter = EXPORTERS[name];
    if (exporter === undefined && TRACED_THROUGH.has(name)) return this.transparent(name, args, run);
    if (exporter === undefined) return this.unmapped(name, args, run);
    this.depth++;
    try {
      const out = run();
      const outs = tensorsIn(out);
      this.probeCall(outs);
      if (outs.length === 0) {
        this.warnOnce(
          `the op ${name} returned a JS value (${typeof out}) inside forward: the trace records it as a constant, so code that depends on it will not follow other inputs`,
        );
        return out;
      }
      exporter(this.emit, args, out);
      for (const t of outs)
        if (!this.g.has(t)) throw new Error(`internal: the exporter of ${name} did not name its output`);
      this.records.push({ name, args, out });
      return out;
    } finally {
      this.depth--;
    }
  }

  /**
   * An op without an exporter runs with the tracer still watching, so a composite (attention, a loss, `normalize`)
   * is traced as the ops it calls. Its result must then have a name; else it is a primitive without a mapping (or
   * a constant, when no input is live). An error inside names the op too.
   */
  private transparent(name: string, args: Readonly<Record<string, unknown>>, run: () => unknown): unknown {
    let out: unknown;
    try {
      out = run();
    } catch (e) {
      if (e instanceof OnnxExportError && !e.message.includes(" (inside "))
        e.message = e.message.replace(/^([^:]*: [^;]*)/, `$1 (inside ${name})`);
      throw e;
    }
    if (tensorsIn(out).every((t) => this.g.has(t))) return out;
    this.calls--; // the probe saw this call as transparent: `unmapped` counts it once more
    return this.unmapped(name, args, () => out);
  }

  /**
   * An op without an exporter: a JS result warns (a value the trace freezes), a result computed from constants
   * only (`torch.ones(3)`, `arange(n).float()` inside forward) is a constant of the trace, anything else fails.
   */
  private unmapped(name: string, args: Readonly<Record<string, unknown>>, run: () => unknown): unknown {
    this.depth++;
    let out: unknown;
    try {
      out = run();
    } finally {
      this.depth--;
    }
    this.probeCall(tensorsIn(out));
    if (tensorsIn(out).length === 0) {
      this.warnOnce(
        `the op ${name} returned a JS value (${typeof out}) inside forward: the trace records it as a constant, so code that depends on it will not follow other inputs`,
      );
      return out;
    }
    if (!tensorsIn(Object.values(args)).some((t) => this.g.isLive(t))) return out;
    throw new OnnxExportError(
      `${this.who}: the op ${name} has no ONNX mapping yet; supported: ${Object.keys(EXPORTERS)
        .map((n) => n.replace(/^nn\.functional\./, "F."))
        .join(", ")}`,
    );
  }

  read(): void {
    if (this.depth > 0) return;
    this.warnOnce(
      "reading a tensor's values inside forward (item(), tolist(), data()) gives a JS value the trace records as a constant: " +
        "a branch or a number computed from it is frozen as this example took it, and will not follow other inputs",
    );
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    warn(message);
  }
}

/**
 * Run `model` once on `inputs` with the tracer installed and return the graph it built; `who` names the caller in
 * errors (`onnx.export`, `jit.trace`). The model runs in eval mode; its mode is restored afterwards.
 */
export function traceModel(
  model: nn.Module,
  inputs: readonly Tensor[],
  inputNames: readonly string[],
  opset: number,
  who: string,
  dynamic: readonly (readonly number[])[] = inputs.map(() => []),
): Trace {
  const wasTraining = model.training;
  model.eval();
  let probe: ReturnType<typeof probeShapes>;
  try {
    probe = probeShapes(model, inputs, dynamic, (name) => TRACED_THROUGH.has(name) && !(name in EXPORTERS));
  } finally {
    model.train(wasTraining);
  }
  const stateNames = new Map<Tensor, string>();
  for (const [name, p] of model.namedParameters()) stateNames.set(p, name);
  for (const [name, b] of model.namedBuffers()) stateNames.set(b, name);
  const g = new GraphBuilder(
    stateNames,
    (t) => {
      if (t.gradFn !== null)
        throw new OnnxExportError(
          `${who}: a tensor computed by ${t.gradFn.name.replace(/Backward\d*$/, "")} (autograd node ${t.gradFn.name}) reached a traced op, but that computation was not traced: it has no ONNX mapping yet`,
        );
    },
    who,
  );
  // inputs require grad while tracing, so a value computed from them outside the tracer's sight is caught above
  const traced = inputs.map((x, i) => {
    const t = x.isFloatingPoint() ? x.detach().requiresGrad_(true) : x;
    g.input(t, inputNames[i]);
    return t;
  });
  const tracer = new ModelTracer(g, opset, who, probe?.calls ?? null);
  if (probe) for (const [i, t] of traced.entries()) tracer.probed.set(t, probe.inputs[i]);
  model.eval();
  const prev = setOpTracer(tracer);
  let result: unknown;
  try {
    result = enableGrad(() => model(...traced));
  } finally {
    setOpTracer(prev);
    model.train(wasTraining);
  }
  const outputs = result instanceof Tensor ? [result] : Array.isArray(result) ? (result as unknown[]) : [];
  if (outputs.length === 0 || !outputs.every((t) => t instanceof Tensor))
    throw new OnnxExportError(`${who}: the model must return a tensor or an array of tensors`);
  return { graph: g, inputs: traced, outputs: outputs as Tensor[], records: tracer.records, stateNames };
}
