/**
 * Composite shape ops (issue 14): roll, tril/triu, diagonal/diag_embed/trace, fliplr/flipud/rot90, movedim, tile,
 * repeat_interleave, the stacks, Tensor.unfold. Each is composed of existing ops and primitives, so every backend
 * runs it and autograd differentiates it through its parts; `diagonal` and `unfold` are views (new metadata over the
 * same storage) and record their own backward, as `view.ts`'s views do.
 */
import { isFloat } from "../dtype";
import { DeviceError, DTypeError, fmtShape, IndexError, ShapeError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { normDim, numel } from "../shape";
import { arg, k, op, overloads, self, signature } from "../signature";
import { Tensor } from "../tensor";
import { arange, tensor, zeros } from "./creation";
import { inplace, toTensor, where } from "./elementwise";
import { writeOut } from "./elementwise-signatures";
import { indexSelect } from "./indexing";
import { cat, clone, flip, permute, repeat, reshapeImpl } from "./view";

const outOpt = arg.opt("out", k.tensor);
const ints = (v: number | readonly number[]): number[] => (typeof v === "number" ? [v] : [...v]);
/** The result written into `out=` when one is given (writeOut checks shape, dtype and autograd). */
const maybeOut = (what: string, y: Tensor, out: Tensor | null, inputs: readonly unknown[]): Tensor =>
  out ? writeOut(what, y, out, inputs) : y;

// ---- roll ----

function rollDim(x: Tensor, shift: number, d: number): Tensor {
  const n = x.shape[d];
  const s = n === 0 ? 0 : ((shift % n) + n) % n;
  if (s === 0) return x;
  return cat([x.narrow(d, n - s, s), x.narrow(d, 0, n - s)], d);
}
function rollImpl(x: Tensor, shifts: readonly number[], dims: readonly number[]): Tensor {
  if (shifts.length === 0) throw new ShapeError("roll(): `shifts` required");
  let y: Tensor;
  if (dims.length === 0) {
    if (shifts.length !== 1) {
      throw new ShapeError(`roll(): shifts and dimensions must align. shifts: ${shifts.length}, dims:0`);
    }
    y = reshapeImpl(rollDim(reshapeImpl(x, [-1]), shifts[0], 0), x.shape);
  } else {
    if (shifts.length !== dims.length) {
      throw new ShapeError(
        `roll(): shifts and dimensions must align. shifts: ${shifts.length}, dims:${dims.length}`,
      );
    }
    if (x.ndim === 0)
      throw new IndexError(`roll(): dimension specified as ${dims[0]} but tensor has no dimensions`);
    y = x;
    dims.forEach((dim, i) => {
      y = rollDim(y, shifts[i], normDim(dim, x.ndim, "roll"));
    });
  }
  // always a new tensor, as PyTorch's
  return y === x || y.storage === x.storage ? clone(y) : y;
}
/** `roll(input, shifts, dims=())`: elements shifted along `dims` (the flattened tensor when none), wrapping around */
export const roll = op(
  signature("roll", [self, arg("shifts", k.intOrInts), arg("dims", k.intOrInts, [])]),
  ({ input, shifts, dims }): Tensor => rollImpl(input, ints(shifts), ints(dims)),
);

// ---- tril / triu ----

function triangle(x: Tensor, diagonal: number, upper: boolean, what: string): Tensor {
  if (x.ndim < 2) {
    throw new ShapeError(
      `${what}(): input tensor must have at least 2 dimensions, got shape ${fmtShape(x.shape)}`,
    );
  }
  const [r, c] = x.shape.slice(-2);
  const rows = arange(0, r, { device: x.device }).reshape(r, 1);
  const offset = arange(0, c, { device: x.device }).sub(rows); // column - row
  const keep = upper ? offset.ge(diagonal) : offset.le(diagonal);
  return where(keep, x, toTensor(0, x.dtype, x));
}
const triArgs = [self, arg("diagonal", k.int, 0)] as const;
function triForms(name: "tril" | "triu") {
  const upper = name === "triu";
  return [
    op(
      signature(name, triArgs, [outOpt], { forms: ["function"] }),
      ({ input, diagonal, out }): Tensor =>
        maybeOut(name, triangle(input, diagonal, upper, name), out, [input]),
    ),
    op(
      signature(name, triArgs, [], { forms: ["method"] }),
      ({ input, diagonal }): Tensor => triangle(input, diagonal, upper, name),
    ),
    op(
      signature(`${name}_`, triArgs, [], { forms: ["method"] }),
      ({ input, diagonal }): Tensor =>
        inplace(input, [], (s): Tensor => triangle(s, diagonal, upper, `${name}_`), `${name}_`),
    ),
  ] as const;
}
export const [
  /**
   * `tril(input, diagonal=0, *, out=None)`: the lower triangle of the last two dims (elements above `diagonal`
   * are 0)
   */
  tril,
  trilMethod,
  tril_,
] = triForms("tril");
export const [
  /**
   * `triu(input, diagonal=0, *, out=None)`: the upper triangle of the last two dims (elements below `diagonal`
   * are 0)
   */
  triu,
  triuMethod,
  triu_,
] = triForms("triu");

// ---- diagonal, diag_embed, trace ----

/** The view of the `offset` diagonal of dims d1, d2 (normalised, distinct), appended as the last dim. */
function diagonalView(x: Tensor, offset: number, d1: number, d2: number): Tensor {
  const len = Math.max(
    0,
    offset >= 0 ? Math.min(x.shape[d1], x.shape[d2] - offset) : Math.min(x.shape[d1] + offset, x.shape[d2]),
  );
  let at = x.offset;
  if (len > 0) at += offset >= 0 ? offset * x.strides[d2] : -offset * x.strides[d1];
  const keep = (_: number, i: number) => i !== d1 && i !== d2;
  return new Tensor(
    x.storage,
    [...x.shape.filter(keep), len],
    [...x.strides.filter(keep), x.strides[d1] + x.strides[d2]],
    at,
  );
}

function diagonalImpl(x: Tensor, offset: number, dim1: number, dim2: number): Tensor {
  const d1 = normDim(dim1, x.ndim, "diagonal");
  const d2 = normDim(dim2, x.ndim, "diagonal");
  if (d1 === d2) throw new ShapeError(`diagonal(): diagonal dimensions cannot be identical ${dim1}, ${dim2}`);
  const y = diagonalView(x, offset, d1, d2);
  if (!needsGrad(x)) return y;
  return recordOp({
    name: "DiagonalBackward0",
    inputs: [x],
    output: y,
    backward: (g) => [embedDiagonal(g, x.shape, offset, d1, d2, "DiagonalBackwardBackward0")],
  });
}

/** A zero tensor of `shape` whose (offset, d1, d2) diagonal is `g` (the inverse of diagonalView; its own backward). */
function embedDiagonal(
  g: Tensor,
  shape: readonly number[],
  offset: number,
  d1: number,
  d2: number,
  name: string,
): Tensor {
  const out = zeros([...shape], { dtype: g.dtype, device: g.device });
  const dst = diagonalView(out, offset, d1, d2);
  if (dst.numel() > 0) {
    const src = g.view_;
    g.backend.copy(src, dst.writeView_);
  }
  if (!needsGrad(g)) return out;
  return recordOp({ name, inputs: [g], output: out, backward: (gg) => [diagonalImpl(gg, offset, d1, d2)] });
}

const diagonalArgs = [self, arg("offset", k.int, 0), arg("dim1", k.int, 0), arg("dim2", k.int, 1)] as const;
/** `diagonal(input, offset=0, dim1=0, dim2=1)`: the `offset` diagonal of dims dim1, dim2 as the last dim (a view) */
export const diagonal = op(
  signature("diagonal", diagonalArgs),
  ({ input, offset, dim1, dim2 }): Tensor => diagonalImpl(input, offset, dim1, dim2),
);

/**
 * `diag_embed(input, offset=0, dim1=-2, dim2=-1)`: a tensor with one more dim whose (offset, dim1, dim2) diagonals
 * hold the last dim of `input` (zeros elsewhere)
 */
export const diagEmbed = op(
  signature("diagEmbed", [self, arg("offset", k.int, 0), arg("dim1", k.int, -2), arg("dim2", k.int, -1)]),
  ({ input: x, offset, dim1, dim2 }): Tensor => {
    const n = x.ndim + 1;
    const d1 = normDim(dim1, n, "diagEmbed");
    const d2 = normDim(dim2, n, "diagEmbed");
    if (d1 === d2)
      throw new ShapeError(`diagEmbed(): diagonal dimensions cannot be identical ${dim1}, ${dim2}`);
    const len = x.shape[x.ndim - 1] + Math.abs(offset);
    const shape = x.shape.slice(0, -1);
    const [lo, hi] = d1 < d2 ? [d1, d2] : [d2, d1];
    shape.splice(lo, 0, len);
    shape.splice(hi, 0, len);
    return embedDiagonal(x, shape, offset, d1, d2, "DiagEmbedBackward0");
  },
);

/** `trace(input)`: the sum of the main diagonal of a matrix (integers sum to int32, Cinder's int64) */
export const trace = op(signature("trace", [self]), ({ input: x }): Tensor => {
  if (x.ndim !== 2) throw new ShapeError(`trace(): expected a matrix, but got tensor with dim ${x.ndim}`);
  if (x.dtype === "bool") throw new DTypeError('trace(): "trace" not implemented for bool tensors');
  return diagonalImpl(x, 0, 0, 1).sum();
});

// ---- flips and rotations ----

/** `fliplr(input)`: reversed along dim 1 (a copy) */
export const fliplr = op(signature("fliplr", [self]), ({ input: x }): Tensor => {
  if (x.ndim < 2) throw new ShapeError(`fliplr(): input must be >= 2-d, got shape ${fmtShape(x.shape)}`);
  return flip(x, [1]);
});
/** `flipud(input)`: reversed along dim 0 (a copy) */
export const flipud = op(signature("flipud", [self]), ({ input: x }): Tensor => {
  if (x.ndim < 1) throw new ShapeError("flipud(): input must be >= 1-d, got a 0-dim tensor");
  return flip(x, [0]);
});

/** `rot90(input, k=1, dims=[0, 1])`: rotated by 90 degrees `k` times, from the first dim towards the second */
export const rot90 = op(
  signature("rot90", [self, arg("k", k.int, 1), arg("dims", k.ints, [0, 1])]),
  ({ input: x, k: times, dims }): Tensor => {
    if (dims.length !== 2) {
      throw new ShapeError(`rot90(): expected total rotation dims == 2, but got dims = ${dims.length}`);
    }
    if (x.ndim < 2) throw new ShapeError(`rot90(): expected total dims >= 2, but got total dims = ${x.ndim}`);
    if (dims[0] === dims[1] || Math.abs(dims[0] - dims[1]) === x.ndim) {
      throw new ShapeError(
        `rot90(): expected rotation dims to be different, but got dim0 = ${dims[0]} and dim1 = ${dims[1]}`,
      );
    }
    const [d0, d1] = dims.map((d, i) => {
      if (d < -x.ndim || d >= x.ndim)
        throw new IndexError(`rot90(): rotation dim${i} out of range, dim${i} = ${d}`);
      return d < 0 ? d + x.ndim : d;
    });
    const r = ((times % 4) + 4) % 4;
    if (r === 1) return flip(x, [d1]).transpose(d0, d1);
    if (r === 2) return flip(x, [d0, d1]);
    if (r === 3) return flip(x, [d0]).transpose(d0, d1);
    return clone(x);
  },
);

// ---- movedim / moveaxis ----

function movedimImpl(x: Tensor, source: readonly number[], destination: readonly number[]): Tensor {
  if (source.length !== destination.length) {
    throw new ShapeError(
      `movedim(): Invalid source or destination dims: source (${fmtShape(source)} dims) should contain the same number of dims as destination (${fmtShape(destination)} dims)`,
    );
  }
  const src = source.map((d) => normDim(d, x.ndim, "movedim"));
  const dst = destination.map((d) => normDim(d, x.ndim, "movedim"));
  if (new Set(src).size !== src.length)
    throw new ShapeError(`movedim(): repeated dim in \`source\` (${fmtShape(source)})`);
  if (new Set(dst).size !== dst.length) {
    throw new ShapeError(`movedim(): repeated dim in \`destination\` (${fmtShape(destination)})`);
  }
  if (x.ndim === 0) return reshapeImpl(x, []);
  const order = new Array<number>(x.ndim).fill(-1);
  src.forEach((s, i) => {
    order[dst[i]] = s;
  });
  const rest = x.shape.map((_, i) => i).filter((i) => !src.includes(i));
  let j = 0;
  for (let i = 0; i < order.length; i++) if (order[i] === -1) order[i] = rest[j++];
  return permute(x, order);
}
function movedimOp(name: "movedim" | "moveaxis") {
  return op(
    signature(name, [self, arg("source", k.intOrInts), arg("destination", k.intOrInts)]),
    ({ input, source, destination }): Tensor => movedimImpl(input, ints(source), ints(destination)),
  );
}
/** `movedim(input, source, destination)`: dims `source` moved to positions `destination`, the others in order (a view) */
export const movedim = movedimOp("movedim");
/** `moveaxis(input, source, destination)`: NumPy's name for movedim */
export const moveaxis = movedimOp("moveaxis");

// ---- tile, repeat_interleave ----

function tileImpl(x: Tensor, dims: readonly number[]): Tensor {
  const reps = [...new Array(Math.max(0, x.ndim - dims.length)).fill(1), ...dims];
  const bad = reps.findIndex((r) => r < 0);
  if (bad >= 0) {
    throw new ShapeError(
      `tile(): trying to create tensor with negative dimension ${reps[bad]}: ${fmtShape(reps)}`,
    );
  }
  return repeat(x, reps);
}
/** `tile(input, dims)`: `input` repeated `dims[i]` times along each dim (missing leading dims count as 1) */
export const tile = op(
  signature("tile", [self, arg("dims", k.ints)], [], { forms: ["function"] }),
  ({ input, dims }): Tensor => tileImpl(input, dims),
);
/** `x.tile(*dims)`: `x.tile(2, 2)` or `x.tile([2, 2])` */
export const tileMethod = op(
  signature("tile", [self, arg.varargs("dims")], [], { forms: ["method"] }),
  ({ input, dims }): Tensor => tileImpl(input, dims),
);

/** The index [0 x r0, 1 x r1, ...] of repeat_interleave, as an int32 tensor on the repeats' device. */
function repeatIndex(reps: Tensor, outputSize: number | null): Tensor {
  if (reps.backend.readSync) {
    const r = reps.data();
    const idx: number[] = [];
    for (let i = 0; i < r.length; i++) {
      if (r[i] < 0) throw new ShapeError("repeatInterleave(): repeats can not be negative");
      for (let j = 0; j < r[i]; j++) idx.push(i);
    }
    if (outputSize !== null && outputSize !== idx.length) {
      throw new ShapeError(
        `repeatInterleave(): allocated size does not match required size (outputSize ${outputSize}, the repeats sum to ${idx.length})`,
      );
    }
    return tensor(new Int32Array(idx), { device: reps.device });
  }
  if (outputSize === null) {
    throw new DeviceError(
      `repeatInterleave(): repeats given as a tensor on ${reps.device} need outputSize (the result's length depends on the values), or a device with synchronous reads`,
    );
  }
  // without reading: output position j takes the first i whose cumulative count exceeds j
  const ends = reps.cumsum(0);
  const pos = arange(0, outputSize, { device: reps.device }).unsqueeze(1);
  return ends.unsqueeze(0).le(pos).sum(1).int();
}

function repeatInterleaveImpl(
  x: Tensor,
  repeats: Tensor | number,
  dim: number | null,
  outputSize: number | null,
): Tensor {
  if (dim !== null && x.ndim === 0) {
    throw new IndexError(`repeatInterleave(): dimension specified as ${dim} but tensor has no dimensions`);
  }
  const input = dim === null ? reshapeImpl(x, [-1]) : x;
  const d = dim === null ? 0 : normDim(dim, x.ndim, "repeatInterleave");
  const n = input.ndim === 0 ? 1 : input.shape[d];
  if (typeof repeats === "number") {
    if (repeats < 0) throw new ShapeError("repeatInterleave(): repeats can not be negative");
    if (outputSize !== null && outputSize !== n * repeats) {
      throw new ShapeError(
        `repeatInterleave(): allocated size does not match required size (outputSize ${outputSize}, the result has ${n * repeats})`,
      );
    }
    if (input.ndim === 0) return input.reshape(1).expand(repeats).contiguous();
    const shape = [...input.shape];
    const wide = [...shape.slice(0, d + 1), repeats, ...shape.slice(d + 1)];
    shape[d] = n * repeats;
    return input
      .unsqueeze(d + 1)
      .expand(wide)
      .reshape(shape);
  }
  if (isFloat(repeats.dtype) || repeats.dtype === "bool") {
    throw new DTypeError(`repeatInterleave(): repeats must be an integer tensor, got ${repeats.dtype}`);
  }
  if (repeats.ndim > 1) {
    throw new ShapeError(
      `repeatInterleave(): repeats must be 0-dim or 1-dim tensor, got shape ${fmtShape(repeats.shape)}`,
    );
  }
  let reps = repeats.int().reshape(-1);
  if (reps.shape[0] === 1 && n !== 1) reps = reps.expand(n).contiguous();
  if (reps.shape[0] !== n) {
    throw new ShapeError(
      `repeatInterleave(): repeats must have the same size as input along dim (${reps.shape[0]} repeats for size ${n})`,
    );
  }
  const idx = repeatIndex(reps, outputSize);
  return input.ndim === 0 ? input.reshape(1).indexSelect(0, idx) : indexSelect(input, d, idx);
}
const repeatsKind = k.or(k.tensor, k.int);
const riArgs = [self, arg("repeats", repeatsKind), arg.opt("dim", k.int)] as const;
const outputSizeOpt = arg.opt("outputSize", k.int);
/**
 * `repeat_interleave(input, repeats, dim=None, *, output_size=None)`: each element (each slice along `dim`; of the
 * flattened input when `dim` is None) repeated `repeats` times, or `repeats[i]` times for a tensor of counts; and
 * `repeat_interleave(repeats, *, output_size=None)`: index i repeated `repeats[i]` times. A tensor of counts is read
 * (synchronous devices), unless `outputSize` is given.
 */
export const repeatInterleave = overloads(
  op(
    signature("repeatInterleave", riArgs, [outputSizeOpt], { forms: ["function"] }),
    ({ input, repeats, dim, outputSize }): Tensor => repeatInterleaveImpl(input, repeats, dim, outputSize),
  ),
  op(
    signature("repeatInterleave", [arg("repeats", k.tensor)], [outputSizeOpt]),
    ({ repeats, outputSize }): Tensor => {
      if (repeats.ndim !== 1) {
        throw new ShapeError(
          `repeatInterleave(): repeats must be 1-dim, got shape ${fmtShape(repeats.shape)}`,
        );
      }
      const idx = arange(0, repeats.shape[0], { device: repeats.device });
      return repeatInterleaveImpl(idx, repeats, 0, outputSize);
    },
  ),
);
/** `x.repeat_interleave(repeats, dim=None, *, output_size=None)` */
export const repeatInterleaveMethod = op(
  signature("repeatInterleave", riArgs, [outputSizeOpt], { forms: ["method"] }),
  ({ input, repeats, dim, outputSize }): Tensor => repeatInterleaveImpl(input, repeats, dim, outputSize),
);

// ---- hstack, vstack, dstack, column_stack ----

/** PyTorch's atleast_1d/2d/3d: a 0-dim tensor becomes [1, ...], a 1-D one a row ([1, n] or [1, n, 1]), a 2-D one [r, c, 1]. */
function atLeast(t: Tensor, n: 1 | 2 | 3): Tensor {
  if (t.ndim >= n) return t;
  if (t.ndim === 0) return reshapeImpl(t, new Array(n).fill(1));
  if (t.ndim === 1) return reshapeImpl(t, n === 2 ? [1, t.shape[0]] : [1, t.shape[0], 1]);
  return reshapeImpl(t, [...t.shape, 1]);
}
const tensorsArg = arg("tensors", k.tensors);
function stackOp(
  name: "hstack" | "vstack" | "dstack" | "columnStack",
  run: (ts: readonly Tensor[]) => Tensor,
) {
  const pyName = name === "columnStack" ? "column_stack" : name;
  return op(signature(name, [tensorsArg], [outOpt]), ({ tensors, out }): Tensor => {
    if (tensors.length === 0) throw new ShapeError(`${name}(): ${pyName} expects a non-empty TensorList`);
    return maybeOut(name, run(tensors), out, tensors);
  });
}
/** `hstack(tensors, *, out=None)`: concatenated along dim 1 (dim 0 for 1-D tensors; 0-dim ones count as 1-D) */
export const hstack = stackOp("hstack", (ts) => {
  const parts = ts.map((t) => atLeast(t, 1));
  return cat(parts, parts[0].ndim === 1 ? 0 : 1);
});
/** `vstack(tensors, *, out=None)`: concatenated along dim 0 after making each at least 2-D (1-D ones become rows) */
export const vstack = stackOp("vstack", (ts) =>
  cat(
    ts.map((t) => atLeast(t, 2)),
    0,
  ),
);
/** `dstack(tensors, *, out=None)`: concatenated along dim 2 after making each at least 3-D */
export const dstack = stackOp("dstack", (ts) =>
  cat(
    ts.map((t) => atLeast(t, 3)),
    2,
  ),
);
/** `column_stack(tensors, *, out=None)`: 0-dim and 1-D tensors as columns, concatenated along dim 1 */
export const columnStack = stackOp("columnStack", (ts) =>
  cat(
    ts.map((t) => (t.ndim <= 1 ? reshapeImpl(t, [t.numel(), 1]) : t)),
    1,
  ),
);

// ---- Tensor.unfold ----

function unfoldImpl(x: Tensor, dimension: number, size: number, step: number): Tensor {
  const d = normDim(dimension, x.ndim, "unfold");
  const n = x.ndim === 0 ? 1 : x.shape[d];
  if (size < 0) throw new ShapeError(`unfold(): size is ${size} but must be >= 0`);
  if (size > n)
    throw new ShapeError(`unfold(): maximum size for tensor at dimension ${d} is ${n} but size is ${size}`);
  if (step <= 0) throw new ShapeError(`unfold(): step is ${step} but must be > 0`);
  const count = Math.floor((n - size) / step) + 1;
  let y: Tensor;
  if (x.ndim === 0) y = new Tensor(x.storage, [size], [1], x.offset);
  else {
    const shape = [...x.shape, size];
    const strides = [...x.strides, x.strides[d]];
    shape[d] = count;
    strides[d] = x.strides[d] * step;
    y = new Tensor(x.storage, shape, strides, x.offset);
  }
  if (!needsGrad(x)) return y;
  return recordOp({
    name: "UnfoldBackward0",
    inputs: [x],
    output: y,
    backward: (g) => [x.ndim === 0 ? g.sum() : unfoldBackward(g, x.shape, d, size, step, count)],
  });
}
/** The windows' gradients added back at the positions they were read from (overlapping windows sum). */
function unfoldBackward(
  g: Tensor,
  shape: readonly number[],
  d: number,
  size: number,
  step: number,
  count: number,
): Tensor {
  const z = zeros([...shape], { dtype: g.dtype, device: g.device });
  if (numel(g.shape) === 0) return z;
  // [..., count, ..., size] -> [..., count * size, ...]; window w, element e came from position w * step + e
  const moved = g.movedim(-1, d + 1);
  const flat = moved.reshape([...shape.slice(0, d), count * size, ...shape.slice(d + 1)]);
  const starts = arange(0, count, { device: g.device }).mul(step).unsqueeze(1);
  const idx = starts.add(arange(0, size, { device: g.device }).unsqueeze(0)).reshape(-1);
  return z.indexAdd(d, idx, flat);
}
/** `x.unfold(dimension, size, step)`: every window of `size` elements along `dimension`, `step` apart, as a new last dim (a view) */
export const unfold = op(
  signature("unfold", [self, arg("dimension", k.int), arg("size", k.int), arg("step", k.int)], [], {
    forms: ["method"],
  }),
  ({ input, dimension, size, step }): Tensor => unfoldImpl(input, dimension, size, step),
);
