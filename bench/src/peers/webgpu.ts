/**
 * The Cinder-on-WebGPU column: appears when `@cinder/backend-webgpu` loads and `initWebGPU()` finds an adapter.
 * It runs in a child Node process (entry: ../webgpu-worker.ts), so that a crash or hang in
 * Dawn or in the backend costs one column, not the run, and the harness's own process never loads Dawn. The
 * package is imported by a computed specifier, so the harness type-checks and runs before it exists. On
 * SwiftShader (a CPU Vulkan driver, all that CI machines have) the numbers say nothing about GPU speed.
 */
import { fileURLToPath } from "node:url";
import { type Backend, registerBackend, registeredDevices } from "@cinder/tensor";
import { CinderPeer } from "./cinder";
import { RemotePeer } from "./remote";

export interface WebGPUSetup {
  peer?: CinderPeer;
  /** Task ids the column runs. */
  tasks?: string[];
  /** Adapter description, e.g. "SwiftShader driver 5.0.0 (google swiftshader)". */
  adapter?: string;
  /** True on software adapters (SwiftShader, llvmpipe, lavapipe, or a fallback adapter). */
  software?: boolean;
  note: string;
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

const SPEC = "@cinder/backend-webgpu";

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0].slice(0, 200);
}

/** Finds adapter info in whatever initWebGPU() returned (a backend, a device wrapper, an info object). */
function findInfo(x: unknown, depth = 0): AdapterInfoLike | undefined {
  if (!x || typeof x !== "object" || depth > 3) return undefined;
  const o = x as Record<string, unknown>;
  if (typeof o.architecture === "string" || typeof o.description === "string") return o as AdapterInfoLike;
  for (const key of ["adapterInfo", "info", "adapter", "backend", "device"]) {
    const found = findInfo(o[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

function describe(info: AdapterInfoLike | undefined): string {
  if (!info) return "unknown adapter";
  const what = [info.vendor, info.architecture].filter(Boolean).join(" ");
  return (
    [info.description, what && `(${what})`].filter(Boolean).join(" ") || info.device || "unknown adapter"
  );
}

const isBackend = (x: unknown): x is Backend =>
  !!x &&
  typeof x === "object" &&
  (x as Backend).device === "webgpu" &&
  typeof (x as Backend).alloc === "function";

export async function setupWebGPU(): Promise<WebGPUSetup> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ SPEC)) as Record<string, unknown>;
  } catch (e) {
    return { note: `WebGPU column absent: ${SPEC} does not load yet (${message(e)})` };
  }
  if (typeof mod.initWebGPU !== "function")
    return { note: `WebGPU column absent: ${SPEC} has no initWebGPU()` };
  let result: unknown;
  try {
    result = await (mod.initWebGPU as () => Promise<unknown>)();
  } catch (e) {
    return { note: `WebGPU column absent: initWebGPU() failed (${message(e)})` };
  }
  if (result === null || result === undefined || result === false) {
    return { note: "WebGPU column absent: initWebGPU() found no adapter" };
  }
  if (!registeredDevices().includes("webgpu")) {
    const backend = [result, (result as Record<string, unknown>).backend, mod.webgpu].find(isBackend);
    if (!backend) return { note: 'WebGPU column absent: initWebGPU() did not register device "webgpu"' };
    registerBackend(backend);
  }
  const info = findInfo(result) ?? findInfo(mod);
  const adapter = describe(info);
  const software =
    !!info?.isFallbackAdapter ||
    /swiftshader|llvmpipe|lavapipe|software|cpu/i.test(JSON.stringify(info ?? {}));
  const tasks = ["matmul-256", "matmul-1024", "mlp", ...(software ? [] : ["matmul-4096"])];
  const peer = new CinderPeer("webgpu", new Set(tasks));
  const note = software
    ? `cinder-webgpu on ${adapter}: a SOFTWARE adapter (CPU emulation); its numbers say nothing about GPU speed`
    : `cinder-webgpu on ${adapter}`;
  peer.notes.push(note);
  return { peer, tasks, adapter, software, note };
}

/** Starts the WebGPU worker with the harness's Node flags, profiling flags left out. */
export async function createWebGPUPeer(): Promise<{ peer?: RemotePeer; adapter?: string; note?: string }> {
  const flags = process.execArgv.filter((a) => !a.startsWith("--cpu-prof"));
  const peer = await RemotePeer.create({
    id: "cinder_webgpu",
    label: "cinder-webgpu",
    command: process.execPath,
    args: [...flags, fileURLToPath(new URL("../webgpu-worker.ts", import.meta.url))],
    timeoutMs: 180_000,
  });
  if (typeof peer === "string")
    return { note: peer.startsWith("WebGPU") ? peer : `WebGPU column absent: ${peer}` };
  return { peer, adapter: String(peer.info.adapter ?? "unknown adapter") };
}
