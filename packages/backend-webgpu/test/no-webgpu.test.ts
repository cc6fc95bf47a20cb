/**
 * `webgpu` (Dawn) is an optional peer dependency: without it, in Node, `initWebGPU()` says which package to install,
 * and the device helpers answer "no WebGPU" instead of failing. The real situation is reproduced in a child process
 * whose module resolver cannot find the package (test/fixtures/hide-webgpu.mjs); the message for an installed
 * package that fails to load is checked through `loadDawn`'s importer.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DeviceError } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { loadDawn } from "../src/device";

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

interface Settled {
  value?: unknown;
  name?: string;
  message?: string;
}

describe("without the webgpu package", () => {
  it("initWebGPU names the package to install; the helpers answer cpu / false / 0", () => {
    const stdout = execFileSync(
      process.execPath,
      [
        "--conditions=@cinder/source",
        "--import",
        "tsx",
        "--import",
        fixture("hide-webgpu.mjs"),
        fixture("without-webgpu.mjs"),
      ],
      { cwd: fileURLToPath(new URL("..", import.meta.url)), encoding: "utf8", timeout: 60_000 },
    );
    const out = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, Settled | string>;
    // the package really is unresolvable there (and the environment has no navigator.gpu to fall back on)
    expect(out.navigatorGpu).toBe("undefined");
    expect((out.import as Settled).message).toMatch(/Cannot find package 'webgpu'/);
    const init = out.init as Settled;
    expect(init.name).toBe("DeviceError");
    expect(init.message).toMatch(/needs the "webgpu" package \(Dawn\).*not installed.*`npm install webgpu`/);
    expect(out.isAvailable).toEqual({ value: false });
    expect(out.deviceCount).toEqual({ value: 0 });
    expect((out.getDeviceName as Settled).message).toMatch(/npm install webgpu/);
    expect(out.bestDevice).toEqual({ value: "cpu" });
  });

  it("a missing package and a broken one get different messages, both naming the package", async () => {
    const missing = Object.assign(
      new Error("Cannot find package 'webgpu' imported from /app/dist/index.js"),
      {
        code: "ERR_MODULE_NOT_FOUND",
      },
    );
    await expect(loadDawn(() => Promise.reject(missing))).rejects.toThrow(
      /needs the "webgpu" package.*not installed: install it with `npm install webgpu`/,
    );
    // vite's wording (vitest, dev servers)
    await expect(
      loadDawn(() => Promise.reject(new Error("Failed to load url webgpu (resolved id: webgpu)"))),
    ).rejects.toThrow(/not installed/);
    // installed, but its binary does not load: the loader's message is kept
    const broken = new Error("libvulkan.so.1: cannot open shared object file");
    const err = await loadDawn(() => Promise.reject(broken)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as Error).message).toMatch(
      /could not load the "webgpu" package.*libvulkan\.so\.1.*npm install webgpu/,
    );
    // a package missing inside webgpu is not "webgpu is not installed"
    const inner = new Error("Cannot find package 'debug' imported from /app/node_modules/webgpu/index.js");
    await expect(loadDawn(() => Promise.reject(inner))).rejects.toThrow(/could not load.*'debug'/);
  });
});
