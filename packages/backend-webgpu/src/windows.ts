/**
 * Regular 2-D window kernels (`Backend.im2col`, `col2im`, `maxPool2d`, `maxPool2dBackward`): one dispatch each,
 * one thread per output element, over contiguous float32 views in distinct buffers. The adjoints (col2im and the
 * max pooling backward) gather over the windows that reach each input position instead of scattering, so no
 * atomics are needed.
 */
import type { View, Window2d } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import { type BindingDecl, entry, grid, numel, type ParamSpec, Params, WG } from "./codegen";
import type { Runtime } from "./runtime";

const GEOMETRY = ["C", "H", "W", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "oh", "ow"] as const;

/** Dispatch `total` threads of `body` over `views` (the last one written), with the geometry as i32 params. */
function launch(
  rt: Runtime,
  key: string,
  total: number,
  geo: Record<(typeof GEOMETRY)[number], number>,
  views: readonly View[],
  names: readonly string[],
  types: readonly ("f32" | "i32")[],
  writes: readonly boolean[],
  body: string,
): void {
  if (total === 0) return;
  const k = rt.kernel(`window2d|${key}`, () => {
    const params = new Params([
      { name: "total", type: "u32" },
      ...names.map((nm): ParamSpec => ({ name: `${nm}_o`, type: "u32" })),
      ...GEOMETRY.map((g): ParamSpec => ({ name: g, type: "i32" })),
    ]);
    const bindings: BindingDecl[] = names.map((nm, i) => ({
      name: nm,
      type: types[i],
      access: writes[i] ? "write" : "read",
    }));
    const code = [entry(WG), `  ${params.declare()}`, "  if (gid >= total) { return; }", body, "}"].join(
      "\n",
    );
    return { params, bindings, body: code };
  });
  const values: Record<string, number> = { total, ...geo };
  names.forEach((nm, i) => {
    values[`${nm}_o`] = views[i].offset;
  });
  rt.dispatch(
    k,
    k.params.pack(values),
    views.map((v, i) => {
      const s = v.handle as GpuStorage;
      return { s, covers: writes[i] && v.offset === 0 && numel(v.shape) === s.length };
    }),
    grid(Math.ceil(total / WG)),
  );
}

function geometry(x: View, p: Window2d): Record<(typeof GEOMETRY)[number], number> {
  return {
    C: x.shape[1],
    H: x.shape[2],
    W: x.shape[3],
    kh: p.kernel[0],
    kw: p.kernel[1],
    sh: p.stride[0],
    sw: p.stride[1],
    ph: p.padding[0],
    pw: p.padding[1],
    dh: p.dilation[0],
    dw: p.dilation[1],
    oh: p.output[0],
    ow: p.output[1],
  };
}

/** Row-major split of `gid` into the output coordinates shared by every kernel below. */
const PRELUDE = `
  let g = i32(gid);
  let K = C * kh * kw;
  let L = oh * ow;`;

const IM2COL = `${PRELUDE}
  let k = g % K;
  let r = g / K;
  let l = r % L;
  let n = r / L;
  let j = k % kw;
  let i = (k / kw) % kh;
  let c = k / (kw * kh);
  let y = (l / ow) * sh - ph + i * dh;
  let x = (l % ow) * sw - pw + j * dw;
  var v = 0.0;
  if (y >= 0 && y < H && x >= 0 && x < W) { v = xin[i32(xin_o) + ((n * C + c) * H + y) * W + x]; }
  outp[i32(outp_o) + g] = v;`;

/** The windows (oy, ox) whose tap (i, j) reads input (y, x), as nested loops around `inner`. */
const TAPS = (inner: string) => `
  for (var i = 0; i < kh; i++) {
    let ty = y + ph - i * dh;
    if (ty < 0 || ty % sh != 0) { continue; }
    let oy = ty / sh;
    if (oy >= oh) { continue; }
    for (var j = 0; j < kw; j++) {
      let tx = x + pw - j * dw;
      if (tx < 0 || tx % sw != 0) { continue; }
      let ox = tx / sw;
      if (ox >= ow) { continue; }
      ${inner}
    }
  }`;

const COL2IM = `${PRELUDE}
  let x = g % W;
  let y = (g / W) % H;
  let c = (g / (W * H)) % C;
  let n = g / (W * H * C);
  var s = 0.0;${TAPS("s = s + cols[i32(cols_o) + (n * L + oy * ow + ox) * K + (c * kh + i) * kw + j];")}
  outp[i32(outp_o) + g] = s;`;

const MAXPOOL = `${PRELUDE}
  let l = g % L;
  let b = g / L;
  let y0 = (l / ow) * sh - ph;
  let x0 = (l % ow) * sw - pw;
  let base = i32(xin_o) + b * H * W;
  var best = 0.0;
  var arg0 = -1;
  for (var i = 0; i < kh; i++) {
    let y = y0 + i * dh;
    if (y < 0 || y >= H) { continue; }
    var done = false;
    for (var j = 0; j < kw; j++) {
      let x = x0 + j * dw;
      if (x < 0 || x >= W) { continue; }
      let v = xin[base + y * W + x];
      if (arg0 < 0 || v > best || isnan_f(v)) {
        best = v;
        arg0 = y * W + x;
        if (isnan_f(v)) { done = true; break; }
      }
    }
    if (done) { break; }
  }
  vals[i32(vals_o) + g] = best;
  idx[i32(idx_o) + g] = arg0;`;

const MAXPOOL_BACK = `${PRELUDE}
  let x = g % W;
  let y = (g / W) % H;
  let b = g / (W * H);
  let me = y * W + x;
  var s = 0.0;${TAPS("let o = b * L + oy * ow + ox; if (idx[i32(idx_o) + o] == me) { s = s + grad[i32(grad_o) + o]; }")}
  outp[i32(outp_o) + g] = s;`;

export function im2col(rt: Runtime, x: View, p: Window2d, out: View): void {
  const geo = geometry(x, p);
  launch(
    rt,
    "im2col",
    numel(out.shape),
    geo,
    [x, out],
    ["xin", "outp"],
    ["f32", "f32"],
    [false, true],
    IM2COL,
  );
}

export function col2im(rt: Runtime, cols: View, p: Window2d, out: View): void {
  const geo = geometry(out, p);
  launch(
    rt,
    "col2im",
    numel(out.shape),
    geo,
    [cols, out],
    ["cols", "outp"],
    ["f32", "f32"],
    [false, true],
    COL2IM,
  );
}

export function maxPool2d(rt: Runtime, x: View, p: Window2d, values: View, indices: View): void {
  const geo = geometry(x, p);
  launch(
    rt,
    "maxPool2d",
    numel(values.shape),
    geo,
    [x, values, indices],
    ["xin", "vals", "idx"],
    ["f32", "f32", "i32"],
    [false, true, true],
    MAXPOOL,
  );
}

export function maxPool2dBackward(rt: Runtime, grad: View, indices: View, p: Window2d, out: View): void {
  const geo = geometry(out, p);
  launch(
    rt,
    "maxPool2dBackward",
    numel(out.shape),
    geo,
    [grad, indices, out],
    ["grad", "idx", "outp"],
    ["f32", "i32", "f32"],
    [false, false, true],
    MAXPOOL_BACK,
  );
}
