/**
 * Sliding windows, the machinery under convolution, pooling and unfold/fold (internal; not re-exported).
 *
 * Regular grids (convolution, unfold/fold, max and average pooling) need no index: `im2row` is one strided copy
 * of a view whose dims are [...lead, oH, oW, C, kH, kW] over the (padded) input, and its adjoint `row2im`
 * (col2im) one in-place strided add per kernel tap. Both run on the backend's generic copy/binary kernels.
 *
 * Index tables serve the rest: a `Windows` table lists, for every output position l and kernel tap k, the flat
 * position inside one input row of P elements (one [H, W] plane for pooling) that the tap reads. Taps outside
 * the input read the sentinel P, an extra element appended to each row and filled with the padding value.
 * Built once per geometry and device and cached, it maps max pooling's argmax taps back to input positions,
 * and drives adaptive pooling's irregular windows (`gatherRows`: one gather; `scatterRows`: one scatter-add).
 */
import {
  type Backend,
  contiguousStrides,
  type DType,
  emptyTensor,
  keep,
  numel,
  Tensor,
  tensorFromData,
  type View,
  type Window2d,
} from "@cinder/tensor";

export interface Windows {
  /** int32 [L * K]: entry l * K + k is the position tap k of window l reads, in [0, P]; P is the sentinel. */
  readonly index: Tensor;
  /** The same table on the host, for building weight tables. */
  readonly host: Int32Array;
  /** Output positions, taps per window, elements per input row. */
  readonly L: number;
  readonly K: number;
  readonly P: number;
  /** Whether any tap reads the sentinel (rows then need the extra element). */
  readonly padded: boolean;
}

/** A regular grid of windows over [c, h, w]: tap (ci, i, j) of output (oy, ox) reads (ci, oy*sh - ph + i*dh, ox*sw - pw + j*dw). */
export interface GridSpec {
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  oh: number;
  ow: number;
  /** Lay the table out [K, L] (unfold's column order) instead of [L, K]. */
  kFirst?: boolean;
}

const CACHE_LIMIT = 64;
const cache = new Map<string, Windows>();

function cached(
  key: string,
  backend: Backend,
  build: () => { host: Int32Array; L: number; K: number; P: number },
): Windows {
  const k = `${backend.device}|${key}`;
  const hit = cache.get(k);
  if (hit && !hit.index.isDisposed && hit.index.backend === backend) {
    // refresh its place in the LRU order
    cache.delete(k);
    cache.set(k, hit);
    return hit;
  }
  const { host, L, K, P } = build();
  let padded = false;
  for (let i = 0; i < host.length; i++) {
    if (host[i] === P) {
      padded = true;
      break;
    }
  }
  const index = keep(tensorFromData(host, [host.length], "int32", backend.device));
  const win: Windows = { index, host, L, K, P, padded };
  cache.set(k, win);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return win;
}

/** The windows of a regular grid (convolution, unfold, max/avg pooling). */
export function gridWindows(s: GridSpec, backend: Backend): Windows {
  const key = `grid:${s.c},${s.h},${s.w},${s.kh},${s.kw},${s.sh},${s.sw},${s.ph},${s.pw},${s.dh},${s.dw},${s.oh},${s.ow},${s.kFirst ? 1 : 0}`;
  return cached(key, backend, () => {
    const L = s.oh * s.ow;
    const kk = s.kh * s.kw;
    const K = s.c * kk;
    const hw = s.h * s.w;
    const P = s.c * hw;
    const host = new Int32Array(L * K);
    for (let oy = 0; oy < s.oh; oy++) {
      for (let ox = 0; ox < s.ow; ox++) {
        const l = oy * s.ow + ox;
        // entry (l, k) sits at l * K + k, or at k * L + l in the [K, L] layout
        const base = s.kFirst ? l : l * K;
        const step = s.kFirst ? L : 1;
        for (let i = 0; i < s.kh; i++) {
          const y = oy * s.sh - s.ph + i * s.dh;
          for (let j = 0; j < s.kw; j++) {
            const x = ox * s.sw - s.pw + j * s.dw;
            const inside = y >= 0 && y < s.h && x >= 0 && x < s.w;
            const tap = i * s.kw + j;
            for (let ci = 0; ci < s.c; ci++)
              host[base + (ci * kk + tap) * step] = inside ? ci * hw + y * s.w + x : P;
          }
        }
      }
    }
    return { host, L, K, P };
  });
}

