/** The legend: a framed list of (handle, label) rows placed in a corner, by default the emptiest one. */

import { type Artist, hasLegendLabel, type Labelled } from "./artists";
import type { Axes, LegendLoc, LegendOptions } from "./axes";
import { dashArray, isNoLine, type Marker } from "./colors";
import { type Box, type MarkContext, markerElement, project, strokedMarker } from "./marks";
import { esc, num, pt, textWidth } from "./text";

const ORDER: LegendLoc[] = [
  "upper right",
  "upper left",
  "lower left",
  "lower right",
  "center right",
  "center left",
  "lower center",
  "upper center",
  "center",
];

function place(loc: LegendLoc, box: Box, w: number, h: number, pad: number): { x: number; y: number } {
  const left = box.x + pad;
  const right = box.x + box.w - pad - w;
  const cx = box.x + (box.w - w) / 2;
  const top = box.y + pad;
  const bottom = box.y + box.h - pad - h;
  const cy = box.y + (box.h - h) / 2;
  const [v, hz] = loc === "center" ? ["center", "center"] : loc.split(" ");
  return {
    x: hz === "left" ? left : hz === "right" ? right : cx,
    y: v === "upper" ? top : v === "lower" ? bottom : cy,
  };
}

/** Sample points (pixels) along everything drawn, to find the corner the legend hides least. */
function samplePoints(entries: readonly Artist[], ctx: MarkContext): number[] {
  const pts: number[] = [];
  const step = 6;
  const push = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && pts.push(x, y);
  for (const a of entries) {
    if (a.kind === "line" || a.kind === "scatter") {
      if (!a.x.ready || !a.y.ready) continue;
      const { px, py } = project(a.x.get(), a.y.get(), ctx);
      const stride = Math.max(1, Math.floor(px.length / 4000));
      for (let i = 0; i < px.length; i += stride) {
        push(px[i], py[i]);
        if (a.kind === "line" && !isNoLine(a.linestyle) && i + stride < px.length) {
          const dx = px[i + stride] - px[i];
          const dy = py[i + stride] - py[i];
          const n = Math.min(200, Math.floor(Math.hypot(dx, dy) / step));
          for (let k = 1; k < n; k++) push(px[i] + (dx * k) / n, py[i] + (dy * k) / n);
        }
      }
    } else if (a.kind === "hline" || a.kind === "vline") {
      const { box } = ctx;
      const n = Math.ceil((a.kind === "hline" ? box.w : box.h) / step);
      for (let k = 0; k <= n; k++) {
        const f = a.from + ((a.to - a.from) * k) / n;
        if (a.kind === "hline") push(box.x + f * box.w, ctx.ys.map(a.value));
        else push(ctx.xs.map(a.value), box.y + box.h - f * box.h);
      }
    } else if (a.kind === "bars") {
      for (let i = 0; i < a.x.length; i++) push(ctx.xs.map(a.x[i]), ctx.ys.map(a.base + a.height[i]));
    }
  }
  return pts;
}

function bestLoc(ax: Axes, ctx: MarkContext, w: number, h: number, pad: number): LegendLoc {
  const pts = samplePoints(ax.artists, ctx);
  let best: LegendLoc = "upper right";
  let bestCount = Number.POSITIVE_INFINITY;
  for (const loc of ORDER) {
    const { x, y } = place(loc, ctx.box, w, h, pad);
    let count = 0;
    for (let i = 0; i < pts.length; i += 2) {
      if (pts[i] >= x && pts[i] <= x + w && pts[i + 1] >= y && pts[i + 1] <= y + h) count++;
    }
    if (count < bestCount) {
      bestCount = count;
      best = loc;
    }
    if (count === 0) break;
  }
  return best;
}

