/**
 * The ONNX mappings of `nn.functional`'s ops (which the layers call), by Cinder's op name: linear, convolutions
 * and transposed convolutions, pooling, normalizations (eval), dropout (eval), embedding, activations.
 */
import type { Tensor } from "@cinder/tensor";
import { clip, softmax } from "./export-tensor";
import { type Args, type Emit, type Exporter, nTuple, O, refuse, T } from "./export-util";

/** The weight, or a constant of `fill` (1 for a scale, 0 for a shift) of `shape` when the op has none. */
function weightOr(e: Emit, w: unknown, shape: number[], fill: 0 | 1, like: Tensor): string {
  if (w != null) return e.g.nameOf(w as Tensor);
  const n = shape.reduce((a, b) => a * b, 1);
  return e.g.constant(Array(n).fill(fill), shape, like.dtype);
}

/** ONNX `pads` ([begin..., end...]) of a convolution's `padding` (ints, "same" or "valid"). */
function convPads(padding: unknown, kernel: number[], dilation: number[]): number[] {
  const n = kernel.length;
  if (padding === "valid") return Array(2 * n).fill(0);
  if (padding === "same") {
    const total = kernel.map((k, i) => dilation[i] * (k - 1));
    return [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))];
  }
  const p = nTuple(padding, n);
  return [...p, ...p];
}

const conv =
  (n: number): Exporter =>
  (e, a, out) => {
    const [x, w] = [T(a), T(a, "weight")];
    const kernel = w.shape.slice(2);
    const dilations = nTuple(a.dilation, n);
    const inputs = a.bias ? [x, w, T(a, "bias")] : [x, w];
    e.g.node("Conv", inputs, O(out), {
      kernel_shape: kernel,
      strides: nTuple(a.stride, n),
      pads: convPads(a.padding, kernel, dilations),
      dilations,
      group: a.groups as number,
    });
  };

const convTranspose =
  (n: number): Exporter =>
  (e, a, out) => {
    const [x, w] = [T(a), T(a, "weight")];
    const p = nTuple(a.padding, n);
    const inputs = a.bias ? [x, w, T(a, "bias")] : [x, w];
    e.g.node("ConvTranspose", inputs, O(out), {
      kernel_shape: w.shape.slice(2),
      strides: nTuple(a.stride, n),
      pads: [...p, ...p],
      output_padding: nTuple(a.outputPadding, n),
      dilations: nTuple(a.dilation, n),
      group: a.groups as number,
    });
  };

const maxPool =
  (n: number): Exporter =>
  (e, a, out) => {
    if (a.returnIndices) refuse("maxPool with returnIndices", "has no ONNX mapping yet");
    const kernel = nTuple(a.kernelSize, n);
    const stride = a.stride == null || (Array.isArray(a.stride) && a.stride.length === 0) ? kernel : a.stride;
    const p = nTuple(a.padding, n);
    e.g.node("MaxPool", [T(a)], O(out), {
      kernel_shape: kernel,
      strides: nTuple(stride, n),
      pads: [...p, ...p],
      dilations: nTuple(a.dilation, n),
      ceil_mode: a.ceilMode ? 1 : 0,
    });
  };

const avgPool =
  (n: number): Exporter =>
  (e, a, out) => {
    if (a.divisorOverride != null) refuse("avgPool2d with divisorOverride", "has no ONNX mapping yet");
    const kernel = nTuple(a.kernelSize, n);
    const stride = a.stride == null || (Array.isArray(a.stride) && a.stride.length === 0) ? kernel : a.stride;
    const p = nTuple(a.padding, n);
    e.g.node("AveragePool", [T(a)], O(out), {
      kernel_shape: kernel,
      strides: nTuple(stride, n),
      pads: [...p, ...p],
      ceil_mode: a.ceilMode ? 1 : 0,
      count_include_pad: a.countIncludePad ? 1 : 0,
    });
  };

/** Adaptive average pooling: GlobalAveragePool to 1x1, AveragePool where the sizes divide, else refused. */
const adaptiveAvgPool: Exporter = (e, a, out) => {
  const [x, y] = [T(a), O(out)];
  const inner = x.shape.slice(-(y.ndim - 2 || 1));
  const outer = y.shape.slice(-(y.ndim - 2 || 1));
  if (x.ndim === y.ndim && outer.every((s) => s === 1)) return void e.g.node("GlobalAveragePool", [x], y);
  if (x.ndim !== y.ndim || inner.some((s, i) => s % outer[i] !== 0))
    refuse(
      `adaptiveAvgPool from ${inner.join("x")} to ${outer.join("x")}`,
      "has no ONNX mapping (the output size must divide the input size, or be 1)",
    );
  const kernel = inner.map((s, i) => s / outer[i]);
  e.g.node("AveragePool", [x], y, { kernel_shape: kernel, strides: kernel });
};

