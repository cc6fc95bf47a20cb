/**
 * The ONNX graph a trace builds (`GraphBuilder`): value names for tensors, nodes, initializers (parameters,
 * buffers, constants), and its encoding as a ModelProto with the protobufjs descriptor of `schema.ts`.
 */
import { type DType, Tensor } from "@cinder/tensor";
import { ATTRIBUTE_TYPE, DATA_TYPE, modelProtoType } from "./schema";

/** An error of the ONNX exporter: an op without a mapping, an unsupported option or argument. */
export class OnnxExportError extends Error {
  override name = "OnnxExportError";
}

/** A constant's values, known on the host. */
export interface HostTensor {
  readonly values: readonly number[];
  readonly dims: readonly number[];
  readonly dtype: DType;
}

/** A node attribute: an int, a list of ints, a string, a float (`{ float: 0.5 }`) or a constant (`{ tensor }`). */
export type AttrValue = number | readonly number[] | string | { float: number } | { tensor: HostTensor };

/** One node of the graph being built. */
export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

interface Initializer {
  name: string;
  tensor?: Tensor;
  /** int64 data (shapes, axes, indices). */
  int64?: readonly number[];
  /** dims of int64 data (default: 1-D). */
  dims?: readonly number[];
}

/** The graph built while the model runs. */
export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: Initializer[] = [];
  private readonly names = new Map<Tensor, string>();
  /** The values computed from the inputs or the parameters (not constants). */
  private readonly live = new Set<Tensor>();
  /** Each named tensor's storage version when it was named: a later in-place write the trace did not see shows. */
  private readonly versions = new Map<Tensor, number>();
  private readonly used = new Set<string>();
  private readonly counts = new Map<string, number>();

  /**
   * @param stateNames the model's parameters and buffers by tensor, named as in its `stateDict()`
   * @param untraced called for a tensor that reaches a node without being an input, a node's output or a
   *   parameter: it may fail (a value computed by an op the trace missed) or let it become a constant
   */
  constructor(
    private readonly stateNames: ReadonlyMap<Tensor, string>,
    private readonly untraced: (t: Tensor) => void = () => {},
    private readonly who = "onnx.export",
  ) {}

  private setName(t: Tensor, name: string): void {
    this.names.set(t, name);
    this.versions.set(t, t.version);
  }

  /** Register a graph input. */
  input(t: Tensor, name: string): void {
    this.setName(t, name);
    this.used.add(name);
    this.live.add(t);
  }

  /** Whether `t` is computed from the inputs or the parameters (else it is a constant of the trace). */
  isLive(t: Tensor): boolean {
    return this.live.has(t) || this.stateNames.has(t);
  }

  /** A fresh value name: `base_0`, `base_1`, ... */
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
    if (known !== undefined) {
      if (this.versions.get(t) !== t.version)
        throw new OnnxExportError(
          `${this.who}: a value was modified in place by code the tracer cannot see (an in-place op such as x.add_(y) in forward, or a write into a view of it): use the out-of-place form (x = x.add(y))`,
        );
      return known;
    }
    let name = this.stateNames.get(t);
    if (name === undefined) this.untraced(t);
    if (name === undefined || this.used.has(name)) name = this.fresh("onnx::Constant");
    this.used.add(name);
    this.setName(t, name);
    this.initializers.push({ name, tensor: t });
    return name;
  }

  /** Whether `t` has a value name already. */
  has(t: Tensor): boolean {
    return this.names.has(t);
  }

  /** Let `out` stand for the same value as `input` (an op that is the identity in the graph). */
  alias(out: Tensor, input: Tensor | string): void {
    this.setName(out, typeof input === "string" ? input : this.nameOf(input));
    if (typeof input === "string" || this.isLive(input)) this.live.add(out);
  }

  /** An int64 initializer (a shape, axes, an index); 1-D unless `dims` says otherwise (`[]`: a scalar). */
  ints(values: readonly number[], dims?: readonly number[]): string {
    const name = this.fresh("onnx::Const");
    this.initializers.push({ name, int64: values, dims });
    return name;
  }

  /** A scalar `Constant` of `dtype` (a number operand of an elementwise op, a Clip bound). */
  scalar(value: number, dtype: DType): string {
    return this.constant([value], [], dtype);
  }

  /** A `Constant` node (ones for an absent weight, a scalar operand): a value of the graph, not a parameter. */
  constant(values: readonly number[], dims: readonly number[], dtype: DType): string {
    return this.node("Constant", [], this.fresh("onnx::Constant"), {
      value: { tensor: { values, dims, dtype } },
    });
  }

  /** Append a node; `output` is the tensor it computes, or a name (fresh when omitted). Returns the output name. */
  node(
    opType: string,
    inputs: readonly (Tensor | string)[],
    output?: Tensor | string,
    attrs: Record<string, AttrValue> = {},
  ): string {
    const out =
      output === undefined || output instanceof Tensor ? this.fresh(`onnx::${opType}`) : (output as string);
    const inputNames = inputs.map((i) => (typeof i === "string" ? i : this.nameOf(i)));
    if (output instanceof Tensor) {
      this.setName(output, out);
      this.live.add(output);
    }
    this.nodes.push({ opType, inputs: inputNames, outputs: [out], attrs });
    return out;
  }

  /** Append a node with several outputs, one per tensor of `outputs`. */
  nodeMulti(
    opType: string,
    inputs: readonly (Tensor | string)[],
    outputs: readonly Tensor[],
    attrs: Record<string, AttrValue> = {},
  ): void {
    const inputNames = inputs.map((i) => (typeof i === "string" ? i : this.nameOf(i)));
    const names = outputs.map((t) => {
      const name = this.fresh(`onnx::${opType}`);
      this.setName(t, name);
      this.live.add(t);
      return name;
    });
    this.nodes.push({ opType, inputs: inputNames, outputs: names, attrs });
  }

  /** Give a traced value a new name (a graph output's); returns false when it is not a node's output. */
  rename(t: Tensor, name: string): boolean {
    const old = this.names.get(t);
    if (old === undefined) return false;
    const producer = this.nodes.find((n) => n.outputs[0] === old);
    if (!producer || this.initializers.some((i) => i.name === old)) return false;
    producer.outputs[0] = name;
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === old ? name : i));
    this.setName(t, name);
    return true;
  }
}

