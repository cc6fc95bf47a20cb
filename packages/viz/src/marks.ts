/** SVG for the artists of an Axes (lines, markers, reference lines, bars, images, text) in pixel space. */

import type { Artist, BarsArtist, ImageArtist, LineArtist, RefLineArtist, ScatterArtist } from "./artists";
import { colormap, dashArray, isNoLine, type Marker } from "./colors";
import type { Image2D } from "./data";
import { base64, encodePNG } from "./png";
import type { AxisScale } from "./scales";
import { esc, num, pt } from "./text";

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface MarkContext {
  xs: AxisScale;
  ys: AxisScale;
  box: Box;
  dpi: number;
}

function opacity(attr: string, alpha: number): string {
  return alpha < 1 ? ` ${attr}="${+Math.max(0, alpha).toFixed(3)}"` : "";
}

function strokeAttrs(
  color: string,
  widthPt: number,
  style: LineArtist["linestyle"],
  alpha: number,
  dpi: number,
): string {
  const w = pt(widthPt, dpi);
  const dash = dashArray(style, w);
  return (
    `stroke="${esc(color)}" stroke-width="${num(w)}"${dash ? ` stroke-dasharray="${dash}"` : ""}` +
    `${opacity("stroke-opacity", alpha)} fill="none" stroke-linejoin="round" stroke-linecap="${dash ? "butt" : "square"}"`
  );
}

