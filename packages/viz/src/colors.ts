/** Colours, matplotlib format strings ("r-", "b--o") and colormaps. */

/** matplotlib's default property cycle ("tab10"): C0 ... C9. */
export const TAB10 = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
] as const;

/** matplotlib's one-letter base colours (these are not the tab10 shades: "r" is pure red). */
const BASE: Record<string, string> = {
  b: "#0000ff",
  g: "#008000",
  r: "#ff0000",
  c: "#00bfbf",
  m: "#bf00bf",
  y: "#bfbf00",
  k: "#000000",
  w: "#ffffff",
};

const TAB_NAMES = ["blue", "orange", "green", "red", "purple", "brown", "pink", "gray", "olive", "cyan"];

/**
 * A CSS colour for a matplotlib colour spec: one-letter base colours ("r"), cycle references ("C0"),
 * "tab:blue"-style names, grey levels as strings ("0.5") and anything CSS understands ("orange", "#aabbcc").
 */
export function resolveColor(spec: string): string {
  const s = spec.trim();
  if (s in BASE) return BASE[s];
  const cycle = /^C(\d+)$/.exec(s);
  if (cycle) return TAB10[Number(cycle[1]) % TAB10.length];
  if (s.startsWith("tab:")) {
    const i = TAB_NAMES.indexOf(s.slice(4) === "grey" ? "gray" : s.slice(4));
    if (i >= 0) return TAB10[i];
  }
  if (/^(0(\.\d+)?|1(\.0*)?)$/.test(s)) {
    const v = Math.round(Number(s) * 255);
    return `rgb(${v},${v},${v})`;
  }
  if (!/^[#a-zA-Z0-9(),.%\s-]+$/.test(s)) throw new Error(`viz: invalid color ${JSON.stringify(spec)}`);
  return s;
}

/** Line styles, as matplotlib's: "-" solid, "--" dashed, ":" dotted, "-." dash-dot, or none. */
export type LineStyle = "-" | "--" | ":" | "-." | "none" | "" | "solid" | "dashed" | "dotted" | "dashdot";
/**
 * Marker shapes, as matplotlib's one-character codes ("o" circle, "s" square, "^" triangle, "x", "+", ...).
 */
export type Marker = "." | "o" | "s" | "^" | "v" | "<" | ">" | "x" | "+" | "*" | "D" | "d" | "none" | "";

export interface FormatSpec {
  color?: string;
  linestyle?: LineStyle;
  marker?: Marker;
}

const MARKERS = new Set(".,os^v<>x+*Dd".split(""));

/**
 * Parse a matplotlib format string `[marker][line][color]` (any order): "r-", "b--", "go", "k:", "C1-.".
 * A marker without a line style draws markers only, as in matplotlib.
 */
export function parseFormat(fmt: string): FormatSpec {
  const out: FormatSpec = {};
  let rest = fmt;
  const cycle = /C\d+/.exec(rest);
  if (cycle) {
    out.color = cycle[0];
    rest = rest.replace(cycle[0], "");
  }
  for (const ls of ["--", "-.", "-", ":"] as const) {
    if (rest.includes(ls)) {
      out.linestyle = ls;
      rest = rest.replace(ls, "");
      break;
    }
  }
  for (const ch of rest) {
    if (ch in BASE && out.color === undefined) out.color = ch;
    else if (MARKERS.has(ch) && out.marker === undefined) out.marker = (ch === "," ? "." : ch) as Marker;
    else
      throw new Error(`viz: invalid format string ${JSON.stringify(fmt)}: unexpected ${JSON.stringify(ch)}`);
  }
  if (out.marker !== undefined && out.linestyle === undefined) out.linestyle = "none";
  return out;
}

/** SVG `stroke-dasharray` for a line style, scaled by the line width like matplotlib's dash patterns. */
export function dashArray(style: LineStyle | undefined, width: number): string | undefined {
  const scale = (pattern: number[]) => pattern.map((v) => +(v * width).toFixed(2)).join(",");
  switch (style) {
    case "--":
    case "dashed":
      return scale([3.7, 1.6]);
    case ":":
    case "dotted":
      return scale([1, 1.65]);
    case "-.":
    case "dashdot":
      return scale([6.4, 1.6, 1, 1.6]);
    default:
      return undefined;
  }
}

export function isNoLine(style: LineStyle | undefined): boolean {
  return style === "none" || style === "";
}

// ---- colormaps ----

type Stops = readonly (readonly [number, number, number])[];

/** viridis sampled at 9 evenly spaced points (interpolated linearly in between). */
const VIRIDIS: Stops = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];
const GRAY: Stops = [
  [0, 0, 0],
  [255, 255, 255],
];
const HOT: Stops = [
  [11, 0, 0],
  [255, 0, 0],
  [255, 255, 0],
  [255, 255, 255],
];

const CMAPS: Record<string, Stops> = { viridis: VIRIDIS, gray: GRAY, grey: GRAY, hot: HOT };

/** Colormap names for `imshow` and image grids; "_r" reverses one. */
export type Colormap = "viridis" | "gray" | "grey" | "gray_r" | "grey_r" | "binary" | "hot" | "viridis_r";

/** A function from [0, 1] to RGB bytes for a named colormap ("gray", "viridis", "hot", "binary", "*_r"). */
export function colormap(name: Colormap | string): (t: number) => [number, number, number] {
  let key = name;
  let reversed = false;
  if (key === "binary") {
    key = "gray";
    reversed = true;
  } else if (key.endsWith("_r")) {
    key = key.slice(0, -2);
    reversed = true;
  }
  const stops = CMAPS[key];
  if (!stops)
    throw new Error(
      `viz: unknown colormap ${JSON.stringify(name)}; expected one of ${Object.keys(CMAPS).join(", ")}`,
    );
  const n = stops.length - 1;
  return (t: number) => {
    let u = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
    if (reversed) u = 1 - u;
    const pos = u * n;
    const i = Math.min(n - 1, Math.floor(pos));
    const f = pos - i;
    const a = stops[i];
    const b = stops[i + 1];
    return [
      Math.round(a[0] + (b[0] - a[0]) * f),
      Math.round(a[1] + (b[1] - a[1]) * f),
      Math.round(a[2] + (b[2] - a[2]) * f),
    ];
  };
}