/** The ONNX IR version that goes with an opset (onnx's VersionConverter table). */
function irVersion(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/** A host constant as a TensorProto (typed value lists). */
function hostProto(h: HostTensor) {
  const dataType = DATA_TYPE[h.dtype as keyof typeof DATA_TYPE];
  const values = [...h.values];
  const list =
    h.dtype === "float32" ? "floatData" : h.dtype === "float64" ? "doubleData" : ("int32Data" as const);
  return { dims: [...h.dims], dataType, [list]: values };
}

function attribute(name: string, v: AttrValue) {
  if (typeof v === "number") return { name, type: ATTRIBUTE_TYPE.INT, i: v };
  if (typeof v === "string") return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: ATTRIBUTE_TYPE.INTS, ints: v };
  if ("tensor" in (v as object))
    return { name, type: ATTRIBUTE_TYPE.TENSOR, t: hostProto((v as { tensor: HostTensor }).tensor) };
  return { name, type: ATTRIBUTE_TYPE.FLOAT, f: (v as { float: number }).float };
}

/** An initializer as a TensorProto object; a tensor's data is filled in by `encodeObject`. */
function initializerProto(init: Initializer) {
  if (init.int64) {
    const dims = init.dims ?? [init.int64.length];
    return { name: init.name, dims: [...dims], dataType: DATA_TYPE.int64, int64Data: [...init.int64] };
  }
  const t = init.tensor as Tensor;
  const dataType = DATA_TYPE[t.dtype as keyof typeof DATA_TYPE];
  if (dataType === undefined) throw new OnnxExportError(`onnx.export: no ONNX type for dtype ${t.dtype}`);
  return { name: init.name, dims: [...t.shape], dataType, tensor: t };
}

/** A graph input's or output's type: dtype and shape, `dynamic` axes named instead of sized. */
export function valueInfo(name: string, t: Tensor, dynamic: ReadonlyMap<number, string>) {
  const elemType = DATA_TYPE[t.dtype as keyof typeof DATA_TYPE];
  if (elemType === undefined) throw new OnnxExportError(`onnx.export: no ONNX type for dtype ${t.dtype}`);
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

/** What `encodeModel` writes besides the graph's nodes and initializers. */
export interface ModelParts {
  name: string;
  opset: number;
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  /** `metadata_props` entries (the traced TorchScript-style text of `jit.trace`). */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * A built graph as a ModelProto object (protobufjs's plain form). Float initializers carry their tensor as
 * `tensor` (the model's own parameter or buffer, so a module built from this object shares it) instead of data.
 */
export function modelObject(g: GraphBuilder, parts: ModelParts): any {
  return {
    irVersion: irVersion(parts.opset),
    opsetImport: [{ domain: "", version: parts.opset }],
    producerName: "cinder",
    graph: {
      name: parts.name,
      node: g.nodes.map((n, i) => ({
        name: `/${n.opType}_${i}`,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
      })),
      initializer: g.initializers.map(initializerProto),
      input: parts.inputs,
      output: parts.outputs,
    },
    metadataProps: Object.entries(parts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

/**
 * The bytes of a ModelProto object: each initializer that `current` names a tensor for (or that carries one)
 * gets that tensor's data, read asynchronously (from any device).
 */
export async function encodeObject(
  model: any,
  current: (name: string) => Tensor | undefined = () => undefined,
): Promise<Uint8Array> {
  const inits: Record<string, unknown>[] = model.graph?.initializer ?? [];
  const initializer = await Promise.all(
    inits.map(async (init) => {
      const { tensor: own, ...rest } = init;
      const t = current(init.name as string) ?? own;
      if (!(t instanceof Tensor)) return rest;
      const values = await t.contiguous().dataAsync();
      // int64 is stored as exact doubles: INT64 raw data is the two's-complement words of its values
      const data = t.dtype === "int64" ? BigInt64Array.from(values, (v) => BigInt(v)) : values;
      const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
      const dataType = DATA_TYPE[t.dtype as keyof typeof DATA_TYPE];
      return { name: init.name, dims: [...t.shape], dataType, rawData };
    }),
  );
  const type = modelProtoType();
  return type.encode(type.fromObject({ ...model, graph: { ...model.graph, initializer } })).finish();
}

/** The ModelProto bytes of a built graph. */
export async function encodeModel(g: GraphBuilder, parts: ModelParts): Promise<Uint8Array> {
  return encodeObject(modelObject(g, parts));
}
