/**
 * The importer's kernels for the common operators of image classifiers and of Cinder's exports: one ONNX operator
 * per entry, as Cinder tensor ops (more in `kernels-more.ts`).
 */
import * as nn from "@cinder/nn";
import { cat, intOn, isFloat, type Tensor, tensor, wrapInt } from "@cinder/tensor";

import {
  applyPads,
  arith,
  DTYPE_OF,
  float,
  type Host,
  host,
  hostData,
  int,
  ints,
  isHost,
  type Kernel,
  nodePads,
  normAxis,
  OnnxLoadError,
  str,
  TYPE_NAMES,
  t,
  tensorValues,
  torchPads,
  toTensor,
  unary,
  type Value,
} from "./values";

/** One ONNX operator per entry, as Cinder tensor ops. */
export const BASE_KERNELS: Record<string, Kernel> = {
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
        return host([attr.i ?? 0], [], "int64");
      case "value_ints":
        return host(attr.ints ?? [], [attr.ints?.length ?? 0], "int64");
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
      const data = isFloat(dtype)
        ? v.data
        : dtype === "bool"
          ? v.data.map((x) => (x ? 1 : 0))
          : dtype === "int8" || dtype === "int16"
            ? v.data.map((x) => wrapInt(Math.trunc(x), dtype))
            : v.data.map(Math.trunc);
      return host(data, v.dims, dtype);
    }
    return v.to(intOn(dtype, v.backend)); // INT64 on a backend without int64: its default integer, int32
  },
  Shape: (node, inputs) => {
    const v = inputs[0] ?? t(node, inputs, 0);
    const dims = isHost(v) ? v.dims : v.shape;
    const n = dims.length;
    const start = normAxis(int(node, "start", 0), n);
    const end = node.attrs.has("end") ? normAxis(int(node, "end", n), n) : n;
    const out = dims.slice(Math.max(0, start), Math.min(n, end));
    return host(out, [out.length], "int64");
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
    if (idx === undefined) return hostData(idx, node, "indices") as never;
    const dims = isHost(v) ? v.dims : v.shape;
    const axis = normAxis(int(node, "axis", 0), dims.length);
    if (!isHost(idx)) {
      // computed indices (an embedding's input): in range, as ONNX requires
      const x = toTensor(v, undefined);
      const picked = x.indexSelect(axis, idx.flatten().to("int32"));
      return picked.reshape([...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)]);
    }
    const ix = idx as Host;
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