const batchNorm: Exporter = (e, a, out) => {
  const x = T(a);
  if (a.training)
    refuse("batchNorm in training mode", "cannot be exported (the model is traced in eval mode)");
  if (a.runningMean == null || a.runningVar == null)
    refuse("batchNorm without running statistics", "has no ONNX mapping yet");
  const c = [x.shape[1]];
  e.g.node(
    "BatchNormalization",
    [
      x,
      weightOr(e, a.weight, c, 1, x),
      weightOr(e, a.bias, c, 0, x),
      T(a, "runningMean"),
      T(a, "runningVar"),
    ],
    O(out),
    { epsilon: { float: a.eps as number } },
  );
};

const layerNorm: Exporter = (e, a, out) => {
  const x = T(a);
  if (e.opset < 17)
    refuse("layerNorm", `needs opset 17 or newer (LayerNormalization); opsetVersion is ${e.opset}`);
  const shape = [...(a.normalizedShape as number[])];
  e.g.node(
    "LayerNormalization",
    [x, weightOr(e, a.weight, shape, 1, x), weightOr(e, a.bias, shape, 0, x)],
    O(out),
    { axis: -shape.length, epsilon: { float: a.eps as number } },
  );
};

/** GroupNorm as PyTorch 1.13 exports it: InstanceNormalization over [N, G, -1], then the per-channel affine. */
const groupNorm: Exporter = (e, a, out) => {
  const x = T(a);
  const groups = a.numGroups as number;
  const grouped = e.g.node("Reshape", [x, e.g.ints([0, groups, -1])]);
  const normed = e.g.node(
    "InstanceNormalization",
    [
      grouped,
      e.g.constant(Array(groups).fill(1), [groups], x.dtype),
      e.g.constant(Array(groups).fill(0), [groups], x.dtype),
    ],
    undefined,
    { epsilon: { float: a.eps as number } },
  );
  const back = e.g.node("Reshape", [normed, e.g.node("Shape", [x])]);
  if (a.weight == null && a.bias == null) return void e.g.node("Identity", [back], O(out));
  const perChannel = [x.shape[1], ...Array(x.ndim - 2).fill(1)];
  const w = e.g.node("Reshape", [weightOr(e, a.weight, [x.shape[1]], 1, x), e.g.ints(perChannel)]);
  const b = e.g.node("Reshape", [weightOr(e, a.bias, [x.shape[1]], 0, x), e.g.ints(perChannel)]);
  e.g.node("Add", [e.g.node("Mul", [back, w]), b], O(out));
};

const dropout: Exporter = (e, a, out) => {
  if (a.training && (a.p as number) > 0)
    refuse("dropout with training=true", "cannot be exported (the model is traced in eval mode)");
  e.g.alias(O(out), T(a));
};

const embedding: Exporter = (e, a, out) => {
  if (a.maxNorm != null) refuse("embedding with maxNorm", "has no ONNX mapping yet");
  e.g.node("Gather", [T(a, "weight"), T(a)], O(out), { axis: 0 });
};

const SQRT2 = Math.SQRT2;

/** GELU as PyTorch 1.13 exports it at opset 17: x * 0.5 * (1 + erf(x / sqrt 2)), or the tanh approximation. */
const gelu: Exporter = (e, a, out) => {
  const x = T(a);
  const c = (v: number) => e.g.scalar(v, x.dtype);
  let inner: string;
  if (a.approximate === "tanh") {
    const cube = e.g.node("Mul", [e.g.node("Mul", [x, x]), x]);
    const poly = e.g.node("Add", [x, e.g.node("Mul", [cube, c(0.044715)])]);
    inner = e.g.node("Tanh", [e.g.node("Mul", [poly, c(Math.sqrt(2 / Math.PI))])]);
  } else inner = e.g.node("Erf", [e.g.node("Div", [x, c(SQRT2)])]);
  const half = e.g.node("Mul", [x, e.g.node("Add", [inner, c(1)])]);
  e.g.node("Mul", [half, c(0.5)], O(out));
};

const softplus: Exporter = (e, a, out) => {
  const x = T(a);
  const beta = a.beta as number;
  if (beta === 1) return void e.g.node("Softplus", [x], O(out));
  const scaled = e.g.node("Softplus", [e.g.node("Mul", [x, e.g.scalar(beta, x.dtype)])]);
  e.g.node("Div", [scaled, e.g.scalar(beta, x.dtype)], O(out));
};

/** F.pad: ONNX's Pad, its pads over every dim ([begins..., ends...]) from PyTorch's pairs (last dim first). */
const pad: Exporter = (e, a, out) => {
  const x = T(a);
  const pairs = a.pad as number[];
  const begins = Array(x.ndim).fill(0);
  const ends = Array(x.ndim).fill(0);
  for (let i = 0; i < pairs.length / 2; i++) {
    begins[x.ndim - 1 - i] = pairs[2 * i];
    ends[x.ndim - 1 - i] = pairs[2 * i + 1];
  }
  const modes: Record<string, string> = { constant: "constant", reflect: "reflect", replicate: "edge" };
  const mode = modes[a.mode as string];
  if (mode === undefined) refuse(`pad with mode "${a.mode}"`, "has no ONNX mapping yet");
  const inputs = [e.g.nameOf(x), e.g.ints([...begins, ...ends])];
  if (mode === "constant") inputs.push(e.g.scalar((a.value as number | null) ?? 0, x.dtype));
  e.g.node("Pad", inputs, O(out), { mode });
};

