/**
 * Just enough DOM to run the dashboard page's inline script in Node (no browser): the script builds its
 * charts with createElementNS/setAttribute/appendChild, and the tests read them back as a tree.
 */
import { runInNewContext } from "node:vm";
import { CLIENT_SCRIPT } from "../src/dashboard/client";

export class FakeElement {
  readonly children: FakeElement[] = [];
  readonly attributes = new Map<string, string>();
  textContent = "";
  [prop: string]: unknown;
  constructor(readonly tag: string) {}
  setAttribute(name: string, value: unknown): void {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  appendChild(child: FakeElement): FakeElement {
    if (child.tag === "#fragment") this.children.push(...child.children.splice(0));
    else this.children.push(child);
    return child;
  }
  replaceChildren(...nodes: FakeElement[]): void {
    this.children.length = 0;
    for (const n of nodes) this.appendChild(n);
  }
  addEventListener(): void {}
  /** Every descendant (depth first) that satisfies `pred`. */
  findAll(pred: (e: FakeElement) => boolean): FakeElement[] {
    const out: FakeElement[] = [];
    const walk = (e: FakeElement) => {
      for (const c of e.children) {
        if (pred(c)) out.push(c);
        walk(c);
      }
    };
    walk(this);
    return out;
  }
}

export interface RenderedPage {
  charts: FakeElement;
  summary: FakeElement;
  /** The chart of one metric group, if drawn. */
  chart(metric: string): FakeElement | undefined;
  /** A series path within a chart. */
  series(metric: string, series: string): FakeElement | undefined;
  /** The y-axis tick labels of a chart with their pixel positions. */
  yTicks(metric: string): { label: string; y: number }[];
}

/**
 * Run the page script once over `points` (snapshot mode: no event stream; at most 1 s) and return what
 * it drew.
 */
export function renderPage(points: unknown[]): RenderedPage {
  const byId: Record<string, FakeElement> = {
    charts: new FakeElement("main"),
    status: new FakeElement("span"),
    summary: new FakeElement("span"),
    "cinder-data": new FakeElement("script"),
  };
  byId["cinder-data"].textContent = JSON.stringify({ points, live: false, finished: true });
  const document = {
    body: new FakeElement("body"),
    getElementById: (id: string) => byId[id] ?? null,
    createElementNS: (_ns: string, name: string) => new FakeElement(name),
    createElement: (name: string) => new FakeElement(name),
    createDocumentFragment: () => new FakeElement("#fragment"),
    createTextNode: (text: string) => Object.assign(new FakeElement("#text"), { textContent: text }),
  };
  // a time limit, so that a runaway loop in the page script fails the test instead of hanging it
  runInNewContext(CLIENT_SCRIPT, { document, window: {}, setTimeout }, { timeout: 1000 });
  const charts = byId.charts;
  const chart = (metric: string) =>
    charts.findAll((e) => e.tag === "svg" && e.getAttribute("data-metric") === metric)[0];
  return {
    charts,
    summary: byId.summary,
    chart,
    series: (metric, series) =>
      chart(metric)?.findAll((e) => e.tag === "path" && e.getAttribute("data-series") === series)[0],
    yTicks(metric) {
      const svg = chart(metric);
      if (!svg) return [];
      return svg
        .findAll((e) => e.tag === "text" && e.getAttribute("text-anchor") === "end")
        .map((e) => ({ label: e.textContent, y: Number(e.getAttribute("y")) - 4 }));
    },
  };
}

/** The y pixel of every vertex of a path's `d` ("M x y L x y ..."). */
export function pathYs(d: string | null): number[] {
  return [...(d ?? "").matchAll(/[ML]\s*[-\d.]+\s+([-\d.]+)/g)].map((m) => Number(m[1]));
}
