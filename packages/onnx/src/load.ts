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
import { arg, type CallsOf, cat, type DType, k, signature, Tensor, tensor } from "@cinder/tensor";
import { nodeImport } from "./node-import";
import { modelProtoType } from "./schema";

/** An error of the ONNX importer: a file that is not a valid ONNX model, an opset or operator not supported. */
export class OnnxLoadError extends Error {
  override name = "OnnxLoadError";
}

const MIN_OPSET = 13;
const MAX_OPSET = 21;

/** A small array known on the host (not on a device): an int or float constant, a shape. */
interface Host {
  readonly host: true;
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: readonly number[];
}
type Value = Tensor | Host;

const host = (data: readonly number[], dims: readonly number[], dtype: DType): Host => ({
  host: true,
  dtype,
  dims,
  data,
});
const isHost = (v: Value): v is Host => !(v instanceof Tensor);

/** ONNX `TensorProto.DataType` -> Cinder dtype (int64 becomes int32, as Cinder has no int64). */
const DTYPE_OF: Record<number, DType> = {
  1: "float32",
  2: "uint8",
  6: "int32",
  7: "int32",
  9: "bool",
  11: "float64",
};
const TYPE_NAMES: Record<number, string> = {
  0: "UNDEFINED",
  1: "FLOAT",
  2: "UINT8",
  3: "INT8",
  4: "UINT16",
  5: "INT16",
  6: "INT32",
  7: "INT64",
  8: "STRING",
  9: "BOOL",
  10: "FLOAT16",
  11: "DOUBLE",
  12: "UINT32",
  13: "UINT64",
  16: "BFLOAT16",
};

/** A decoded protobuf message (a plain object from `toObject`). */
type Proto = any;

interface Attr {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: Proto;
  floats?: number[];
  ints?: number[];
}

/** One node of the graph, with its attributes by name. */
interface Node {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, Attr>;
}

