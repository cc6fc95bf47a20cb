/**
 * `export(model, args, f?, options)`: PyTorch's `torch.onnx.export`. The model runs once on the example
 * arguments (in eval mode) while the tracer of `trace.ts` watches every op call through the core's tracing seam;
 * what it records becomes an ONNX graph with the parameters and buffers as initializers.
 */

import * as nn from "@cinder/nn";
import { arg, type CallsOf, k, signature, Tensor } from "@cinder/tensor";
import { encodeModel, OnnxExportError, valueInfo } from "./graph";
import { traceText } from "./jit-text";
import { nodeImport } from "./node-import";
import { EXPORTERS, type Trace, traceModel } from "./trace";

export { OnnxExportError };

/** Names of dynamic axes per input or output: `{ input: { 0: "batch" } }`, or a list of axes (named for you). */
export type DynamicAxes = Record<string, Readonly<Record<number, string>> | readonly number[]>;

/** The options of {@link export_}, PyTorch's keyword arguments of `torch.onnx.export` in camelCase. */
export interface ExportOptions {
  /** Names of the graph's inputs, in order (default `input`, `input.1`, ...; PyTorch's `input_names`). */
  inputNames?: readonly string[];
  /** Names of the graph's outputs, in order (default `output`, `output.1`, ...). */
  outputNames?: readonly string[];
  /** Axes whose size is left open, per input or output name: `{ input: { 0: "batch" }, output: { 0: "batch" } }`. */
  dynamicAxes?: DynamicAxes;
  /** The ONNX opset the model declares, 13 to 21 (default 17). */
  opsetVersion?: number;
}

/** What `export` was given as the example arguments: one tensor or several (a tuple in PyTorch). */
export type ExportArgs = Tensor | readonly Tensor[];

/** The opsets the exporter writes. */
export const MIN_OPSET = 13;
/** The newest opset the exporter writes. */
export const MAX_OPSET = 21;

/** The Cinder ops the exporter maps to ONNX, sorted (`nn.functional.*` for the layers' ops). */
export const EXPORTED_OPS: readonly string[] = Object.keys(EXPORTERS).sort();

/** The dynamic axes of one input or output as axis -> name. */
function axesOf(axes: DynamicAxes, name: string): Map<number, string> {
  const spec = axes[name];
  const out = new Map<number, string>();
  if (spec === undefined) return out;
  if (Array.isArray(spec)) for (const a of spec as number[]) out.set(a, `${name}_dynamic_axes_${a + 1}`);
  else for (const [a, n] of Object.entries(spec)) out.set(Number(a), n as string);
  return out;
}

/** Names from PyTorch's defaults: input, input.1, ... */
function defaultNames(base: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? base : `${base}.${i}`));
}

/** The inputs of `args` (a tensor or an array of tensors), checked. */
export function exampleInputs(args: unknown, who: string): Tensor[] {
  const inputs = args instanceof Tensor ? [args] : Array.isArray(args) ? [...args] : [];
  if (inputs.length === 0 || !inputs.every((t) => t instanceof Tensor))
    throw new TypeError(`${who}: the example inputs must be a tensor or an array of tensors`);
  return inputs;
}

/** A finished trace as ModelProto bytes: outputs named, dynamic axes set, `metadata` added. */
export async function traceBytes(
  trace: Trace,
  name: string,
  opts: {
    inputNames: readonly string[];
    outputNames?: readonly string[];
    dynamicAxes?: DynamicAxes;
    opset: number;
    metadata?: Record<string, string>;
  },
  who: string,
): Promise<Uint8Array> {
  const { graph: g, outputs } = trace;
  const outputNames = opts.outputNames ?? defaultNames("output", outputs.length);
  if (outputNames.length !== outputs.length)
    throw new OnnxExportError(`${who}: ${outputNames.length} outputNames for ${outputs.length} outputs`);
  outputs.forEach((t, i) => {
    if (!g.rename(t, outputNames[i])) g.node("Identity", [t], outputNames[i]);
  });
  const dynamic = opts.dynamicAxes ?? {};
  for (const key of Object.keys(dynamic))
    if (!opts.inputNames.includes(key) && !outputNames.includes(key))
      throw new OnnxExportError(
        `${who}: dynamicAxes names "${key}", which is neither an input nor an output`,
      );
  return encodeModel(g, {
    name,
    opset: opts.opset,
    inputs: trace.inputs.map((t, i) => valueInfo(opts.inputNames[i], t, axesOf(dynamic, opts.inputNames[i]))),
    outputs: outputs.map((t, i) => valueInfo(outputNames[i], t, axesOf(dynamic, outputNames[i]))),
    metadata: opts.metadata,
  });
}