/** F.interpolate: Resize by the scale factors when given (as PyTorch maps coordinates), else to the sizes. */
const interpolate: Exporter = (e, a, out) => {
  const [x, y] = [T(a), O(out)];
  const mode = a.mode as string;
  const spatial = x.ndim - 2;
  let attrs: Record<string, string>;
  if (mode === "nearest")
    attrs = { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" };
  else if (mode === "linear" || mode === "bilinear" || mode === "trilinear")
    attrs = {
      mode: "linear",
      coordinate_transformation_mode: a.alignCorners ? "align_corners" : "pytorch_half_pixel",
    };
  else return refuse(`interpolate with mode "${mode}"`, "has no ONNX mapping yet");
  if (a.scaleFactor != null && !a.recomputeScaleFactor) {
    const f =
      typeof a.scaleFactor === "number" ? Array(spatial).fill(a.scaleFactor) : (a.scaleFactor as number[]);
    const scales = e.g.constant([1, 1, ...f], [spatial + 2], "float32");
    return void e.g.node("Resize", [x, "", scales], y, attrs);
  }
  const batchAndChannels = e.g.node("Slice", [e.g.node("Shape", [x]), e.g.ints([0]), e.g.ints([2])]);
  const sizes = e.g.node("Concat", [batchAndChannels, e.g.ints(y.shape.slice(2))], undefined, { axis: 0 });
  e.g.node("Resize", [x, "", "", sizes], y, attrs);
};

const single =
  (opType: string, attrs: (a: Args) => Record<string, { float: number }> = () => ({})): Exporter =>
  (e, a, out) =>
    e.g.node(opType, [T(a)], O(out), attrs(a));

/** `nn.functional`'s exporters, by Cinder's op name. */
export const NN_EXPORTERS: Record<string, Exporter> = {
  "nn.functional.linear": (e, a, out) => {
    const [x, w] = [T(a), T(a, "weight")];
    const bias = a.bias as Tensor | null;
    if (x.ndim === 2) return void e.g.node("Gemm", bias ? [x, w, bias] : [x, w], O(out), { transB: 1 });
    const wt = e.g.node("Transpose", [w], undefined, { perm: [1, 0] });
    if (!bias) return void e.g.node("MatMul", [x, wt], O(out));
    e.g.node("Add", [e.g.node("MatMul", [x, wt]), bias], O(out));
  },
  "nn.functional.conv1d": conv(1),
  "nn.functional.conv2d": conv(2),
  "nn.functional.convTranspose1d": convTranspose(1),
  "nn.functional.convTranspose2d": convTranspose(2),
  "nn.functional.maxPool1d": maxPool(1),
  "nn.functional.maxPool2d": maxPool(2),
  "nn.functional.avgPool1d": avgPool(1),
  "nn.functional.avgPool2d": avgPool(2),
  "nn.functional.adaptiveAvgPool1d": adaptiveAvgPool,
  "nn.functional.adaptiveAvgPool2d": adaptiveAvgPool,
  "nn.functional.batchNorm": batchNorm,
  "nn.functional.layerNorm": layerNorm,
  "nn.functional.groupNorm": groupNorm,
  "nn.functional.dropout": dropout,
  "nn.functional.dropout1d": dropout,
  "nn.functional.dropout2d": dropout,
  "nn.functional.embedding": embedding,
  "nn.functional.relu": single("Relu"),
  "nn.functional.sigmoid": single("Sigmoid"),
  "nn.functional.tanh": single("Tanh"),
  "nn.functional.leakyRelu": single("LeakyRelu", (a) => ({ alpha: { float: a.negativeSlope as number } })),
  "nn.functional.elu": single("Elu", (a) => ({ alpha: { float: a.alpha as number } })),
  "nn.functional.gelu": gelu,
  "nn.functional.silu": (e, a, out) => e.g.node("Mul", [T(a), e.g.node("Sigmoid", [T(a)])], O(out)),
  "nn.functional.softplus": softplus,
  "nn.functional.hardtanh": (e, a, out) => clip(e, T(a), a.minVal, a.maxVal, O(out)),
  "nn.functional.relu6": (e, a, out) => clip(e, T(a), 0, 6, O(out)),
  "nn.functional.pad": pad,
  "nn.functional.interpolate": interpolate,
  "nn.functional.softmax": softmax("Softmax"),
  "nn.functional.logSoftmax": softmax("LogSoftmax"),
};
