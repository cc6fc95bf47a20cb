/** Axes: one plotting area and its matplotlib-like methods. Drawing happens in render.ts. */

import type { Artist, BarsArtist, ImageArtist, LineArtist, RefLineArtist, ScatterArtist } from "./artists";
import { type Colormap, type LineStyle, type Marker, parseFormat, resolveColor, TAB10 } from "./colors";
import {
  type ImageInput,
  isSeries,
  type Lazy,
  readImage,
  readScalar,
  readSeries,
  type Series,
  type TensorLike,
} from "./data";
import type { ScaleKind } from "./scales";

/**
 * Options of `ax.plot()`: matplotlib's `Line2D` keywords (`color`, `linestyle`, `linewidth`, `marker`,
 * `label`, `alpha`) and their short aliases.
 */
export interface LineOptions {
  color?: string;
  /** Alias of `color`. */
  c?: string;
  linestyle?: LineStyle;
  /** Alias of `linestyle`. */
  ls?: LineStyle;
  /** Points (matplotlib default 1.5). */
  linewidth?: number;
  /** Alias of `linewidth`. */
  lw?: number;
  label?: string;
  marker?: Marker;
  /** Marker diameter in points (default 6). */
  markersize?: number;
  /** Alias of `markersize`. */
  ms?: number;
  alpha?: number;
}

/**
 * Options of `ax.scatter()`: marker size `s`, `color`, `marker`, `edgecolor`, `alpha`, `label`, as
 * matplotlib's.
 */
export interface ScatterOptions {
  color?: string;
  c?: string;
  /** Marker area in points² (default 36), one value or one per point. */
  s?: number | Series;
  alpha?: number;
  label?: string;
  marker?: Marker;
  edgecolor?: string;
}

/** Options of `ax.axhline()` and `ax.axvline()`: line style and the span along the axes. */
export interface RefLineOptions {
  color?: string;
  c?: string;
  linestyle?: LineStyle;
  ls?: LineStyle;
  linewidth?: number;
  lw?: number;
  alpha?: number;
  label?: string;
  /** For axhline: where the line starts and ends, as fractions of the axes width (default 0 and 1). */
  xmin?: number;
  xmax?: number;
  /** For axvline: the same along the height. */
  ymin?: number;
  ymax?: number;
}

/** Options of `ax.hist()`: bins, range, density and bar style, as matplotlib's. */
export interface HistOptions {
  /** Number of equal-width bins (default 10) or the bin edges. */
  bins?: number | readonly number[];
  /** Lower and upper range of the bins (default: the data's min and max). */
  range?: readonly [number, number];
  /** Normalise so that the histogram integrates to 1. */
  density?: boolean;
  color?: string;
  edgecolor?: string;
  alpha?: number;
  label?: string;
  /** Relative bar width (default 1). */
  rwidth?: number;
}

/** Options of `ax.bar()`: bar `width`, `bottom` and style, as matplotlib's. */
export interface BarOptions {
  width?: number;
  bottom?: number;
  color?: string;
  edgecolor?: string;
  alpha?: number;
  label?: string;
}

/**
 * Options of `ax.imshow()`: the colormap, the value range mapped to it (`vmin`/`vmax`) and the interpolation.
 */
export interface ImshowOptions {
  cmap?: Colormap | string;
  vmin?: number;
  vmax?: number;
  interpolation?: "nearest" | "bilinear";
}

/**
 * Where `legend()` puts the legend, as matplotlib's `loc` names; "best" picks the corner hiding the least
 * data.
 */
export type LegendLoc =
  | "best"
  | "upper right"
  | "upper left"
  | "lower left"
  | "lower right"
  | "center left"
  | "center right"
  | "lower center"
  | "upper center"
  | "center";

/** Options of `ax.legend()`: location, font size, frame and title. */
export interface LegendOptions {
  loc?: LegendLoc;
  /** Points (default 10). */
  fontsize?: number;
  frameon?: boolean;
  title?: string;
}