/** Adaptive pooling windows over [h, w]: rows [floor(o*h/oh), ceil((o+1)*h/oh)), padded to the longest window. */
export function adaptiveWindows(h: number, w: number, oh: number, ow: number, backend: Backend): Windows {
  return cached(`adaptive:${h},${w},${oh},${ow}`, backend, () => {
    const rs = adaptiveRanges(h, oh);
    const cs = adaptiveRanges(w, ow);
    const kh = Math.max(...rs.map(([a, b]) => b - a));
    const kw = Math.max(...cs.map(([a, b]) => b - a));
    const K = kh * kw;
    const P = h * w;
    const host = new Int32Array(oh * ow * K).fill(P);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const base = (oy * ow + ox) * K;
        const [y0, y1] = rs[oy];
        const [x0, x1] = cs[ox];
        for (let y = y0; y < y1; y++)
          for (let x = x0; x < x1; x++) host[base + (y - y0) * kw + (x - x0)] = y * w + x;
      }
    }
    return { host, L: oh * ow, K, P };
  });
}

/** PyTorch's adaptive pooling bounds: [floor(i * n / out), ceil((i + 1) * n / out)). */
export function adaptiveRanges(n: number, out: number): [number, number][] {
  return Array.from({ length: out }, (_, i) => [Math.floor((i * n) / out), Math.ceil(((i + 1) * n) / out)]);
}

// ---- kernel-level helpers: plain views, no autograd ----

/** A view over `t`'s storage with the given layout (offset relative to `t`). */
export function viewOf(t: Tensor, shape: readonly number[], strides?: readonly number[], offset = 0): View {
  return {
    handle: t.storage.handle,
    dtype: t.dtype,
    shape,
    strides: strides ?? contiguousStrides(shape),
    offset: t.offset + offset,
  };
}

/**
 * A fresh contiguous tensor on `like`'s device, zero-filled unless `zero` is false: then the caller writes every
 * element before anything reads one, and a recycled buffer (the CPU's pool) is handed out without a clearing pass.
 */
export function alloc(shape: readonly number[], dtype: DType, like: Tensor, zero = true): Tensor {
  return emptyTensor(shape, dtype, like.backend, "", zero);
}

/** `t` when contiguous, else a contiguous copy (never recorded). */
export function dense(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  const out = alloc(t.shape, t.dtype, t, false);
  t.backend.copy(t.view_, out.view_);
  return out;
}

/** A tensor of `shape` over `t`'s storage (a raw view, outside autograd). */
export function rawView(
  t: Tensor,
  shape: readonly number[],
  strides?: readonly number[],
  offset = 0,
): Tensor {
  return new Tensor(t.storage, shape, strides, t.offset + offset);
}

/**
 * Strides of a [...lead, ...plane] tensor stored as rows of `rowLen` elements (one row per lead index, the
 * plane contiguous inside it): how an input sits in a buffer with the sentinel appended.
 */
export function rowStrides(lead: readonly number[], plane: readonly number[], rowLen: number): number[] {
  return [...contiguousStrides(lead).map((s) => s * rowLen), ...contiguousStrides(plane)];
}

/**
 * Gathered rows: `x` of shape [...lead, ...plane] (numel(plane) = P, any strides) to rows [B, L * K] with
 * rows[b, l * K + k] = x_b[index[l * K + k]], the sentinel reading `fill`. For irregular windows (adaptive
 * pooling); regular grids use the faster strided `im2row`.
 */
