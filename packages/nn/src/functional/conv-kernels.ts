/**
 * The three bilinear kernels of a convolution (no autograd; conv.ts records them), directly in NCHW.
 *
 * The input is laid out as rows [N, L, K] (L = oH * oW output positions, K = C_in * kH * kW taps, (c, i, j)
 * order) by `im2row` (Backend.im2col, or strided copies). With W [C_out, K] (per group [Mg, Kg]):
 *
 *   forward      y[n] (C_out x L) = W @ rows[n]^T        written straight into y [N, C_out, oH, oW]
 *   input grad   rows'[n] (L x K) = gy[n]^T @ W          then col2im (Backend.col2im, or strided adds)
 *   weight grad  gW (C_out x K) = sum_n gy[n] @ rows[n]
 *
 * Every operand is a strided view of a tensor as it is (rows[n]^T, gy[n]^T are transposed views, W a stride-0
 * batch), so `matmul` packs what it needs and no permuted copy is made. The weight gradient sums over (n, l),
 * which no single view of gy [N, C_out, L] merges: when K <= L it is one batched product per item into
 * [N, C_out, K] and a sum over N (both smaller than gy); otherwise gy is laid out [C_out, N * L] by one copy and
 * the sum is the inner dimension of one product.
 */
import { fusionEnabled, type Tensor, type View } from "@cinder/tensor";
import { alloc, dense, fastWindows, type GridSpec, im2row, row2im, viewOf, window2d } from "./windows";

/** The shapes of one convolution x [N, cin, h, w] * W [cout, cin/groups, kh, kw] -> y [N, cout, oh, ow]. */
export interface ConvGeom {
  /** 1 for conv1d (h = kh = oh = 1, tensors have one spatial dim), 2 for conv2d. */
  spatial: 1 | 2;
  cin: number;
  cout: number;
  groups: number;
  grid: GridSpec;
}

function sizes(geo: ConvGeom) {
  const { kh, kw, oh, ow } = geo.grid;
  const g = geo.groups;
  return { g, Mg: geo.cout / g, Kg: (geo.cin / g) * kh * kw, K: geo.cin * kh * kw, L: oh * ow };
}
function spatialOf(geo: ConvGeom, h: number, w: number): number[] {
  return geo.spatial === 2 ? [h, w] : [w];
}
export const xShape = (geo: ConvGeom, n: number) => [n, geo.cin, ...spatialOf(geo, geo.grid.h, geo.grid.w)];
export const yShape = (geo: ConvGeom, n: number) => [
  n,
  geo.cout,
  ...spatialOf(geo, geo.grid.oh, geo.grid.ow),
];
export const wShape = (geo: ConvGeom) => [
  geo.cout,
  geo.cin / geo.groups,
  ...spatialOf(geo, geo.grid.kh, geo.grid.kw),
];

/**
 * `t` [N, C, (H,) W] as [N, C, L] strides (its spatial dims merged), or a contiguous copy of it when they do not
 * merge; the caller disposes the tensor when it is not `t`.
 */
function asNCL(t: Tensor): [Tensor, number, number, number] {
  const s = t.strides;
  const sh = t.shape;
  if (t.ndim === 3) return [t, s[0], s[1], s[2]];
  if (sh[3] === 1) return [t, s[0], s[1], s[2]];
  if (sh[2] === 1 || s[2] === sh[3] * s[3]) return [t, s[0], s[1], s[3]];
  const d = dense(t);
  const l = sh[2] * sh[3];
  return [d, l * sh[1], l, 1];
}

/** A matrix operand per (batch item n, group g): element [i, j] at off + n * sn + g * sg + i * s1 + j * s2. */
interface Mat {
  t: Tensor;
  off: number;
  sn: number;
  sg: number;
  s1: number;
  s2: number;
}

/**
 * out(n, g) = a(n, g) [M, K] @ b(n, g) [K, P] for every item n < N and group g < G: one batched `matmul` per group
 * over the items, or per item over the groups when there are more groups than items.
 */
