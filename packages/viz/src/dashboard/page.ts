/** The dashboard's HTML page: self-contained (inline CSS and script), data embedded as JSON. */

import { esc, FONT_FAMILY } from "../text";
import { CLIENT_SCRIPT } from "./client";

/** One logged record: a step and any number of named scalar metrics (null stands for NaN/Infinity). */
export type DashboardPoint = Record<string, number | string | null>;

export interface PageOptions {
  title: string;
  points: readonly DashboardPoint[];
  /** Connect to the server's event stream (`/events`). */
  live: boolean;
  /** File mode: training has ended (no more reloads). */
  finished?: boolean;
  /** File mode: reload the page every so many seconds while training runs. */
  refreshSeconds?: number;
}

/** JSON that is safe inside a <script> element (no "</script>", no "<!--"). */
export function scriptJSON(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const CSS = `
body{margin:0;font-family:${FONT_FAMILY};background:#f6f6f6;color:#222}
header{padding:12px 20px;background:#fff;border-bottom:1px solid #ddd;display:flex;gap:16px;align-items:baseline;flex-wrap:wrap}
h1{font-size:18px;margin:0;font-weight:600}
#status{font-size:12px;padding:2px 8px;border-radius:10px;background:#eee}
#status[data-state=live]{background:#d8f5d8}
#status[data-state=finished]{background:#dde6f5}
#summary{font-size:13px;color:#555;font-variant-numeric:tabular-nums}
#charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px;padding:16px 20px}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
figure svg{width:100%;height:auto;display:block;font-family:${FONT_FAMILY}}
figure label{font-size:12px;color:#555;user-select:none}
`;

export function dashboardHTML(o: PageOptions): string {
  const boot = { points: o.points, live: o.live, finished: o.finished ?? false };
  const refresh =
    o.refreshSeconds && !o.finished
      ? `<meta http-equiv="refresh" content="${Math.max(1, Math.round(o.refreshSeconds))}">\n`
      : "";
  return (
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n${refresh}` +
    `<title>${esc(o.title)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n` +
    `<header><h1>${esc(o.title)}</h1><span id="status">loading</span><span id="summary"></span></header>\n` +
    `<main id="charts"></main>\n` +
    `<script type="application/json" id="cinder-data">${scriptJSON(boot)}</script>\n` +
    `<script>${CLIENT_SCRIPT}</script>\n</body>\n</html>\n`
  );
}