/** Options of `ax.grid(true, options)`: line style of the grid and which axis gets it. */
export interface GridOptions {
  alpha?: number;
  color?: string;
  linestyle?: LineStyle;
  linewidth?: number;
  axis?: "both" | "x" | "y";
}

/** Options of `ax.text()`: colour, font size and horizontal alignment. */
export interface TextOptions {
  color?: string;
  fontsize?: number;
  ha?: "left" | "center" | "right";
}

/** The state of one axis (x or y). */
export interface AxisState {
  label: string;
  scale: ScaleKind;
  lim: [number | undefined, number | undefined];
  inverted: boolean;
  /** Fixed tick positions and optional labels (`setXticks`); an empty list hides the ticks. */
  ticks?: { values: number[]; labels?: string[] };
}

/** What `ax.hist()` returns: the count of each bin and the bin edges (one more than the counts). */
export interface HistResult {
  counts: number[];
  edges: number[];
}

function pick<T>(...vs: (T | undefined)[]): T | undefined {
  return vs.find((v) => v !== undefined);
}

function isOptionsObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !isSeries(v);
}

let axesCounter = 0;

/**
 * One subplot: plots, labels, scales, limits and ticks, with matplotlib's `Axes` methods (`set_xlabel` is
 * `setXlabel`, and the pyplot names work too). Every setter returns the Axes, so calls chain.
 */
export class Axes {
  readonly artists: Artist[] = [];
  readonly xaxis: AxisState = { label: "", scale: "linear", lim: [undefined, undefined], inverted: false };
  readonly yaxis: AxisState = { label: "", scale: "linear", lim: [undefined, undefined], inverted: false };
  titleText = "";
  legendOptions: LegendOptions | undefined;
  gridOptions: GridOptions | undefined;
  axisOn = true;
  /** Keep data units square (set by imshow). */
  equalAspect = false;
  /** Unique within the process: used for SVG ids (clip paths). */
  readonly uid = `cinder-ax${++axesCounter}`;
  private cycle = 0;