function bmm(N: number, G: number, M: number, K: number, P: number, a: Mat, b: Mat, out: Mat): void {
  const byGroup = N >= G;
  const view = (m: Mat, rows: number, cols: number, o: number): View =>
    viewOf(
      m.t,
      [byGroup ? N : G, rows, cols],
      [byGroup ? m.sn : m.sg, m.s1, m.s2],
      m.off + o * (byGroup ? m.sg : m.sn),
    );
  const be = out.t.backend;
  const outer = byGroup ? G : N;
  for (let o = 0; o < outer; o++) be.matmul(view(a, M, K, o), view(b, K, P, o), view(out, M, P, o));
}

/** W [cout, Kg] (any strides made contiguous) as the per-group [Mg, Kg] operand, shared by every item. */
function weightMat(w: Tensor, Mg: number, Kg: number): Mat {
  return { t: w, off: 0, sn: 0, sg: Mg * Kg, s1: Kg, s2: 1 };
}

/**
 * y[n, c, ...] + bias[c]. Where elementwise ops fuse lazily (fusion.ts) this is a pending add that the next
 * elementwise op (the activation) inlines, so the sum is never a pass of its own; elsewhere it is added in place.
 */
export function withBias(y: Tensor, bias: Tensor): Tensor {
  const b = y.backend;
  if (fusionEnabled() && b.gcManaged === true && b.elementwise !== undefined)
    return y.add(bias.detach().reshape([bias.shape[0], ...y.shape.slice(2).map(() => 1)]));
  const n = y.shape[0];
  const c = y.shape[1];
  const l = y.numel() / Math.max(1, n * c);
  const yv = viewOf(y, [n, c, l]);
  b.binary("add", yv, { ...bias.view_, shape: [n, c, l], strides: [0, bias.strides[0], 0] }, yv);
  return y;
}

/** The rows [n, L * K] of `x` (im2col; the caller keeps or disposes them). */
export function rowsOf(geo: ConvGeom, x: Tensor): Tensor {
  return im2row(x, [x.shape[0]], geo.grid, 0);
}

/** y [n, cout, oh, ow] = W @ rows[n]^T per item and group, plus bias. */
export function forwardKernel(
  geo: ConvGeom,
  rows: Tensor,
  n: number,
  w: Tensor,
  bias: Tensor | null,
): Tensor {
  const { g, Mg, Kg, K, L } = sizes(geo);
  const wc = dense(w);
  // the products write every element (each item and group; a sum over no taps is zeros)
  const y = alloc(yShape(geo, n), rows.dtype, rows, Kg === 0);
  const rowsT: Mat = { t: rows, off: 0, sn: L * K, sg: Kg, s1: 1, s2: K };
  const out: Mat = { t: y, off: 0, sn: geo.cout * L, sg: Mg * L, s1: L, s2: 1 };
  if (y.numel() > 0) bmm(n, g, Mg, Kg, L, weightMat(wc, Mg, Kg), rowsT, out);
  if (wc !== w) wc.dispose();
  return bias ? withBias(y, bias) : y;
}

/**
 * Rows of the input gradient are made and summed (col2im) this many elements at a time (1 MB of float32), so they
 * stay in the caches. Large enough for 4 of MNIST conv2's items (196 x 288 rows each): a chunk of >= 2 products per
 * thread splits over the CPU backend's threads by items rather than each product by blocks that first wait for B's
 * packing. Measured (2-core EPYC, load 9, conv2's input gradient, p25 / median of 160): one item per chunk 14.1 /
 * 14.7 ms of CPU on two threads and 10.2 / 10.4 on one, two items the same, four 12.4 / 12.8 and 9.9 / 10.1.
 */
const ROWS_CHUNK = 1 << 18;

/**
 * The transposed convolution of gy [n, cout, oh, ow] with W: rows gradient gy[n]^T @ W, then col2im. With the
 * CPU backend's col2im, a few items at a time: the rows of one chunk are summed while still in cache, into a
 * scratch buffer of about ROWS_CHUNK elements instead of [n, L, K].
 */
