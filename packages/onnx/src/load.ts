/**
 * `load(f)`: an ONNX model as a Cinder `nn.Module`, the other direction of `export`. The graph is decoded with
 * the same protobufjs descriptor (`schema.ts`), checked (a graph, the default-domain opset in range, every
 * operator known), and becomes an `OnnxModule` whose `forward` runs the nodes in order as Cinder tensor ops: so
 * it runs on any device the model is moved to, and autograd sees every op (the model fine-tunes).
 *
 * Values are of two kinds while the graph runs:
 *   - tensors: the graph's inputs, the float initializers (the module's parameters, named after the graph's
 *     initializer names: `fc1.weight` is the parameter `weight` of a child `fc1`) and what nodes compute from them;
 *   - host values: small arrays known without reading a device (int initializers, `Constant` nodes, `Shape` of a
 *     tensor and what `Cast`/`Gather`/`Concat`/`Unsqueeze`/`Squeeze`/arithmetic make of them). These give the
 *     static arguments (a Reshape's shape, Squeeze's axes, Clip's bounds, Gather's indices) and become tensors
 *     on the other operand's device where a tensor is needed.
 */
import * as nn from "@cinder/nn";
import { arg, type CallsOf, type DType, intOn, k, signature, Tensor, tensor } from "@cinder/tensor";
import { encodeObject } from "./graph";
import { BASE_KERNELS } from "./kernels";
import { MORE_KERNELS } from "./kernels-more";
import { nodeImport } from "./node-import";
import { modelProtoType } from "./schema";
import {
  type Attr,
  DTYPE_OF,
  type Env,
  type Host,
  host,
  type Kernel,
  MAX_OPSET,
  MIN_OPSET,
  type Node,
  OnnxLoadError,
  type Proto,
  tensorValues,
  toTensor,
  type Value,
} from "./values";

export { OnnxLoadError };

const KERNELS: Readonly<Record<string, Kernel>> = { ...BASE_KERNELS, ...MORE_KERNELS };

/** The operators `load` supports, sorted (for error messages and docs). */
export const SUPPORTED_OPS: readonly string[] = Object.keys(KERNELS).sort();

/** A valid field name for a parameter or child module (ONNX names may hold "::", "/", or start with "_"). */
function fieldName(raw: string, owner: nn.Module): string {
  let name = raw.replace(/[^A-Za-z0-9_]/g, "_").replace(/^_+/, "");
  if (name === "") name = "value";
  while (name in owner && !Object.hasOwn(owner, name)) name = `${name}_`;
  return name;
}

/** The child module at a dotted path, made as plain containers on the way. */
function childAt(root: nn.Module, path: string[]): nn.Module {
  let m = root;
  for (const seg of path) {
    const rec = m as unknown as Record<string, unknown>;
    const name = fieldName(seg, m);
    let next = rec[name];
    if (!(next instanceof nn.Module)) {
      if (next !== undefined) return m; // a parameter already holds the name: keep the rest flat here
      next = new nn.Module();
      m.addModule(name, next as nn.Module);
    }
    m = next as nn.Module;
  }
  return m;
}

/** A graph input's declared dtype and dims (null: a dynamic axis); dtype null when the type is not a tensor's. */
interface InputType {
  readonly dtype: DType | null;
  readonly dims: readonly (number | null)[] | null;
}

function inputType(v: Proto): InputType {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim
    ? tt.shape.dim.map((d: Proto) => (d.dimValue !== undefined ? Number(d.dimValue) : null))
    : null;
  return { dtype: DTYPE_OF[tt?.elemType ?? -1] ?? null, dims };
}

/** A call's input against the graph's declared type: the same dtype, rank, and size on every fixed axis. */
function checkInput(who: string, name: string, type: InputType, x: Tensor): void {
  const dims = type.dims;
  const want = `${type.dtype ?? "a tensor"}${dims ? ` of shape [${dims.map((d) => d ?? "*").join(", ")}]` : ""}`;
  const bad =
    (type.dtype !== null && x.dtype !== intOn(type.dtype, x.backend)) ||
    (dims !== null && (dims.length !== x.ndim || dims.some((d, i) => d !== null && d !== x.shape[i])));
  if (bad)
    throw new TypeError(
      `${who}: input "${name}" must be ${want} (as traced or exported; * is a dynamic axis), got ${x.dtype} of shape [${x.shape.join(", ")}]`,
    );
}

