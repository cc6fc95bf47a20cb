/** What an Axes holds: one record per plotted thing, with its data possibly still being read (`Lazy`). */

import type { LineStyle, Marker } from "./colors";
import type { Image2D, Lazy } from "./data";

export interface LineArtist {
  kind: "line";
  x: Lazy<Float64Array>;
  y: Lazy<Float64Array>;
  color: string;
  /** Points. */
  linewidth: number;
  linestyle: LineStyle;
  marker: Marker;
  /** Points (matplotlib's markersize: the marker's diameter). */
  markersize: number;
  alpha: number;
  label?: string;
}

export interface ScatterArtist {
  kind: "scatter";
  x: Lazy<Float64Array>;
  y: Lazy<Float64Array>;
  color: string;
  /** Marker area in points² (matplotlib's `s`), one value or one per point. */
  s: number | Lazy<Float64Array>;
  marker: Marker;
  alpha: number;
  edgecolor?: string;
  label?: string;
}

/** axhline / axvline: a line across the axes at a data value, spanning [from, to] of the axes (0..1). */
export interface RefLineArtist {
  kind: "hline" | "vline";
  value: number;
  from: number;
  to: number;
  color: string;
  linewidth: number;
  linestyle: LineStyle;
  alpha: number;
  label?: string;
}

/** Bars (hist, bar): from `base` to `base + height`, centred on x with the given width. */
export interface BarsArtist {
  kind: "bars";
  x: Float64Array;
  width: Float64Array;
  height: Float64Array;
  base: number;
  color: string;
  edgecolor?: string;
  alpha: number;
  label?: string;
}

export interface ImageArtist {
  kind: "image";
  image: Lazy<Image2D>;
  cmap: string;
  vmin?: number;
  vmax?: number;
  /** Smooth interpolation instead of matplotlib's default nearest-neighbour look. */
  smooth: boolean;
}

export interface TextArtist {
  kind: "text";
  x: number;
  y: number;
  text: string;
  color: string;
  /** Points. */
  fontsize: number;
  ha: "left" | "center" | "right";
}

export type Artist = LineArtist | ScatterArtist | RefLineArtist | BarsArtist | ImageArtist | TextArtist;

/** Artists that can appear in a legend. */
export type Labelled = LineArtist | ScatterArtist | RefLineArtist | BarsArtist;

export function hasLegendLabel(a: Artist): a is Labelled {
  return "label" in a && typeof a.label === "string" && a.label !== "" && !a.label.startsWith("_");
}
