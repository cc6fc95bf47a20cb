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
import type { Exporter } from "./export-util";
import { GraphBuilder, OnnxExportError } from "./graph";

/** Every op the exporter maps, by Cinder's op name. */
export const EXPORTERS: Readonly<Record<string, Exporter>> = { ...TENSOR_EXPORTERS, ...NN_EXPORTERS };

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

  constructor(
    private readonly g: GraphBuilder,
    private readonly opset: number,
    private readonly who: string,
  ) {}

  call(name: string, args: Readonly<Record<string, unknown>>, run: () => unknown): unknown {
    if (this.depth > 0) return run();
    this.depth++;
    try {
      const out = run();
      const outs = tensorsIn(out);
      if (outs.length === 0) {
        this.warnOnce(
          `the op ${name} returned a JS value (${typeof out}) inside forward: the trace records it as a constant, so code that depends on it will not follow other inputs`,
        );
        return out;
      }
      const exporter = EXPORTERS[name];
      // computed from constants only (`torch.ones(3)`, `arange(n).float()` inside forward): a constant of the trace
      if (exporter === undefined && !tensorsIn(Object.values(args)).some((t) => this.g.isLive(t))) return out;
      if (exporter === undefined)
        throw new OnnxExportError(
          `${this.who}: the op ${name} has no ONNX mapping yet; supported: ${Object.keys(EXPORTERS)
            .map((n) => n.replace(/^nn\.functional\./, "F."))
            .join(", ")}`,
        );
      exporter({ g: this.g, opset: this.opset }, args, out);
      for (const t of outs)
        if (!this.g.has(t)) throw new Error(`internal: the exporter of ${name} did not name its output`);
      this.records.push({ name, args, out });
      return out;
    } finally {
      this.depth--;
    }
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
): Trace {
  const stateNames = new Map<Tensor, string>();
  for (const [name, p] of model.namedParameters()) stateNames.set(p, name);
  for (const [name, b] of model.namedBuffers()) stateNames.set(b, name);
  const g = new GraphBuilder(stateNames, (t) => {
    if (t.gradFn !== null)
      throw new OnnxExportError(
        `${who}: a tensor computed by ${t.gradFn.name.replace(/Backward\d*$/, "")} (autograd node ${t.gradFn.name}) reached a traced op, but that computation was not traced: it has no ONNX mapping yet`,
      );
  });
  // inputs require grad while tracing, so a value computed from them outside the tracer's sight is caught above
  const traced = inputs.map((x, i) => {
    const t = x.isFloatingPoint() ? x.detach().requiresGrad_(true) : x;
    g.input(t, inputNames[i]);
    return t;
  });
  const tracer = new ModelTracer(g, opset, who);
  const wasTraining = model.training;
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
