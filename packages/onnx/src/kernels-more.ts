/**
 * More importer kernels: what PyTorch's exports of transformer-style and ResNet-style models use beyond the
 * image-classifier basics (LayerNormalization, Erf/Gelu, Pow, reductions, ConvTranspose, Slice, Split, Resize,
 * comparisons and Where, Expand, Tile, Range, ConstantOfShape), and the rest of what Cinder's exporter writes.
 */
import * as nn from "@cinder/nn";
import { broadcastShapes, full, type IndexItem, type Tensor, where } from "@cinder/tensor";
import {
  float,
  type Host,
  host,
  hostData,
  int,
  ints,
  isHost,
  type Kernel,
  type Node,
  normAxis,
  OnnxLoadError,
  str,
  t,
  tensorValues,
  toTensor,
  unary,
  type Value,
} from "./values";

const fail = (node: Node, why: string): never => {
  throw new OnnxLoadError(`onnx.load: node "${node.name}" (${node.opType}) ${why}`);
};

/** The axes of a reduction: the `axes` input (opset 18+, ReduceSum 13+) or attribute; none means all. */
function reduceAxes(node: Node, inputs: (Value | undefined)[], ndim: number): number[] {
  const given = inputs[1] !== undefined ? hostData(inputs[1], node, "axes") : ints(node, "axes", []);
  if (given.length === 0) {
    if (int(node, "noop_with_empty_axes", 0) === 1) return [];
    return Array.from({ length: ndim }, (_, i) => i);
  }
  return given.map((a) => normAxis(a, ndim));
}

const reduction =
  (f: (x: Tensor, axes: number[], keep: boolean) => Tensor): Kernel =>
  (node, inputs) => {
    const x = t(node, inputs, 0);
    const axes = reduceAxes(node, inputs, x.ndim);
    return axes.length === 0 ? x : f(x, axes, int(node, "keepdims", 1) === 1);
  };

/** Elementwise on two host values of one shape, or one of them a single value. */
function hostBinary(a: Value, b: Value, f: (x: number, y: number) => number, dtype?: string): Value | null {
  if (!isHost(a) || !isHost(b)) return null;
  const n = Math.max(a.data.length, b.data.length);
  const fits = (v: Host, w: Host) =>
    (v.data.length === 1 && v.dims.length <= w.dims.length) || v.dims.join() === w.dims.join();
  if (!fits(a, b) && !fits(b, a)) return null; // broadcasting: on tensors
  const data = Array.from({ length: n }, (_, i) =>
    f(a.data[a.data.length === 1 ? 0 : i], b.data[b.data.length === 1 ? 0 : i]),
  );
  return host(data, fits(a, b) ? b.dims : a.dims, (dtype ?? a.dtype) as never);
}

const compare =
  (f: (x: number, y: number) => boolean, method: "eq" | "lt" | "gt" | "le" | "ge"): Kernel =>
  (node, [a, b]) => {
    if (a === undefined || b === undefined) return fail(node, "needs two inputs");
    const h = hostBinary(a, b, (x, y) => +f(x, y), "bool");
    if (h) return h;
    const x = toTensor(a, isHost(b) ? undefined : b);
    return x[method](toTensor(b, x));
  };

/** Max/Min of any number of inputs. */
const extreme =
  (pick: (x: number, y: number) => number, method: "maximum" | "minimum"): Kernel =>
  (node, inputs) => {
    const vs = inputs.filter((v): v is Value => v !== undefined);
    if (vs.length === 0) return fail(node, "has no inputs");
    return vs.reduce((acc, v) => {
      const h = hostBinary(acc, v, pick);
      if (h) return h;
      const x = toTensor(acc, isHost(v) ? undefined : v);
      return x[method](toTensor(v, x));
    });
  };

/** Slice of a host vector (shape arithmetic) along its only axis. */
function sliceHost(v: readonly number[], start: number, end: number, step: number): number[] {
  const n = v.length;
  const clamp = (i: number, lo: number, hi: number) => Math.min(Math.max(i < 0 ? i + n : i, lo), hi);
  const out: number[] = [];
  if (step > 0) for (let i = clamp(start, 0, n); i < clamp(end, 0, n); i += step) out.push(v[i]);
  else for (let i = clamp(start, -1, n - 1); i > clamp(end, -1, n - 1); i += step) out.push(v[i]);
  return out;
}

const convTranspose: Kernel = (node, inputs) => {
  const x = t(node, inputs, 0);
  const w = toTensor(inputs[1] ?? t(node, inputs, 1), x);
  const b = inputs[2] === undefined ? null : toTensor(inputs[2], x);
  const n = w.ndim - 2;
  if (n !== 1 && n !== 2) fail(node, `is ${n}-D; ConvTranspose is supported in 1-D and 2-D`);
  if (node.attrs.has("output_shape")) fail(node, "with an output_shape attribute is not supported");
  if (str(node, "auto_pad", "NOTSET") !== "NOTSET") fail(node, "with auto_pad is not supported");
  const pads = ints(node, "pads", Array(2 * n).fill(0));
  if (pads.slice(0, n).some((p, i) => p !== pads[n + i])) fail(node, "with asymmetric pads is not supported");
  const args = [
    ints(node, "strides", Array(n).fill(1)),
    pads.slice(0, n),
    ints(node, "output_padding", Array(n).fill(0)),
    int(node, "group", 1),
    ints(node, "dilations", Array(n).fill(1)),
  ] as const;
  return (n === 1 ? nn.F.convTranspose1d : nn.F.convTranspose2d)(x, w, b, ...args);
};

