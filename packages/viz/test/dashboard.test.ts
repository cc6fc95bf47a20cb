/**
 * The live dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core; no browser download) opens the page, the test logs points, the curves must grow.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpu } from "@cinder/backend-cpu";
import { registerBackend, tensor } from "@cinder/tensor";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboard, dashboardFile, type LiveDashboard } from "../src/index";
import { type Browser, haveChromium, launch, skipNote } from "./chromium";

registerBackend(cpu);

const dir = mkdtempSync(join(tmpdir(), "cinder-viz-dash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dashboard server (no browser)", () => {
  it("serves the page, JSON and an event stream; closes cleanly", async () => {
    const dash = await dashboard({ title: "测试 <run>" });
    try {
      expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      dash.log({ step: 0, loss: 2.5, accuracy: 0.1 });
      dash.log({ loss: tensor([1.5]), accuracy: Number.NaN });
      const html = await (await fetch(dash.url)).text();
      expect(html).toContain("<title>测试 &lt;run&gt;</title>");
      expect(html).not.toContain("<run>");
      const data = await (await fetch(new URL("data.json", dash.url))).json();
      expect(data.points).toEqual([
        { step: 0, loss: 2.5, accuracy: 0.1 },
        { step: 1, loss: 1.5, accuracy: null },
      ]);
      const events = await fetch(new URL("events", dash.url));
      expect(events.headers.get("content-type")).toMatch(/text\/event-stream/);
      const reader = events.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toContain('"type":"reset"');
      await reader.cancel();
      expect((await fetch(new URL("nope", dash.url))).status).toBe(404);
    } finally {
      await dash.close();
    }
    expect(() => dash.log({ loss: 1 })).toThrow(/closed/);
  });

  it("dashboardFile rewrites a self-contained HTML file atomically", async () => {
    const path = join(dir, "train.html");
    const dash = await dashboardFile(path, { title: "offline", interval: 20 });
    expect(readFileSync(path, "utf8")).toContain('http-equiv="refresh"');
    for (let i = 0; i < 5; i++) dash.log({ loss: 1 / (i + 1) });
    await new Promise((r) => setTimeout(r, 80));
    expect(readFileSync(path, "utf8")).toContain('"loss":0.2');
    await dash.close();
    const html = readFileSync(path, "utf8");
    expect(html).not.toContain('http-equiv="refresh"');
    expect(html).toContain('"finished":true');
  });
});

describe.skipIf(!haveChromium)(`dashboard in headless Chromium${skipNote}`, () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launch();
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  const pointsOf = (metric: string, series: string) =>
    page
      .locator(`svg[data-metric="${metric}"] path[data-series="${series}"]`)
      .getAttribute("data-points", { timeout: 5000 });

  it("shows live loss and accuracy curves that grow as points are logged", async () => {
    let dash: LiveDashboard | undefined;
    try {
      dash = await dashboard({ title: "MNIST MLP 训练" });
      dash.log({ step: 0, loss: 2.3, accuracy: 0.1, val_loss: 2.4 });
      await page.goto(dash.url);
      await page.waitForSelector("#status[data-state=live]", { timeout: 10_000 });
      expect(await pointsOf("loss", "loss")).toBe("1");
      // train and val losses share one chart; accuracy has its own
      expect(await page.locator('svg[data-metric="loss"] path.series').count()).toBe(2);
      for (let step = 1; step <= 20; step++) {
        dash.log({ step, loss: 2.3 * Math.exp(-step / 6) + 0.05, accuracy: 1 - 0.9 * Math.exp(-step / 5) });
      }
      await page.waitForFunction(
        () =>
          document.querySelector('svg[data-metric="accuracy"] path.series')?.getAttribute("data-points") ===
          "21",
        undefined,
        { timeout: 10_000 },
      );
      expect(await pointsOf("loss", "loss")).toBe("21");
      expect(await pointsOf("loss", "val_loss")).toBe("1");
      const d = await page.locator('svg[data-metric="loss"] path[data-series="loss"]').getAttribute("d");
      expect(d?.match(/[ML]/g)).toHaveLength(21);
      expect(await page.locator("#summary").textContent()).toContain("step 20");
      // the log-scale toggle redraws
      await page.locator('input[data-log="loss"]').check();
      expect(await pointsOf("loss", "loss")).toBe("21");
      const shot = join(dir, "dashboard.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      await dash.close();
      await page.waitForSelector("#status[data-state=finished]", { timeout: 10_000 });
    } finally {
      await dash?.close();
    }
  });

  it("draws metrics named like Object.prototype members and a constant lr at its value (issue 13)", async () => {
    let dash: LiveDashboard | undefined;
    try {
      dash = await dashboard({ title: "hostile names" });
      for (let step = 0; step < 5; step++)
        dash.log({
          step,
          constructor: 1 / (step + 1),
          val_constructor: 2,
          toString: step,
          train_hasOwnProperty: 3,
          lr: 0.01,
        });
      await page.goto(dash.url);
      await page.waitForSelector("#status[data-state=live]", { timeout: 10_000 });
      expect(await pointsOf("constructor", "constructor")).toBe("5");
      expect(await pointsOf("constructor", "val_constructor")).toBe("5");
      expect(await pointsOf("toString", "toString")).toBe("5");
      expect(await pointsOf("hasOwnProperty", "train_hasOwnProperty")).toBe("5");
      expect(await page.locator('input[data-log="constructor"]').isChecked()).toBe(false);
      // the lr line sits on the tick labelled 0.01
      const lr = await page.evaluate(() => {
        const svg = document.querySelector('svg[data-metric="lr"]');
        const tick = [...(svg?.querySelectorAll('text[text-anchor="end"]') ?? [])].find(
          (t) => t.textContent === "0.01",
        );
        const d = svg?.querySelector("path.series")?.getAttribute("d") ?? "";
        return {
          tickY: tick ? Number(tick.getAttribute("y")) - 4 : null,
          lineY: Number(/M[-\d.]+ ([-\d.]+)/.exec(d)?.[1]),
        };
      });
      expect(lr.tickY).not.toBeNull();
      expect(Math.abs(lr.lineY - (lr.tickY as number))).toBeLessThan(1);
      dash.log({ step: 5, constructor: 0.1, lr: 0.01 });
      await page.waitForFunction(
        () =>
          document
            .querySelector('svg[data-metric="constructor"] path[data-series="constructor"]')
            ?.getAttribute("data-points") === "6",
        undefined,
        { timeout: 10_000 },
      );
    } finally {
      await dash?.close();
    }
  });

  it("a page refused by a full dashboard says it is disconnected", async () => {
    let dash: LiveDashboard | undefined;
    try {
      dash = await dashboard({ maxClients: 1 });
      const holder = await fetch(new URL("events", dash.url));
      const reader = holder.body!.getReader();
      await reader.read();
      await page.goto(dash.url);
      await page.waitForSelector("#status[data-state=disconnected]", { timeout: 10_000 });
      await reader.cancel();
    } finally {
      await dash?.close();
    }
  });
});
