/** Figure: a canvas of subplots, laid out tightly around their labels, written as SVG, HTML or PNG. */

import { Axes } from "./axes";
import { extension, writeFileAtomic } from "./io";
import type { Box } from "./marks";
import { type RasterOptions, svgToPNG } from "./raster";
import {
  computeLimits,
  decorationMargins,
  type Limits,
  type Margins,
  makeScales,
  renderAxes,
} from "./render";
import { esc, FONT_FAMILY, num, pt } from "./text";

/** Options of `figure()`: size in inches, dots per inch and background colour, as matplotlib's. */
export interface FigureOptions {
  /** Width and height in inches (matplotlib's default [6.4, 4.8]). */
  figsize?: readonly [number, number];
  /** Pixels per inch (default 100, as matplotlib). */
  dpi?: number;
  facecolor?: string;
}

/** Options of `fig.tightLayout()`. */
export interface LayoutOptions {
  /** Padding around the figure edge and between subplots, in multiples of the font size (default 1.08). */
  pad?: number;
}

/** Options of `fig.save()`: PNG rendering options and the page title for HTML. */
export interface SaveOptions extends RasterOptions {
  /** Page title for .html (default: the suptitle or "figure"). */
  title?: string;
}

/**
 * A matplotlib-like figure. `subplot(rows, cols, index)` (1-based, also `subplot(131)`) returns the Axes at
 * that place, creating it on first use. Layout is always "tight": subplots are equal in size and spaced so
 * that tick labels, axis labels and titles never overlap (`tightLayout()` is accepted for matplotlib code).
 */
export class Figure {
  readonly axes: Axes[] = [];
  readonly width: number;
  readonly height: number;
  readonly dpi: number;
  readonly facecolor: string;
  suptitleText = "";
  private current: Axes | undefined;
  private pad = 1.08;

  constructor(opts: FigureOptions = {}) {
    const [w, h] = opts.figsize ?? [6.4, 4.8];
    this.dpi = opts.dpi ?? 100;
    if (!(w > 0 && h > 0 && this.dpi > 0)) {
      throw new Error(`viz: figsize and dpi must be positive; got figsize [${w}, ${h}] and dpi ${this.dpi}`);
    }
    this.width = Math.round(w * this.dpi);
    this.height = Math.round(h * this.dpi);
    this.facecolor = opts.facecolor ?? "#fff";
  }

  /** The Axes at position `index` (1-based, row by row) of a rows x cols grid; `subplot(132)` works too. */
  subplot(rows: number, cols?: number, index?: number): Axes {
    if (cols === undefined && index === undefined && rows >= 111 && rows <= 999) {
      index = rows % 10;
      cols = Math.floor(rows / 10) % 10;
      rows = Math.floor(rows / 100);
    }
    const r = rows;
    const c = cols ?? 1;
    const i = index ?? 1;
    if (![r, c, i].every(Number.isInteger) || r < 1 || c < 1 || i < 1 || i > r * c) {
      throw new Error(`viz: subplot(${rows}, ${cols}, ${index}): index must be an integer in 1..rows*cols`);
    }
    let ax = this.axes.find((a) => a.rows === r && a.cols === c && a.index === i);
    if (!ax) {
      ax = new Axes(r, c, i);
      this.axes.push(ax);
    }
    this.current = ax;
    return ax;
  }

  /** A rows x cols grid of Axes, row by row (matplotlib's `fig.subplots`, flattened). */
  subplots(rows = 1, cols = 1): Axes[] {
    const out: Axes[] = [];
    for (let i = 1; i <= rows * cols; i++) out.push(this.subplot(rows, cols, i));
    return out;
  }

  /** The current Axes (the last one returned by `subplot`), created as subplot(1, 1, 1) if there is none. */
  gca(): Axes {
    return this.current ?? this.subplot(1, 1, 1);
  }

  /** A title above all subplots. */
  suptitle(text: string): this {
    this.suptitleText = text;
    return this;
  }

  /** Accepted for matplotlib code: the layout is always tight; `pad` sets the spacing. */
  tightLayout(opts: LayoutOptions = {}): this {
    if (opts.pad !== undefined) this.pad = opts.pad;
    return this;
  }

  /** Resolves when every tensor plotted on this figure has been read from its device. */
  async ready(): Promise<void> {
    await Promise.all(this.axes.flatMap((a) => a.pending()));
  }