/** Where a graph value lives in the module: a field of a (child) module, read at every call (`to()` replaces it). */
type Slot = [owner: nn.Module, key: string];

/**
 * An ONNX graph as a Cinder module: `model(input)` (one tensor per graph input, in order) returns the output, or
 * an array of outputs when the graph has several. Its parameters are the graph's float initializers, named after
 * them (`fc1.weight`); the BatchNormalization statistics are buffers. `graphText` lists the nodes.
 */
export class OnnxModule extends nn.Module {
  static override readonly name: string = "OnnxModule";
  /** The graph's input names, in call order. */
  declare readonly inputNames: readonly string[];
  /** The graph's output names. */
  declare readonly outputNames: readonly string[];
  /** The ONNX opset the model declares. */
  declare readonly opsetVersion: number;
  declare private readonly _nodes: readonly Node[];
  declare private readonly _slots: ReadonlyMap<string, Slot>;
  declare private readonly _constants: ReadonlyMap<string, Host>;
  declare private readonly _inputTypes: readonly InputType[];
  declare private readonly _model: Proto;

  /** Run the graph on `inputs` (tensors, one per graph input). */
  override forward(...inputs: Tensor[]): Tensor | Tensor[] {
    const who = this.constructor.name;
    if (inputs.length !== this.inputNames.length || !inputs.every((x) => x instanceof Tensor))
      throw new TypeError(
        `${who}: the model takes ${this.inputNames.length} tensor(s) (${this.inputNames.join(", ")}), got ${inputs.length} argument(s)`,
      );
    for (const [i, type] of this._inputTypes.entries()) checkInput(who, this.inputNames[i], type, inputs[i]);
    const env: Env = new Map<string, Value>(this._constants);
    for (const [name, [owner, key]] of this._slots)
      env.set(name, (owner as unknown as Record<string, Tensor>)[key]);
    for (const [i, n] of this.inputNames.entries()) env.set(n, inputs[i]);
    for (const node of this._nodes) {
      const kernel = KERNELS[node.opType];
      const args = node.inputs.map((n) => (n === "" ? undefined : env.get(n)));
      let out: Value | Value[];
      try {
        out = kernel(node, args);
      } catch (e) {
        if (e instanceof OnnxLoadError) throw e;
        throw new Error(`onnx.load: node "${node.name}" (${node.opType}) failed: ${(e as Error).message}`, {
          cause: e,
        });
      }
      if (!Array.isArray(out)) env.set(node.outputs[0], out);
      else for (const [i, v] of out.entries()) env.set(node.outputs[i], v);
    }
    const outs = this.outputNames.map((n) => toTensor(env.get(n) as Value));
    return outs.length === 1 ? outs[0] : outs;
  }

  /**
   * The model as ONNX bytes, with the parameters' and buffers' current values (after fine-tuning, say), read
   * from whatever device they are on.
   */
  async toBytes(): Promise<Uint8Array> {
    return encodeObject(this._model, (name) => {
      const slot = this._slots.get(name);
      return slot && (slot[0] as unknown as Record<string, Tensor>)[slot[1]];
    });
  }

  /** The graph as text: one line per node, `outputs = OpType[attrs](inputs)`. */
  get graphText(): string {
    return this._nodes
      .map((n) => `${n.outputs.join(", ")} = ${n.opType}(${n.inputs.join(", ")})  # ${n.name}`)
      .join("\n");
  }
}

/** The bytes of `f`: a path read in Node, or bytes as given. */
async function bytesOf(f: string | Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  if (typeof f === "string") {
    const fs = await nodeImport("node:fs/promises");
    return new Uint8Array(await fs.readFile(f));
  }
  return f instanceof Uint8Array ? f : new Uint8Array(f);
}