export function transposedKernel(geo: ConvGeom, gy: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const { g, Mg, Kg, K, L } = sizes(geo);
  const n = gy.shape[0];
  const b = gy.backend;
  const shape = xShape(geo, n);
  if (n * L * K === 0) {
    const x = alloc(shape, gy.dtype, gy);
    return bias ? withBias(x, bias) : x;
  }
  const [gyc, sn, sc, sl] = asNCL(gy);
  const wc = dense(w);
  const chunked = b.col2im !== undefined && fastWindows(gy);
  // chunks serve a CPU's caches (gcManaged: host memory); a device with its own memory does all items at once
  const step = chunked && b.gcManaged === true ? Math.max(1, Math.floor(ROWS_CHUNK / (L * K))) : n;
  // each chunk's product writes the rows col2im reads (a sum over no channels is zeros); col2im overwrites x
  const rows = alloc([Math.min(step, n), L * K], gy.dtype, gy, Mg === 0);
  let x: Tensor | null = chunked ? alloc(shape, gy.dtype, gy, false) : null;
  const { c, h, w: width } = geo.grid;
  for (let n0 = 0; n0 < n; n0 += step) {
    const nb = Math.min(step, n - n0);
    const gyT: Mat = { t: gyc, off: n0 * sn, sn, sg: Mg * sc, s1: sl, s2: sc };
    bmm(nb, g, L, Mg, Kg, gyT, weightMat(wc, Mg, Kg), { t: rows, off: 0, sn: L * K, sg: Kg, s1: K, s2: 1 });
    if (x) {
      b.col2im?.(
        viewOf(rows, [nb, L, K]),
        window2d(geo.grid),
        viewOf(x, [nb, c, h, width], undefined, n0 * c * h * width),
      );
    }
  }
  if (gyc !== gy) gyc.dispose();
  if (wc !== w) wc.dispose();
  x ??= row2im(rows, [n], shape.slice(1), geo.grid);
  rows.dispose();
  return bias ? withBias(x, bias) : x;
}

/**
 * dL/dW = sum over items of gy[n] @ rows[n]: per item into [n, cout, Kg] and summed over n (`byItem`, the default
 * when Kg <= L or n = 1), else one product over gy laid out [cout, n * L]: the smaller intermediate either way.
 */
export function weightKernel(
  geo: ConvGeom,
  x: Tensor,
  gy: Tensor,
  savedRows: Tensor | null,
  byItem?: boolean,
): Tensor {
  const { g, Mg, Kg, K, L } = sizes(geo);
  const n = x.shape[0];
  const b = x.backend;
  // zero only when there is nothing to sum; otherwise a product or the sum over items writes every element
  const gw = alloc(wShape(geo), x.dtype, x, n * L === 0);
  if (gw.numel() === 0) return gw;
  const rows = savedRows ?? rowsOf(geo, x);
  const [gyc, sn, sc, sl] = asNCL(gy);
  if (n * L === 0) {
    // nothing to sum: gw stays zero
  } else if (byItem ?? (Kg <= L || n === 1)) {
    const part = n === 1 ? gw : alloc([n, geo.cout * Kg], x.dtype, x, false);
    bmm(
      n,
      g,
      Mg,
      L,
      Kg,
      { t: gyc, off: 0, sn, sg: Mg * sc, s1: sc, s2: sl },
      { t: rows, off: 0, sn: L * K, sg: Kg, s1: K, s2: 1 },
      { t: part, off: 0, sn: geo.cout * Kg, sg: Mg * Kg, s1: Kg, s2: 1 },
    );
    if (part !== gw) {
      b.reduce("sum", viewOf(part, [n, geo.cout * Kg]), [0], viewOf(gw, [1, geo.cout * Kg]));
      part.dispose();
    }
  } else {
    const gyT = alloc([geo.cout, n * L], gy.dtype, gy, false);
    b.copy(viewOf(gyc, [geo.cout, n, L], [sc, sn, sl]), viewOf(gyT, [geo.cout, n, L]));
    b.matmul(viewOf(gyT, [g, Mg, n * L]), viewOf(rows, [g, n * L, Kg], [Kg, K, 1]), viewOf(gw, [g, Mg, Kg]));
    gyT.dispose();
  }
  if (gyc !== gy) gyc.dispose();
  if (!savedRows) rows.dispose();
  return gw;
}