export function gatherRows(x: Tensor, lead: readonly number[], win: Windows, fill: number): Tensor {
  const B = numel(lead);
  const b = x.backend;
  const out = alloc([B, win.L * win.K], x.dtype, x);
  if (out.numel() === 0) return out;
  let src: View;
  let buf: Tensor | null = null;
  if (win.padded) {
    const row = win.P + 1;
    buf = alloc([B, row], x.dtype, x);
    if (fill !== 0) b.fill(viewOf(buf, [B], [row], win.P), fill);
    b.copy(x.view_, viewOf(buf, x.shape, rowStrides(lead, x.shape.slice(lead.length), row)));
    src = viewOf(buf, [B, row]);
  } else if (x.isContiguous()) {
    src = viewOf(x, [B, win.P]);
  } else {
    buf = dense(x);
    src = viewOf(buf, [B, win.P]);
  }
  b.gather(src, 1, viewOf(win.index, [B, win.L * win.K], [0, 1]), out.view_);
  buf?.dispose();
  return out;
}

/**
 * The adjoint of `gatherRows`: rows [B, L * K] (any strides) summed into a tensor of shape [...lead, ...plane]
 * (contiguous) by one scatter-add.
 */
export function scatterRows(
  rows: Tensor,
  lead: readonly number[],
  plane: readonly number[],
  win: Windows,
): Tensor {
  const B = numel(lead);
  const row = win.P + (win.padded ? 1 : 0);
  const shape = [...lead, ...plane];
  const buf = alloc(win.padded ? [B, row] : shape, rows.dtype, rows);
  if (rows.numel() > 0) {
    const src = dense(rows);
    rows.backend.scatter(
      "add",
      viewOf(buf, [B, row]),
      1,
      viewOf(win.index, [B, win.L * win.K], [0, 1]),
      viewOf(src, [B, win.L * win.K]),
    );
    if (src !== rows) src.dispose();
  }
  if (!win.padded) return buf;
  // drop the sentinel column: callers get a contiguous tensor, as PyTorch's ops return
  const out = alloc(shape, rows.dtype, rows);
  rows.backend.copy(viewOf(buf, out.shape, rowStrides(lead, plane, row)), out.view_);
  buf.dispose();
  return out;
}

// ---- backend fast paths (Backend.im2col, col2im, maxPool2d, maxPool2dBackward) ----

let fastPaths = true;

/** Use the backends' optional window kernels when they have them (default on); off forces the composed path. */
export function setWindowFastPaths(on: boolean): void {
  fastPaths = on;
}

/** Whether a window fast path may run on `t` (float32/float64; the caller passes contiguous views). */
export function fastWindows(t: Tensor): boolean {
  return fastPaths && (t.dtype === "float32" || t.dtype === "float64");
}

/** The protocol's description of a regular grid. */
export function window2d(s: GridSpec): Window2d {
  return {
    kernel: [s.kh, s.kw],
    stride: [s.sh, s.sw],
    padding: [s.ph, s.pw],
    dilation: [s.dh, s.dw],
    output: [s.oh, s.ow],
  };
}

// ---- regular grids: im2row as one strided copy, row2im as one strided add per tap ----

/** Strides (c, y, x) of the plane dims of `x` = [...lead, ...plane] for a grid over [c, h, w]. */
function planeStrides(x: Tensor, nLead: number, s: GridSpec): [number, number, number] {
  const p = x.strides.slice(nLead);
  if (p.length === 3) return [p[0], p[1], p[2]];
  // two plane dims: [c, w] for one spatial dim (h = 1), [h, w] for pooling (c = 1)
  return s.c === 1 ? [0, p[0], p[1]] : [p[0], 0, p[1]];
}

/** Rows of the padded image the windows reach: top padding, input, and whatever the last window overhangs. */
function paddedExtent(s: GridSpec): [number, number] {
  const needH = (s.oh - 1) * s.sh + (s.kh - 1) * s.dh + 1;
  const needW = (s.ow - 1) * s.sw + (s.kw - 1) * s.dw + 1;
  return [Math.max(s.ph + s.h, needH), Math.max(s.pw + s.w, needW)];
}

