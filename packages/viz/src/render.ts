/** Drawing one Axes: limits, scales, grid, spines, ticks, labels and title around its artists. */

import type { Axes, AxisState } from "./axes";
import { dashArray } from "./colors";
import { renderLegend } from "./legend";
import { type Box, type MarkContext, renderArtist } from "./marks";
import {
  type AxisScale,
  autoLimits,
  emptyExtent,
  extend,
  linearScale,
  logScale,
  type Tick,
  type TickLabel,
} from "./scales";
import { esc, num, pt, textWidth } from "./text";

/** Sizes in points, as matplotlib's defaults. */
export const STYLE = {
  tickFont: 10,
  labelFont: 10,
  titleFont: 12,
  majorTick: 3.5,
  minorTick: 2,
  tickPad: 3.5,
  labelPad: 4,
  titlePad: 6,
  spine: 0.8,
  grid: 0.8,
};

export interface Limits {
  x: [number, number];
  y: [number, number];
}

/** Data limits of an Axes: autoscaled from its artists with 5% margins, then the user's limits. */
export function computeLimits(ax: Axes): Limits {
  const ex = emptyExtent();
  const ey = emptyExtent();
  const xk = ax.xaxis.scale;
  const yk = ax.yaxis.scale;
  for (const a of ax.artists) {
    switch (a.kind) {
      case "line":
      case "scatter":
        extend(ex, a.x.get(), xk);
        extend(ey, a.y.get(), yk);
        break;
      case "hline":
        extend(ey, [a.value], yk);
        break;
      case "vline":
        extend(ex, [a.value], xk);
        break;
      case "bars":
        for (let i = 0; i < a.x.length; i++) {
          extend(ex, [a.x[i] - a.width[i] / 2, a.x[i] + a.width[i] / 2], xk);
          extend(ey, [a.base, a.base + a.height[i]], yk);
        }
        ey.sticky.push(a.base);
        break;
      case "image": {
        const img = a.image.get();
        extend(ex, [-0.5, img.width - 0.5], xk);
        extend(ey, [-0.5, img.height - 0.5], yk);
        ex.sticky.push(-0.5, img.width - 0.5);
        ey.sticky.push(-0.5, img.height - 0.5);
        break;
      }
      case "text":
        break;
    }
  }
  const x = applyUserLimits(autoLimits(ex, xk), ax.xaxis);
  const y = applyUserLimits(autoLimits(ey, yk), ax.yaxis);
  return { x, y };
}

function applyUserLimits(auto: [number, number], axis: AxisState): [number, number] {
  const lo = axis.lim[0] ?? auto[0];
  const hi = axis.lim[1] ?? auto[1];
  if (axis.scale === "log" && (lo <= 0 || hi <= 0)) {
    throw new Error(`viz: log-scale limits must be positive; got [${lo}, ${hi}]`);
  }
  return axis.inverted ? [hi, lo] : [lo, hi];
}

function tickCount(lengthPx: number, dpi: number, horizontal: boolean): number {
  const font = pt(STYLE.tickFont, dpi);
  return Math.max(2, Math.min(10, Math.round(lengthPx / (font * (horizontal ? 5 : 3.2)))));
}

export interface Scales {
  xs: AxisScale;
  ys: AxisScale;
}

export function makeScales(ax: Axes, lims: Limits, box: Box, dpi: number): Scales {
  const make = (kind: string, d: [number, number], r: [number, number], n: number) =>
    kind === "log" ? logScale(d, r, n) : linearScale(d, r, n);
  return {
    xs: make(ax.xaxis.scale, lims.x, [box.x, box.x + box.w], tickCount(box.w, dpi, true)),
    ys: make(ax.yaxis.scale, lims.y, [box.y + box.h, box.y], tickCount(box.h, dpi, false)),
  };
}

function fixedLabel(v: number): string {
  const s = String(+v.toPrecision(6));
  return s.startsWith("-") ? `\u2212${s.slice(1)}` : s;
}

/** Major ticks of one axis inside its domain: the scale's own, or those fixed by `setXticks`. */
export function axisTicks(axis: AxisState, scale: AxisScale): Tick[] {
  const [a, b] = scale.domain;
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const eps = (hi - lo) * 1e-9;
  const inside = (v: number) => v >= lo - eps && v <= hi + eps;
  if (axis.ticks) {
    return axis.ticks.values
      .map((value, i) => ({ value, label: { text: axis.ticks?.labels?.[i] ?? fixedLabel(value) } }))
      .filter((t) => inside(t.value));
  }
  return scale.ticks().filter((t) => inside(t.value));
}

