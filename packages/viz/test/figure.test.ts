import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpu } from "@cinder/backend-cpu";
import { arange, registerBackend, tensor } from "@cinder/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { Axes, figure, parseFormat, plt, resolveColor } from "../src/index";
import { seedFigure, seedRun } from "./seed-figure";
import { byClass, findAll, parseXML, textContent, type XmlElement } from "./xml";

registerBackend(cpu);

const dir = mkdtempSync(join(tmpdir(), "cinder-viz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function axesOf(svg: XmlElement): XmlElement[] {
  return byClass(svg, "axes");
}

describe("the seed's three-panel figure", () => {
  const run = seedRun();
  const svg = seedFigure(run).toSVG();
  const root = parseXML(svg);
  const [ax1, ax2, ax3] = axesOf(root);

  it("is well-formed SVG of the requested size", () => {
    expect(root.name).toBe("svg");
    expect(root.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    expect(root.attrs.width).toBe("1200");
    expect(root.attrs.height).toBe("400");
    expect(axesOf(root)).toHaveLength(3);
  });

  it("uses a font stack with CJK fallbacks and keeps the Chinese titles and labels", () => {
    expect(root.attrs["font-family"]).toMatch(/DejaVu Sans.*Noto Sans CJK SC.*sans-serif/);
    const titles = byClass(root, "title").map(textContent);
    expect(titles).toEqual(["原始数据 (y=3x+0.8)", "训练损失曲线", "参数收敛过程"]);
    expect(textContent(byClass(ax3, "ylabel")[0])).toBe("参数值");
  });

  it("panel 1: one circle per data point, the red fit line, and a legend", () => {
    const scatter = byClass(ax1, "scatter");
    expect(scatter).toHaveLength(1);
    expect(findAll(scatter[0], (e) => e.name === "circle")).toHaveLength(100);
    expect(scatter[0].attrs["fill-opacity"]).toBe("0.5");
    const line = byClass(ax1, "line");
    expect(line).toHaveLength(1);
    expect(line[0].attrs.stroke).toBe("#ff0000");
    expect(Number(line[0].attrs["stroke-width"])).toBeCloseTo((3 * 100) / 72, 1);
    const legend = byClass(ax1, "legend")[0];
    expect(byClass(legend, "legend-entry").map(textContent)).toEqual(["数据点", "真实: y=3x+0.8"]);
    expect(byClass(ax1, "grid")[0].attrs["stroke-opacity"]).toBe("0.3");
  });

  it("panel 2: a log-scale loss curve with power-of-ten tick labels", () => {
    expect(ax2.attrs["data-yscale"]).toBe("log");
    const path = byClass(ax2, "line")[0];
    expect(path.attrs["data-points"]).toBe("2000");
    expect(path.attrs.d.startsWith("M")).toBe(true);
    const yLabels = findAll(byClass(ax2, "yticklabels")[0], (e) => e.name === "text").map(textContent);
    expect(yLabels).toContain("10\u22121"); // 10⁻¹, drawn as "10" with a superscript "−1"
    expect(yLabels).toContain("101");
    expect(findAll(byClass(ax2, "yticklabels")[0], (e) => e.name === "tspan").length).toBe(yLabels.length);
    // the curve's largest loss sits near the top, the plateau near the bottom
    const max = Math.max(...run.losses);
    expect(max).toBeGreaterThan(10);
  });

  it("panel 3: two parameter curves, two dashed axhlines and a four-entry legend", () => {
    expect(byClass(ax3, "line")).toHaveLength(2);
    const hl = byClass(ax3, "hline");
    expect(hl).toHaveLength(2);
    expect(hl.map((h) => h.attrs.stroke)).toEqual(["#ff0000", "#008000"]);
    for (const h of hl) {
      expect(h.attrs["stroke-dasharray"]).toBeDefined();
      expect(h.attrs["stroke-opacity"]).toBe("0.5");
    }
    const entries = byClass(byClass(ax3, "legend")[0], "legend-entry").map(textContent);
    expect(entries).toEqual(["权重 w", "偏置 b", "真实 w", "真实 b"]);
    // default colours follow matplotlib's tab10 cycle
    expect(byClass(ax3, "line").map((l) => l.attrs.stroke)).toEqual(["#1f77b4", "#ff7f0e"]);
  });

  it("lays the panels out left to right without overlap", () => {
    const boxes = axesOf(root).map((ax) => {
      const r = byClass(ax, "spines")[0].attrs;
      return { x: Number(r.x), w: Number(r.width), y: Number(r.y), h: Number(r.height) };
    });
    for (let i = 1; i < 3; i++) expect(boxes[i].x).toBeGreaterThan(boxes[i - 1].x + boxes[i - 1].w + 40);
    for (const b of boxes) {
      expect(b.x).toBeGreaterThan(40);
      expect(b.y).toBeGreaterThan(20);
      expect(b.y + b.h).toBeLessThan(360);
      expect(b.w).toBeCloseTo(boxes[0].w, 5);
    }
  });
});

describe("axes features", () => {
  it("ticks: nice linear ticks and unicode minus", () => {
    const fig = figure();
    fig.subplot(1, 1, 1).plot([-4, 4], [0, 1]);
    const root = parseXML(fig.toSVG());
    const xl = findAll(byClass(root, "xticklabels")[0], (e) => e.name === "text").map(textContent);
    // matplotlib picks the same for a default 6.4-inch figure: step 1 from −4 to 4
    expect(xl).toEqual(["\u22124", "\u22123", "\u22122", "\u22121", "0", "1", "2", "3", "4"]);
    const narrow = figure({ figsize: [3, 3] });
    narrow.gca().plot([-4, 4], [0, 1]);
    const nl = findAll(byClass(parseXML(narrow.toSVG()), "xticklabels")[0], (e) => e.name === "text").map(
      textContent,
    );
    expect(nl).toEqual(["\u22124", "\u22122", "0", "2", "4"]);
  });

  it("log scale over less than two decades labels plain numbers", () => {
    const fig = figure();
    fig.subplot(111).plot([1, 2, 3], [0.02, 0.05, 0.08]).setYscale("log");
    const yl = findAll(byClass(parseXML(fig.toSVG()), "yticklabels")[0], (e) => e.name === "text").map(
      textContent,
    );
    expect(yl.length).toBeGreaterThan(1);
    expect(yl).toContain("0.05");
  });

  it("format strings, markers and colours", () => {
    expect(parseFormat("r-")).toEqual({ color: "r", linestyle: "-" });
    expect(parseFormat("b--")).toEqual({ color: "b", linestyle: "--" });
    expect(parseFormat("go")).toEqual({ color: "g", marker: "o", linestyle: "none" });
    expect(parseFormat("C1-.")).toEqual({ color: "C1", linestyle: "-." });
    expect(() => parseFormat("q")).toThrow(/invalid format string/);
    expect(resolveColor("C2")).toBe("#2ca02c");
    expect(resolveColor("tab:orange")).toBe("#ff7f0e");
    expect(resolveColor("orange")).toBe("orange");
    const fig = figure();
    fig.gca().plot([0, 1, 2], [1, 2, 3], "ko");
    const root = parseXML(fig.toSVG());
    expect(byClass(root, "line")).toHaveLength(0);
    expect(byClass(root, "marker")).toHaveLength(3);
  });

  it("accepts arrays, TypedArrays, [N, 1] tensors and nested [N, 1] arrays", () => {
    const fig = figure();
    const ax = fig.gca();
    ax.plot(new Float32Array([1, 2, 3]));
    ax.plot(arange(3).reshape(3, 1), tensor([[1], [4], [9]]));
    ax.plot([[0], [1], [2]], [1, 1, 1]);
    expect(byClass(parseXML(fig.toSVG()), "line").map((l) => l.attrs["data-points"])).toEqual([
      "3",
      "3",
      "3",
    ]);
    expect(() =>
      ax.plot(
        tensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toThrow(/expects 1-D data.*\[2, 2\]/);
    expect(() => figure().gca().plot([1, 2], [1, 2, 3]).toString()).not.toThrow();
    const bad = figure();
    bad.gca().plot([1, 2], [1, 2, 3]);
    expect(() => bad.toSVG()).toThrow(/same length; got 2 and 3/);
  });

  it("tensors that only read asynchronously (webgpu) are awaited by toSVGAsync/save", async () => {
    const gpuLike = (values: number[]) => ({
      shape: [values.length],
      data(): Float32Array {
        throw new Error("cannot read a webgpu tensor synchronously: use `await t.dataAsync()`");
      },
      dataAsync: async () => new Float32Array(values),
    });
    const fig = figure();
    fig.gca().plot(gpuLike([1, 2, 3]), gpuLike([3, 1, 2]));
    expect(() => fig.toSVG()).toThrow(/await fig\.toSVGAsync\(\)/);
    const svg = await fig.toSVGAsync();
    expect(byClass(parseXML(svg), "line")[0].attrs["data-points"]).toBe("3");
    expect(fig.toSVG()).toBe(svg);
    const failing = figure();
    const broken = gpuLike([1, 2]);
    broken.dataAsync = () => Promise.reject(new Error("disposed"));
    failing.gca().plot(broken);
    await expect(failing.toSVGAsync()).rejects.toThrow(/disposed/);
  });

  it("hist counts like numpy, bars start at zero", () => {
    const fig = figure();
    const { counts, edges } = fig.gca().hist([0, 1, 1, 2, 2, 2, 3, 3, 3, 3], { bins: 4 });
    expect(counts).toEqual([1, 2, 3, 4]);
    expect(edges).toEqual([0, 0.75, 1.5, 2.25, 3]);
    const root = parseXML(fig.toSVG());
    const bars = byClass(root, "bar");
    expect(bars).toHaveLength(4);
    const bottoms = bars.map((b) => Number(b.attrs.y) + Number(b.attrs.height));
    const spine = byClass(root, "spines")[0].attrs;
    for (const b of bottoms) expect(b).toBeCloseTo(Number(spine.y) + Number(spine.height), 1);
  });

  it("imshow embeds a PNG, square pixels, y axis downwards", () => {
    const fig = figure({ figsize: [4, 3] });
    const img = arange(28 * 28).reshape(1, 28, 28);
    fig.gca().imshow(img, { cmap: "gray" }).setTitle("digit").axis("off");
    const root = parseXML(fig.toSVG());
    const im = byClass(root, "image")[0];
    expect(im.attrs["xlink:href"]).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    expect(Number(im.attrs.width)).toBeCloseTo(Number(im.attrs.height), 1);
    expect(byClass(root, "spines")).toHaveLength(0);
  });

  it("escapes text and drops characters XML forbids", () => {
    const fig = figure();
    fig.gca().plot([1, 2]).setTitle('a < b & "c" \u0001').legend();
    const root = parseXML(fig.toSVG());
    expect(textContent(byClass(root, "title")[0])).toBe('a < b & "c" ');
  });

  it("limits, subplot reuse and the 3-digit form", () => {
    const fig = figure();
    const a = fig.subplot(2, 2, 1);
    expect(fig.subplot(221)).toBe(a);
    expect(a).toBeInstanceOf(Axes);
    a.plot([0, 10], [0, 10]).setXlim(0, 5).setYlim([undefined, 20]);
    const xl = findAll(byClass(parseXML(fig.toSVG()), "xticklabels")[0], (e) => e.name === "text").map(
      textContent,
    );
    expect(xl[0]).toBe("0");
    expect(xl[xl.length - 1]).toBe("5");
    expect(() => fig.subplot(2, 2, 5)).toThrow(/index must be an integer/);
  });
});

describe("saving", () => {
  it("writes SVG and HTML atomically (no temporary files left)", async () => {
    const fig = figure();
    fig.gca().plot([1, 3, 2], { label: "中文" }).legend();
    await fig.save(join(dir, "a.svg"));
    await fig.save(join(dir, "a.html"));
    const svg = readFileSync(join(dir, "a.svg"), "utf8");
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    parseXML(svg);
    expect(readFileSync(join(dir, "a.html"), "utf8")).toMatch(/<!doctype html>[\s\S]*<svg[\s\S]*中文/);
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    await expect(fig.save(join(dir, "a.pdf"))).rejects.toThrow(/\.svg, \.html or \.png/);
  });

  it("plt: the stateful pyplot interface ports the seed line by line", async () => {
    plt.figure({ figsize: [10, 6] });
    plt.scatter([1, 2, 3], [2, 4, 6], { alpha: 0.5, label: "数据点" });
    plt.plot([1, 3], [2, 6], "r-", { linewidth: 3, label: "真实" });
    plt.plot([1, 3], [2.1, 5.9], "b--", { linewidth: 3, label: "拟合" });
    plt.xlabel("X");
    plt.ylabel("y");
    plt.title("线性回归拟合结果");
    plt.legend();
    plt.grid(true, { alpha: 0.3 });
    const svg = plt.gcf().toSVG();
    expect(byClass(parseXML(svg), "line").map((l) => l.attrs.stroke)).toEqual(["#ff0000", "#0000ff"]);
    const paths = await plt.show({ dir });
    expect(paths).toHaveLength(1);
    expect(readFileSync(paths[0], "utf8")).toContain("线性回归拟合结果");
  });
});

describe("constant series (issue 13)", () => {
  /** The y tick labels and the line's y pixels of a one-line figure of `ys`. */
  function drawn(ys: number[]) {
    const f = figure();
    f.subplot(1, 1, 1).plot(
      ys.map((_, i) => i),
      ys,
    );
    const svg = f.toSVG();
    const labels = [...svg.matchAll(/<text[^>]*text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1]);
    const d = /<path class="line"[^>]*d="([^"]*)"/.exec(svg)?.[1] ?? "";
    const lineYs = [...d.matchAll(/[ML]\s*[-\d.]+\s+([-\d.]+)/g)].map((m) => Number(m[1]));
    return { labels, lineYs };
  }

  it("draws lr 0.01 at its value, with ticks around it", () => {
    const { labels, lineYs } = drawn([0.01, 0.01, 0.01, 0.01]);
    expect(labels).toContain("0.0100");
    for (const l of labels) expect(Math.abs(Number(l) - 0.01)).toBeLessThan(0.001);
    expect(new Set(lineYs).size).toBe(1);
  });

  it("keeps limits apart and labels distinct for huge and subnormal constants", () => {
    for (const v of [1e308, -3e200, 5e-324]) {
      const { labels, lineYs } = drawn([v, v, v]);
      expect(labels.length, String(v)).toBeGreaterThanOrEqual(3);
      expect(new Set(labels).size, `${v}: ${labels.join(" ")}`).toBe(labels.length);
      expect(lineYs.every(Number.isFinite)).toBe(true);
    }
  });
});
