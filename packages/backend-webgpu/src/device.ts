/**
 * Finding a GPU: `navigator.gpu` in browsers, Dawn (the `webgpu` npm package, imported lazily) in Node.
 * Nothing here runs at import time.
 */
import { DeviceError } from "@cinder/tensor";

/**
 * What the adapter reports about itself (`GPUAdapterInfo`'s fields); `describeAdapter()` turns it into one
 * line.
 */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface AcquireOptions {
  /** A GPU object to use instead of detecting one (e.g. `create([...])` from "webgpu" with your own flags). */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Flags for Dawn's `create(flags)` in Node, e.g. ["backend=vulkan"]. */
  dawnFlags?: string[];
}

/** Where Debian's chromium package keeps SwiftShader, a CPU Vulkan driver that gives an adapter without a GPU. */
export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

type NodeProcess = {
  versions?: { node?: string };
  env: Record<string, string | undefined>;
  platform: string;
};

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

function hint(): string {
  const proc = nodeProcess();
  if (!proc) {
    return (
      "navigator.gpu exists but no adapter was found: enable WebGPU in the browser (Chrome/Edge 113+; on Linux start " +
      "Chromium with --enable-unsafe-webgpu --enable-features=Vulkan, or --use-webgpu-adapter=swiftshader without a GPU)"
    );
  }
  if (proc.platform === "linux") {
    return (
      "on Linux without a GPU install a software Vulkan driver: `apt-get install chromium libvulkan1` (SwiftShader) " +
      `and run with VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (if libvulkan1 is missing, LD_LIBRARY_PATH=/usr/lib/chromium ` +
      "must be set before node starts); or `apt-get install mesa-vulkan-drivers libvulkan1` (lavapipe)"
    );
  }
  return "install or update the GPU driver (Vulkan, Metal or Direct3D 12)";
}

/** What Dawn's `webgpu` package exports (the part used here). */
export interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/** How the `webgpu` package is loaded: a dynamic import that bundlers leave alone (tests replace it). */
export type DawnImporter = () => Promise<DawnModule>;

const importDawn: DawnImporter = () => {
  const modName = "webgpu";
  return import(/* @vite-ignore */ modName);
};

/** The install hint, shared by every message about the missing package. */
export const INSTALL_WEBGPU =
  "install it with `npm install webgpu` (or `pnpm add webgpu`, `yarn add webgpu`)";

/** The import failed because the package itself is not installed (not because something inside it failed). */
function isMissingPackage(e: unknown): boolean {
  const message = String((e as { message?: unknown } | null)?.message ?? e);
  return /Cannot find (?:package|module) ['"]webgpu['"]|Failed to (?:resolve|load url) ['"]?webgpu\b/.test(
    message,
  );
}

/**
 * Load Dawn. The `webgpu` package is an optional peer dependency of @cinder/backend-webgpu (132 MB of binaries
 * for every platform, needed only in Node), so a missing one is an expected situation with a message that says
 * what to install.
 */
export async function loadDawn(importer: DawnImporter = importDawn): Promise<DawnModule> {
  try {
    return await importer();
  } catch (e) {
    if (isMissingPackage(e)) {
      throw new DeviceError(
        'WebGPU in Node needs the "webgpu" package (Dawn), an optional peer dependency of @cinder/backend-webgpu ' +
          `that is not installed: ${INSTALL_WEBGPU}. Without it, use the "cpu" device (\`await bestDevice()\` picks it)`,
      );
    }
    throw new DeviceError(
      `could not load the "webgpu" package (Dawn for Node): ${(e as Error).message}. Reinstall it for this ` +
        `platform: ${INSTALL_WEBGPU}`,
    );
  }
}

/** The GPU object of this environment: `options.gpu`, `navigator.gpu`, or Dawn's in Node. */
export async function findGpu(options: AcquireOptions, importer?: DawnImporter): Promise<GPU> {
  if (options.gpu) return options.gpu;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const proc = nodeProcess();
  if (!proc) {
    throw new DeviceError(
      "WebGPU is not available in this browser (navigator.gpu is undefined): use Chrome/Edge 113+ or Safari 18+, " +
        "serve the page over https or localhost, and enable WebGPU if it is behind a flag",
    );
  }
  const mod = await loadDawn(importer);
  // Dawn's classes (GPUBufferUsage, ...) as globals, as in a browser; never overwrite existing ones.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return mod.create(options.dawnFlags ?? []);
}

/** The message when `requestAdapter()` finds nothing, with what to install or enable here. */
export function noAdapterMessage(): string {
  return `no WebGPU adapter found: ${hint()}`;
}

/** An adapter's description, with empty strings for what it does not say. */
export function adapterInfo(adapter: GPUAdapter): AdapterInfo {
  const i = adapter.info;
  return {
    vendor: i?.vendor ?? "",
    architecture: i?.architecture ?? "",
    device: i?.device ?? "",
    description: i?.description ?? "",
  };
}

/**
 * Request an adapter and a device. The returned `gpu` must stay referenced as long as the device is used:
 * Dawn for Node tears its instance down (under the device's feet) when the object from `create()` is
 * garbage collected.
 */
export async function acquireDevice(
  options: AcquireOptions,
): Promise<{ gpu: GPU; device: GPUDevice; adapter: GPUAdapter; info: AdapterInfo }> {
  const gpu = await findGpu(options);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) throw new DeviceError(noAdapterMessage());
  const lim = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
    },
  });
  return { gpu, device, adapter, info: adapterInfo(adapter) };
}

/** One line naming the adapter, e.g. "google swiftshader (SwiftShader driver 5.0.0)". */
export function describeAdapter(info: AdapterInfo): string {
  const name = [info.vendor, info.architecture, info.device].filter(Boolean).join(" ") || "unknown adapter";
  return info.description ? `${name} (${info.description})` : name;
}
