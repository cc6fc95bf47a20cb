/**
 * `export(model, args, f?, options)`: PyTorch's `torch.onnx.export`. The model runs once on the example
 * arguments (in eval mode, with gradient recording on) while a tracer watches it; what it records becomes an
 * ONNX graph with the parameters and buffers as initializers.
 *
 * The tracer needs no seam of its own in the core. It sees ops through two doors, both open only during the
 * (synchronous) forward pass and restored afterwards:
 *   - the layers whose ONNX node needs their attributes (Linear, Conv1d/2d, MaxPool1d/2d, Flatten) and the
 *     softmax methods (`softmax`/`logSoftmax` and everything that calls them, such as `F.logSoftmax` and
 *     `nn.LogSoftmax`) are wrapped, and each call becomes one node; ops inside such a call are not traced;
 *   - every other op is seen where it meets autograd: the installed autograd hooks are wrapped, so each op
 *     recorded (inputs and parameters require grad while tracing) is mapped by its node name (`ReluBackward0`
 *     -> Relu, `ViewBackward0` -> Reshape, ...). A node name without a mapping fails the export, naming the op.
 * A tensor that reaches a node without having been traced (a constant built inside `forward`) becomes an
 * initializer holding its value at export time, as PyTorch's tracer bakes constants.
 */

import * as nn from "@cinder/nn";
import {
  type AutogradHooks,
  autogradHooks,
  enableGrad,
  installAutograd,
  type OpRecord,
  Tensor,
} from "@cinder/tensor";
import { nodeImport } from "./node-import";
import { ATTRIBUTE_TYPE, DATA_TYPE, modelProtoType } from "./schema";

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

/** An error of the ONNX exporter: an op without a mapping, an unsupported option or argument. */
export class OnnxExportError extends Error {
  override name = "OnnxExportError";
}

const MIN_OPSET = 13;
const MAX_OPSET = 21;

/** The ONNX IR version that goes with an opset (onnx's VersionConverter table). */
function irVersion(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

type AttrValue = number | readonly number[] | string | { float: number };

interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

interface Initializer {
  name: string;
  tensor?: Tensor;
  /** int64 data (shapes for Reshape). */
  int64?: readonly number[];
}

/** The graph built while the model runs. */
class Tracer {
  depth = 0;
  readonly nodes: NodeSpec[] = [];
  readonly initializers: Initializer[] = [];
  private readonly names = new Map<Tensor, string>();
  private readonly used = new Set<string>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly stateNames: Map<Tensor, string>) {}

  /** Register a graph input. */
  input(t: Tensor, name: string): void {
    this.names.set(t, name);
    this.used.add(name);
  }

  /** A fresh value or node name: `/fc1/Gemm_output_0` style is not needed; `Relu_0`, `Relu_1`, ... */
  fresh(base: string): string {
    for (;;) {
      const n = this.counts.get(base) ?? 0;
      this.counts.set(base, n + 1);
      const name = `${base}_${n}`;
      if (!this.used.has(name)) {
        this.used.add(name);
        return name;
      }
    }
  }

  /** The value name of `t` as a node input: traced, a parameter or buffer, or a constant made an initializer. */
  nameOf(t: Tensor): string {
    const known = this.names.get(t);
    if (known !== undefined) return known;
    let name = this.stateNames.get(t);
    if (name === undefined || this.used.has(name)) name = this.fresh("onnx::Constant");
    this.used.add(name);
    this.names.set(t, name);
    this.initializers.push({ name, tensor: t });
    return name;
  }

  /** An int64 initializer (a shape). */
  int64s(values: readonly number[]): string {
    const name = this.fresh("onnx::Shape");
    this.initializers.push({ name, int64: values });
    return name;
  }

  /** Append a node computing `output` (or a named intermediate when `output` is a string). */
  node(
    opType: string,
    inputs: readonly (Tensor | string)[],
    output: Tensor | string,
    attrs: NodeSpec["attrs"] = {},
  ) {
    const out = typeof output === "string" ? output : this.fresh(`onnx::${opType}`);
    if (typeof output !== "string") this.names.set(output, out);
    this.nodes.push({
      opType,
      inputs: inputs.map((i) => (typeof i === "string" ? i : this.nameOf(i))),
      outputs: [out],
      attrs,
    });
    return out;
  }

  /** Give a traced value a new name (a graph output's); returns false when it is not a node's output. */
  rename(t: Tensor, name: string): boolean {
    const old = this.names.get(t);
    const producer = this.nodes.find((n) => n.outputs[0] === old);
    if (old === undefined || !producer) return false;
    producer.outputs[0] = name;
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === old ? name : i));
    this.names.set(t, name);
    return true;
  }

  has(t: Tensor): boolean {
    return this.names.has(t);
  }
}