/** A tensor proto's values as numbers, and its dims. */
function tensorValues(
  t: Proto,
  where: string,
): { dtype: DType; dims: number[]; data: number[]; float: boolean } {
  const type = t.dataType ?? 0;
  const dtype = DTYPE_OF[type];
  if (dtype === undefined)
    throw new OnnxLoadError(
      `onnx.load: ${where} has data type ${TYPE_NAMES[type] ?? type}, which Cinder does not support (FLOAT, DOUBLE, INT32, INT64, UINT8, BOOL)`,
    );
  if (t.dataLocation === 1 || t.externalData?.length)
    throw new OnnxLoadError(`onnx.load: ${where} keeps its data in an external file, which is not supported`);
  const dims: number[] = (t.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  let data: number[];
  const raw: Uint8Array | undefined = t.rawData;
  if (raw && raw.length > 0) {
    const bytes = raw.slice(); // aligned copy
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const size = type === 7 || type === 11 ? 8 : type === 1 || type === 6 ? 4 : 1;
    if (bytes.byteLength !== n * size)
      throw new OnnxLoadError(
        `onnx.load: ${where} has ${bytes.byteLength} bytes of data for shape [${dims.join(", ")}] (${n * size} expected): the file is damaged`,
      );
    data = new Array(n);
    for (let i = 0; i < n; i++)
      data[i] =
        type === 1
          ? view.getFloat32(4 * i, true)
          : type === 11
            ? view.getFloat64(8 * i, true)
            : type === 6
              ? view.getInt32(4 * i, true)
              : type === 7
                ? Number(view.getBigInt64(8 * i, true))
                : view.getUint8(i);
  } else {
    const list =
      type === 1
        ? t.floatData
        : type === 11
          ? t.doubleData
          : type === 7
            ? t.int64Data
            : t.int32Data; /* INT32, UINT8, BOOL */
    data = (list ?? []).map(Number);
    if (data.length !== n)
      throw new OnnxLoadError(
        `onnx.load: ${where} has ${data.length} values for shape [${dims.join(", ")}] (${n} expected): the file is damaged`,
      );
  }
  return { dtype, dims, data, float: type === 1 || type === 11 };
}

/** A host value as a tensor on `like`'s device (float hosts take `like`'s float dtype). */
function toTensor(v: Value, like?: Tensor): Tensor {
  if (!isHost(v)) return v;
  const floating = v.dtype === "float32" || v.dtype === "float64";
  const dtype = floating && like?.isFloatingPoint() ? like.dtype : v.dtype;
  return tensor(v.data as number[], { dtype, device: like?.device }).reshape(v.dims as number[]);
}

/** A host value's numbers; a tensor here is an error naming the node (a value that must be static). */
function hostData(v: Value | undefined, node: Node, what: string): readonly number[] {
  if (v === undefined)
    throw new OnnxLoadError(`onnx.load: node "${node.name}" (${node.opType}) has no ${what}`);
  if (isHost(v)) return v.data;
  throw new OnnxLoadError(
    `onnx.load: node "${node.name}" (${node.opType}) needs its ${what} as a constant (an initializer or Constant node), not a computed tensor`,
  );
}

const ints = (node: Node, name: string, dflt: number[]): number[] => node.attrs.get(name)?.ints ?? dflt;
const int = (node: Node, name: string, dflt: number): number => node.attrs.get(name)?.i ?? dflt;
const float = (node: Node, name: string, dflt: number): number => node.attrs.get(name)?.f ?? dflt;
const str = (node: Node, name: string, dflt: string): string => {
  const s = node.attrs.get(name)?.s;
  return s ? new TextDecoder().decode(s) : dflt;
};

const normAxis = (a: number, n: number): number => (a < 0 ? a + n : a);

/** ONNX pads [b1.., e1..] as F.pad's [b_last, e_last, ..., b_first, e_first] over the spatial dims. */
function torchPads(pads: readonly number[]): number[] {
  const n = pads.length / 2;
  const out: number[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(pads[i], pads[i + n]);
  return out;
}

/** The explicit pads of a conv/pool node: `pads`, or computed from `auto_pad` and the input's spatial size. */
function nodePads(node: Node, x: Tensor, kernel: number[], strides: number[], dilations: number[]): number[] {
  const n = kernel.length;
  const auto = str(node, "auto_pad", "NOTSET");
  if (auto === "NOTSET") return ints(node, "pads", Array(2 * n).fill(0));
  if (auto === "VALID") return Array(2 * n).fill(0);
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < n; i++) {
    const size = x.shape[2 + i];
    const out = Math.ceil(size / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
    const small = Math.floor(total / 2);
    begin.push(auto === "SAME_LOWER" ? total - small : small);
    end.push(auto === "SAME_LOWER" ? small : total - small);
  }
  return [...begin, ...end];
}

/** Symmetric pads as the op's `padding`, or the input padded with `value` (asymmetric pads) and zero padding. */
function applyPads(x: Tensor, pads: number[], value: number): [Tensor, number[]] {
  const n = pads.length / 2;
  const begin = pads.slice(0, n);
  const end = pads.slice(n);
  if (begin.every((b, i) => b === end[i])) return [x, begin];
  return [nn.F.pad(x, torchPads(pads), "constant", value), Array(n).fill(0)];
}

/** Elementwise arithmetic on two values (host values stay on the host when both are). */
function arith(op: "Add" | "Sub" | "Mul" | "Div", a: Value, b: Value): Value {
  if (isHost(a) && isHost(b) && a.data.length === 1 && b.data.length === 1) {
    const [x, y] = [a.data[0], b.data[0]];
    const floatResult = a.dtype.startsWith("float") || b.dtype.startsWith("float");
    const r =
      op === "Add"
        ? x + y
        : op === "Sub"
          ? x - y
          : op === "Mul"
            ? x * y
            : floatResult
              ? x / y
              : Math.trunc(x / y);
    return host([r], a.dims.length >= b.dims.length ? a.dims : b.dims, floatResult ? "float32" : a.dtype);
  }
  const like = isHost(a) ? (b as Tensor) : a;
  // a one-element host operand as a JS number keeps the op a tensor-scalar op
  const scalar = (v: Value): Tensor | number =>
    isHost(v) && v.data.length === 1 && v.dims.length <= like.ndim ? v.data[0] : toTensor(v, like);
  const [x, y] = isHost(a) ? [toTensor(a, like), scalar(b)] : [a, scalar(b)];
  switch (op) {
    case "Add":
      return x.add(y);
    case "Sub":
      return x.sub(y);
    case "Mul":
      return x.mul(y);
    default:
      return x.div(y);
  }
}

type Env = Map<string, Value | undefined>;
type Kernel = (node: Node, inputs: (Value | undefined)[]) => Value;

/** The input at `i` as a tensor (required). */
function t(node: Node, inputs: (Value | undefined)[], i: number): Tensor {
  const v = inputs[i];
  if (v === undefined)
    throw new OnnxLoadError(`onnx.load: node "${node.name}" (${node.opType}) is missing its input ${i}`);
  return toTensor(v);
}

const unary =
  (f: (x: Tensor) => Tensor): Kernel =>
  (node, inputs) =>
    f(t(node, inputs, 0));

/** One ONNX operator per entry, as Cinder tensor ops. */
const KERNELS: Record<string, Kernel> = {
  Identity: (node, inputs) => inputs[0] ?? t(node, inputs, 0),
  Dropout: (node, inputs) => inputs[0] ?? t(node, inputs, 0),
  Relu: unary((x) => x.relu()),
  Sigmoid: unary((x) => x.sigmoid()),
  Tanh: unary((x) => x.tanh()),
  Exp: unary((x) => x.exp()),
  Log: unary((x) => x.log()),
  Neg: (node, inputs) => {
    const v = inputs[0];
    return v && isHost(v)
      ? host(
          v.data.map((x) => -x),
          v.dims,
          v.dtype,
        )
      : t(node, inputs, 0).neg();
  },
  Sqrt: unary((x) => x.sqrt()),
  Add: (node, [a, b]) => arith("Add", a ?? t(node, [], 0), b ?? t(node, [], 1)),
  Sub: (node, [a, b]) => arith("Sub", a ?? t(node, [], 0), b ?? t(node, [], 1)),
  Mul: (node, [a, b]) => arith("Mul", a ?? t(node, [], 0), b ?? t(node, [], 1)),
  Div: (node, [a, b]) => arith("Div", a ?? t(node, [], 0), b ?? t(node, [], 1)),
  MatMul: (node, inputs) => {
    const a = t(node, inputs, 0);
    return a.matmul(toTensor(inputs[1] ?? t(node, inputs, 1), a));
  },
  Gemm: (node, inputs) => {
    const a0 = t(node, inputs, 0);
    const b0 = toTensor(inputs[1] ?? t(node, inputs, 1), a0);
    const c = inputs[2] === undefined ? null : toTensor(inputs[2], a0);
    const alpha = float(node, "alpha", 1);
    const beta = float(node, "beta", 1);
    const a = int(node, "transA", 0) ? a0.t() : a0;
    if (int(node, "transB", 0) && alpha === 1 && (beta === 1 || c === null)) return nn.F.linear(a, b0, c);
    let y = a.matmul(int(node, "transB", 0) ? b0.t() : b0);
    if (alpha !== 1) y = y.mul(alpha);
    if (c !== null) y = y.add(beta === 1 ? c : c.mul(beta));
    return y;
  },
  Conv: (node, inputs) => {
    const x = t(node, inputs, 0);
    const w = toTensor(inputs[1] ?? t(node, inputs, 1), x);
    const b = inputs[2] === undefined ? null : toTensor(inputs[2], x);
    const n = w.ndim - 2;
    if (n !== 1 && n !== 2)
      throw new OnnxLoadError(
        `onnx.load: node "${node.name}" (Conv) is ${n}-D; Conv is supported in 1-D and 2-D`,
      );
    const kernel = ints(node, "kernel_shape", w.shape.slice(2));
    const strides = ints(node, "strides", Array(n).fill(1));
    const dilations = ints(node, "dilations", Array(n).fill(1));
    const [xp, padding] = applyPads(x, nodePads(node, x, kernel, strides, dilations), 0);
    const group = int(node, "group", 1);
    return (n === 1 ? nn.F.conv1d : nn.F.conv2d)(xp, w, b, strides, padding, dilations, group);
  },
  MaxPool: (node, inputs) => {
    const x = t(node, inputs, 0);
    if (node.outputs.length > 1 && node.outputs[1] !== "")
      throw new OnnxLoadError(
        `onnx.load: node "${node.name}" (MaxPool) with an Indices output is not supported`,
      );
    const kernel = ints(node, "kernel_shape", []);
    const n = kernel.length;
    const strides = ints(node, "strides", Array(n).fill(1));
    const dilations = ints(node, "dilations", Array(n).fill(1));
    const [xp, padding] = applyPads(
      x,
      nodePads(node, x, kernel, strides, dilations),
      Number.NEGATIVE_INFINITY,
    );
    const ceil = int(node, "ceil_mode", 0) === 1;
    if (n === 1) return nn.F.maxPool1d(xp, kernel[0], strides[0], padding[0], dilations[0], ceil) as Tensor;
    if (n === 2) return nn.F.maxPool2d(xp, kernel, strides, padding, dilations, ceil) as Tensor;
    throw new OnnxLoadError(`onnx.load: node "${node.name}" (MaxPool) is ${n}-D; 1-D and 2-D are supported`);
  },
  AveragePool: (node, inputs) => {
    const x = t(node, inputs, 0);
    const kernel = ints(node, "kernel_shape", []);
    const n = kernel.length;
    const strides = ints(node, "strides", Array(n).fill(1));
    const includePad = int(node, "count_include_pad", 0) === 1;
    const pads = nodePads(node, x, kernel, strides, Array(n).fill(1));
    const sym = pads.slice(0, n).every((b, i) => b === pads[n + i]);
    if (!sym && !includePad)
      throw new OnnxLoadError(
        `onnx.load: node "${node.name}" (AveragePool) with asymmetric pads and count_include_pad=0 is not supported`,
      );
    const [xp, padding] = applyPads(x, pads, 0);
    const ceil = int(node, "ceil_mode", 0) === 1;
    if (n === 1) return nn.F.avgPool1d(xp, kernel[0], strides[0], padding[0], ceil, includePad);
    if (n === 2) return nn.F.avgPool2d(xp, kernel, strides, padding, ceil, includePad);
    throw new OnnxLoadError(
      `onnx.load: node "${node.name}" (AveragePool) is ${n}-D; 1-D and 2-D are supported`,
    );
  },
  GlobalAveragePool: unary((x) =>
    x.mean(
      Array.from({ length: x.ndim - 2 }, (_, i) => i + 2),
      true,
    ),
  ),
  GlobalMaxPool: unary((x) => {
    let y = x;
    for (let d = 2; d < x.ndim; d++) y = y.amax(d, true);
    return y;
  }),
  BatchNormalization: (node, inputs) => {
    const x = t(node, inputs, 0);
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) =>
      toTensor(inputs[i] ?? t(node, inputs, i), x),
    );
    if (int(node, "training_mode", 0) === 1)
      throw new OnnxLoadError(
        `onnx.load: node "${node.name}" (BatchNormalization) in training mode is not supported`,
      );
    return nn.F.batchNorm(x, mean, variance, scale, bias, false, 0.1, float(node, "epsilon", 1e-5));
  },
  Flatten: (node, inputs) => {
    const x = t(node, inputs, 0);
    const axis = normAxis(int(node, "axis", 1), x.ndim);
    const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    return x.reshape(outer, -1);
  },
  Reshape: (node, inputs) => {
    const x = inputs[0] ?? t(node, inputs, 0);
    const shape = [...hostData(inputs[1], node, "shape")];
    const dims = isHost(x) ? x.dims : (x as Tensor).shape;
    if (int(node, "allowzero", 0) === 0)
      for (let i = 0; i < shape.length; i++) if (shape[i] === 0) shape[i] = dims[i];
    if (isHost(x)) {
      const known = shape.reduce((a, b) => (b === -1 ? a : a * b), 1);
      return host(
        x.data,
        shape.map((s) => (s === -1 ? x.data.length / known : s)),
        x.dtype,
      );
    }
    return (x as Tensor).reshape(shape);
  },
  Transpose: (node, inputs) => {
    const x = t(node, inputs, 0);
    const perm = ints(
      node,
      "perm",
      Array.from({ length: x.ndim }, (_, i) => x.ndim - 1 - i),
    );
    return x.permute(perm);
  },
  Softmax: (node, inputs) => {
    const x = t(node, inputs, 0);
    return x.softmax(int(node, "axis", -1));
  },
  LogSoftmax: (node, inputs) => {
    const x = t(node, inputs, 0);
    return x.logSoftmax(int(node, "axis", -1));
  },
  Clip: (node, inputs) => {
    const x = t(node, inputs, 0);
    const bound = (i: number): number | null =>
      inputs[i] === undefined ? null : hostData(inputs[i], node, i === 1 ? "min" : "max")[0];
    const lo = bound(1);
    const hi = bound(2);
    if (lo === null && hi === null) return x;
    return x.clamp(lo, hi);
  },
  Constant: (node) => {
    const [attr] = [...node.attrs.values()];
    if (attr === undefined) throw new OnnxLoadError(`onnx.load: node "${node.name}" (Constant) has no value`);
    switch (attr.name) {
      case "value": {
        const v = tensorValues(attr.t, `the value of node "${node.name}" (Constant)`);
        return host(v.data, v.dims, v.dtype);
      }
      case "value_float":
        return host([attr.f ?? 0], [], "float32");
      case "value_floats":
        return host(attr.floats ?? [], [attr.floats?.length ?? 0], "float32");
      case "value_int":
        return host([attr.i ?? 0], [], "int32");
      case "value_ints":
        return host(attr.ints ?? [], [attr.ints?.length ?? 0], "int32");
      default:
        throw new OnnxLoadError(
          `onnx.load: node "${node.name}" (Constant) has a ${attr.name} attribute, which is not supported`,
        );
    }
  },
  Cast: (node, inputs) => {
    const to = int(node, "to", 0);
    const dtype = DTYPE_OF[to];
    if (dtype === undefined)
      throw new OnnxLoadError(
        `onnx.load: node "${node.name}" (Cast) casts to ${TYPE_NAMES[to] ?? to}, which Cinder does not support`,
      );
    const v = inputs[0] ?? t(node, inputs, 0);
    if (isHost(v)) {
      const data = dtype.startsWith("float")
        ? v.data
        : dtype === "bool"
          ? v.data.map((x) => (x ? 1 : 0))
          : v.data.map(Math.trunc);
      return host(data, v.dims, dtype);
    }
    return v.to(dtype);
  },
  Shape: (node, inputs) => {
    const v = inputs[0] ?? t(node, inputs, 0);
    const dims = isHost(v) ? v.dims : v.shape;
    const n = dims.length;
    const start = normAxis(int(node, "start", 0), n);
    const end = node.attrs.has("end") ? normAxis(int(node, "end", n), n) : n;
    const out = dims.slice(Math.max(0, start), Math.min(n, end));
    return host(out, [out.length], "int32");
  },
  Concat: (node, inputs) => {
    const vs = inputs.filter((v): v is Value => v !== undefined);
    const axis = int(node, "axis", 0);
    if (vs.every(isHost) && vs.every((v) => v.dims.length === 1))
      return host(
        vs.flatMap((v) => v.data),
        [vs.reduce((a, v) => a + v.data.length, 0)],
        vs[0].dtype,
      );
    const like = vs.find((v): v is Tensor => !isHost(v));
    return cat(
      vs.map((v) => toTensor(v, like)),
      axis,
    );
  },
  Unsqueeze: (node, inputs) => {
    const v = inputs[0] ?? t(node, inputs, 0);
    const rank = (isHost(v) ? v.dims.length : v.ndim) + hostData(inputs[1], node, "axes").length;
    const axes = hostData(inputs[1], node, "axes")
      .map((a) => normAxis(a, rank))
      .sort((a, b) => a - b);
    if (isHost(v)) {
      const dims = [...v.dims];
      for (const a of axes) dims.splice(a, 0, 1);
      return host(v.data, dims, v.dtype);
    }
    let y = v;
    for (const a of axes) y = y.unsqueeze(a);
    return y;
  },
  Squeeze: (node, inputs) => {
    const v = inputs[0] ?? t(node, inputs, 0);
    const dims = isHost(v) ? v.dims : v.shape;
    const axes =
      inputs[1] === undefined
        ? dims.flatMap((d, i) => (d === 1 ? [i] : []))
        : hostData(inputs[1], node, "axes").map((a) => normAxis(a, dims.length));
    for (const a of axes)
      if (dims[a] !== 1)
        throw new OnnxLoadError(
          `onnx.load: node "${node.name}" (Squeeze) squeezes axis ${a} of size ${dims[a]} (shape [${dims.join(", ")}])`,
        );
    if (isHost(v))
      return host(
        v.data,
        v.dims.filter((_, i) => !axes.includes(i)),
        v.dtype,
      );
    return v.reshape(v.shape.filter((_, i) => !axes.includes(i)));
  },
  Gather: (node, inputs) => {
    const v = inputs[0] ?? t(node, inputs, 0);
    const idx = inputs[1];
    if (idx === undefined || !isHost(idx)) hostData(idx, node, "indices");
    const ix = idx as Host;
    const dims = isHost(v) ? v.dims : v.shape;
    const axis = normAxis(int(node, "axis", 0), dims.length);
    const indices = ix.data.map((i) => (i < 0 ? i + dims[axis] : i));
    if (isHost(v) && v.dims.length === 1)
      return host(
        indices.map((i) => v.data[i]),
        ix.dims,
        v.dtype,
      );
    const x = toTensor(v);
    const picked = x.indexSelect(axis, tensor(indices, { dtype: "int32", device: x.device }));
    return picked.reshape([...x.shape.slice(0, axis), ...ix.dims, ...x.shape.slice(axis + 1)]);
  },
  Pad: (node, inputs) => {
    const x = t(node, inputs, 0);
    const mode = str(node, "mode", "constant");
    if (mode !== "constant" && mode !== "reflect" && mode !== "edge")
      throw new OnnxLoadError(`onnx.load: node "${node.name}" (Pad) mode "${mode}" is not supported`);
    if (inputs[3] !== undefined)
      throw new OnnxLoadError(`onnx.load: node "${node.name}" (Pad) with an axes input is not supported`);
    const pads = hostData(inputs[1], node, "pads");
    const value = inputs[2] === undefined ? 0 : hostData(inputs[2], node, "constant_value")[0];
    const n = pads.length / 2;
    // F.pad pads from the last dim; drop leading dims whose pads are zero
    let lead = 0;
    while (lead < n && pads[lead] === 0 && pads[n + lead] === 0) lead++;
    if (lead === n) return x;
    const kept = [...pads.slice(lead, n), ...pads.slice(n + lead)];
    return nn.F.pad(
      x,
      torchPads(kept),
      mode === "edge" ? "replicate" : mode,
      mode === "constant" ? value : null,
    );
  },
};

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

  /** Run the graph on `inputs` (tensors, one per graph input). */
  override forward(...inputs: Tensor[]): Tensor | Tensor[] {
    if (inputs.length !== this.inputNames.length || !inputs.every((x) => x instanceof Tensor))
      throw new TypeError(
        `OnnxModule: the model takes ${this.inputNames.length} tensor(s) (${this.inputNames.join(", ")}), got ${inputs.length} argument(s)`,
      );
    const env: Env = new Map<string, Value>(this._constants);
    for (const [name, [owner, key]] of this._slots)
      env.set(name, (owner as unknown as Record<string, Tensor>)[key]);
    for (const [i, n] of this.inputNames.entries()) env.set(n, inputs[i]);
    for (const node of this._nodes) {
      const kernel = KERNELS[node.opType];
      const args = node.inputs.map((n) => (n === "" ? undefined : env.get(n)));
      let out: Value;
      try {
        out = kernel(node, args);
      } catch (e) {
        if (e instanceof OnnxLoadError) throw e;
        throw new Error(`onnx.load: node "${node.name}" (${node.opType}) failed: ${(e as Error).message}`, {
          cause: e,
        });
      }
      env.set(node.outputs[0], out);
    }
    const outs = this.outputNames.map((n) => toTensor(env.get(n) as Value));
    return outs.length === 1 ? outs[0] : outs;
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

/** Decode and check a model; returns the module. */
function build(bytes: Uint8Array, source: string): OnnxModule {
  if (bytes.byteLength === 0) throw new OnnxLoadError(`onnx.load: ${source} is empty`);
  const type = modelProtoType();
  let model: Proto;
  try {
    model = type.toObject(type.decode(bytes), { longs: Number, defaults: false });
  } catch (e) {
    throw new OnnxLoadError(
      `onnx.load: ${source} is not a valid ONNX model (the protobuf data is truncated or malformed: ${(e as Error).message})`,
      { cause: e },
    );
  }
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

  const m = new OnnxModule();
  const initNames = new Set<string>((graph.initializer ?? []).map((t: Proto) => t.name));
  const statistics = new Set<string>();
  for (const n of nodes)
    if (n.opType === "BatchNormalization") for (const s of n.inputs.slice(3, 5)) statistics.add(s);
  const slots = new Map<string, Slot>();
  const constants = new Map<string, Host>();
  for (const [i, init] of (graph.initializer ?? []).entries()) {
    const name: string = init.name || `initializer_${i}`;
    const v = tensorValues(init, `the initializer "${name}"`);
    if (!v.float) {
      constants.set(name, host(v.data, v.dims, v.dtype));
      continue;
    }
    const parts = name.split(".");
    const owner = childAt(m, parts.slice(0, -1));
    const key = fieldName(parts.at(-1) as string, owner);
    const data = tensor(v.data, { dtype: v.dtype }).reshape(v.dims);
    if (statistics.has(name)) owner.registerBuffer(key, data);
    else owner.registerParameter(key, new nn.Parameter(data));
    slots.set(name, [owner, key]);
  }
  const inputNames = (graph.input ?? [])
    .map((v: Proto) => v.name as string)
    .filter((n: string) => !initNames.has(n));
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
  readonly signature: typeof LOAD;
}

async function loadImpl(args: unknown[]): Promise<OnnxModule> {
  const { f } = LOAD.parse(args as never);
  const source = typeof f === "string" ? `"${f}"` : "the given bytes";
  return build(await bytesOf(f), source);
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
