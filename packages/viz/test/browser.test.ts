/**
 * viz in a real browser: the package bundled for the browser (no node:fs/node:http at import) draws a figure
 * in a page; saved figures render with real glyphs; the browser's own XML and PNG decoders accept our output.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpu } from "@cinder/backend-cpu";
import { registerBackend, tensor } from "@cinder/tensor";
import { build } from "esbuild";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveImage } from "../src/index";
import { type Browser, haveChromium, launch, skipNote } from "./chromium";
import { seedFigure } from "./seed-figure";

registerBackend(cpu);

const dir = mkdtempSync(join(tmpdir(), "cinder-viz-browser-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The package bundled as a browser would get it: esbuild with platform "browser" fails on node built-ins. */
async function browserBundle(): Promise<string> {
  const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    conditions: ["@cinder/source"],
    logLevel: "silent",
  });
  return out.outputFiles[0].text;
}

it("bundles for the browser without node built-ins", async () => {
  const code = await browserBundle();
  expect(code).not.toMatch(/from\s*["']node:/);
  expect(code).not.toMatch(/require\(["']node:/);
});

describe.skipIf(!haveChromium)(`viz in headless Chromium${skipNote}`, () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launch();
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("draws a figure in a page (figure, toSVG, plt.show appending to the body)", async () => {
    const code = await browserBundle();
    await page.setContent("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>");
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.addScriptTag({
      type: "module",
      content: `${code}
        const fig = figure({ figsize: [6, 4] });
        fig.gca().plot([1, 2, 3], [1, 4, 9], "b--", { label: "平方" }).legend().setTitle("浏览器");
        window.svgText = fig.toSVG();
        plt.figure();
        plt.scatter([1, 2, 3], [3, 2, 1]);
        await plt.show();
        window.done = true;`,
    });
    await page.waitForFunction(() => (window as unknown as { done?: boolean }).done === true, undefined, {
      timeout: 10_000,
    });
    expect(errors).toEqual([]);
    const svgText = await page.evaluate(() => (window as unknown as { svgText: string }).svgText);
    expect(svgText).toContain("浏览器");
    expect(await page.locator("body svg.cinder-figure g.scatter circle").count()).toBe(3);
  });

  it("renders a saved figure and the browser's XML parser accepts the SVG", async () => {
    const path = join(dir, "seed.html");
    const fig = seedFigure();
    await fig.save(path);
    await page.goto(`file://${path}`);
    expect(await page.locator("g.scatter circle").count()).toBe(100);
    const parsed = await page.evaluate((svg) => {
      const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
      return {
        error: doc.querySelector("parsererror")?.textContent ?? null,
        root: doc.documentElement.nodeName,
      };
    }, fig.toSVG());
    expect(parsed).toEqual({ error: null, root: "svg" });
    // the Chinese title has real width: glyphs were found for it
    const width = await page
      .locator("text.title")
      .first()
      .evaluate((t) => (t as SVGTextElement).getBBox().width);
    expect(width).toBeGreaterThan(60);
    await page.screenshot({ path: join(dir, "seed.png") });
  });

  it("decodes image grids written by saveImage (an independent PNG decoder)", async () => {
    const path = join(dir, "grid.png");
    await saveImage(tensor([[[0, 1]], [[0.5, 0.5]]]), path, { nrow: 2, padding: 1 });
    const b64 = readFileSync(path).toString("base64");
    const px = await page.evaluate(async (src) => {
      const img = new Image();
      img.src = `data:image/png;base64,${src}`;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext("2d")!;
      g.drawImage(img, 0, 0);
      return { w: img.width, h: img.height, row: Array.from(g.getImageData(0, 1, img.width, 1).data) };
    }, b64);
    expect([px.w, px.h]).toEqual([7, 3]);
    expect(px.row.filter((_, i) => i % 4 === 0)).toEqual([0, 0, 255, 0, 128, 128, 0]);
  });
});
