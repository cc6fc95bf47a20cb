/**
 * `torch.jit`: `trace(model, exampleInputs)` records a model's ops into a `TracedModule`, a module that runs the
 * recorded graph (an ONNX graph underneath, run by the importer's kernels) with the model's own parameters;
 * `save`/`load` write and read it as an ONNX file whose metadata keeps the TorchScript-style text. `script`
 * compiles Python source in PyTorch and has no JavaScript counterpart: it fails naming `trace`.
 */
import * as nn from "@cinder/nn";
import { allclose, arg, type CallsOf, k, noGrad, signature, Tensor } from "@cinder/tensor";
import { checkOpset, exampleInputs, writeAtomically } from "./export";
import { modelObject, valueInfo } from "./graph";
import { traceText } from "./jit-text";
import { buildModule, decodeModel, OnnxModule } from "./load";
import { nodeImport } from "./node-import";
import { traceModel, warn } from "./trace";

const GRAPH_KEY = "cinder.jit.graph";
const CODE_KEY = "cinder.jit.code";

/**
 * A traced model (PyTorch's `torch.jit.TracedModule`): callable like the model it was traced from, with the same
 * outputs, on inputs of the traced dtypes and ranks (the first axis, the batch, may change size). Its parameters
 * are the traced model's own (it fine-tunes them); `graph` and `code` print what was recorded; `save(path)` writes
 * it as an ONNX file that `jit.load` reads back.
 */
export class TracedModule extends OnnxModule {
  static override readonly name: string = "TracedModule";
  /** The recorded graph as TorchScript-style text (`%1 : Float(2, 128) = aten::linear(%input, ...)`). */
  declare readonly graph: string;
  /** The recorded ops as Python-like code (`def forward(self, input: Tensor) -> Tensor: ...`). */
  declare readonly code: string;

  /** `traced.save(f)`: write the model (its current parameter values) as an ONNX file; {@link save}. */
  async save(f: string): Promise<void> {
    if (typeof f !== "string" || f === "")
      throw new TypeError(`TracedModule.save(f): f must be a path (a string), got ${typeof f}`);
    await writeAtomically(f, await this.toBytes());
  }
}

function withText(m: TracedModule, graph: string, code: string): TracedModule {
  Object.defineProperties(m, {
    graph: { value: graph, enumerable: false },
    code: { value: code, enumerable: false },
  });
  return m;
}

/** A function traced as a module: its forward is the function. */
class FunctionModule extends nn.Module {
  constructor(private readonly fn: (...a: Tensor[]) => unknown) {
    super();
  }
  override forward(...a: Tensor[]): unknown {
    return this.fn(...a);
  }
}

const inputsKind = k.test<Tensor | readonly Tensor[]>(
  "Tensor or Tensor[] (the example inputs)",
  (v) => v instanceof Tensor || (Array.isArray(v) && v.length > 0 && v.every((t) => t instanceof Tensor)),
);

const TRACE = signature("jit.trace", [
  arg("func", k.or(k.instance(nn.Module, "nn.Module"), k.fn)),
  arg("exampleInputs", inputsKind),
  arg.unsupported("optimize", null, "deprecated in PyTorch, and without effect"),
  arg("checkTrace", k.bool, true),
  arg.opt(
    "checkInputs",
    k.test<readonly (Tensor | readonly Tensor[])[]>("a list of example inputs", (v) => Array.isArray(v)),
  ),
  arg("checkTolerance", k.float, 1e-5),
  arg("strict", k.bool, true),
  arg.unsupported("_forceOutplace", false, "Cinder records in-place ops as they are"),
  arg.unsupported("_moduleClass", null, "a Python class"),
  arg.unsupported("_compilationUnit", null, "a TorchScript compilation unit"),
]);

const outputsOf = (v: unknown): Tensor[] => (v instanceof Tensor ? [v] : (v as Tensor[]));

/** PyTorch's `check_trace`: the traced module against the model on each input set; a difference warns. */
function checkTrace(
  model: nn.Module,
  traced: TracedModule,
  sets: readonly (Tensor | readonly Tensor[])[],
  tol: number,
): void {
  const wasTraining = model.training;
  model.eval();
  try {
    for (const set of sets) checkOne(model, traced, set, tol);
  } finally {
    model.train(wasTraining);
  }
}

