/**
 * @cinder/viz: matplotlib-like figures as SVG (Node and browsers, no DOM needed), HTML and PNG; image grids
 * like torchvision.utils (real PNG files); and a live training dashboard.
 *
 *   import { figure, plt, saveImage, dashboard } from "@cinder/viz";
 *
 * Nothing here touches node:fs or node:http at import time: file writing and the dashboard server load them
 * when first used, so `figure()` / `toSVG()` work in browsers.
 */

export type { Artist } from "./artists";
export {
  Axes,
  type AxisState,
  type BarOptions,
  type GridOptions as AxesGridOptions,
  type HistOptions,
  type HistResult,
  type ImshowOptions,
  type LegendLoc,
  type LegendOptions,
  type LineOptions,
  type RefLineOptions,
  type ScatterOptions,
  type TextOptions,
} from "./axes";
export {
  type Colormap,
  colormap,
  type LineStyle,
  type Marker,
  parseFormat,
  resolveColor,
  TAB10,
} from "./colors";
export {
  type DashboardFileOptions,
  type DashboardOptions,
  type DashboardPoint,
  dashboard,
  dashboardFile,
  type FileDashboard,
  type LiveDashboard,
  type LogRecord,
  type TrainingDashboard,
} from "./dashboard/index";
export type { ImageInput, Series, TensorLike } from "./data";
export { Figure, type FigureOptions, figure, type LayoutOptions, type SaveOptions } from "./figure";
export { type GridOptions, imageToPNG, makeGrid, saveImage } from "./image";
export { base64, crc32, encodePNG } from "./png";
export { plt, type ShowOptions } from "./pyplot";
export { canRasterize, type RasterOptions, svgToPNG } from "./raster";
export { FONT_FAMILY } from "./text";