function labelWidth(l: TickLabel, size: number): number {
  return l.exp !== undefined
    ? textWidth(l.base ?? "", size) + textWidth(l.exp, size * 0.7)
    : textWidth(l.text, size);
}

/** How far an Axes' decorations (ticks, labels, title) reach past its box, in pixels. */
export interface Margins {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function decorationMargins(ax: Axes, sc: Scales, box: Box, dpi: number): Margins {
  const tf = pt(STYLE.tickFont, dpi);
  const lf = pt(STYLE.labelFont, dpi);
  const title = ax.titleText ? pt(STYLE.titlePad, dpi) + pt(STYLE.titleFont, dpi) * 1.25 : 0;
  if (!ax.axisOn) return { left: 0, right: 0, top: title, bottom: 0 };
  const tickOut = pt(STYLE.majorTick + STYLE.tickPad, dpi);
  const xt = axisTicks(ax.xaxis, sc.xs);
  const yt = axisTicks(ax.yaxis, sc.ys);
  const yw = Math.max(0, ...yt.map((t) => labelWidth(t.label, tf)));
  const left = (yt.length ? tickOut + yw : 0) + (ax.yaxis.label ? pt(STYLE.labelPad, dpi) + lf * 1.25 : 0);
  const xsup = xt.some((t) => t.label.exp !== undefined) ? tf * 0.35 : 0;
  const bottom =
    (xt.length ? tickOut + tf * 1.2 + xsup : 0) + (ax.xaxis.label ? pt(STYLE.labelPad, dpi) + lf * 1.25 : 0);
  let right = 0;
  let leftOverflow = 0;
  for (const t of xt) {
    const x = sc.xs.map(t.value);
    const half = labelWidth(t.label, tf) / 2;
    right = Math.max(right, x + half - (box.x + box.w));
    leftOverflow = Math.max(leftOverflow, box.x - (x - half));
  }
  const top = Math.max(title, yt.length ? tf * 0.6 : 0);
  return { left: Math.max(left, leftOverflow), right, top, bottom };
}

function tickLabelSVG(l: TickLabel, x: number, y: number, anchor: string, size: number): string {
  const head = `<text x="${num(x)}" y="${num(y)}" text-anchor="${anchor}">`;
  if (l.exp === undefined) return `${head}${esc(l.text)}</text>`;
  const sup = size * 0.7;
  return `${head}${esc(l.base ?? "")}<tspan dy="${num(-size * 0.4)}" font-size="${num(sup)}">${esc(l.exp)}</tspan></text>`;
}

function gridSVG(ax: Axes, sc: Scales, box: Box, xt: Tick[], yt: Tick[], dpi: number): string {
  const g = ax.gridOptions;
  if (!g) return "";
  const w = pt(g.linewidth ?? STYLE.grid, dpi);
  const dash = dashArray(g.linestyle, w);
  const attrs =
    `stroke="${esc(g.color ?? "#b0b0b0")}" stroke-width="${num(w)}"` +
    `${g.alpha !== undefined && g.alpha < 1 ? ` stroke-opacity="${g.alpha}"` : ""}${dash ? ` stroke-dasharray="${dash}"` : ""}`;
  let d = "";
  const which = g.axis ?? "both";
  if (which !== "y")
    for (const t of xt) d += `M${num(sc.xs.map(t.value))} ${num(box.y)}V${num(box.y + box.h)}`;
  if (which !== "x")
    for (const t of yt) d += `M${num(box.x)} ${num(sc.ys.map(t.value))}H${num(box.x + box.w)}`;
  return d ? `<path class="grid" d="${d}" ${attrs} fill="none"/>` : "";
}

function axisSVG(
  ax: Axes,
  sc: Scales,
  box: Box,
  xt: Tick[],
  yt: Tick[],
  margins: Margins,
  dpi: number,
): string {
  const tf = pt(STYLE.tickFont, dpi);
  const lf = pt(STYLE.labelFont, dpi);
  const major = pt(STYLE.majorTick, dpi);
  const minor = pt(STYLE.minorTick, dpi);
  const pad = pt(STYLE.tickPad, dpi);
  const bottom = box.y + box.h;
  let ticks = "";
  let labels = "";
  for (const t of xt) {
    const x = sc.xs.map(t.value);
    ticks += `M${num(x)} ${num(bottom)}v${num(major)}`;
    labels += tickLabelSVG(
      t.label,
      x,
      bottom + major + pad + tf * 0.8 + (t.label.exp ? tf * 0.3 : 0),
      "middle",
      tf,
    );
  }
  let yLabels = "";
  for (const t of yt) {
    const y = sc.ys.map(t.value);
    ticks += `M${num(box.x)} ${num(y)}h${num(-major)}`;
    yLabels += tickLabelSVG(t.label, box.x - major - pad, y + tf * 0.36, "end", tf);
  }
  if (!ax.xaxis.ticks) {
    for (const v of sc.xs.minorTicks()) ticks += `M${num(sc.xs.map(v))} ${num(bottom)}v${num(minor)}`;
  }
  if (!ax.yaxis.ticks) {
    for (const v of sc.ys.minorTicks()) ticks += `M${num(box.x)} ${num(sc.ys.map(v))}h${num(-minor)}`;
  }
  const sw = num(pt(STYLE.spine, dpi));
  let out = `<rect class="spines" x="${num(box.x)}" y="${num(box.y)}" width="${num(box.w)}" height="${num(box.h)}" fill="none" stroke="#000" stroke-width="${sw}"/>`;
  if (ticks) out += `<path class="ticks" d="${ticks}" stroke="#000" stroke-width="${sw}" fill="none"/>`;
  out += `<g class="xticklabels" font-size="${num(tf)}">${labels}</g>`;
  out += `<g class="yticklabels" font-size="${num(tf)}">${yLabels}</g>`;
  if (ax.xaxis.label) {
    const y = bottom + margins.bottom - lf * 0.35;
    out += `<text class="xlabel" x="${num(box.x + box.w / 2)}" y="${num(y)}" font-size="${num(lf)}" text-anchor="middle">${esc(ax.xaxis.label)}</text>`;
  }
  if (ax.yaxis.label) {
    const x = box.x - margins.left + lf * 0.95;
    out += `<text class="ylabel" transform="translate(${num(x)} ${num(box.y + box.h / 2)}) rotate(-90)" font-size="${num(lf)}" text-anchor="middle">${esc(ax.yaxis.label)}</text>`;
  }
  return out;
}

/** The SVG group of one Axes drawn in `box` (the plotting area; decorations go around it). */
export function renderAxes(ax: Axes, lims: Limits, box: Box, dpi: number): string {
  const sc = makeScales(ax, lims, box, dpi);
  const margins = decorationMargins(ax, sc, box, dpi);
  const xt = ax.axisOn ? axisTicks(ax.xaxis, sc.xs) : [];
  const yt = ax.axisOn ? axisTicks(ax.yaxis, sc.ys) : [];
  const ctx: MarkContext = { xs: sc.xs, ys: sc.ys, box, dpi };
  const clip = `${ax.uid}-clip`;
  const rect = `x="${num(box.x)}" y="${num(box.y)}" width="${num(box.w)}" height="${num(box.h)}"`;
  let out = `<g class="axes" id="${ax.uid}" data-xscale="${ax.xaxis.scale}" data-yscale="${ax.yaxis.scale}">`;
  out += `<defs><clipPath id="${clip}"><rect ${rect}/></clipPath></defs>`;
  if (ax.axisOn) out += `<rect class="patch" ${rect} fill="#fff"/>`;
  out += gridSVG(ax, sc, box, xt, yt, dpi);
  out += `<g class="data" clip-path="url(#${clip})">`;
  for (const a of ax.artists) out += renderArtist(a, ctx);
  out += "</g>";
  if (ax.axisOn) out += axisSVG(ax, sc, box, xt, yt, margins, dpi);
  if (ax.titleText) {
    const tf = pt(STYLE.titleFont, dpi);
    out += `<text class="title" x="${num(box.x + box.w / 2)}" y="${num(box.y - pt(STYLE.titlePad, dpi) - tf * 0.2)}" font-size="${num(tf)}" text-anchor="middle">${esc(ax.titleText)}</text>`;
  }
  if (ax.legendOptions) out += renderLegend(ax, ax.legendOptions, ctx);
  return `${out}</g>`;
}