function handleSVG(a: Labelled, x: number, cy: number, len: number, f: number, dpi: number): string {
  const mid = x + len / 2;
  const seg = (color: string, widthPt: number, style: Parameters<typeof dashArray>[0], alpha: number) => {
    const w = pt(widthPt, dpi);
    const dash = dashArray(style, w);
    return (
      `<path d="M${num(x)} ${num(cy)}H${num(x + len)}" stroke="${esc(color)}" stroke-width="${num(w)}"` +
      `${dash ? ` stroke-dasharray="${dash}"` : ""}${alpha < 1 ? ` stroke-opacity="${alpha}"` : ""} fill="none"/>`
    );
  };
  const marker = (m: Marker, color: string, alpha: number, d: number) => {
    const paint = strokedMarker(m)
      ? `fill="none" stroke="${esc(color)}" stroke-width="${num(pt(1.5, dpi))}"`
      : `fill="${esc(color)}"`;
    return `<g ${paint}${alpha < 1 ? ` opacity="${alpha}"` : ""}>${markerElement(m, mid, cy, d, "legend-handle")}</g>`;
  };
  switch (a.kind) {
    case "line": {
      let out = isNoLine(a.linestyle) ? "" : seg(a.color, a.linewidth, a.linestyle, a.alpha);
      if (a.marker && a.marker !== "none") out += marker(a.marker, a.color, a.alpha, pt(a.markersize, dpi));
      return out;
    }
    case "hline":
    case "vline":
      return seg(a.color, a.linewidth, a.linestyle, a.alpha);
    case "scatter": {
      const area = typeof a.s === "number" ? a.s : 36;
      return marker(a.marker, a.color, a.alpha, Math.min(f, pt(Math.sqrt(area), dpi)));
    }
    case "bars":
      return (
        `<rect x="${num(x)}" y="${num(cy - f * 0.35)}" width="${num(len)}" height="${num(f * 0.7)}" fill="${esc(a.color)}"` +
        `${a.alpha < 1 ? ` fill-opacity="${a.alpha}"` : ""}/>`
      );
  }
}

export function renderLegend(ax: Axes, opts: LegendOptions, ctx: MarkContext): string {
  const entries = ax.artists.filter(hasLegendLabel);
  if (entries.length === 0) return "";
  const f = pt(opts.fontsize ?? 10, ctx.dpi);
  const borderPad = 0.4 * f;
  const rowH = f * 1.15;
  const spacing = 0.5 * f;
  const handleLen = 2 * f;
  const textPad = 0.8 * f;
  const axPad = 0.5 * f;
  const titleH = opts.title ? rowH + spacing : 0;
  const textW = Math.max(
    ...entries.map((e) => textWidth(e.label ?? "", f)),
    opts.title ? textWidth(opts.title, f) - handleLen - textPad : 0,
  );
  const w = 2 * borderPad + handleLen + textPad + textW;
  const h = 2 * borderPad + titleH + entries.length * rowH + (entries.length - 1) * spacing;
  const loc = !opts.loc || opts.loc === "best" ? bestLoc(ax, ctx, w, h, axPad) : opts.loc;
  const { x, y } = place(loc, ctx.box, w, h, axPad);
  let out = `<g class="legend" data-loc="${loc}" font-size="${num(f)}">`;
  if (opts.frameon !== false) {
    out += `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}" rx="${num(0.2 * f)}" fill="#fff" fill-opacity="0.8" stroke="#ccc" stroke-width="${num(pt(1, ctx.dpi))}"/>`;
  }
  if (opts.title) {
    out += `<text class="legend-title" x="${num(x + w / 2)}" y="${num(y + borderPad + rowH * 0.8)}" text-anchor="middle">${esc(opts.title)}</text>`;
  }
  entries.forEach((e, i) => {
    const top = y + borderPad + titleH + i * (rowH + spacing);
    const cy = top + rowH / 2;
    out += `<g class="legend-entry">${handleSVG(e, x + borderPad, cy, handleLen, f, ctx.dpi)}`;
    out += `<text x="${num(x + borderPad + handleLen + textPad)}" y="${num(cy + f * 0.36)}">${esc(e.label ?? "")}</text></g>`;
  });
  return `${out}</g>`;
}