/** Strides of rows [B, L, K] (or [B, K, L] when `kFirst`) seen as [...lead, oh, ow, c, kh, kw]. */
function rowsLayout(lead: readonly number[], s: GridSpec): number[] {
  const L = s.oh * s.ow;
  const kk = s.kh * s.kw;
  const K = s.c * kk;
  const leadS = contiguousStrides(lead).map((v) => v * L * K);
  return s.kFirst ? [...leadS, s.ow, 1, kk * L, s.kw * L, L] : [...leadS, s.ow * K, K, kk, s.kw, 1];
}

/** A view of the padded image [...lead, c, Hp, Wp] (origin at the padding's top-left) as its windows. */
function windowView(v: View, nLead: number, sc: number, sy: number, sx: number, s: GridSpec): View {
  const lead = v.shape.slice(0, nLead);
  return {
    ...v,
    shape: [...lead, s.oh, s.ow, s.c, s.kh, s.kw],
    strides: [...v.strides.slice(0, nLead), sy * s.sh, sx * s.sw, sc, sy * s.dh, sx * s.dw],
  };
}

/**
 * im2row over a regular grid: `x` of shape [...lead, ...plane] (plane [c, h, w], [c, w] or [h, w]; any strides)
 * to rows [B, L * K] (B = numel(lead), K = c * kh * kw; [B, K * L] when `kFirst`), padding reading `fill`.
 * One strided copy of the window view; a padded copy of the input first when the windows leave it.
 */
export function im2row(x: Tensor, lead: readonly number[], s: GridSpec, fill: number): Tensor {
  const b = x.backend;
  const n = lead.length;
  const L = s.oh * s.ow;
  // both ways below write every element of the rows (padding reads zeros or `fill` from a padded copy)
  const out = alloc([numel(lead), L * s.c * s.kh * s.kw], x.dtype, x, false);
  if (out.numel() === 0) return out;
  if (b.im2col && fill === 0 && !s.kFirst && fastWindows(x)) {
    const src = dense(x);
    const B = numel(lead);
    b.im2col(viewOf(src, [B, s.c, s.h, s.w]), window2d(s), viewOf(out, [B, L, s.c * s.kh * s.kw]));
    if (src !== x) src.dispose();
    return out;
  }
  const [Hp, Wp] = paddedExtent(s);
  let buf: Tensor | null = null;
  let win: View;
  if (s.ph === 0 && s.pw === 0 && Hp === s.h && Wp === s.w) {
    const [sc, sy, sx] = planeStrides(x, n, s);
    win = windowView(x.view_, n, sc, sy, sx, s);
  } else {
    buf = alloc([...lead, s.c, Hp, Wp], x.dtype, x);
    if (fill !== 0) b.fill(buf.view_, fill);
    const [sc, sy, sx] = planeStrides(x, n, s);
    const inner = viewOf(buf, [...lead, s.c, s.h, s.w], buf.strides, s.ph * Wp + s.pw);
    b.copy({ ...x.view_, shape: inner.shape, strides: [...x.strides.slice(0, n), sc, sy, sx] }, inner);
    win = windowView(buf.view_, n, Hp * Wp, Wp, 1, s);
  }
  b.copy(win, viewOf(out, win.shape, rowsLayout(lead, s)));
  buf?.dispose();
  return out;
}

/**
 * row2im (col2im) over a regular grid, the adjoint of `im2row`: rows (layout as `im2row` writes them) summed
 * into a contiguous tensor of shape [...lead, ...plane]: one in-place strided add per kernel tap (a tap's
 * windows never overlap), into a padded buffer when the windows leave the input.
 */
