/**
 * `@cinder/onnx` in headless Chromium: a page (bundled with esbuild from `browser-page.ts`) traces a small CNN with
 * `jit.trace`, writes it with `toBytes()` (no file system there), reads it back with `jit.load`, and compares the
 * outputs; it also loads a PyTorch export from bytes. Skips when /usr/bin/chromium is missing; never downloads.
 */
import { existsSync, readFileSync } from "node:fs";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { CHROMIUM, HEADLESS_ARGS } from "../../../scripts/lib/chromium.mjs";

describe.skipIf(!existsSync(CHROMIUM))("@cinder/onnx in headless Chromium", () => {
  it("jit.trace -> toBytes -> jit.load gives the model's outputs; a PyTorch export loads from bytes", async () => {
    const bundle = await build({
      entryPoints: [new URL("./browser-page.ts", import.meta.url).pathname],
      bundle: true,
      format: "esm",
      platform: "browser",
      conditions: ["@cinder/source"],
      write: false,
      logLevel: "silent",
    });
    const code = bundle.outputFiles[0].text;
    const fixture = [...readFileSync(new URL("fixtures/mlp.onnx", import.meta.url))];
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...HEADLESS_ARGS],
      headless: true,
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.setContent("<!doctype html><title>onnx</title>");
      await page.evaluate((bytes) => {
        (window as unknown as { __fixture: number[] }).__fixture = bytes;
      }, fixture);
      await page.addScriptTag({ content: code, type: "module" });
      await page.waitForFunction(() => "__onnx" in window, null, { timeout: 30_000, polling: 100 });
      const r = (await page.evaluate(() => (window as unknown as { __onnx: unknown }).__onnx)) as {
        error: string | null;
        tracedVsModel: number;
        loadedVsModel: number;
        graph: string;
        pytorchShape: number[];
      };
      expect(r.error, `${r.error}\n${errors.join("\n")}`).toBeNull();
      expect(r.tracedVsModel).toBeLessThan(1e-5);
      expect(r.loadedVsModel).toBeLessThan(1e-5);
      expect(r.graph).toContain("aten::conv2d");
      expect(r.pytorchShape).toEqual([3, 10]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