const resize: Kernel = (node, inputs) => {
  const x = t(node, inputs, 0);
  const mode = str(node, "mode", "nearest");
  const coord = str(node, "coordinate_transformation_mode", "half_pixel");
  const spatial = x.ndim - 2;
  // by the scales when given (PyTorch maps coordinates by the scale factor too), else to the sizes
  let target: { size: number[] } | { scaleFactor: number[] };
  if (inputs[3] !== undefined) target = { size: hostData(inputs[3], node, "sizes").slice(2) };
  else {
    const scales = hostData(inputs[2], node, "scales");
    if (scales[0] !== 1 || scales[1] !== 1)
      fail(node, "resizes the batch or channel dims, which is not supported");
    target = { scaleFactor: scales.slice(2) };
  }
  if (mode === "nearest") {
    if (coord !== "asymmetric" || str(node, "nearest_mode", "round_prefer_floor") !== "floor")
      fail(node, `nearest with ${coord} coordinates is supported as PyTorch's (asymmetric, floor) only`);
    return nn.F.interpolate(x, { ...target, mode: "nearest" });
  }
  if (
    mode === "linear" &&
    (coord === "pytorch_half_pixel" || coord === "half_pixel" || coord === "align_corners")
  ) {
    const linear = spatial === 1 ? "linear" : spatial === 2 ? "bilinear" : "trilinear";
    return nn.F.interpolate(x, { ...target, mode: linear, alignCorners: coord === "align_corners" });
  }
  return fail(node, `mode "${mode}" with ${coord} coordinates is not supported`);
};