function checkOne(
  model: nn.Module,
  traced: TracedModule,
  set: Tensor | readonly Tensor[],
  tol: number,
): void {
  const xs = exampleInputs(set, "jit.trace(): checkInputs");
  const want = outputsOf(noGrad(() => model(...xs)));
  const got = outputsOf(noGrad(() => traced(...xs)));
  for (const [i, w] of want.entries()) {
    const g = got[i];
    let same: boolean;
    try {
      same = g !== undefined && g.shape.join() === w.shape.join() && allclose(g, w, tol, tol);
    } catch (e) {
      throw new Error(
        `jit.trace: checkTrace compares outputs synchronously, which ${w.device} tensors cannot: pass { checkTrace: false } or trace on the CPU (${(e as Error).message})`,
        { cause: e },
      );
    }
    if (!same)
      warn(
        `Output nr ${i + 1}. of the traced function does not match the corresponding output of the model on the check inputs: ` +
          "the trace recorded a path (a branch on a value, a constant) that these inputs do not take",
      );
  }
}

function traceImpl(args: unknown[]): TracedModule {
  const a = TRACE.parse(args as never);
  const model =
    a.func instanceof nn.Module ? a.func : new FunctionModule(a.func as (...x: Tensor[]) => unknown);
  const inputs = exampleInputs(a.exampleInputs, "jit.trace()");
  const inputNames = inputs.map((_, i) => (i === 0 ? "input" : `input.${i}`));
  const opset = checkOpset(17, "jit.trace");
  const batchAxes = inputs.map((t) => (t.ndim > 0 ? [0] : []));
  const trace = traceModel(model, inputs, inputNames, opset, "jit.trace", batchAxes);
  const outputNames = trace.outputs.map((_, i) => (i === 0 ? "output" : `output.${i}`));
  const batch = (t: Tensor) => new Map(t.ndim > 0 ? [[0, "batch"]] : []);
  const { graph, code } = traceText(trace, inputNames);
  trace.outputs.forEach((t, i) => {
    if (!trace.graph.rename(t, outputNames[i])) trace.graph.node("Identity", [t], outputNames[i]);
  });
  const object = modelObject(trace.graph, {
    name: model.constructor.name,
    opset,
    inputs: trace.inputs.map((t, i) => valueInfo(inputNames[i], t, batch(t))),
    outputs: trace.outputs.map((t, i) => valueInfo(outputNames[i], t, batch(t))),
    metadata: { [GRAPH_KEY]: graph, [CODE_KEY]: code },
  });
  const traced = withText(buildModule(object, "the trace", TracedModule), graph, code);
  traced.train(model.training);
  if (a.checkTrace) checkTrace(model, traced, a.checkInputs ?? [a.exampleInputs], a.checkTolerance);
  return traced;
}

/** `jit.trace` (see {@link trace}). */
export interface TraceFn {
  (...args: CallsOf<typeof TRACE>): TracedModule;
  /** The declared signature (PyTorch's parameters, parsed from every call form). */
  readonly signature: typeof TRACE;
}

/**
 * `torch.jit.trace(func, exampleInputs, optimize=None, checkTrace=True, checkInputs=None, checkTolerance=1e-5,
 * strict=True)`: run `func` (a module or a function of tensors) once on `exampleInputs` (a tensor or an array of
 * tensors) and record its ops as a {@link TracedModule}. As in PyTorch, control flow is frozen as the example took
 * it: reading a value inside forward (`item()`, `tolist()`, `data()`) gives a `TracerWarning`, and with
 * `checkTrace` the traced module is compared with the model on `checkInputs` (default: the example), warning
 * where they differ. Ops without an ONNX mapping fail, naming the op. JS arrays are tuples (`strict` changes
 * nothing).
 *
 *   const traced = torch.jit.trace(model, torch.randn([1, 784]));
 *   console.log(traced.graph);
 *   await traced.save("model.onnx");
 */
export const trace = Object.defineProperties((...args: unknown[]) => traceImpl(args), {
  name: { value: "trace" },
  signature: { value: TRACE, enumerable: true },
}) as unknown as TraceFn;

const SAVE = signature("jit.save", [
  arg("m", k.instance(OnnxModule, "TracedModule (or a module from onnx.load)")),
  arg(
    "f",
    k.test<string>("str (a path)", (v) => typeof v === "string" && v !== ""),
  ),
  arg.unsupported("_extraFiles", null, "extra files have no place in an ONNX file"),
]);