let active: Tracer | null = null;

/** Run `fn` as one traced op (inner ops are not traced) and let `emit` add its node(s). */
function asOne<T>(fn: () => T, emit: (out: T, tracer: Tracer) => void): T {
  const tracer = active;
  if (tracer === null || tracer.depth > 0) return fn();
  tracer.depth++;
  let out: T;
  try {
    out = fn();
  } finally {
    tracer.depth--;
  }
  emit(out, tracer);
  return out;
}

/** Reshape `x` to `y`'s shape, keeping the batch dimension open: a 0 copies the input's first dimension. */
function reshape(tracer: Tracer, x: Tensor, y: Tensor): void {
  const shape = [...y.shape];
  if (shape.length > 0 && x.ndim > 0 && shape[0] === x.shape[0]) shape[0] = 0;
  else if (shape.length > 0) shape[0] = -1;
  tracer.node("Reshape", [x, tracer.int64s(shape)], y);
}

/** The autograd node names that map to one ONNX op over the recorded inputs. */
const ELEMENTWISE: Record<string, string> = {
  AddBackward0: "Add",
  SubBackward0: "Sub",
  MulBackward0: "Mul",
  DivBackward0: "Div",
  ReluBackward0: "Relu",
  SigmoidBackward0: "Sigmoid",
  TanhBackward0: "Tanh",
  ExpBackward0: "Exp",
  LogBackward0: "Log",
  NegBackward0: "Neg",
  MmBackward0: "MatMul",
  BmmBackward0: "MatMul",
  CloneBackward0: "Identity",
  AliasBackward0: "Identity",
};
const RESHAPES = new Set([
  "ViewBackward0",
  "ReshapeAliasBackward0",
  "UnsafeViewBackward0",
  "FlattenBackward0",
]);

/** An op recorded for autograd outside any wrapped layer: map it by its node name, or fail naming it. */
function onRecord(tracer: Tracer, rec: OpRecord): void {
  if (tracer.depth > 0) return;
  const inputs = rec.inputs;
  const op = ELEMENTWISE[rec.name];
  if (op !== undefined && inputs.every((t) => t !== null)) {
    const arity = op === "Add" || op === "Sub" || op === "Mul" || op === "Div" || op === "MatMul" ? 2 : 1;
    if (inputs.length === arity) {
      tracer.node(op, inputs as Tensor[], rec.output);
      return;
    }
  }
  const x = inputs[0];
  if (RESHAPES.has(rec.name) && x) {
    reshape(tracer, x, rec.output);
    return;
  }
  if ((rec.name === "TBackward0" || rec.name === "TransposeBackward0") && x && x.ndim === 2) {
    tracer.node("Transpose", [x], rec.output, { perm: [1, 0] });
    return;
  }
  const torchName = rec.name.replace(/Backward\d*$/, "");
  throw new OnnxExportError(
    `onnx.export: the op ${torchName} (autograd node ${rec.name}) has no ONNX mapping yet` +
      (op !== undefined ? " in this form (a scalar or constant operand)" : "") +
      `; supported: Linear, Conv1d/Conv2d, MaxPool1d/MaxPool2d, Flatten, Dropout (eval), softmax/logSoftmax, ` +
      `${Object.values(ELEMENTWISE)
        .filter((v, i, a) => a.indexOf(v) === i)
        .join(", ")}, view/reshape/flatten, t()`,
  );
}

const pair = (v: number | readonly number[], n: number): number[] =>
  typeof v === "number" ? Array(n).fill(v) : [...v];

