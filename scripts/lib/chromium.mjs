// Headless Chromium as the tests launch it: Debian's /usr/bin/chromium (never a downloaded browser, override with
// CINDER_CHROMIUM), the flags every launch shares, and the ones that give WebGPU a SwiftShader adapter.
export const CHROMIUM = process.env.CINDER_CHROMIUM || "/usr/bin/chromium";

/** Headless, no sandbox (root in CI), nothing fetched in the background. */
export const HEADLESS_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

/** WebGPU on SwiftShader, Chromium's CPU Vulkan driver (slow but correct). */
export const WEBGPU_ARGS = [
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-vulkan=swiftshader",
  "--use-webgpu-adapter=swiftshader",
];