/** The inputs of each operator that are static arguments (shapes, axes, scales, bounds), not data. */
const STATIC_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Reshape: [1],
  Resize: [1, 2, 3],
  Clip: [1, 2],
  Pad: [1, 2, 3],
  Slice: [1, 2, 3, 4],
  Tile: [1],
  Expand: [1],
  Unsqueeze: [1],
  Squeeze: [1],
  ReduceSum: [1],
  ReduceMean: [1],
  ReduceMax: [1],
  ReduceMin: [1],
  ReduceL1: [1],
  ReduceL2: [1],
  Split: [1],
  ConstantOfShape: [0],
  Range: [0, 1, 2],
};

/** The values read only as static arguments: float initializers among them stay host constants, not parameters. */
function staticInputs(nodes: readonly Node[]): Set<string> {
  const asStatic = new Set<string>();
  const asData = new Set<string>();
  for (const n of nodes) {
    const positions = STATIC_INPUTS[n.opType] ?? [];
    n.inputs.forEach((name, i) => {
      (positions.includes(i) ? asStatic : asData).add(name);
    });
  }
  for (const name of asData) asStatic.delete(name);
  return asStatic;
}

/** Decode a ModelProto (a plain object), or fail saying the bytes are not one. */
export function decodeModel(bytes: Uint8Array, source: string): Proto {
  if (bytes.byteLength === 0) throw new OnnxLoadError(`onnx.load: ${source} is empty`);
  const type = modelProtoType();
  try {
    return type.toObject(type.decode(bytes), { longs: Number, defaults: false });
  } catch (e) {
    throw new OnnxLoadError(
      `onnx.load: ${source} is not a valid ONNX model (the protobuf data is truncated or malformed: ${(e as Error).message})`,
      { cause: e },
    );
  }
}

/**
 * Check a decoded model and build its module, an instance of `ctor`. An initializer carrying a `tensor` (a traced
 * model's own parameter or buffer) is used as it is, so the module shares it; the others are decoded.
 */
export function buildModule<M extends OnnxModule>(model: Proto, source: string, ctor: new () => M): M {
  const graph = model.graph;
  if (!graph || !(graph.node?.length || graph.output?.length))
    throw new OnnxLoadError(`onnx.load: ${source} has no graph: it is not an ONNX model (or is damaged)`);
  const opset = (model.opsetImport ?? []).find((o: Proto) => !o.domain || o.domain === "ai.onnx")?.version;
  if (opset === undefined)
    throw new OnnxLoadError(`onnx.load: ${source} imports no opset of the default ONNX domain`);
  if (opset < MIN_OPSET || opset > MAX_OPSET)
    throw new OnnxLoadError(
      `onnx.load: ${source} uses opset ${opset}, which is not supported (opsets ${MIN_OPSET} to ${MAX_OPSET}; re-export with opset_version=17)`,
    );
  const nodes: Node[] = (graph.node ?? []).map((n: Proto, i: number) => ({
    name: n.name || `${n.opType}_${i}`,
    opType: n.opType ?? "",
    inputs: n.input ?? [],
    outputs: n.output ?? [],
    attrs: new Map((n.attribute ?? []).map((a: Attr) => [a.name, a])),
  }));
  for (const [i, n] of nodes.entries()) {
    const domain = (graph.node[i].domain as string | undefined) ?? "";
    if ((domain !== "" && domain !== "ai.onnx") || !Object.hasOwn(KERNELS, n.opType))
      throw new OnnxLoadError(
        `onnx.load: the operator ${domain && domain !== "ai.onnx" ? `${domain}.` : ""}${n.opType} (node "${n.name}") is not supported; supported: ${SUPPORTED_OPS.join(", ")}`,
      );
  }

  const m = new ctor();
  const initNames = new Set<string>((graph.initializer ?? []).map((t: Proto) => t.name));
  const statistics = new Set<string>();
  for (const n of nodes)
    if (n.opType === "BatchNormalization") for (const s of n.inputs.slice(3, 5)) statistics.add(s);
  const staticOnly = staticInputs(nodes);
  const slots = new Map<string, Slot>();
  const constants = new Map<string, Host>();
  for (const [i, init] of (graph.initializer ?? []).entries()) {
    const name: string = init.name || `initializer_${i}`;
    const shared: unknown = init.tensor;
    const parts = name.split(".");
    if (shared instanceof Tensor) {
      const owner = childAt(m, parts.slice(0, -1));
      const key = fieldName(parts.at(-1) as string, owner);
      if (shared instanceof nn.Parameter) owner.registerParameter(key, shared);
      else owner.registerBuffer(key, shared);
      slots.set(name, [owner, key]);
      continue;
    }
    const v = tensorValues(init, `the initializer "${name}"`);
    if (!v.float || staticOnly.has(name)) {
      constants.set(name, host(v.data, v.dims, v.dtype));
      continue;
    }
    const owner = childAt(m, parts.slice(0, -1));
    const key = fieldName(parts.at(-1) as string, owner);
    const data = tensor(v.data, { dtype: v.dtype }).reshape(v.dims);
    if (statistics.has(name)) owner.registerBuffer(key, data);
    else owner.registerParameter(key, new nn.Parameter(data));
    slots.set(name, [owner, key]);
  }
  const inputs = (graph.input ?? []).filter((v: Proto) => !initNames.has(v.name));
  const inputNames = inputs.map((v: Proto) => v.name as string);
  const outputNames = (graph.output ?? []).map((v: Proto) => v.name as string);
  const known = new Set<string>([...initNames, ...inputNames]);
  for (const n of nodes) {
    for (const inp of n.inputs)
      if (inp !== "" && !known.has(inp))
        throw new OnnxLoadError(
          `onnx.load: node "${n.name}" (${n.opType}) reads "${inp}", which no earlier node, input or initializer defines`,
        );
    for (const o of n.outputs) known.add(o);
  }
  for (const o of outputNames)
    if (!known.has(o))
      throw new OnnxLoadError(`onnx.load: the graph output "${o}" is not computed by any node`);
  Object.defineProperties(m, {
    inputNames: { value: inputNames, enumerable: false },
    outputNames: { value: outputNames, enumerable: false },
    opsetVersion: { value: opset, enumerable: false },
    _nodes: { value: nodes, enumerable: false },
    _slots: { value: slots, enumerable: false },
    _constants: { value: constants, enumerable: false },
    _inputTypes: { value: inputs.map(inputType), enumerable: false },
    _model: { value: model, enumerable: false },
  });
  return m;
}