/** `jit.save` (see {@link save}). */
export interface SaveFn {
  (...args: CallsOf<typeof SAVE>): Promise<void>;
  /** The declared signature (PyTorch's parameters, parsed from every call form). */
  readonly signature: typeof SAVE;
}

/**
 * `await torch.jit.save(m, f)`: write a {@link TracedModule} (or a module from `onnx.load`), with its current
 * parameter values, to the path `f` as an ONNX file (atomically); ONNX Runtime runs it, `jit.load` reads it back.
 */
export const save = Object.defineProperties(
  async (...args: unknown[]) => {
    const { m, f } = SAVE.parse(args as never);
    await writeAtomically(f, await m.toBytes());
  },
  { name: { value: "save" }, signature: { value: SAVE, enumerable: true } },
) as unknown as SaveFn;

const LOAD = signature("jit.load", [
  arg(
    "f",
    k.test<string | Uint8Array>(
      "str (a path) or bytes",
      (v) => (typeof v === "string" && v !== "") || v instanceof Uint8Array,
    ),
  ),
  arg.opt("mapLocation", k.device),
  arg.unsupported("_extraFiles", null, "extra files have no place in an ONNX file"),
]);

/** `jit.load` (see {@link load}). */
export interface LoadFn {
  (...args: CallsOf<typeof LOAD>): Promise<TracedModule>;
  /** The declared signature (PyTorch's parameters, parsed from every call form). */
  readonly signature: typeof LOAD;
}

/**
 * `await torch.jit.load(f, mapLocation=None)`: read a model written by `jit.save` (or any ONNX file) from the
 * path or bytes `f` as a {@link TracedModule}, on the device `mapLocation` (default: the CPU). Its `graph` and
 * `code` are the traced ones (for another ONNX file, `graph` lists its nodes).
 */
export const load = Object.defineProperties(
  async (...args: unknown[]): Promise<TracedModule> => {
    const { f, mapLocation } = LOAD.parse(args as never);
    const source = typeof f === "string" ? `"${f}"` : "the given bytes";
    const bytes =
      typeof f === "string" ? new Uint8Array(await (await nodeImport("node:fs/promises")).readFile(f)) : f;
    const model = decodeModel(bytes, source);
    const meta = new Map<string, string>(
      (model.metadataProps ?? []).map((p: { key: string; value: string }) => [p.key, p.value]),
    );
    const m = buildModule(model, source, TracedModule);
    withText(m, meta.get(GRAPH_KEY) ?? m.graphText, meta.get(CODE_KEY) ?? "");
    return mapLocation === null ? m : (m.to(mapLocation) as TracedModule);
  },
  { name: { value: "load" }, signature: { value: LOAD, enumerable: true } },
) as unknown as LoadFn;

const SCRIPT = signature("jit.script", [
  arg("obj", k.any),
  arg.unsupported("optimize", null, "deprecated in PyTorch"),
  arg.unsupported("_framesUp", 0, "Python frames"),
  arg.unsupported("_rcb", null, "a Python resolution callback"),
  arg.opt("exampleInputs", k.any),
]);

/** `jit.script` (see {@link script}). */
export interface ScriptFn {
  (...args: CallsOf<typeof SCRIPT>): never;
  /** The declared signature (PyTorch's parameters, parsed from every call form). */
  readonly signature: typeof SCRIPT;
}

/**
 * `torch.jit.script(obj)`: in PyTorch it compiles the Python source of `obj` to TorchScript. JavaScript source
 * cannot be compiled that way, so this always fails, naming the way that works: `torch.jit.trace(model,
 * exampleInputs)`, which records the ops a forward pass runs (then `traced.save(path)`).
 */
export const script = Object.defineProperties(
  (...args: unknown[]): never => {
    SCRIPT.parse(args as never);
    throw new Error(
      "jit.script compiles Python source to TorchScript, which has no JavaScript counterpart: use torch.jit.trace(model, exampleInputs) " +
        "to record the model's ops (control flow is frozen as the example takes it), then traced.save(path) or torch.jit.save(traced, path)",
    );
  },
  { name: { value: "script" }, signature: { value: SCRIPT, enumerable: true } },
) as unknown as ScriptFn;
