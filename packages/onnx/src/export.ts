/**
 * `export(model, args, f?, options)`: PyTorch's `torch.onnx.export`. The model runs once on the example
 * arguments (in eval mode) while the tracer of `trace.ts` watches every op call through the core's tracing seam;
 * what it records becomes an ONNX graph with the parameters and buffers as initializers.
 */

import * as nn from "@cinder/nn";
import { Tensor } from "@cinder/tensor";
import { encodeModel, OnnxExportError, valueInfo } from "./graph";
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

/**
 * `torch.onnx.export(model, args, f=None, { inputNames, outputNames, dynamicAxes, opsetVersion = 17 })`: trace
 * `model` on the example `args` (a tensor or an array of tensors) and write the ONNX model.
 *
 * `f` is a path (Node; written atomically: a temporary file renamed over it); without it the model's bytes are
 * returned, which works in browsers too. The model runs once in eval mode (its mode is restored), with Dropout
 * the identity. Parameters and buffers become initializers under their `stateDict` names. The ops exported are
 * {@link EXPORTED_OPS} (the layers through their `nn.functional` ops); any other op fails with an
 * {@link OnnxExportError} naming it.
 *
 *   const bytes = await onnx.export(model, torch.randn([1, 784]), undefined, {
 *     inputNames: ["input"], outputNames: ["output"], dynamicAxes: { input: { 0: "batch" }, output: { 0: "batch" } },
 *   });
 */
export async function export_(
  model: nn.Module,
  args: ExportArgs,
  f?: string | null,
  options: ExportOptions = {},
): Promise<Uint8Array> {
  const who = "onnx.export";
  if (!(model instanceof nn.Module))
    throw new TypeError("onnx.export(model, args, f?, options?): model must be an nn.Module");
  const inputs = exampleInputs(args, "onnx.export(model, args, f?, options?)");
  if (f != null && typeof f !== "string")
    throw new TypeError("onnx.export(model, args, f?, options?): f must be a path (a string) or omitted");
  const opset = checkOpset(options.opsetVersion ?? 17, who);
  const inputNames = options.inputNames ?? defaultNames("input", inputs.length);
  if (inputNames.length !== inputs.length)
    throw new OnnxExportError(`${who}: ${inputNames.length} inputNames for ${inputs.length} inputs`);
  const trace = traceModel(model, inputs, inputNames, opset, who);
  const bytes = await traceBytes(
    trace,
    model.constructor.name,
    { inputNames, outputNames: options.outputNames, dynamicAxes: options.dynamicAxes, opset },
    who,
  );
  if (f != null) await writeAtomically(f, bytes);
  return bytes;
}

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
