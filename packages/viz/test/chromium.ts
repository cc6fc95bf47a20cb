/** Headless Chromium for tests: Debian's /usr/bin/chromium driven by playwright-core (never a downloaded browser). */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { CHROMIUM, HEADLESS_ARGS } from "../../../scripts/lib/chromium.mjs";

export { CHROMIUM };

export const haveChromium = existsSync(CHROMIUM);

export interface Browser {
  page: Page;
  close(): Promise<void>;
}

/** A fresh persistent context in a temporary profile directory (removed on close). */
export async function launch(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "cinder-viz-chromium-"));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...HEADLESS_ARGS, "--disable-gpu"],
      viewport: { width: 1000, height: 700 },
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const ctx = context;
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  return {
    page,
    async close() {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Appended to test names: why they are skipped, when they are. */
export const skipNote = haveChromium ? "" : ` (skipped: ${CHROMIUM} not found; apt-get install chromium)`;
