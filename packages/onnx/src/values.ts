/**
 * What the importer's kernels share: graph values (tensors, and host values: small arrays known without reading a
 * device), tensor-proto decoding, node attributes, pads, and elementwise arithmetic on either kind of value.
 */
import * as nn from "@cinder/nn";
import {
  type DType,
  fromBFloat16Bits,
  fromFloat16Bits,
  getBackend,
  getDefaultDevice,
  intOn,
  isFloat,
  Tensor,
  tensor,
} from "@cinder/tensor";

/** An error of the ONNX importer: a file that is not a valid ONNX model, an opset or operator not supported. */
export class OnnxLoadError extends Error {
  override name = "OnnxLoadError";
}

export const MIN_OPSET = 13;
export const MAX_OPSET = 21;

/** A small array known on the host (not on a device): an int or float constant, a shape. */
export interface Host {
  readonly host: true;
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: readonly number[];
}
export type Value = Tensor | Host;

export const host = (data: readonly number[], dims: readonly number[], dtype: DType): Host => ({
  host: true,
  dtype,
  dims,
  data,
});
export const isHost = (v: Value): v is Host => !(v instanceof Tensor);

/** ONNX `TensorProto.DataType` -> Cinder dtype (INT64 is int64; `toTensor` makes it int32 on a backend without it). */
export const DTYPE_OF: Record<number, DType> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  5: "int16",
  6: "int32",
  7: "int64",
  9: "bool",
  10: "float16",
  11: "float64",
  16: "bfloat16",
};
export const TYPE_NAMES: Record<number, string> = {
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

/** FLOAT16 and BFLOAT16 bit patterns -> values (stored as 16-bit patterns in raw data and in int32_data). */
const HALF: Record<number, (bits: number) => number> = { 10: fromFloat16Bits, 16: fromBFloat16Bits };

/** A decoded protobuf message (a plain object from `toObject`). */

export type Proto = any;

export interface Attr {
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
export interface Node {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, Attr>;
}

/** A tensor proto's values as numbers, and its dims. */
export function tensorValues(
  t: Proto,
  where: string,
): { dtype: DType; dims: number[]; data: number[]; float: boolean } {
  const type = t.dataType ?? 0;
  const dtype = DTYPE_OF[type];
  if (dtype === undefined)
    throw new OnnxLoadError(
      `onnx.load: ${where} has data type ${TYPE_NAMES[type] ?? type}, which Cinder does not support (FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT32, INT64, INT16, INT8, UINT8, BOOL)`,
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
    const size =
      type === 7 || type === 11 ? 8 : type === 1 || type === 6 ? 4 : type === 5 || HALF[type] ? 2 : 1;
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
                : type === 5
                  ? view.getInt16(2 * i, true)
                  : HALF[type]
                    ? HALF[type](view.getUint16(2 * i, true))
                    : type === 3
                      ? view.getInt8(i)
                      : view.getUint8(i);
  } else {
    const list =
      type === 1
        ? t.floatData
        : type === 11
          ? t.doubleData
          : type === 7
            ? t.int64Data
            : t.int32Data; /* INT32, INT16, INT8, UINT8, BOOL */
    // (FLOAT16/BFLOAT16 in int32_data are their bit patterns, as ONNX specifies)
    data = HALF[type] ? (list ?? []).map((b: number) => HALF[type](Number(b))) : (list ?? []).map(Number);
    if (data.length !== n)
      throw new OnnxLoadError(
        `onnx.load: ${where} has ${data.length} values for shape [${dims.join(", ")}] (${n} expected): the file is damaged`,
      );
  }
  return { dtype, dims, data, float: type === 1 || type === 11 || HALF[type] !== undefined };
}

/** A host value as a tensor on `like`'s device (float hosts take `like`'s float dtype). */
export function toTensor(v: Value, like?: Tensor): Tensor {
  if (!isHost(v)) return v;
  const floating = isFloat(v.dtype);
  const dtype = floating && like?.isFloatingPoint() ? like.dtype : v.dtype;
  const device = like?.device ?? getDefaultDevice();
  // an int64 constant (shapes, indices) on a backend without int64 is its default integer, int32
  return tensor(v.data as number[], { dtype: intOn(dtype, getBackend(device)), device }).reshape(
    v.dims as number[],
  );
}

/** A host value's numbers; a tensor here is an error naming the node (a value that must be static). */
export function hostData(v: Value | undefined, node: Node, what: string): readonly number[] {
  if (v === undefined)
    throw new OnnxLoadError(`onnx.load: node "${node.name}" (${node.opType}) has no ${what}`);
  if (isHost(v)) return v.data;
  throw new OnnxLoadError(
    `onnx.load: node "${node.name}" (${node.opType}) needs its ${what} as a constant (an initializer or Constant node), not a computed tensor`,
  );
}

export const ints = (node: Node, name: string, dflt: number[]): number[] =>
  node.attrs.get(name)?.ints ?? dflt;
export const int = (node: Node, name: string, dflt: number): number => node.attrs.get(name)?.i ?? dflt;
export const float = (node: Node, name: string, dflt: number): number => node.attrs.get(name)?.f ?? dflt;
export const str = (node: Node, name: string, dflt: string): string => {
  const s = node.attrs.get(name)?.s;
  return s ? new TextDecoder().decode(s) : dflt;
};

export const normAxis = (a: number, n: number): number => (a < 0 ? a + n : a);

/** ONNX pads [b1.., e1..] as F.pad's [b_last, e_last, ..., b_first, e_first] over the spatial dims. */
export function torchPads(pads: readonly number[]): number[] {
  const n = pads.length / 2;
  const out: number[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(pads[i], pads[i + n]);
  return out;
}

/** The explicit pads of a conv/pool node: `pads`, or computed from `auto_pad` and the input's spatial size. */
export function nodePads(
  node: Node,
  x: Tensor,
  kernel: number[],
  strides: number[],
  dilations: number[],
): number[] {
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
export function applyPads(x: Tensor, pads: number[], value: number): [Tensor, number[]] {
  const n = pads.length / 2;
  const begin = pads.slice(0, n);
  const end = pads.slice(n);
  if (begin.every((b, i) => b === end[i])) return [x, begin];
  return [nn.F.pad(x, torchPads(pads), "constant", value), Array(n).fill(0)];
}

/** Elementwise arithmetic on two values (host values stay on the host when both are). */
export function arith(op: "Add" | "Sub" | "Mul" | "Div", a: Value, b: Value): Value {
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

export type Env = Map<string, Value | undefined>;
/** An operator as Cinder tensor ops: the node and its input values give its output value(s). */
export type Kernel = (node: Node, inputs: (Value | undefined)[]) => Value | Value[];

/** The input at `i` as a tensor (required). */
export function t(node: Node, inputs: (Value | undefined)[], i: number): Tensor {
  const v = inputs[i];
  if (v === undefined)
    throw new OnnxLoadError(`onnx.load: node "${node.name}" (${node.opType}) is missing its input ${i}`);
  return toTensor(v);
}

export const unary =
  (f: (x: Tensor) => Tensor): Kernel =>
  (node, inputs) =>
    f(t(node, inputs, 0));