/** ONNX `pads` ([begin..., end...]) of a convolution's `padding`. */
function convPads(m: {
  padding: number[] | "same" | "valid";
  kernelSize: number[];
  dilation: number[];
}): number[] {
  const n = m.kernelSize.length;
  if (m.padding === "valid") return Array(2 * n).fill(0);
  if (m.padding === "same") {
    const total = m.kernelSize.map((k, i) => m.dilation[i] * (k - 1));
    return [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))];
  }
  return [...m.padding, ...m.padding];
}

/** Method wrappers installed while tracing: [object, key, wrapper(original)]. */
type Patch = [object, string, (orig: (...a: any[]) => any) => (...a: any[]) => any];

const PATCHES: Patch[] = [
  [
    nn.Linear.prototype,
    "forward",
    (orig) =>
      function (this: nn.Linear, x: Tensor) {
        return asOne(
          () => orig.call(this, x) as Tensor,
          (y, tr) => {
            const bias = this.bias as Tensor | null;
            if (x.ndim === 2) {
              tr.node("Gemm", bias ? [x, this.weight, bias] : [x, this.weight], y, { transB: 1 });
              return;
            }
            const wt = tr.node("Transpose", [this.weight], tr.fresh("onnx::Transpose"), { perm: [1, 0] });
            if (!bias) {
              tr.node("MatMul", [x, wt], y);
              return;
            }
            const mm = tr.node("MatMul", [x, wt], tr.fresh("onnx::MatMul"));
            tr.node("Add", [mm, bias], y);
          },
        );
      },
  ],
  ...[nn.Conv1d, nn.Conv2d].map(
    (C): Patch => [
      C.prototype,
      "forward",
      (orig) =>
        function (this: nn.Conv2d, x: Tensor) {
          return asOne(
            () => orig.call(this, x) as Tensor,
            (y, tr) => {
              if (this.paddingMode !== "zeros")
                throw new OnnxExportError(
                  `onnx.export: ${this.constructor.name} with paddingMode "${this.paddingMode}" has no ONNX mapping yet`,
                );
              const bias = this.bias as Tensor | null;
              tr.node("Conv", bias ? [x, this.weight, bias] : [x, this.weight], y, {
                kernel_shape: this.kernelSize,
                strides: this.stride,
                pads: convPads(this),
                dilations: this.dilation,
                group: this.groups,
              });
            },
          );
        },
    ],
  ),
  ...[nn.MaxPool1d, nn.MaxPool2d].map(
    (P, i): Patch => [
      P.prototype,
      "forward",
      (orig) =>
        function (this: nn.MaxPool2d, x: Tensor) {
          return asOne(
            () => orig.call(this, x) as Tensor,
            (y, tr) => {
              if (this.returnIndices)
                throw new OnnxExportError("onnx.export: MaxPool with returnIndices has no ONNX mapping yet");
              const n = i + 1;
              const kernel = pair(this.kernelSize, n);
              const padding = pair(this.padding, n);
              tr.node("MaxPool", [x], y, {
                kernel_shape: kernel,
                strides: this.stride == null ? kernel : pair(this.stride, n),
                pads: [...padding, ...padding],
                dilations: pair(this.dilation, n),
                ceil_mode: this.ceilMode ? 1 : 0,
              });
            },
          );
        },
    ],
  ),
  [
    nn.Flatten.prototype,
    "forward",
    (orig) =>
      function (this: nn.Flatten, x: Tensor) {
        return asOne(
          () => orig.call(this, x) as Tensor,
          (y, tr) => {
            const end = this.endDim < 0 ? this.endDim + x.ndim : this.endDim;
            if (this.startDim === 1 && end === x.ndim - 1) tr.node("Flatten", [x], y, { axis: 1 });
            else if (y === x) tr.node("Identity", [x], y);
            else reshape(tr, x, y);
          },
        );
      },
  ],
  ...(["softmax", "logSoftmax"] as const).map(
    (key): Patch => [
      Tensor.prototype,
      key,
      (orig) =>
        function (this: Tensor, ...args: unknown[]) {
          return asOne(
            () => orig.apply(this, args) as Tensor,
            (y, tr) => {
              const a = args[0];
              const dim = typeof a === "number" ? a : (a as { dim?: number } | undefined)?.dim;
              if (typeof dim !== "number" || args.slice(1).some((v) => v != null) || y.dtype !== this.dtype)
                throw new OnnxExportError(
                  `onnx.export: ${key} is exported with an explicit dim and no dtype only`,
                );
              tr.node(key === "softmax" ? "Softmax" : "LogSoftmax", [this], y, { axis: dim });
            },
          );
        },
    ],
  ),
];

