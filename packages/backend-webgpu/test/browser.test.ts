/**
 * WebGPU in a real page: bundle tensor + backend-webgpu with esbuild, serve it from 127.0.0.1, open it in
 * headless Chromium (SwiftShader adapter) through playwright-core and check the values the page computed.
 * Skips when /usr/bin/chromium is missing (Debian: `apt-get install chromium`); never downloads a browser.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { randomUniform, seedKey } from "@cinder/tensor";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { CHROMIUM, HEADLESS_ARGS, WEBGPU_ARGS } from "../../../scripts/lib/chromium.mjs";

const ARGS = [...HEADLESS_ARGS, ...WEBGPU_ARGS];

async function bundle(): Promise<string> {
  const r = await build({
    entryPoints: [fileURLToPath(new URL("./browser/page.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["@cinder/source"],
    // @cinder/tensor installs its Tensor methods with a side-effect import; keep it despite "sideEffects": false
    ignoreAnnotations: true,
    write: false,
    logLevel: "silent",
  });
  return r.outputFiles[0].text;
}

function serve(js: string): Promise<Server> {
  const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    const isJs = req.url === "/page.js";
    res.writeHead(isJs || req.url === "/" ? 200 : 404, {
      "content-type": isJs ? "text/javascript" : "text/html",
    });
    res.end(isJs ? js : html);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe.skipIf(!existsSync(CHROMIUM))("webgpu in headless Chromium", () => {
  it("runs ops on navigator.gpu and reads them back", async () => {
    const server = await serve(await bundle());
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    try {
      const page = await browser.newPage();
      const logs: string[] = [];
      page.on("console", (m) => logs.push(m.text()));
      page.on("pageerror", (e) => logs.push(e.message));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction(
        () => (window as unknown as { __cinder?: unknown }).__cinder !== undefined,
        null,
        {
          timeout: 120_000,
        },
      );
      const r = (await page.evaluate(() => (window as unknown as { __cinder: unknown }).__cinder)) as Record<
        string,
        unknown
      >;
      expect(r.ok, `page failed: ${r.error}\n${logs.join("\n")}`).toBe(true);
      expect(String(r.adapter).toLowerCase()).toContain("swiftshader");
      expect(r.matmul).toEqual([
        [0, 0],
        [5, 12],
      ]);
      expect(r.sum).toBe(10);
      const e = [1, 2, 3].map((v) => Math.exp(v - 3));
      const s = e.reduce((a, b) => a + b, 0);
      const softmax = r.softmax as number[];
      for (let i = 0; i < 3; i++) expect(softmax[i]).toBeCloseTo(e[i] / s, 6);
      expect(r.argsort).toEqual([1, 2, 0]);
      const key = seedKey(7);
      expect(r.rand).toEqual([0, 1, 2, 3].map((i) => Math.fround(randomUniform(key, i))));
    } finally {
      await browser.close();
      server.close();
    }
  });
});