const LOAD = signature(
  "onnx.load",
  [
    arg(
      "f",
      k.test<string | Uint8Array | ArrayBuffer>(
        "str (a path) or bytes (Uint8Array, ArrayBuffer)",
        (v) => (typeof v === "string" && v !== "") || v instanceof Uint8Array || v instanceof ArrayBuffer,
      ),
    ),
  ],
  [],
  { torch: "onnx.load" },
);

/** `onnx.load` (see {@link load}). */
export interface LoadFn {
  (...args: CallsOf<typeof LOAD>): Promise<OnnxModule>;
  /** The declared signature (PyTorch's parameters, parsed from every call form). */
  readonly signature: typeof LOAD;
}

async function loadImpl(args: unknown[]): Promise<OnnxModule> {
  const { f } = LOAD.parse(args as never);
  const source = typeof f === "string" ? `"${f}"` : "the given bytes";
  return buildModule(decodeModel(await bytesOf(f), source), source, OnnxModule);
}

/**
 * `onnx.load(f)`, after the `onnx` Python package's: read an ONNX model (a path in Node, or its bytes as a
 * `Uint8Array`/`ArrayBuffer`) and return it as a Cinder {@link OnnxModule}, callable like the model that was
 * exported. The graph's float initializers become its parameters under their names (`fc1.weight`), so the model
 * fine-tunes with autograd and an optimizer, and `.to(device)` moves it. Opsets 13 to 21; the operators are
 * {@link SUPPORTED_OPS}. A file that is not an ONNX model, an unsupported opset, or an unsupported operator (named
 * with its node) fails with an {@link OnnxLoadError}.
 *
 *   const model = await onnx.load("mnist.onnx");
 *   const logits = model(torch.randn([8, 1, 28, 28]));
 */
export const load = Object.defineProperties(
  async (...args: unknown[]): Promise<OnnxModule> => loadImpl(args),
  { name: { value: "load" }, signature: { value: LOAD, enumerable: true } },
) as unknown as LoadFn;
