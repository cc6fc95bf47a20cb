import { cpu } from "@cinder/backend-cpu";
import {
  allocTypedArray,
  type Backend,
  type BinaryOp,
  binaryOps,
  type DType,
  isFloat,
  type TypedArray,
  type UnaryOp,
  unaryOps,
  type View,
} from "@cinder/tensor";

/** Where each element of a view is in its storage, in row-major order: offset + sum(index[d] * strides[d]). */
function offsets(v: View): number[] {
  const out: number[] = [];
  const idx = v.shape.map(() => 0);
  const n = v.shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    out.push(idx.reduce((o, k, d) => o + k * v.strides[d], v.offset));
    for (let d = idx.length - 1; d >= 0 && ++idx[d] === v.shape[d]; d--) idx[d] = 0; // next index
  }
  return out;
}

/** A value as `dtype` stores it: typed arrays truncate and wrap; bool is `!= 0` (NaN is true). */
const store = (dtype: DType, v: number) => (dtype === "bool" ? (v !== 0 ? 1 : 0) : v);

/**
 * A protocol version 1 backend. Storage, reads and writes, `copy`, `fill`, `where` and float `unary`/`binary`
 * are its own; integer math, reductions, scans, matmul, indexing, sort and random numbers are borrowed from the
 * CPU backend (whose handles are TypedArrays too). Replace them one by one with your kernels and rerun the
 * conformance suite after each.
 */
export class MinimalBackend implements Backend {
  readonly specificationVersion = 1 as const;
  readonly device: string;
  live = 0; // storages allocated and not yet freed

  constructor(device = "minimal") {
    this.device = device;
  }

  // ---- storage: a handle is whatever you like; here a TypedArray ----
  alloc(dtype: DType, length: number): TypedArray {
    this.live++;
    return allocTypedArray(dtype, length); // zero-filled
  }
  free(_handle: unknown): void {
    this.live--;
  }
  write(handle: unknown, _dtype: DType, data: TypedArray, offset: number): void {
    (handle as TypedArray).set(data, offset);
  }
  async read(view: View): Promise<TypedArray> {
    const src = view.handle as TypedArray;
    const at = offsets(view);
    const out = allocTypedArray(view.dtype, at.length);
    at.forEach((o, i) => {
      out[i] = src[o];
    });
    return out;
  }

  // ---- primitives over strided views; inputs arrive broadcast to out.shape ----
  copy(x: View, out: View): void {
    const [src, dst] = [x.handle as TypedArray, out.handle as TypedArray];
    const xs = offsets(x);
    offsets(out).forEach((o, i) => {
      dst[o] = store(out.dtype, src[xs[i]]);
    });
  }
  fill(out: View, value: number): void {
    const dst = out.handle as TypedArray;
    for (const o of offsets(out)) dst[o] = store(out.dtype, value);
  }
  where(cond: View, a: View, b: View, out: View): void {
    const [c, av, bv, dst] = [cond, a, b, out].map((v) => v.handle as TypedArray);
    const [cs, as, bs] = [offsets(cond), offsets(a), offsets(b)];
    offsets(out).forEach((o, i) => {
      dst[o] = c[cs[i]] ? av[as[i]] : bv[bs[i]];
    });
  }
  unary(op: UnaryOp, x: View, out: View): void {
    if (!isFloat(x.dtype)) {
      cpu.unary(op, x, out); // integer semantics (wrapping, ...) borrowed, see the class comment
      return;
    }
    const [src, dst] = [x.handle as TypedArray, out.handle as TypedArray];
    const f = unaryOps[op].ref; // the op table's reference function: Cinder's definition of the op
    const xs = offsets(x);
    offsets(out).forEach((o, i) => {
      dst[o] = store(out.dtype, f(src[xs[i]]));
    });
  }
  binary(op: BinaryOp, a: View, b: View, out: View): void {
    if (!isFloat(a.dtype)) {
      cpu.binary(op, a, b, out);
      return;
    }
    const [av, bv, dst] = [a, b, out].map((v) => v.handle as TypedArray);
    const f = binaryOps[op].ref; // comparisons return 1 or 0, stored into a bool `out`
    const [as, bs] = [offsets(a), offsets(b)];
    offsets(out).forEach((o, i) => {
      dst[o] = store(out.dtype, f(av[as[i]], bv[bs[i]]));
    });
  }
  // ---- borrowed ----
  reduce: Backend["reduce"] = (op, x, axes, out) => cpu.reduce(op, x, axes, out);
  argReduce: Backend["argReduce"] = (op, x, axis, out) => cpu.argReduce(op, x, axis, out);
  scan: Backend["scan"] = (op, x, axis, out) => cpu.scan(op, x, axis, out);
  matmul: Backend["matmul"] = (a, b, out) => cpu.matmul(a, b, out);
  gather: Backend["gather"] = (x, axis, index, out) => cpu.gather(x, axis, index, out);
  scatter: Backend["scatter"] = (mode, out, axis, index, src) => cpu.scatter(mode, out, axis, index, src);
  sort: Backend["sort"] = (x, axis, descending, values, indices) =>
    cpu.sort(x, axis, descending, values, indices);
  random: Backend["random"] = (dist, key, counter, out) => cpu.random(dist, key, counter, out);
}
