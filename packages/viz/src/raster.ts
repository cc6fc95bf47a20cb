/**
 * SVG to PNG for figures, through @resvg/resvg-js (an optional dependency: prebuilt native binaries shipped
 * inside npm packages for Linux, macOS and Windows, no install script). Text uses the system's fonts, so
 * Chinese labels need a CJK font installed (e.g. Debian's fonts-wqy-microhei or fonts-noto-cjk), or pass
 * `fontFiles`.
 */

import { nodeImport } from "./io";

/** Options for rendering a figure to PNG (through `@resvg/resvg-js`). */
export interface RasterOptions {
  /** Pixel scale relative to the figure's size at its dpi (default 1). */
  scale?: number;
  /** Extra font files (TTF/OTF/TTC) to load besides the system fonts. */
  fontFiles?: string[];
}

interface ResvgModule {
  Resvg: new (
    svg: string,
    opts: {
      font?: { loadSystemFonts?: boolean; defaultFontFamily?: string; fontFiles?: string[] };
      fitTo?: { mode: "original" } | { mode: "zoom"; value: number };
      background?: string;
    },
  ) => { render(): { asPng(): Uint8Array } };
}

let resvg: Promise<ResvgModule> | undefined;

/** Whether PNG export of figures is available here (the optional rasterizer loads). */
export async function canRasterize(): Promise<boolean> {
  try {
    await loadResvg();
    return true;
  } catch {
    return false;
  }
}

function loadResvg(): Promise<ResvgModule> {
  resvg ??= nodeImport<ResvgModule>("@resvg/resvg-js").catch((e) => {
    resvg = undefined;
    throw new Error(
      "viz: saving a figure as PNG needs the optional dependency @resvg/resvg-js, which could not be loaded " +
        `(${(e as Error).message}). Install it (npm i @resvg/resvg-js), or save as .svg or .html instead.`,
    );
  });
  return resvg;
}

/** Render an SVG document to PNG bytes (Node only). */
export async function svgToPNG(svg: string, opts: RasterOptions = {}): Promise<Uint8Array> {
  const { Resvg } = await loadResvg();
  const scale = opts.scale ?? 1;
  const r = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", fontFiles: opts.fontFiles },
    fitTo: scale === 1 ? { mode: "original" } : { mode: "zoom", value: scale },
    background: "white",
  });
  return new Uint8Array(r.render().asPng());
}