/** Install the tracer's wrappers; returns a function that removes them. */
function install(tracer: Tracer): () => void {
  const hooks = autogradHooks();
  if (hooks === null)
    throw new OnnxExportError("onnx.export needs @cinder/autograd (import it, or import cinder)");
  const undo: (() => void)[] = [];
  const traced: AutogradHooks = {
    ...hooks,
    record(rec) {
      onRecord(tracer, rec);
      hooks.record(rec);
    },
  };
  installAutograd(traced);
  undo.push(() => installAutograd(hooks));
  for (const [target, key, wrap] of PATCHES) {
    const obj = target as Record<string, (...a: any[]) => any>;
    const had = Object.hasOwn(obj, key);
    const orig = obj[key];
    obj[key] = wrap(orig);
    undo.push(() => {
      if (had) obj[key] = orig;
      else delete obj[key];
    });
  }
  active = tracer;
  undo.push(() => {
    active = null;
  });
  return () => {
    for (const u of undo.reverse()) u();
  };
}

/** The dynamic axes of one input or output as axis -> name. */
function axesOf(axes: DynamicAxes, name: string): Map<number, string> {
  const spec = axes[name];
  const out = new Map<number, string>();
  if (spec === undefined) return out;
  if (Array.isArray(spec)) for (const a of spec as number[]) out.set(a, `${name}_dynamic_axes_${a + 1}`);
  else for (const [a, n] of Object.entries(spec)) out.set(Number(a), n as string);
  return out;
}

function valueInfo(name: string, t: Tensor, dynamic: Map<number, string>) {
  const elemType = DATA_TYPE[t.dtype as keyof typeof DATA_TYPE];
  for (const a of dynamic.keys())
    if (!Number.isInteger(a) || a < 0 || a >= t.ndim)
      throw new OnnxExportError(
        `onnx.export: dynamicAxes names axis ${a} of "${name}", which has ${t.ndim} dims`,
      );
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: t.shape.map((d, i) => (dynamic.has(i) ? { dimParam: dynamic.get(i) } : { dimValue: d })),
        },
      },
    },
  };
}

function attribute(name: string, v: AttrValue) {
  if (typeof v === "number") return { name, type: ATTRIBUTE_TYPE.INT, i: v };
  if (typeof v === "string") return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: ATTRIBUTE_TYPE.INTS, ints: v };
  return { name, type: ATTRIBUTE_TYPE.FLOAT, f: (v as { float: number }).float };
}

async function tensorProto(init: Initializer) {
  if (init.int64) {
    const raw = new Uint8Array(8 * init.int64.length);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < init.int64.length; i++) view.setBigInt64(8 * i, BigInt(init.int64[i]), true);
    return { name: init.name, dims: [init.int64.length], dataType: DATA_TYPE.int64, rawData: raw };
  }
  const t = init.tensor as Tensor;
  const data = await t.contiguous().dataAsync();
  const dataType = DATA_TYPE[t.dtype as keyof typeof DATA_TYPE];
  if (dataType === undefined) throw new OnnxExportError(`onnx.export: no ONNX type for dtype ${t.dtype}`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name: init.name, dims: [...t.shape], dataType, rawData: bytes };
}

/** Names from PyTorch's defaults: input, input.1, ... */
function defaultNames(base: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? base : `${base}.${i}`));
}

