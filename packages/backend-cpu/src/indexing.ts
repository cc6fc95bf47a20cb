/** gather, scatter and sort along one axis. */
import { IndexError, type TypedArray, type View } from "@cinder/tensor";
import { atLeast1d, forEachLine } from "./codegen";

function outOfRange(op: string, k: number, axis: number, n: number): IndexError {
  return new IndexError(`${op}: index ${k} is out of bounds for dimension ${axis} with size ${n}`);
}

/** out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`; indices must lie in [0, x.shape[axis]). */
export function gather(x: View, axis: number, index: View, out: View): void {
  x = atLeast1d(x);
  index = atLeast1d(index);
  out = atLeast1d(out);
  const m = index.shape[axis];
  const n = x.shape[axis];
  const is = index.strides[axis];
  const os = out.strides[axis];
  const xs = x.strides[axis];
  const ia = index.handle as TypedArray;
  const oa = out.handle as TypedArray;
  const xa = x.handle as TypedArray;
  forEachLine(
    index.shape,
    axis,
    [index.strides, out.strides, x.strides],
    [index.offset, out.offset, x.offset],
    (o) => {
      const io = o[0];
      const oo = o[1];
      const xo = o[2];
      for (let j = 0; j < m; j++) {
        const k = ia[io + j * is];
        if (k < 0 || k >= n) throw outOfRange("gather", k, axis, n);
        oa[oo + j * os] = xa[xo + k * xs];
      }
    },
  );
}

/**
 * out[..., index[..., j, ...], ...] = src[..., j, ...] ("set", last write wins) or += ("add") along `axis`,
 * over the positions of `index` (src may be larger, as in PyTorch).
 */
export function scatter(mode: "set" | "add", out: View, axis: number, index: View, src: View): void {
  out = atLeast1d(out);
  index = atLeast1d(index);
  src = atLeast1d(src);
  const m = index.shape[axis];
  const n = out.shape[axis];
  const is = index.strides[axis];
  const ss = src.strides[axis];
  const os = out.strides[axis];
  const ia = index.handle as TypedArray;
  const sa = src.handle as TypedArray;
  const oa = out.handle as TypedArray;
  const boolOut = out.dtype === "bool";
  forEachLine(
    index.shape,
    axis,
    [index.strides, src.strides, out.strides],
    [index.offset, src.offset, out.offset],
    (o) => {
      const io = o[0];
      const so = o[1];
      const oo = o[2];
      if (mode === "set") {
        for (let j = 0; j < m; j++) {
          const k = ia[io + j * is];
          if (k < 0 || k >= n) throw outOfRange("scatter", k, axis, n);
          oa[oo + k * os] = sa[so + j * ss];
        }
      } else if (!boolOut) {
        for (let j = 0; j < m; j++) {
          const k = ia[io + j * is];
          if (k < 0 || k >= n) throw outOfRange("scatter", k, axis, n);
          oa[oo + k * os] += sa[so + j * ss];
        }
      } else {
        for (let j = 0; j < m; j++) {
          const k = ia[io + j * is];
          if (k < 0 || k >= n) throw outOfRange("scatter", k, axis, n);
          const p = oo + k * os;
          oa[p] = oa[p] !== 0 || sa[so + j * ss] !== 0 ? 1 : 0;
        }
      }
    },
  );
}

const RUN = 24;

/**
 * Stable ascending sort of keys `k` with payload `v` (first `n` entries), by insertion-sorted runs and
 * bottom-up merges through the scratch arrays `tk`/`tv`. Ties keep their order. Keys must not be NaN.
 */
function stableSort(k: Float64Array, v: Int32Array, n: number, tk: Float64Array, tv: Int32Array): void {
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const key = k[i];
      const val = v[i];
      let j = i - 1;
      while (j >= lo && k[j] > key) {
        k[j + 1] = k[j];
        v[j + 1] = v[j];
        j--;
      }
      k[j + 1] = key;
      v[j + 1] = val;
    }
  }
  let sk = k;
  let sv = v;
  let dk = tk;
  let dv = tv;
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let o = lo;
      while (i < mid && j < hi) {
        if (sk[j] < sk[i]) {
          dk[o] = sk[j];
          dv[o++] = sv[j++];
        } else {
          dk[o] = sk[i];
          dv[o++] = sv[i++];
        }
      }
      while (i < mid) {
        dk[o] = sk[i];
        dv[o++] = sv[i++];
      }
      while (j < hi) {
        dk[o] = sk[j];
        dv[o++] = sv[j++];
      }
    }
    const t = sk;
    sk = dk;
    dk = t;
    const u = sv;
    sv = dv;
    dv = u;
  }
  if (sk !== k) {
    k.set(sk.subarray(0, n));
    v.set(sv.subarray(0, n));
  }
}

/**
 * Stable sort along `axis`. NaN sorts as the largest value: last ascending, first descending, NaNs keeping
 * their order. Descending sorts negated keys, so equal values keep their order there too (torch.sort with
 * stable=True).
 */
export function sort(x: View, axis: number, descending: boolean, values: View, indices: View): void {
  x = atLeast1d(x);
  values = atLeast1d(values);
  indices = atLeast1d(indices);
  const n = x.shape[axis];
  if (n === 0) return;
  const xs = x.strides[axis];
  const vs = values.strides[axis];
  const is = indices.strides[axis];
  const xa = x.handle as TypedArray;
  const va = values.handle as TypedArray;
  const ia = indices.handle as TypedArray;
  const keys = new Float64Array(n);
  const perm = new Int32Array(n);
  const nans = new Int32Array(n);
  const tk = new Float64Array(n);
  const tv = new Int32Array(n);
  const sign = descending ? -1 : 1;
  forEachLine(
    x.shape,
    axis,
    [x.strides, values.strides, indices.strides],
    [x.offset, values.offset, indices.offset],
    (o) => {
      const xo = o[0];
      const vo = o[1];
      const io = o[2];
      let cnt = 0;
      let nn = 0;
      for (let i = 0; i < n; i++) {
        const val = xa[xo + i * xs];
        if (Number.isNaN(val)) {
          nans[nn++] = i;
        } else {
          keys[cnt] = sign * val;
          perm[cnt++] = i;
        }
      }
      stableSort(keys, perm, cnt, tk, tv);
      // Ascending: numbers then NaNs; descending: NaNs then numbers.
      const numStart = descending ? nn : 0;
      const nanStart = descending ? 0 : cnt;
      for (let j = 0; j < cnt; j++) {
        va[vo + (numStart + j) * vs] = sign * keys[j]; // exact: undoes the negation, keeps -0
        ia[io + (numStart + j) * is] = perm[j];
      }
      for (let j = 0; j < nn; j++) {
        va[vo + (nanStart + j) * vs] = Number.NaN;
        ia[io + (nanStart + j) * is] = nans[j];
      }
    },
  );
}