/** The kernels added to `kernels.ts`'s. */
export const MORE_KERNELS: Record<string, Kernel> = {
  Abs: unary((x) => x.abs()),
  Erf: unary((x) => x.erf()),
  Reciprocal: unary((x) => x.reciprocal()),
  Floor: unary((x) => x.floor()),
  Ceil: unary((x) => x.ceil()),
  Softplus: unary((x) => nn.F.softplus(x)),
  LeakyRelu: (node, inputs) => nn.F.leakyRelu(t(node, inputs, 0), float(node, "alpha", 0.01)),
  Elu: (node, inputs) => nn.F.elu(t(node, inputs, 0), float(node, "alpha", 1)),
  Gelu: (node, inputs) =>
    nn.F.gelu(t(node, inputs, 0), str(node, "approximate", "none") === "tanh" ? "tanh" : "none"),
  Pow: (node, [a, b]) => {
    if (a === undefined || b === undefined) return fail(node, "needs two inputs");
    const h = hostBinary(a, b, (x, y) => x ** y);
    if (h) return h;
    const x = toTensor(a, isHost(b) ? undefined : b);
    return x.pow(isHost(b) && b.data.length === 1 ? b.data[0] : toTensor(b, x));
  },
  Max: extreme(Math.max, "maximum"),
  Min: extreme(Math.min, "minimum"),
  Equal: compare((x, y) => x === y, "eq"),
  Less: compare((x, y) => x < y, "lt"),
  Greater: compare((x, y) => x > y, "gt"),
  LessOrEqual: compare((x, y) => x <= y, "le"),
  GreaterOrEqual: compare((x, y) => x >= y, "ge"),
  Where: (node, [c, a, b]) => {
    if (c === undefined || a === undefined || b === undefined) return fail(node, "needs three inputs");
    if (
      isHost(c) &&
      isHost(a) &&
      isHost(b) &&
      c.data.length === a.data.length &&
      a.data.length === b.data.length
    )
      return host(
        c.data.map((v, i) => (v ? a.data[i] : b.data[i])),
        a.dims,
        a.dtype,
      );
    const like = [a, b].find((v): v is Tensor => !isHost(v));
    return where(toTensor(c, like).to("bool"), toTensor(a, like), toTensor(b, like));
  },
  ReduceSum: reduction((x, axes, keep) => x.sum(axes, keep)),
  ReduceMean: reduction((x, axes, keep) => x.mean(axes, keep)),
  ReduceMax: reduction((x, axes, keep) => x.amax(axes, keep)),
  ReduceMin: reduction((x, axes, keep) => x.amin(axes, keep)),
  ReduceL1: reduction((x, axes, keep) => x.abs().sum(axes, keep)),
  ReduceL2: reduction((x, axes, keep) => x.square().sum(axes, keep).sqrt()),
  ArgMax: (node, inputs) => {
    if (int(node, "select_last_index", 0)) fail(node, "with select_last_index=1 is not supported");
    const x = t(node, inputs, 0);
    return x.argmax(normAxis(int(node, "axis", 0), x.ndim), int(node, "keepdims", 1) === 1);
  },
  ArgMin: (node, inputs) => {
    if (int(node, "select_last_index", 0)) fail(node, "with select_last_index=1 is not supported");
    const x = t(node, inputs, 0);
    return x.argmin(normAxis(int(node, "axis", 0), x.ndim), int(node, "keepdims", 1) === 1);
  },
  ConvTranspose: convTranspose,
  LayerNormalization: (node, inputs) => {
    if (node.outputs.slice(1).some((o) => o !== ""))
      fail(node, "with Mean/InvStdDev outputs is not supported");
    const x = t(node, inputs, 0);
    const shape = x.shape.slice(normAxis(int(node, "axis", -1), x.ndim));
    const w = inputs[1] === undefined ? null : toTensor(inputs[1], x);
    const b = inputs[2] === undefined ? null : toTensor(inputs[2], x);
    return nn.F.layerNorm(x, shape, w, b, float(node, "epsilon", 1e-5));
  },
  InstanceNormalization: (node, inputs) => {
    const x = t(node, inputs, 0);
    const [w, b] = [1, 2].map((i) => toTensor(inputs[i] ?? t(node, inputs, i), x));
    return nn.F.instanceNorm(x, { weight: w, bias: b, eps: float(node, "epsilon", 1e-5) });
  },
  Slice: (node, inputs) => {
    const v = inputs[0] ?? t(node, inputs, 0);
    const starts = hostData(inputs[1], node, "starts");
    const ends = hostData(inputs[2], node, "ends");
    const dims = isHost(v) ? v.dims : v.shape;
    const axes = inputs[3] === undefined ? starts.map((_, i) => i) : hostData(inputs[3], node, "axes");
    const steps = inputs[4] === undefined ? starts.map(() => 1) : hostData(inputs[4], node, "steps");
    if (isHost(v)) {
      if (dims.length !== 1)
        fail(node, "slices a constant of more than one dimension, which is not supported");
      const data = sliceHost(v.data, starts[0], ends[0], steps[0]);
      return host(data, [data.length], v.dtype);
    }
    const items: IndexItem[] = dims.map(() => ":" as const);
    const flips: number[] = [];
    axes.forEach((a, i) => {
      const d = normAxis(a, dims.length);
      const n = dims[d];
      const step = steps[i];
      if (step === 0) fail(node, "has step 0");
      // bounds as ONNX clamps them: [0, n] for positive steps, [-1, n - 1] for negative ones
      const clamp = (e: number, lo: number, hi: number) => Math.min(Math.max(e < 0 ? e + n : e, lo), hi);
      if (step > 0) items[d] = { start: clamp(starts[i], 0, n), stop: clamp(ends[i], 0, n), step };
      else {
        // a negative step walks the flipped axis forwards: index j there is n - 1 - j here
        const [s0, e0] = [clamp(starts[i], -1, n - 1), clamp(ends[i], -1, n - 1)];
        items[d] = { start: n - 1 - s0, stop: Math.max(n - 1 - e0, n - 1 - s0), step: -step };
        flips.push(d);
      }
    });
    return (flips.length ? v.flip(flips) : v).at(...items);
  },
  Split: (node, inputs) => {
    const x = t(node, inputs, 0);
    const axis = normAxis(int(node, "axis", 0), x.ndim);
    const n = node.outputs.length;
    const sizes =
      inputs[1] !== undefined
        ? [...hostData(inputs[1], node, "split")]
        : ints(node, "split", Array(n).fill(Math.ceil(x.shape[axis] / n)));
    const last = x.shape[axis] - sizes.slice(0, -1).reduce((a, s) => a + s, 0);
    sizes[sizes.length - 1] = last;
    return [...x.split(sizes, axis)];
  },
  Resize: resize,
  Expand: (node, inputs) => {
    const x = t(node, inputs, 0);
    const shape = hostData(inputs[1], node, "shape");
    return x.expand(broadcastShapes(x.shape, shape, "Expand"));
  },
  Tile: (node, inputs) => t(node, inputs, 0).repeat([...hostData(inputs[1], node, "repeats")]),
  Range: (node, inputs) => {
    const [start, limit, delta] = [0, 1, 2].map(
      (i) => hostData(inputs[i], node, ["start", "limit", "delta"][i])[0],
    );
    const n = Math.max(Math.ceil((limit - start) / delta), 0);
    const v = inputs[0] as Value & { dtype: string };
    return host(
      Array.from({ length: n }, (_, i) => start + i * delta),
      [n],
      v.dtype as never,
    );
  },
  ConstantOfShape: (node, inputs) => {
    const shape = hostData(inputs[0], node, "shape");
    const attr = node.attrs.get("value");
    const v = attr?.t
      ? tensorValues(attr.t, `the value of node "${node.name}"`)
      : { dtype: "float32", data: [0] };
    const n = shape.reduce((a, b) => a * b, 1);
    if (v.dtype !== "float32" && v.dtype !== "float64" && n <= 64)
      return host(Array(n).fill(v.data[0]), [...shape], v.dtype as never);
    return full([...shape], v.data[0], { dtype: v.dtype as never });
  },
};
