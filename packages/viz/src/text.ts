/** Text in SVG without a DOM: escaping, a font stack with CJK fallbacks, and width estimates for layout. */

/**
 * matplotlib's DejaVu Sans first, then common Latin sans fonts, then CJK fonts on Linux, macOS and Windows:
 * browsers and resvg fall back glyph by glyph, so Chinese titles render wherever one of these is installed.
 */
export const FONT_FAMILY = [
  "DejaVu Sans",
  "Liberation Sans",
  "Arial",
  "Helvetica",
  "Noto Sans CJK SC",
  "Source Han Sans SC",
  "WenQuanYi Micro Hei",
  "PingFang SC",
  "Hiragino Sans GB",
  "Microsoft YaHei",
  "SimHei",
  "sans-serif",
]
  .map((f) => (f.includes(" ") ? `'${f}'` : f))
  .join(", ");

/** Escape text for SVG/XML content and attribute values; drops characters XML 1.0 forbids. */
export function esc(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    cp >= 0x20000
  );
}

const NARROW = new Set("iljtfr.,:;!'|()[]` ");
const WIDE_LATIN = new Set("mwMW@%");

/**
 * Approximate advance width of `text` in pixels at `size` px, using DejaVu Sans-like proportions
 * (full-width CJK = 1 em). Layout only needs this to be roughly right and slightly generous.
 */
export function textWidth(text: string, size: number): number {
  let em = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (isWide(cp)) em += 1;
    else if (NARROW.has(ch)) em += 0.34;
    else if (WIDE_LATIN.has(ch)) em += 0.9;
    else if (ch >= "A" && ch <= "Z") em += 0.7;
    else if (ch === "\u2212" || ch === "+" || ch === "=") em += 0.84;
    else em += 0.62;
  }
  return em * size;
}

/** Points to pixels at a given dpi (matplotlib sizes fonts and lines in points). */
export function pt(points: number, dpi: number): number {
  return (points * dpi) / 72;
}

/** Short decimal text for numbers in SVG attributes. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return "0";
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}