  private layout(lims: Limits[]): Box[] {
    const { width: W, height: H, dpi } = this;
    const pad = this.pad * pt(10, dpi);
    const supH = this.suptitleText ? pt(12, dpi) * 1.6 : 0;
    let margins: Margins[] = this.axes.map(() => ({ left: 50, right: 10, top: 20, bottom: 40 }));
    let boxes: Box[] = [];
    for (let pass = 0; pass < 3; pass++) {
      const L = Math.max(...margins.map((m) => m.left));
      const R = Math.max(...margins.map((m) => m.right));
      const T = Math.max(...margins.map((m) => m.top));
      const B = Math.max(...margins.map((m) => m.bottom));
      boxes = this.axes.map((ax) => {
        const row = Math.floor((ax.index - 1) / ax.cols);
        const col = (ax.index - 1) % ax.cols;
        const wspace = R + L + pad;
        const hspace = T + B + pad;
        const cw = Math.max(10, (W - 2 * pad - L - R - (ax.cols - 1) * wspace) / ax.cols);
        const ch = Math.max(10, (H - 2 * pad - supH - T - B - (ax.rows - 1) * hspace) / ax.rows);
        return { x: pad + L + col * (cw + wspace), y: pad + supH + T + row * (ch + hspace), w: cw, h: ch };
      });
      boxes = boxes.map((b, k) => (this.axes[k].equalAspect ? squareUp(b, lims[k]) : b));
      margins = this.axes.map((ax, k) =>
        decorationMargins(ax, makeScales(ax, lims[k], boxes[k], dpi), boxes[k], dpi),
      );
    }
    return boxes;
  }

  /** The figure as an SVG document (no XML declaration, so it can be inlined in HTML). */
  toSVG(): string {
    const lims = this.axes.map((ax) => computeLimits(ax));
    const boxes = this.layout(lims);
    const { width: W, height: H } = this;
    let out =
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" class="cinder-figure" ` +
      `width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT_FAMILY}" fill="#000">`;
    out += `<rect class="background" width="${W}" height="${H}" fill="${esc(this.facecolor)}"/>`;
    this.axes.forEach((ax, k) => {
      out += renderAxes(ax, lims[k], boxes[k], this.dpi);
    });
    if (this.suptitleText) {
      const f = pt(12, this.dpi);
      const y = this.pad * pt(10, this.dpi) + f;
      out += `<text class="suptitle" x="${num(W / 2)}" y="${num(y)}" font-size="${num(f)}" text-anchor="middle">${esc(this.suptitleText)}</text>`;
    }
    return `${out}</svg>`;
  }

  /** `toSVG()` after waiting for tensors still being read from their device. */
  async toSVGAsync(): Promise<string> {
    await this.ready();
    return this.toSVG();
  }

  /** A self-contained HTML page showing the figure. */
  toHTML(title = this.suptitleText || "figure"): string {
    return htmlPage(title, this.toSVG());
  }

  /**
   * Write the figure to `path`: ".svg", ".html" or ".png" (PNG through the optional @resvg/resvg-js).
   * The write is atomic (temporary file, then rename). Node only.
   */
  async save(path: string, opts: SaveOptions = {}): Promise<void> {
    await this.ready();
    const ext = extension(path);
    if (ext === "svg")
      await writeFileAtomic(path, `<?xml version="1.0" encoding="UTF-8"?>\n${this.toSVG()}\n`);
    else if (ext === "html" || ext === "htm") await writeFileAtomic(path, this.toHTML(opts.title));
    else if (ext === "png") await writeFileAtomic(path, await svgToPNG(this.toSVG(), opts));
    else
      throw new Error(
        `viz: cannot save a figure as ${JSON.stringify(path)}: use a .svg, .html or .png file name`,
      );
  }

  /** matplotlib's name for `save`. */
  savefig(path: string, opts: SaveOptions = {}): Promise<void> {
    return this.save(path, opts);
  }
}

/** Shrink a box to the aspect ratio of its data limits (square pixels for images), centred. */
function squareUp(b: Box, lim: Limits): Box {
  const dw = Math.abs(lim.x[1] - lim.x[0]);
  const dh = Math.abs(lim.y[1] - lim.y[0]);
  if (!(dw > 0 && dh > 0)) return b;
  const k = Math.min(b.w / dw, b.h / dh);
  const w = dw * k;
  const h = dh * k;
  return { x: b.x + (b.w - w) / 2, y: b.y + (b.h - h) / 2, w, h };
}

export function htmlPage(title: string, body: string, head = ""): string {
  return (
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${esc(title)}</title>\n` +
    `<style>body{margin:0;padding:8px;background:#fff;font-family:${FONT_FAMILY}}svg{max-width:100%;height:auto}</style>\n` +
    `${head}</head>\n<body>\n${body}\n</body>\n</html>\n`
  );
}

/** A new figure: `figure({ figsize: [12, 4] })`. */
export function figure(opts: FigureOptions = {}): Figure {
  return new Figure(opts);
}
