/**
 * `plt`: matplotlib.pyplot's stateful interface over Figure/Axes, so tutorial code ports line by line:
 *
 *   plt.figure({ figsize: [12, 4] });
 *   plt.subplot(1, 3, 1);
 *   plt.scatter(X, y, { alpha: 0.5, label: "数据点" });
 *   plt.plot(X, yTrue, "r-", { linewidth: 3, label: "真实" });
 *   plt.legend(); plt.grid(true, { alpha: 0.3 });
 *   await plt.savefig("fit.png");   // or: await plt.show()
 */

import type { Axes } from "./axes";
import { Figure, type FigureOptions, type LayoutOptions, type SaveOptions } from "./figure";
import { isNode } from "./io";

export interface ShowOptions {
  /** Node: the folder to write figures to (default: the working directory). */
  dir?: string;
  /** Node: file type (default "svg"; "png" needs @resvg/resvg-js). */
  format?: "svg" | "html" | "png";
}

let current: Figure | undefined;
const open: Figure[] = [];
let shown = 0;

function gcf(): Figure {
  return current ?? newFigure({});
}

function newFigure(opts: FigureOptions): Figure {
  current = new Figure(opts);
  open.push(current);
  return current;
}

function gca(): Axes {
  return gcf().gca();
}

/** A pyplot function that calls the Axes method of the same name on the current Axes. */
function forward<K extends keyof Axes>(name: K): Axes[K] {
  return ((...args: unknown[]) => {
    const ax = gca();
    return (ax[name] as (...a: unknown[]) => unknown).apply(ax, args);
  }) as Axes[K];
}

export const plt = {
  /** Start a new figure and make it current. */
  figure: (opts: FigureOptions = {}): Figure => newFigure(opts),
  /** The current figure. */
  gcf,
  /** The current Axes. */
  gca,
  subplot: (rows: number, cols?: number, index?: number): Axes => gcf().subplot(rows, cols, index),
  suptitle: (text: string): Figure => gcf().suptitle(text),
  plot: forward("plot"),
  scatter: forward("scatter"),
  axhline: forward("axhline"),
  axvline: forward("axvline"),
  hist: forward("hist"),
  bar: forward("bar"),
  imshow: forward("imshow"),
  text: forward("text"),
  xlabel: forward("setXlabel"),
  ylabel: forward("setYlabel"),
  title: forward("setTitle"),
  legend: forward("legend"),
  grid: forward("grid"),
  axis: forward("axis"),
  xscale: forward("setXscale"),
  yscale: forward("setYscale"),
  xlim: forward("setXlim"),
  ylim: forward("setYlim"),
  xticks: forward("setXticks"),
  yticks: forward("setYticks"),
  tightLayout: (opts: LayoutOptions = {}): Figure => gcf().tightLayout(opts),
  /** Save the current figure (.svg, .html or .png). */
  savefig: (path: string, opts: SaveOptions = {}): Promise<void> => gcf().save(path, opts),
  /** Close the current figure (or all with "all"). */
  close(which?: "all" | Figure): void {
    if (which === "all") open.length = 0;
    else {
      const f = which ?? current;
      const i = f ? open.indexOf(f) : -1;
      if (i >= 0) open.splice(i, 1);
    }
    current = open[open.length - 1];
  },
  /**
   * Show the open figures and close them. In a browser page, appends each figure's SVG to the document body.
   * In Node there is no window: each figure is written to `figure-<n>.svg` (or `format`) in `dir`, and the
   * paths are returned.
   */
  async show(opts: ShowOptions = {}): Promise<string[]> {
    const figs = open.splice(0, open.length);
    current = undefined;
    const paths: string[] = [];
    const doc = (globalThis as { document?: Document }).document;
    for (const f of figs) {
      await f.ready();
      if (doc && !isNode()) {
        const holder = doc.createElement("div");
        holder.innerHTML = f.toSVG();
        doc.body.appendChild(holder);
        continue;
      }
      const name = `figure-${++shown}.${opts.format ?? "svg"}`;
      const path = opts.dir ? `${opts.dir.replace(/[\\/]+$/, "")}/${name}` : name;
      await f.save(path);
      paths.push(path);
    }
    return paths;
  },
};