/** Path data through the points, starting a new subpath after each gap (NaN, or a value the scale hides). */
export function polyline(px: ArrayLike<number>, py: ArrayLike<number>): string {
  let d = "";
  let pen = false;
  let lastX = Number.NaN;
  let lastY = Number.NaN;
  for (let i = 0; i < px.length; i++) {
    const x = px[i];
    const y = py[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    const rx = Math.round(x * 100) / 100;
    const ry = Math.round(y * 100) / 100;
    // drop consecutive points that land on the same spot (long curves in a narrow axes)
    if (pen && Math.abs(rx - lastX) < 0.25 && Math.abs(ry - lastY) < 0.25 && i !== px.length - 1) continue;
    d += `${pen ? "L" : "M"}${rx} ${ry}`;
    pen = true;
    lastX = rx;
    lastY = ry;
  }
  return d;
}

/** Pixel coordinates of an artist's points. */
export function project(
  x: Float64Array,
  y: Float64Array,
  ctx: MarkContext,
): { px: Float64Array; py: Float64Array } {
  if (x.length !== y.length) {
    throw new Error(`viz: x and y must have the same length; got ${x.length} and ${y.length}`);
  }
  const px = new Float64Array(x.length);
  const py = new Float64Array(y.length);
  for (let i = 0; i < x.length; i++) {
    px[i] = ctx.xs.map(x[i]);
    py[i] = ctx.ys.map(y[i]);
  }
  return { px, py };
}

/** One marker at (cx, cy) of diameter `d` px as an SVG element. */
export function markerElement(marker: Marker, cx: number, cy: number, d: number, cls: string): string {
  const r = d / 2;
  const c = `class="${cls}"`;
  switch (marker) {
    case "o":
    case ".":
      return `<circle ${c} cx="${num(cx)}" cy="${num(cy)}" r="${num(marker === "." ? r / 2 : r)}"/>`;
    case "s":
      return `<rect ${c} x="${num(cx - r)}" y="${num(cy - r)}" width="${num(d)}" height="${num(d)}"/>`;
    default: {
      const p = markerPath(marker, r);
      return `<path ${c} transform="translate(${num(cx)} ${num(cy)})" d="${p}"/>`;
    }
  }
}

function markerPath(marker: Marker, r: number): string {
  const n = (v: number) => num(v);
  switch (marker) {
    case "^":
      return `M0 ${n(-r)}L${n(r)} ${n(r)}L${n(-r)} ${n(r)}Z`;
    case "v":
      return `M0 ${n(r)}L${n(r)} ${n(-r)}L${n(-r)} ${n(-r)}Z`;
    case "<":
      return `M${n(-r)} 0L${n(r)} ${n(-r)}L${n(r)} ${n(r)}Z`;
    case ">":
      return `M${n(r)} 0L${n(-r)} ${n(-r)}L${n(-r)} ${n(r)}Z`;
    case "D":
    case "d": {
      const w = marker === "d" ? r * 0.6 : r;
      return `M0 ${n(-r)}L${n(w)} 0L0 ${n(r)}L${n(-w)} 0Z`;
    }
    case "x":
      return `M${n(-r)} ${n(-r)}L${n(r)} ${n(r)}M${n(-r)} ${n(r)}L${n(r)} ${n(-r)}`;
    case "+":
      return `M${n(-r)} 0L${n(r)} 0M0 ${n(-r)}L0 ${n(r)}`;
    case "*": {
      let d = "";
      for (let i = 0; i < 10; i++) {
        const a = (Math.PI * i) / 5 - Math.PI / 2;
        const rr = i % 2 === 0 ? r : r * 0.4;
        d += `${i === 0 ? "M" : "L"}${n(rr * Math.cos(a))} ${n(rr * Math.sin(a))}`;
      }
      return `${d}Z`;
    }
    default:
      return "";
  }
}

/** Markers drawn with strokes only (x, +) need a stroke rather than a fill. */
export function strokedMarker(m: Marker): boolean {
  return m === "x" || m === "+";
}

function markerGroup(
  marker: Marker,
  color: string,
  alpha: number,
  dpi: number,
  cls: string,
  body: string,
): string {
  const paint = strokedMarker(marker)
    ? `fill="none" stroke="${esc(color)}" stroke-width="${num(pt(1.5, dpi))}"${opacity("stroke-opacity", alpha)}`
    : `fill="${esc(color)}"${opacity("fill-opacity", alpha)}`;
  return `<g class="${cls}" ${paint}>${body}</g>`;
}

function renderLine(a: LineArtist, ctx: MarkContext): string {
  const { px, py } = project(a.x.get(), a.y.get(), ctx);
  let out = "";
  if (!isNoLine(a.linestyle)) {
    out += `<path class="line" data-points="${px.length}" d="${polyline(px, py)}" ${strokeAttrs(a.color, a.linewidth, a.linestyle, a.alpha, ctx.dpi)}/>`;
  }
  if (a.marker && a.marker !== "none") {
    const d = pt(a.markersize, ctx.dpi);
    let body = "";
    for (let i = 0; i < px.length; i++) {
      if (Number.isFinite(px[i]) && Number.isFinite(py[i]))
        body += markerElement(a.marker, px[i], py[i], d, "marker");
    }
    out += markerGroup(a.marker, a.color, a.alpha, ctx.dpi, "markers", body);
  }
  return out;
}

function renderScatter(a: ScatterArtist, ctx: MarkContext): string {
  const { px, py } = project(a.x.get(), a.y.get(), ctx);
  const sizes = typeof a.s === "number" ? undefined : a.s.get();
  let body = "";
  for (let i = 0; i < px.length; i++) {
    if (!Number.isFinite(px[i]) || !Number.isFinite(py[i])) continue;
    const area = sizes ? sizes[i % sizes.length] : (a.s as number);
    body += markerElement(a.marker, px[i], py[i], pt(Math.sqrt(Math.max(0, area)), ctx.dpi), "point");
  }
  const edge = a.edgecolor ? ` stroke="${esc(a.edgecolor)}" stroke-width="${num(pt(1, ctx.dpi))}"` : "";
  return markerGroup(a.marker, a.color, a.alpha, ctx.dpi, "scatter", body).replace(/^<g /, `<g${edge} `);
}

function renderRefLine(a: RefLineArtist, ctx: MarkContext): string {
  const { box } = ctx;
  let x1: number;
  let x2: number;
  let y1: number;
  let y2: number;
  if (a.kind === "hline") {
    y1 = y2 = ctx.ys.map(a.value);
    x1 = box.x + a.from * box.w;
    x2 = box.x + a.to * box.w;
  } else {
    x1 = x2 = ctx.xs.map(a.value);
    y1 = box.y + box.h - a.from * box.h;
    y2 = box.y + box.h - a.to * box.h;
  }
  if (![x1, x2, y1, y2].every(Number.isFinite)) return "";
  return `<path class="${a.kind}" d="M${num(x1)} ${num(y1)}L${num(x2)} ${num(y2)}" ${strokeAttrs(a.color, a.linewidth, a.linestyle, a.alpha, ctx.dpi)}/>`;
}

function renderBars(a: BarsArtist, ctx: MarkContext): string {
  let body = "";
  for (let i = 0; i < a.x.length; i++) {
    const xa = ctx.xs.map(a.x[i] - a.width[i] / 2);
    const xb = ctx.xs.map(a.x[i] + a.width[i] / 2);
    const ya = ctx.ys.map(a.base);
    const yb = ctx.ys.map(a.base + a.height[i]);
    if (![xa, xb, ya, yb].every(Number.isFinite)) continue;
    body += `<rect class="bar" x="${num(Math.min(xa, xb))}" y="${num(Math.min(ya, yb))}" width="${num(Math.abs(xb - xa))}" height="${num(Math.abs(yb - ya))}"/>`;
  }
  const edge = a.edgecolor ? ` stroke="${esc(a.edgecolor)}" stroke-width="${num(pt(1, ctx.dpi))}"` : "";
  return `<g class="bars" fill="${esc(a.color)}"${opacity("fill-opacity", a.alpha)}${edge}>${body}</g>`;
}

/** RGBA bytes of an image: one channel through a colormap, RGB(A) as given (0..1 floats or 0..255). */
export function imageRGBA(img: Image2D, cmap: string, vmin?: number, vmax?: number): Uint8Array {
  const { data, width, height, channels } = img;
  const out = new Uint8Array(width * height * 4);
  if (channels === 1) {
    let lo = vmin ?? Number.POSITIVE_INFINITY;
    let hi = vmax ?? Number.NEGATIVE_INFINITY;
    if (vmin === undefined || vmax === undefined) {
      for (const v of data) {
        if (!Number.isFinite(v)) continue;
        if (vmin === undefined && v < lo) lo = v;
        if (vmax === undefined && v > hi) hi = v;
      }
    }
    const span = hi - lo || 1;
    const cm = colormap(cmap);
    for (let i = 0; i < width * height; i++) {
      const [r, g, b] = cm((data[i] - lo) / span);
      out.set([r, g, b, Number.isFinite(data[i]) ? 255 : 0], i * 4);
    }
    return out;
  }
  let max = 0;
  for (const v of data) if (v > max) max = v;
  const scale = max > 1 ? 1 : 255;
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 4; c++) {
      const v = c < channels ? data[i * channels + c] * scale : 255;
      out[i * 4 + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return out;
}

/** Nearest-neighbour enlargement of RGBA pixels by an integer factor. */
function upscale(src: Uint8Array, w: number, h: number, k: number): Uint8Array {
  const W = w * k;
  const out = new Uint8Array(W * h * k * 4);
  const src32 = new Uint32Array(src.buffer, src.byteOffset, w * h);
  const out32 = new Uint32Array(out.buffer);
  for (let y = 0; y < h * k; y++) {
    const row = Math.floor(y / k) * w;
    for (let x = 0; x < W; x++) out32[y * W + x] = src32[row + Math.floor(x / k)];
  }
  return out;
}

function renderImage(a: ImageArtist, ctx: MarkContext): string {
  const img = a.image.get();
  const xa = ctx.xs.map(-0.5);
  const xb = ctx.xs.map(img.width - 0.5);
  const ya = ctx.ys.map(-0.5);
  const yb = ctx.ys.map(img.height - 0.5);
  let rgba = imageRGBA(img, a.cmap, a.vmin, a.vmax);
  let [w, h] = [img.width, img.height];
  if (!a.smooth) {
    // Renderers differ in honouring image-rendering (resvg smooths regardless): enlarge the pixels ourselves
    // so that smoothing can only soften their edges.
    const k = Math.min(
      Math.ceil(Math.abs(xb - xa) / w),
      Math.ceil(Math.abs(yb - ya) / h),
      Math.floor(Math.sqrt(4e6 / (w * h))),
    );
    if (k > 1) {
      rgba = upscale(rgba, w, h, k);
      w *= k;
      h *= k;
    }
  }
  const png = encodePNG(rgba, w, h, 4);
  const flipX = xb < xa ? -1 : 1;
  const flipY = yb < ya ? -1 : 1;
  const transform =
    flipX < 0 || flipY < 0
      ? ` transform="translate(${num(flipX < 0 ? xa + xb : 0)} ${num(flipY < 0 ? ya + yb : 0)}) scale(${flipX} ${flipY})"`
      : "";
  const rendering = a.smooth ? "optimizeQuality" : "optimizeSpeed";
  const css = a.smooth ? "" : ` style="image-rendering:pixelated"`;
  return (
    `<image class="image" x="${num(Math.min(xa, xb))}" y="${num(Math.min(ya, yb))}" width="${num(Math.abs(xb - xa))}" ` +
    `height="${num(Math.abs(yb - ya))}" preserveAspectRatio="none" image-rendering="${rendering}"${css}${transform} ` +
    `xlink:href="data:image/png;base64,${base64(png)}"/>`
  );
}

function renderText(a: Extract<Artist, { kind: "text" }>, ctx: MarkContext): string {
  const anchor = a.ha === "center" ? "middle" : a.ha === "right" ? "end" : "start";
  const x = ctx.xs.map(a.x);
  const y = ctx.ys.map(a.y);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return "";
  return `<text class="text" x="${num(x)}" y="${num(y)}" fill="${esc(a.color)}" font-size="${num(pt(a.fontsize, ctx.dpi))}" text-anchor="${anchor}">${esc(a.text)}</text>`;
}

export function renderArtist(a: Artist, ctx: MarkContext): string {
  switch (a.kind) {
    case "line":
      return renderLine(a, ctx);
    case "scatter":
      return renderScatter(a, ctx);
    case "hline":
    case "vline":
      return renderRefLine(a, ctx);
    case "bars":
      return renderBars(a, ctx);
    case "image":
      return renderImage(a, ctx);
    case "text":
      return renderText(a, ctx);
  }
}
