/**
 * Environment for running Dawn (the `webgpu` package) on SwiftShader, the CPU Vulkan driver that Debian's
 * chromium package ships, on machines without a GPU.
 *
 * - VK_ICD_FILENAMES points the Vulkan loader at SwiftShader (read when Dawn creates its instance, so it may be
 *   set inside the process before `initWebGPU()`).
 * - When no system libvulkan.so.1 exists (Debian package libvulkan1), chromium's private copy is used through
 *   LD_LIBRARY_PATH, which the dynamic loader reads only at process start: it takes effect in child processes
 *   (vitest's forked workers, or `node scripts/webgpu/run.mjs <cmd>`), not in the current one.
 *
 * Nothing is changed when the variables are already set or chromium is not installed.
 */
import { existsSync } from "node:fs";

export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
const CHROMIUM_LIB = "/usr/lib/chromium";

function systemHasVulkanLoader() {
  return [
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
  ].some((d) => existsSync(`${d}/libvulkan.so.1`));
}

/** Apply the SwiftShader environment to `env` (default process.env); returns what was set. */
export function applySwiftShaderEnv(env = process.env) {
  const set = {};
  if (process.platform !== "linux" || !existsSync(SWIFTSHADER_ICD)) return set;
  if (!env.VK_ICD_FILENAMES) set.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  if (!systemHasVulkanLoader() && existsSync(`${CHROMIUM_LIB}/libvulkan.so.1`)) {
    const cur = env.LD_LIBRARY_PATH ?? "";
    if (!cur.split(":").includes(CHROMIUM_LIB))
      set.LD_LIBRARY_PATH = cur ? `${CHROMIUM_LIB}:${cur}` : CHROMIUM_LIB;
  }
  Object.assign(env, set);
  return set;
}