/** A checked opset version. */
export function checkOpset(opset: number, who: string): number {
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET)
    throw new OnnxExportError(
      `${who}: opsetVersion ${opset} is not supported (${MIN_OPSET} to ${MAX_OPSET})`,
    );
  return opset;
}

const strings = k.test<readonly string[]>(
  "str[]",
  (v) => Array.isArray(v) && v.every((x) => typeof x === "string"),
);

const EXPORT = signature("onnx.export", [
  arg("model", k.instance(nn.Module, "nn.Module")),
  arg(
    "args",
    k.test<ExportArgs>(
      "Tensor or Tensor[] (the example inputs)",
      (v) => v instanceof Tensor || (Array.isArray(v) && v.length > 0 && v.every((t) => t instanceof Tensor)),
    ),
  ),
  arg.opt(
    "f",
    k.test<string>("str (a path; none: the bytes are returned)", (v) => typeof v === "string" && v !== ""),
  ),
  arg.unsupported("exportParams", true, "the weights are always written, as initializers"),
  arg("verbose", k.bool, false),
  arg.unsupported("training", "eval", "models are exported in eval mode, PyTorch's TrainingMode.EVAL"),
  arg.opt("inputNames", strings),
  arg.opt("outputNames", strings),
  arg.unsupported("operatorExportType", "ONNX", "only standard ONNX operators are written"),
  arg.opt("opsetVersion", k.int),
  arg.unsupported("doConstantFolding", true, "values computed from constants only are always folded"),
  arg.opt("dynamicAxes", k.dict),
  arg.unsupported("keepInitializersAsInputs", null, "initializers are not listed as graph inputs"),
  arg.unsupported("customOpsets", null, "only the default ONNX domain is written"),
  arg.unsupported("exportModulesAsFunctions", false, "modules are inlined, not written as ONNX functions"),
]);

async function exportImpl(args: unknown[]): Promise<Uint8Array> {
  const who = "onnx.export";
  const a = EXPORT.parse(args as never);
  const inputs = exampleInputs(a.args, "onnx.export()");
  const opset = checkOpset(a.opsetVersion ?? 17, who);
  const inputNames = a.inputNames ?? defaultNames("input", inputs.length);
  if (inputNames.length !== inputs.length)
    throw new OnnxExportError(`${who}: ${inputNames.length} inputNames for ${inputs.length} inputs`);
  const dynamicAxes = (a.dynamicAxes ?? {}) as DynamicAxes;
  const dynamicInputs = inputNames.map((n) => [...axesOf(dynamicAxes, n).keys()]);
  const trace = traceModel(a.model, inputs, inputNames, opset, who, dynamicInputs);
  if (a.verbose) console.log(traceText(trace, inputNames).graph);
  const bytes = await traceBytes(
    trace,
    a.model.constructor.name,
    {
      inputNames,
      outputNames: a.outputNames ?? undefined,
      dynamicAxes: (a.dynamicAxes ?? {}) as DynamicAxes,
      opset,
    },
    who,
  );
  if (a.f !== null) await writeAtomically(a.f, bytes);
  return bytes;
}

/** `onnx.export` (see {@link export_}). */
export interface ExportFn {
  (...args: CallsOf<typeof EXPORT>): Promise<Uint8Array>;
  /** The declared signature (PyTorch's parameters, parsed from every call form). */
  readonly signature: typeof EXPORT;
}

/**
 * `torch.onnx.export(model, args, f=None, exportParams=True, verbose=False, training="eval", inputNames=None,
 * outputNames=None, operatorExportType="ONNX", opsetVersion=None, doConstantFolding=True, dynamicAxes=None, ...)`:
 * trace `model` on the example `args` (a tensor or an array of tensors) and write the ONNX model (opset 17 unless
 * `opsetVersion` says otherwise, 13 to 21).
 *
 * `f` is a path (Node; written atomically: a temporary file renamed over it); without it the model's bytes are
 * returned, which works in browsers too. The model runs once in eval mode (its mode is restored), with Dropout
 * the identity. Parameters and buffers become initializers under their `stateDict` names; `verbose` prints the
 * traced graph. The ops exported are {@link EXPORTED_OPS} (the layers through their `nn.functional` ops); any
 * other op fails with an {@link OnnxExportError} naming it.
 *
 *   const bytes = await onnx.export(model, torch.randn([1, 784]), undefined, {
 *     inputNames: ["input"], outputNames: ["output"], dynamicAxes: { input: { 0: "batch" }, output: { 0: "batch" } },
 *   });
 */
export const export_ = Object.defineProperties((...args: unknown[]) => exportImpl(args), {
  name: { value: "export" },
  signature: { value: EXPORT, enumerable: true },
}) as unknown as ExportFn;

/** Write `bytes` to `path` through a temporary file renamed over it. */
export async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const fs = await nodeImport("node:fs/promises");
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}
