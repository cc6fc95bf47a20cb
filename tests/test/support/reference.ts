/**
 * A deliberately simple reference for the property tests: an n-d array is a shape plus its elements in
 * row-major order, every op is defined element by element through a function from output index to input
 * index, and results are compared as nested JS arrays. No strides, no views, no cleverness.
 */

export interface Nd {
  shape: number[];
  data: number[];
}

export type Nested = number | boolean | Nested[];

export function numel(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function stridesOf(shape: readonly number[]): number[] {
  const s = shape.map(() => 1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Every multi-index of `shape` in row-major order. */
export function indices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const rec = (prefix: number[]) => {
    if (prefix.length === shape.length) out.push(prefix);
    else for (let i = 0; i < shape[prefix.length]; i++) rec([...prefix, i]);
  };
  rec([]);
  return out;
}

export function get(a: Nd, idx: readonly number[]): number {
  const s = stridesOf(a.shape);
  let p = 0;
  for (let k = 0; k < idx.length; k++) p += idx[k] * s[k];
  return a.data[p];
}

export function fromFn(shape: readonly number[], f: (idx: number[]) => number): Nd {
  return { shape: [...shape], data: indices(shape).map(f) };
}

export function toNested(a: Nd, bool = false): Nested {
  const conv = (v: number) => (bool ? v !== 0 : v);
  if (a.shape.length === 0) return conv(a.data[0]);
  const rec = (prefix: number[]): Nested[] => {
    const d = prefix.length;
    const out: Nested[] = [];
    for (let i = 0; i < a.shape[d]; i++) {
      out.push(d === a.shape.length - 1 ? conv(get(a, [...prefix, i])) : rec([...prefix, i]));
    }
    return out;
  };
  return rec([]);
}

// ---------------------------------------------------------------------------------------------- shapes

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`reference: cannot broadcast [${a}] and [${b}]`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** `a` seen with `shape` (numpy broadcasting). */
export function broadcastTo(a: Nd, shape: readonly number[]): Nd {
  const off = shape.length - a.shape.length;
  return fromFn(shape, (idx) =>
    get(
      a,
      a.shape.map((d, k) => (d === 1 ? 0 : idx[k + off])),
    ),
  );
}

// ---------------------------------------------------------------------------------------------- ops

export function map(a: Nd, f: (v: number) => number): Nd {
  return { shape: [...a.shape], data: a.data.map(f) };
}

export function zip(a: Nd, b: Nd, f: (x: number, y: number) => number): Nd {
  const shape = broadcastShape(a.shape, b.shape);
  const A = broadcastTo(a, shape);
  const B = broadcastTo(b, shape);
  return { shape, data: A.data.map((x, i) => f(x, B.data[i])) };
}

/** Reduce over `dims` (sorted); `f` sees the elements of each group in row-major order. */
export function reduce(a: Nd, dims: readonly number[], keepdim: boolean, f: (run: number[]) => number): Nd {
  const kept = a.shape.map((d, k) => (dims.includes(k) ? 1 : d));
  const groups = new Map<string, number[]>();
  for (const idx of indices(a.shape)) {
    const key = idx.map((v, k) => (dims.includes(k) ? 0 : v)).join(",");
    const run = groups.get(key) ?? [];
    run.push(get(a, idx));
    groups.set(key, run);
  }
  const out = fromFn(kept, (idx) => f(groups.get(idx.join(",")) ?? []));
  return keepdim ? out : { shape: a.shape.filter((_, k) => !dims.includes(k)), data: out.data };
}

export function permute(a: Nd, perm: readonly number[]): Nd {
  return fromFn(
    perm.map((p) => a.shape[p]),
    (idx) => {
      const src = new Array<number>(perm.length);
      perm.forEach((p, i) => {
        src[p] = idx[i];
      });
      return get(a, src);
    },
  );
}

export function reshape(a: Nd, shape: readonly number[]): Nd {
  return { shape: [...shape], data: [...a.data] };
}

/** Python's slice.indices for a positive step: the selected positions of a dim of `size`. */
export function slicePositions(
  size: number,
  start: number | null,
  stop: number | null,
  step: number,
): number[] {
  const norm = (v: number | null, dflt: number) =>
    v === null ? dflt : Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const out: number[] = [];
  for (let i = norm(start, 0); i < norm(stop, size); i += step) out.push(i);
  return out;
}

/** Take `positions` along `dim`. */
export function take(a: Nd, dim: number, positions: readonly number[]): Nd {
  const shape = [...a.shape];
  shape[dim] = positions.length;
  return fromFn(shape, (idx) => {
    const src = [...idx];
    src[dim] = positions[idx[dim]];
    return get(a, src);
  });
}

// ---------------------------------------------------------------------------------------------- indexing

/** One item of a Python index, in reference form. */
export type RefItem =
  | { kind: "int"; i: number }
  | { kind: "slice"; start: number | null; stop: number | null; step: number }
  | { kind: "none" }
  | { kind: "ellipsis" }
  | { kind: "list"; index: Nd } // integer array (1-D or 2-D)
  | { kind: "mask"; mask: Nd }; // boolean array over one or more dims

/** Positions of the true elements of `mask`, as one integer array per mask dim (row-major order). */
function nonzero(mask: Nd): Nd[] {
  const hits = indices(mask.shape).filter((idx) => get(mask, idx) !== 0);
  return mask.shape.map((_, k) => ({ shape: [hits.length], data: hits.map((h) => h[k]) }));
}

type Part =
  | { kind: "basic"; dim: number; positions: number[] } // a slice (or ":")
  | { kind: "int"; dim: number; i: number }
  | { kind: "none" }
  | { kind: "adv"; dim: number; index: Nd };

/**
 * PyTorch indexing: the result, and for each result element the multi-index of `a` it comes from.
 * Advanced indices (lists, masks) broadcast together; their block of dims goes where the first of them is when
 * they are adjacent, else in front. An int is always a select (basic indexing) in PyTorch, also next to lists:
 * it neither joins the block nor separates it (NumPy differs: there ints count as advanced indices when a list
 * is present, so `a[0, :, [1]]` has its list dim in front in NumPy, in place in PyTorch).
 */
export function index(a: Nd, items: readonly RefItem[]): { result: Nd; sources: number[][] } {
  const consumed = (it: RefItem) =>
    it.kind === "none" || it.kind === "ellipsis" ? 0 : it.kind === "mask" ? it.mask.shape.length : 1;
  const used = items.reduce((n, it) => n + consumed(it), 0);
  if (used > a.shape.length) throw new Error("reference: too many indices");
  const expanded: RefItem[] = [];
  for (const it of items) {
    if (it.kind === "ellipsis") {
      for (let k = 0; k < a.shape.length - used; k++)
        expanded.push({ kind: "slice", start: null, stop: null, step: 1 });
    } else expanded.push(it);
  }
  while (expanded.reduce((n, it) => n + consumed(it), 0) < a.shape.length) {
    expanded.push({ kind: "slice", start: null, stop: null, step: 1 });
  }
  const parts: Part[] = [];
  let dim = 0;
  for (const it of expanded) {
    if (it.kind === "none") parts.push({ kind: "none" });
    else if (it.kind === "int") {
      const i = it.i < 0 ? it.i + a.shape[dim] : it.i;
      if (i < 0 || i >= a.shape[dim]) throw new Error("reference: index out of range");
      parts.push({ kind: "int", dim, i });
      dim++;
    } else if (it.kind === "slice") {
      parts.push({ kind: "basic", dim, positions: slicePositions(a.shape[dim], it.start, it.stop, it.step) });
      dim++;
    } else if (it.kind === "list") {
      const size = a.shape[dim];
      parts.push({ kind: "adv", dim, index: map(it.index, (v) => (v < 0 ? v + size : v)) });
      dim++;
    } else if (it.kind === "mask") {
      for (const ix of nonzero(it.mask)) parts.push({ kind: "adv", dim: dim++, index: ix });
    }
  }
  // positions among the parts that make result dims (ints are selected away first)
  const advParts = parts
    .filter((p) => p.kind !== "int")
    .map((p, k) => [p, k] as const)
    .filter(([p]) => p.kind === "adv");
  let S: number[] = [];
  for (const [p] of advParts) S = broadcastShape(S, (p as { index: Nd }).index.shape);
  const adjacent = advParts.every(([, k], j) => k === advParts[0][1] + j);
  // output dims: one per basic/none part, with the S block at its place
  type OutDim = { part: Part } | { block: true };
  const layout: OutDim[] = [];
  let blockPlaced = false;
  if (advParts.length && !adjacent) {
    layout.push({ block: true });
    blockPlaced = true;
  }
  for (const p of parts) {
    if (p.kind === "basic" || p.kind === "none") layout.push({ part: p });
    else if (p.kind === "adv" && !blockPlaced) {
      layout.push({ block: true });
      blockPlaced = true;
    }
  }
  const shape: number[] = [];
  for (const d of layout) {
    if ("block" in d) shape.push(...S);
    else shape.push(d.part.kind === "basic" ? d.part.positions.length : 1);
  }
  const advIndex = advParts.map(([p]) => broadcastTo((p as { index: Nd }).index, S));
  const sources: number[][] = [];
  const data: number[] = [];
  for (const out of indices(shape)) {
    const src = new Array<number>(a.shape.length).fill(0);
    let o = 0;
    let sIdx: number[] = [];
    for (const d of layout) {
      if ("block" in d) {
        sIdx = out.slice(o, o + S.length);
        o += S.length;
      } else {
        if (d.part.kind === "basic") src[d.part.dim] = d.part.positions[out[o]];
        o++;
      }
    }
    for (const p of parts) if (p.kind === "int") src[p.dim] = p.i;
    advParts.forEach(([p], j) => {
      const v = get(advIndex[j], sIdx);
      if (v < 0 || v >= a.shape[(p as { dim: number }).dim]) throw new Error("reference: index out of range");
      src[(p as { dim: number }).dim] = v;
    });
    sources.push(src);
    data.push(get(a, src));
  }
  return { result: { shape, data }, sources };
}

/** `a[items] = value` (value broadcast to the indexed shape); with repeated positions the last write wins. */
export function indexPut(a: Nd, items: readonly RefItem[], value: Nd): Nd {
  const { result, sources } = index(a, items);
  const v = broadcastTo(value, result.shape);
  const out: Nd = { shape: [...a.shape], data: [...a.data] };
  const s = stridesOf(a.shape);
  sources.forEach((src, i) => {
    out.data[src.reduce((p, c, k) => p + c * s[k], 0)] = v.data[i];
  });
  return out;
}
