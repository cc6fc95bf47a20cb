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
