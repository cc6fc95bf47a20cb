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

/** Options of `plt.show()` in Node, where figures are written to files. */
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

/**
 * matplotlib's stateful `pyplot` interface: each function acts on the current figure and Axes
 * (`plt.plot(...)`, `plt.xlabel(...)`, `plt.savefig(...)`).
 */
export const plt = {
  /** Start a new figure and make it current. */
  figure: (opts: FigureOptions = {}): Figure => newFigure(opts),
  /** The current figure. */
  gcf,
  /** The current Axes. */
  gca,
  /** Makes the given subplot of the current figure current and returns it. */
  subplot: (rows: number, cols?: number, index?: number): Axes => gcf().subplot(rows, cols, index),
  /** Sets the current figure's title. */
  suptitle: (text: string): Figure => gcf().suptitle(text),
  /** `Axes.plot` on the current Axes. */
  plot: forward("plot"),
  /** `Axes.scatter` on the current Axes. */
  scatter: forward("scatter"),
  /** `Axes.axhline` on the current Axes. */
  axhline: forward("axhline"),
  /** `Axes.axvline` on the current Axes. */
  axvline: forward("axvline"),
  /** `Axes.hist` on the current Axes. */
  hist: forward("hist"),
  /** `Axes.bar` on the current Axes. */
  bar: forward("bar"),
  /** `Axes.imshow` on the current Axes. */
  imshow: forward("imshow"),
  /** `Axes.text` on the current Axes. */
  text: forward("text"),
  /** `Axes.setXlabel` on the current Axes. */
  xlabel: forward("setXlabel"),
  /** `Axes.setYlabel` on the current Axes. */
  ylabel: forward("setYlabel"),
  /** `Axes.setTitle` on the current Axes. */
  title: forward("setTitle"),
  /** `Axes.legend` on the current Axes. */
  legend: forward("legend"),
  /** `Axes.grid` on the current Axes. */
  grid: forward("grid"),
  /** `Axes.axis` on the current Axes. */
  axis: forward("axis"),
  /** `Axes.setXscale` on the current Axes. */
  xscale: forward("setXscale"),
  /** `Axes.setYscale` on the current Axes. */
  yscale: forward("setYscale"),
  /** `Axes.setXlim` on the current Axes. */
  xlim: forward("setXlim"),
  /** `Axes.setYlim` on the current Axes. */
  ylim: forward("setYlim"),
  /** `Axes.setXticks` on the current Axes. */
  xticks: forward("setXticks"),
  /** `Axes.setYticks` on the current Axes. */
  yticks: forward("setYticks"),
  /** `Figure.tightLayout` on the current figure. */
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
