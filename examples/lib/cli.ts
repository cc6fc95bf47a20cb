/** Shared bits of the example scripts: flags and the closing JSON line. */
import { parseArgs } from "node:util";

export interface CommonFlags {
  device: string;
  seed?: number;
}

/** Parse `--device`, `--seed` and the example's own flags (strings; convert at the call site). */
export function flags<T extends Record<string, { type: "string" | "boolean"; default?: string | boolean }>>(
  extra: T,
): {
  values: { device: string; seed?: string } & {
    [K in keyof T]: T[K]["type"] extends "boolean" ? boolean : string;
  };
} {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: { device: { type: "string", default: "cpu" }, seed: { type: "string" }, ...extra },
    allowPositionals: false,
  });
  return { values: values as never };
}

/** Print the example's one-line JSON summary (always the last line of output). */
export function report(fields: Record<string, unknown>): void {
  console.log(JSON.stringify(fields));
}

/** Round for the summary line. */
export const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** `--gemm`: the CPU backend's GEMM for float products. */
export const GEMM_CHOICES = ["auto", "openblas", "wasm"] as const;

/**
 * Pick the CPU backend's GEMM and return which one runs, for the JSON line: "openblas" (`@cinder/blas`, the system's
 * OpenBLAS, PyTorch's GEMM; required with `--gemm openblas`) or "wasm" (Cinder's own WASM SIMD GEMM, which runs
 * everywhere). `auto` takes OpenBLAS when it loads, unless `CINDER_BLAS=0`, and otherwise says why on stderr.
 */
export async function useGemm(choice: string): Promise<"openblas" | "wasm"> {
  if (!(GEMM_CHOICES as readonly string[]).includes(choice))
    throw new Error(`--gemm must be ${GEMM_CHOICES.join(", ")}; got "${choice}"`);
  if (choice === "wasm" || (choice === "auto" && process.env.CINDER_BLAS === "0")) return "wasm";
  try {
    const blas = await import("@cinder/blas");
    blas.enable();
    return "openblas";
  } catch (e) {
    if (choice === "openblas") throw e;
    process.stderr.write(`gemm: Cinder's WASM GEMM (${(e as Error).message.split("\n")[0]})\n`);
    return "wasm";
  }
}

/**
 * Make `device` usable: "cpu" is always there; "webgpu" is initialised here (in Node through Dawn). On Linux
 * without a GPU driver, Dawn is pointed at SwiftShader, the CPU Vulkan driver in Debian's chromium package.
 */
export async function useDevice(device: string): Promise<string> {
  if (!device.startsWith("webgpu")) return "cpu";
  const { initWebGPU, SWIFTSHADER_ICD } = await import("@cinder/backend-webgpu");
  try {
    return (await initWebGPU()).adapter.description || "webgpu";
  } catch (e) {
    const { existsSync } = await import("node:fs");
    if (process.env.VK_ICD_FILENAMES || !existsSync(SWIFTSHADER_ICD)) throw e;
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const gpu = await initWebGPU();
    console.log(`no GPU adapter found; using SwiftShader (${gpu.adapter.description}), a CPU Vulkan driver`);
    return gpu.adapter.description || "webgpu";
  }
}