export function row2im(rows: Tensor, lead: readonly number[], plane: readonly number[], s: GridSpec): Tensor {
  const b = rows.backend;
  const n = lead.length;
  if (b.col2im && !s.kFirst && fastWindows(rows)) {
    const out = alloc([...lead, ...plane], rows.dtype, rows);
    if (rows.numel() > 0 && out.numel() > 0) {
      const src = dense(rows);
      b.col2im(
        viewOf(src, [numel(lead), s.oh * s.ow, s.c * s.kh * s.kw]),
        window2d(s),
        viewOf(out, [numel(lead), s.c, s.h, s.w]),
      );
      if (src !== rows) src.dispose();
    }
    return out;
  }
  const [Hp, Wp] = paddedExtent(s);
  const direct = s.ph === 0 && s.pw === 0 && Hp === s.h && Wp === s.w;
  const buf = alloc(direct ? [...lead, ...plane] : [...lead, s.c, Hp, Wp], rows.dtype, rows);
  if (rows.numel() > 0) {
    const src = dense(rows);
    const leadS = contiguousStrides(lead).map((v) => v * s.c * Hp * Wp);
    const rs = rowsLayout(lead, s);
    const srcS = [...rs.slice(0, n + 3)];
    for (let i = 0; i < s.kh; i++) {
      for (let j = 0; j < s.kw; j++) {
        const o: View = {
          ...buf.view_,
          shape: [...lead, s.oh, s.ow, s.c],
          strides: [...leadS, Wp * s.sh, s.sw, Hp * Wp],
          offset: buf.offset + i * s.dh * Wp + j * s.dw,
        };
        const g = viewOf(src, o.shape, srcS, i * rs[n + 3] + j * rs[n + 4]);
        b.binary("add", o, g, o);
      }
    }
    if (src !== rows) src.dispose();
  }
  if (direct) return buf;
  const out = alloc([...lead, ...plane], rows.dtype, rows);
  b.copy(
    viewOf(buf, [...lead, s.c, s.h, s.w], buf.strides, s.ph * Wp + s.pw),
    viewOf(out, [...lead, s.c, s.h, s.w]),
  );
  buf.dispose();
  return out;
}

// ---- argument parsing shared by convolution and pooling ----

/** An int or a pair of ints (PyTorch's `_pair`). */
export type Size2 = number | readonly [number, number];

/** Expand `v` to `n` ints (default `dflt`), each an integer >= `min`; errors name the op and the argument. */
export function ints(
  v: number | readonly number[] | undefined,
  n: number,
  dflt: number,
  min: number,
  op: string,
  name: string,
): number[] {
  const xs =
    v === undefined
      ? new Array<number>(n).fill(dflt)
      : typeof v === "number"
        ? new Array<number>(n).fill(v)
        : [...v];
  if (xs.length !== n || !xs.every((x) => Number.isInteger(x))) {
    throw new TypeError(
      `${op}: ${name} must be an integer or ${n === 1 ? "a list of 1 integer" : `a list of ${n} integers`}, got ${JSON.stringify(v)}`,
    );
  }
  if (xs.some((x) => x < min)) {
    const what = min === 0 ? "non-negative" : `at least ${min}`;
    throw new RangeError(`${op}: ${name} must be ${what}, got ${JSON.stringify(v)}`);
  }
  return xs;
}

/** Python's `repr` of an int or a tuple (None for null), as PyTorch prints pooling and fold arguments. */
export function pyIntOrTuple(v: number | readonly (number | null)[]): string {
  if (typeof v === "number") return String(v);
  const xs = v.map((x) => (x === null ? "None" : String(x)));
  return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`;
}

/** Lift a one-spatial-dim geometry to the 2-D grid (a height of one). */
export function grid(
  c: number,
  inp: number[],
  k: number[],
  s: number[],
  p: number[],
  d: number[],
  out: number[],
): GridSpec {
  const two = inp.length === 2;
  const at = (a: number[], dflt: number): [number, number] => (two ? [a[0], a[1]] : [dflt, a[0]]);
  const [h, w] = at(inp, 1);
  const [kh, kw] = at(k, 1);
  const [sh, sw] = at(s, 1);
  const [ph, pw] = at(p, 0);
  const [dh, dw] = at(d, 1);
  const [oh, ow] = at(out, 1);
  return { c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow };
}
