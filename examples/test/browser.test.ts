/**
 * The browser MNIST page (examples/browser/), end to end: `node examples/browser/build.mjs` bundles it with
 * esbuild, `node examples/browser/serve.mjs` serves it from 127.0.0.1, and headless Chromium (SwiftShader, a CPU
 * Vulkan driver, as the WebGPU adapter) trains SimpleNet for 60 steps through playwright-core. Skips when
 * /usr/bin/chromium is missing (Debian: `apt-get install chromium`); never downloads a browser.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, HEADLESS_ARGS, WEBGPU_ARGS } from "../../scripts/lib/chromium.mjs";
import type { CinderPageResult } from "../browser/main";

const ARGS = [...HEADLESS_ARGS, ...WEBGPU_ARGS];
const STEPS = 60; // SwiftShader is slow
const dir = fileURLToPath(new URL("../browser/", import.meta.url));

/** Start serve.mjs (without its build) and read the URL it prints. */
function startServer(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [`${dir}serve.mjs`, "--no-build"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const fail = (why: string) => reject(new Error(`serve.mjs ${why}:\n${out}`));
    proc.stdout!.on("data", (d) => {
      out += d;
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) resolve({ proc, url: m[1] });
    });
    proc.stderr!.on("data", (d) => {
      out += d;
    });
    proc.on("exit", (code) => fail(`exited with code ${code}`));
    setTimeout(() => fail("printed no URL within 10 s"), 10_000);
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.skipIf(!existsSync(CHROMIUM))("the MNIST page in headless Chromium", () => {
  let server: { proc: ChildProcess; url: string } | undefined;

  beforeAll(async () => {
    execFileSync(process.execPath, [`${dir}build.mjs`], { stdio: "pipe" });
    server = await startServer();
  }, 60_000);

  afterAll(() => {
    server?.proc.kill();
  });

  it(`trains ${STEPS} steps on webgpu: the loss falls and the test accuracy is computed`, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    try {
      const page = await browser.newPage();
      const logs: string[] = [];
      page.on("console", (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
      page.on("pageerror", (e) => logs.push(`[pageerror] ${e.message}`));
      const start = performance.now();
      await page.goto(`${server!.url}?steps=${STEPS}`);
      await page.waitForFunction(
        () => (window as unknown as { __cinder?: { done: boolean } }).__cinder?.done === true,
        null,
        { timeout: 85_000, polling: 250 },
      );
      const r = (await page.evaluate(
        () => (window as unknown as { __cinder: unknown }).__cinder,
      )) as CinderPageResult;
      const seconds = (performance.now() - start) / 1000;
      const status = await page.textContent("#status");
      console.log(
        `[browser] ${r.steps} steps in ${r.trainSeconds.toFixed(1)} s (page ${seconds.toFixed(1)} s) on ${r.adapter}; ` +
          `loss ${r.losses[0]?.toFixed(3)} -> ${r.losses.at(-1)?.toFixed(3)}; test accuracy ${r.testAccuracy}`,
      );

      expect(r.error, `the page failed: ${r.error}\n${logs.join("\n")}`).toBeNull();
      expect(r.methods, "Tensor methods installed in the bundle").toBe(true);
      expect(r.device).toBe("webgpu");
      expect(r.adapter.toLowerCase()).toContain("swiftshader");
      expect(r.steps).toBe(STEPS);
      expect(r.losses).toHaveLength(STEPS);
      expect(r.losses.every(Number.isFinite)).toBe(true);
      expect(mean(r.losses.slice(-10))).toBeLessThan(mean(r.losses.slice(0, 10)));
      expect(r.testAccuracy).toBeGreaterThan(0.1); // better than chance after 60 steps (typically ~0.8)
      expect(r.testAccuracy).toBeLessThanOrEqual(1);
      expect(status).toMatch(/^done: 60 steps/);
      // the loss curve was drawn by @cinder/viz
      expect(await page.locator("#curve svg").count()).toBe(1);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it("falls back to the CPU when the browser has no WebGPU adapter (bestDevice)", async () => {
    // no WebGPU flags: plain headless Chromium has no adapter here
    const args = [...HEADLESS_ARGS, "--disable-gpu"];
    const browser = await chromium.launch({ executablePath: CHROMIUM, args, headless: true });
    try {
      const page = await browser.newPage();
      await page.goto(`${server!.url}?steps=10`);
      await page.waitForFunction(
        () => (window as unknown as { __cinder?: { done: boolean } }).__cinder?.done === true,
        null,
        { timeout: 60_000, polling: 250 },
      );
      const r = (await page.evaluate(
        () => (window as unknown as { __cinder: unknown }).__cinder,
      )) as CinderPageResult;
      expect(r.error).toBeNull();
      expect(r.device).toBe("cpu");
      expect(r.steps).toBe(10);
      expect(r.losses.every(Number.isFinite)).toBe(true);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