/**
 * `torch.onnx.export(model, args, f=None, { inputNames, outputNames, dynamicAxes, opsetVersion = 17 })`: trace
 * `model` on the example `args` (a tensor or an array of tensors) and write the ONNX model.
 *
 * `f` is a path (Node; written atomically: a temporary file renamed over it); without it the model's bytes are
 * returned, which works in browsers too. The model runs once in eval mode (its mode is restored), with Dropout
 * the identity. Parameters and buffers become initializers under their `stateDict` names. Exported today:
 * Linear (Gemm), Conv1d/Conv2d, MaxPool1d/MaxPool2d, Flatten and view/reshape, Dropout in eval, ReLU, sigmoid,
 * tanh, exp, log, neg, softmax/logSoftmax over an explicit dim, add/sub/mul/div of two tensors, matmul of 2-D
 * tensors and t(); any other op fails with an {@link OnnxExportError} naming it.
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
  if (!(model instanceof nn.Module))
    throw new TypeError("onnx.export(model, args, f?, options?): model must be an nn.Module");
  const inputs = args instanceof Tensor ? [args] : [...args];
  if (inputs.length === 0 || !inputs.every((t) => t instanceof Tensor))
    throw new TypeError(
      "onnx.export(model, args, f?, options?): args must be a tensor or an array of tensors",
    );
  if (f != null && typeof f !== "string")
    throw new TypeError("onnx.export(model, args, f?, options?): f must be a path (a string) or omitted");
  const opset = options.opsetVersion ?? 17;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET)
    throw new OnnxExportError(
      `onnx.export: opsetVersion ${opset} is not supported (${MIN_OPSET} to ${MAX_OPSET})`,
    );
  const inputNames = options.inputNames ?? defaultNames("input", inputs.length);
  if (inputNames.length !== inputs.length)
    throw new OnnxExportError(`onnx.export: ${inputNames.length} inputNames for ${inputs.length} inputs`);

  const stateNames = new Map<Tensor, string>();
  for (const [name, p] of model.namedParameters()) stateNames.set(p, name);
  for (const [name, b] of model.namedBuffers()) stateNames.set(b, name);
  const tracer = new Tracer(stateNames);
  const traced = inputs.map((x, i) => {
    const t = x.isFloatingPoint() ? x.detach().requiresGrad_(true) : x;
    tracer.input(t, inputNames[i]);
    return t;
  });

  const wasTraining = model.training;
  model.eval();
  const undo = install(tracer);
  let result: unknown;
  try {
    result = enableGrad(() => model(...traced));
  } finally {
    undo();
    model.train(wasTraining);
  }
  const outputs = result instanceof Tensor ? [result] : Array.isArray(result) ? (result as unknown[]) : [];
  if (outputs.length === 0 || !outputs.every((t) => t instanceof Tensor))
    throw new OnnxExportError("onnx.export: the model must return a tensor or an array of tensors");
  const outputNames = options.outputNames ?? defaultNames("output", outputs.length);
  if (outputNames.length !== outputs.length)
    throw new OnnxExportError(`onnx.export: ${outputNames.length} outputNames for ${outputs.length} outputs`);
  (outputs as Tensor[]).forEach((t, i) => {
    if (!tracer.rename(t, outputNames[i])) tracer.node("Identity", [t], outputNames[i]);
  });
  const dynamic = options.dynamicAxes ?? {};
  for (const key of Object.keys(dynamic))
    if (!inputNames.includes(key) && !outputNames.includes(key))
      throw new OnnxExportError(
        `onnx.export: dynamicAxes names "${key}", which is neither an input nor an output`,
      );

  const graph = {
    name: model.constructor.name,
    node: tracer.nodes.map((n, i) => ({
      name: `/${n.opType}_${i}`,
      opType: n.opType,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
    })),
    initializer: await Promise.all(tracer.initializers.map(tensorProto)),
    input: traced.map((t, i) => valueInfo(inputNames[i], t, axesOf(dynamic, inputNames[i]))),
    output: (outputs as Tensor[]).map((t, i) =>
      valueInfo(outputNames[i], t, axesOf(dynamic, outputNames[i])),
    ),
  };
  const type = modelProtoType();
  const message = type.fromObject({
    irVersion: irVersion(opset),
    opsetImport: [{ domain: "", version: opset }],
    producerName: "cinder",
    graph,
  });
  const bytes = type.encode(message).finish();
  if (f != null) await writeAtomically(f, bytes);
  return bytes;
}

/** Write `bytes` to `path` through a temporary file renamed over it. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
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