  /** @internal Created by `Figure.subplot`. */
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly index: number,
  ) {}

  private nextColor(): string {
    return TAB10[this.cycle++ % TAB10.length];
  }

  /** The pending device reads of this axes' data. */
  pending(): Promise<void>[] {
    const out: Promise<void>[] = [];
    const add = (l: Lazy<unknown>) => l.pending && out.push(l.pending);
    for (const a of this.artists) {
      if (a.kind === "line" || a.kind === "scatter") {
        add(a.x);
        add(a.y);
        if (a.kind === "scatter" && typeof a.s !== "number") add(a.s);
      } else if (a.kind === "image") add(a.image);
    }
    return out;
  }

  /**
   * `plot(y)`, `plot(x, y)`, `plot(x, y, "r-")`, `plot(x, y, { color, linestyle, linewidth, label, marker })`,
   * `plot(x, y, "b--", { linewidth: 3, label })`. With only `y`, x is 0, 1, 2, ...
   */
  plot(y: Series, fmtOrOptions?: string | LineOptions): this;
  plot(x: Series, y: Series, fmt?: string, options?: LineOptions): this;
  plot(x: Series, y: Series, options?: LineOptions): this;
  plot(a: Series, b?: Series | string | LineOptions, c?: string | LineOptions, d?: LineOptions): this {
    let xs: Series | undefined;
    let ys: Series;
    let fmt: string | undefined;
    let opts: LineOptions = {};
    if (b === undefined || typeof b === "string" || isOptionsObject(b)) {
      ys = a;
      if (typeof b === "string") fmt = b;
      else if (b) opts = b as LineOptions;
      if (isOptionsObject(c)) opts = c as LineOptions;
    } else {
      xs = a;
      ys = b as Series;
      if (typeof c === "string") {
        fmt = c;
        opts = d ?? {};
      } else opts = c ?? {};
    }
    const y = readSeries(ys, "plot(y)");
    const x = xs === undefined ? y.map((v) => Float64Array.from(v, (_, i) => i)) : readSeries(xs, "plot(x)");
    const f = fmt ? parseFormat(fmt) : {};
    const colorSpec = pick(opts.color, opts.c, f.color);
    const line: LineArtist = {
      kind: "line",
      x,
      y,
      color: colorSpec ? resolveColor(colorSpec) : this.nextColor(),
      linewidth: pick(opts.linewidth, opts.lw) ?? 1.5,
      linestyle: pick(opts.linestyle, opts.ls, f.linestyle) ?? "-",
      marker: pick(opts.marker, f.marker) ?? "",
      markersize: pick(opts.markersize, opts.ms) ?? 6,
      alpha: opts.alpha ?? 1,
      label: opts.label,
    };
    this.artists.push(line);
    return this;
  }

  /** Scatter plot: `scatter(x, y, { alpha, label, color, s })`. */
  scatter(x: Series, y: Series, opts: ScatterOptions = {}): this {
    const colorSpec = pick(opts.color, opts.c);
    const s =
      opts.s === undefined ? 36 : typeof opts.s === "number" ? opts.s : readSeries(opts.s, "scatter(s)");
    const art: ScatterArtist = {
      kind: "scatter",
      x: readSeries(x, "scatter(x)"),
      y: readSeries(y, "scatter(y)"),
      color: colorSpec ? resolveColor(colorSpec) : this.nextColor(),
      s,
      marker: opts.marker ?? "o",
      alpha: opts.alpha ?? 1,
      edgecolor: opts.edgecolor ? resolveColor(opts.edgecolor) : undefined,
      label: opts.label,
    };
    this.artists.push(art);
    return this;
  }

  private refLine(kind: "hline" | "vline", value: number | TensorLike, opts: RefLineOptions): this {
    const colorSpec = pick(opts.color, opts.c);
    const art: RefLineArtist = {
      kind,
      value: readScalar(value, kind === "hline" ? "axhline(y)" : "axvline(x)"),
      from: (kind === "hline" ? opts.xmin : opts.ymin) ?? 0,
      to: (kind === "hline" ? opts.xmax : opts.ymax) ?? 1,
      color: colorSpec ? resolveColor(colorSpec) : this.nextColor(),
      linewidth: pick(opts.linewidth, opts.lw) ?? 1.5,
      linestyle: pick(opts.linestyle, opts.ls) ?? "-",
      alpha: opts.alpha ?? 1,
      label: opts.label,
    };
    this.artists.push(art);
    return this;
  }

  /** A horizontal line across the axes at `y`: `axhline(3, { color: "r", linestyle: "--" })`. */
  axhline(y: number | TensorLike = 0, opts: RefLineOptions = {}): this {
    return this.refLine("hline", y, opts);
  }

  /** A vertical line across the axes at `x`. */
  axvline(x: number | TensorLike = 0, opts: RefLineOptions = {}): this {
    return this.refLine("vline", x, opts);
  }

  /**
   * Histogram with equal-width bins between the data's min and max (or `range`), like matplotlib's.
   * The values are read synchronously (a WebGPU tensor must be read first: `await t.dataAsync()`).
   * Returns the counts and the bin edges.
   */
  hist(values: Series, opts: HistOptions = {}): HistResult {
    const data = readSeries(values, "hist(values)").get();
    const finite = data.filter((v) => Number.isFinite(v));
    let edges: number[];
    if (Array.isArray(opts.bins)) edges = [...opts.bins];
    else {
      const n = (opts.bins as number | undefined) ?? 10;
      let [lo, hi] = opts.range ?? [
        finite.reduce((a, v) => Math.min(a, v), Infinity),
        finite.reduce((a, v) => Math.max(a, v), -Infinity),
      ];
      if (!(lo <= hi)) [lo, hi] = [0, 1];
      if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
      edges = Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);
    }
    const nb = edges.length - 1;
    const counts = new Array<number>(nb).fill(0);
    for (const v of finite) {
      if (v < edges[0] || v > edges[nb]) continue;
      // the last bin is closed on the right, as in numpy.histogram
      let lo = 0;
      let hi = nb;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (v >= edges[mid]) lo = mid;
        else hi = mid;
      }
      counts[lo]++;
    }
    let heights = counts;
    if (opts.density) {
      const total = counts.reduce((s, c) => s + c, 0) || 1;
      heights = counts.map((c, i) => c / total / (edges[i + 1] - edges[i]));
    }
    const rw = opts.rwidth ?? 1;
    const bars: BarsArtist = {
      kind: "bars",
      x: Float64Array.from(heights, (_, i) => (edges[i] + edges[i + 1]) / 2),
      width: Float64Array.from(heights, (_, i) => (edges[i + 1] - edges[i]) * rw),
      height: Float64Array.from(heights),
      base: 0,
      color: opts.color ? resolveColor(opts.color) : this.nextColor(),
      edgecolor: opts.edgecolor ? resolveColor(opts.edgecolor) : undefined,
      alpha: opts.alpha ?? 1,
      label: opts.label,
    };
    this.artists.push(bars);
    return { counts: heights, edges };
  }

  /** Bar chart: bars of `height` centred on `x` (numbers; read synchronously). */
  bar(x: Series, height: Series | number, opts: BarOptions = {}): this {
    const xs = readSeries(x, "bar(x)").get();
    const hs =
      typeof height === "number"
        ? new Float64Array(xs.length).fill(height)
        : readSeries(height, "bar(height)").get();
    if (hs.length !== xs.length)
      throw new Error(`viz: bar got ${xs.length} x values and ${hs.length} heights`);
    this.artists.push({
      kind: "bars",
      x: xs,
      width: new Float64Array(xs.length).fill(opts.width ?? 0.8),
      height: hs,
      base: opts.bottom ?? 0,
      color: opts.color ? resolveColor(opts.color) : this.nextColor(),
      edgecolor: opts.edgecolor ? resolveColor(opts.edgecolor) : undefined,
      alpha: opts.alpha ?? 1,
      label: opts.label,
    });
    return this;
  }

  /**
   * Show an image: a nested array [H][W], or a tensor [H, W], [1, H, W], [3, H, W] or [H, W, 3].
   * One channel is coloured by `cmap` (default "viridis", "gray" for MNIST digits) between vmin and vmax
   * (default: the data's range); RGB data in [0, 1] (or [0, 255] for integer-like data) is shown as is.
   */
  imshow(image: ImageInput, opts: ImshowOptions = {}): this {
    const art: ImageArtist = {
      kind: "image",
      image: readImage(image),
      cmap: opts.cmap ?? "viridis",
      vmin: opts.vmin,
      vmax: opts.vmax,
      smooth: opts.interpolation === "bilinear",
    };
    this.artists.push(art);
    this.equalAspect = true;
    this.yaxis.inverted = true;
    return this;
  }

  /** Text at data coordinates. */
  text(x: number, y: number, s: string, opts: TextOptions = {}): this {
    this.artists.push({
      kind: "text",
      x,
      y,
      text: s,
      color: resolveColor(opts.color ?? "k"),
      fontsize: opts.fontsize ?? 10,
      ha: opts.ha ?? "left",
    });
    return this;
  }

  // ---- labels, legend, grid ----

  /** Sets the x-axis label. */
  setXlabel(label: string): this {
    this.xaxis.label = label;
    return this;
  }
  /** Sets the y-axis label. */
  setYlabel(label: string): this {
    this.yaxis.label = label;
    return this;
  }
  /** Sets the subplot's title. */
  setTitle(title: string): this {
    this.titleText = title;
    return this;
  }
  /** matplotlib's pyplot name for `setXlabel`. */
  xlabel(label: string): this {
    return this.setXlabel(label);
  }
  /** matplotlib's pyplot name for `setYlabel`. */
  ylabel(label: string): this {
    return this.setYlabel(label);
  }
  /** matplotlib's pyplot name for `setTitle`. */
  title(title: string): this {
    return this.setTitle(title);
  }

  /** Show a legend of the labelled artists (location "best" by default: the corner hiding the least data). */
  legend(opts: LegendOptions = {}): this {
    this.legendOptions = opts;
    return this;
  }

  /** `grid()` / `grid(true, { alpha: 0.3 })` shows grid lines at the major ticks; `grid(false)` hides them. */
  grid(visible = true, opts: GridOptions = {}): this {
    this.gridOptions = visible ? opts : undefined;
    return this;
  }

  /** Hide ("off") or show ("on") the axis frame, ticks and labels. */
  axis(mode: "on" | "off"): this {
    this.axisOn = mode === "on";
    return this;
  }

  // ---- scales and limits ----

  /** Sets the x-axis scale: "linear" or "log". */
  setXscale(scale: ScaleKind): this {
    this.xaxis.scale = checkScale(scale);
    return this;
  }
  /** Sets the y-axis scale: "linear" or "log". */
  setYscale(scale: ScaleKind): this {
    this.yaxis.scale = checkScale(scale);
    return this;
  }
  /** matplotlib's pyplot name for `setXscale`. */
  xscale(scale: ScaleKind): this {
    return this.setXscale(scale);
  }
  /** matplotlib's pyplot name for `setYscale`. */
  yscale(scale: ScaleKind): this {
    return this.setYscale(scale);
  }

  /** `setXlim(left, right)` or `setXlim([left, right])`; undefined keeps that side automatic. */
  setXlim(left?: number | readonly [number?, number?], right?: number): this {
    this.xaxis.lim = limPair(left, right);
    return this;
  }
  /** `setYlim(bottom, top)` or `setYlim([bottom, top])`; undefined keeps that side automatic. */
  setYlim(bottom?: number | readonly [number?, number?], top?: number): this {
    this.yaxis.lim = limPair(bottom, top);
    return this;
  }
  /** matplotlib's pyplot name for `setXlim`. */
  xlim(left?: number | readonly [number?, number?], right?: number): this {
    return this.setXlim(left, right);
  }
  /** matplotlib's pyplot name for `setYlim`. */
  ylim(bottom?: number | readonly [number?, number?], top?: number): this {
    return this.setYlim(bottom, top);
  }
  /** Flips the y axis (larger values at the bottom), as for images; calling it again flips it back. */
  invertYaxis(): this {
    this.yaxis.inverted = !this.yaxis.inverted;
    return this;
  }

  /** Fixed tick positions (and labels); `setXticks([])` hides the x ticks. */
  setXticks(values: readonly number[], labels?: readonly string[]): this {
    this.xaxis.ticks = { values: [...values], labels: labels && [...labels] };
    return this;
  }
  /** Fixed y tick positions (and labels); `setYticks([])` hides the y ticks. */
  setYticks(values: readonly number[], labels?: readonly string[]): this {
    this.yaxis.ticks = { values: [...values], labels: labels && [...labels] };
    return this;
  }
  /** matplotlib's pyplot name for `setXticks`. */
  xticks(values: readonly number[], labels?: readonly string[]): this {
    return this.setXticks(values, labels);
  }
  /** matplotlib's pyplot name for `setYticks`. */
  yticks(values: readonly number[], labels?: readonly string[]): this {
    return this.setYticks(values, labels);
  }
}

function checkScale(s: string): ScaleKind {
  if (s !== "linear" && s !== "log")
    throw new Error(`viz: unsupported scale ${JSON.stringify(s)}: expected "linear" or "log"`);
  return s;
}

function limPair(
  a?: number | readonly [number?, number?],
  b?: number,
): [number | undefined, number | undefined] {
  if (Array.isArray(a)) return [a[0], a[1]];
  return [a as number | undefined, b];
}
