/** Tables for people, one JSON line and a results file for machines. */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Task } from "./tasks";

/** What happened to one peer on one task. */
export interface PeerResult {
  /** Mean ms per iteration of each round's sample, in round order. */
  samples: number[];
  median?: number;
  iters?: number;
  /** Guard result: worst scaled difference from the reference (<= 1 passes). */
  mismatch?: number;
  /** Why there is no timing (unsupported, guard failure, error). */
  skipped?: string;
  /** Set when the median is a rough estimate (a single slow iteration). */
  estimate?: string;
}

export interface TaskResult {
  task: Task;
  /** Peer whose output the guard compared against, and the instance it ran. */
  reference?: string;
  checked?: string;
  peers: Record<string, PeerResult>;
}

export interface Column {
  id: string;
  label: string;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmtMs = (ms: number) =>
  ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
const fmtRatio = (r: number) => (r >= 10 ? r.toFixed(1) : r.toFixed(2));

/** Throughput of one median time: GFLOPS, steps/s and samples/s, or elements/s. */
export function throughput(task: Task, ms: number): string {
  if (task.flops) return `${((task.flops / ms) * 1e-6).toFixed(1)} GFLOPS`;
  if (task.samples)
    return `${(1000 / ms).toFixed(1)} steps/s, ${((1000 * task.samples) / ms).toFixed(0)} samples/s`;
  return `${((task.n / ms) * 1e-6).toFixed(2)} G elem/s`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "))
    .join("\n");
}

/** The ratio of `peer` to Cinder's CPU time on one task (> 1: Cinder is faster), if both were timed. */
export function ratio(t: TaskResult, peer: string): number | undefined {
  const c = t.peers.cinder?.median;
  const p = t.peers[peer]?.median;
  return c && p ? p / c : undefined;
}

function cell(r: PeerResult | undefined): string {
  if (!r) return "-";
  if (r.median !== undefined) return `${r.estimate ? "~" : ""}${fmtMs(r.median)} ms`;
  const why = r.skipped ?? "";
  if (why.startsWith("mismatch")) return "MISMATCH";
  return why.startsWith("error") ? "error" : why.startsWith("unsupported") ? "n/a" : "-";
}

export function formatTables(results: readonly TaskResult[], columns: readonly Column[]): string {
  const head = ["task", ...columns.map((c) => c.label)];
  const times = [head];
  const ratios = [["task", ...columns.filter((c) => c.id !== "cinder").map((c) => c.label)]];
  const rates: string[][] = [];
  for (const t of results) {
    const name =
      t.peers.cinder?.mismatch !== undefined && t.peers.cinder.mismatch > 1
        ? `${t.task.title} (!)`
        : t.task.title;
    times.push([name, ...columns.map((c) => cell(t.peers[c.id]))]);
    ratios.push([
      name,
      ...columns
        .filter((c) => c.id !== "cinder")
        .map((c) => {
          const r = ratio(t, c.id);
          if (r === undefined) return cell(t.peers[c.id]).replace(/.* ms$/, "-");
          return `${t.peers[c.id]?.estimate || t.peers.cinder?.estimate ? "~" : ""}${fmtRatio(r)}x`;
        }),
    ]);
    for (const c of columns) {
      const m = t.peers[c.id]?.median;
      if (m !== undefined) rates.push([`  ${t.task.title}`, c.label, throughput(t.task, m)]);
    }
  }
  return [
    "Median time per iteration:",
    table(times),
    "",
    "Peer time / Cinder (CPU) time  (> 1: Cinder is faster; < 1: the peer is faster):",
    table(ratios),
    "",
    "Throughput:",
    table(rates),
  ].join("\n");
}

const KEYS: Record<string, string> = {
  "matmul-256": "matmul_256",
  "matmul-1024": "matmul_1024",
  "matmul-4096": "matmul_4096",
  "elementwise-1m": "elementwise",
  mlp: "mlp_step",
  cnn: "cnn_step",
};

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The one-line summary: ratios peer/Cinder per task, Cinder's own throughput, the WebGPU adapter. */
export function headline(
  results: readonly TaskResult[],
  columns: readonly Column[],
  extra: { quick: boolean; adapter: string | null },
): Record<string, unknown> {
  const out: Record<string, unknown> = { bench: "cpu", quick: extra.quick };
  for (const t of results) {
    const key = KEYS[t.task.id] ?? t.task.id.replace(/\W/g, "_");
    for (const c of columns) {
      if (c.id === "cinder" || c.id === "cinder_webgpu") continue;
      const r = ratio(t, c.id);
      if (r !== undefined) out[`cinder_vs_${c.id}_${key}`] = round3(r);
    }
    for (const id of ["cinder", "cinder_webgpu"]) {
      const m = t.peers[id]?.median;
      if (m === undefined) continue;
      if (t.task.flops) out[`${id}_${key}_gflops`] = round3((t.task.flops / m) * 1e-6);
      else if (t.task.samples) out[`${id}_${key}s_per_s`] = round3(1000 / m);
      else out[`${id}_${key}_ms`] = round3(m);
    }
    if (t.peers.cinder?.mismatch !== undefined && t.peers.cinder.mismatch > 1)
      out[`check_failed_${key}`] = true;
  }
  out.adapter = extra.adapter;
  return out;
}

/** Writes `data` as JSON to `file` atomically (a temporary file in the same directory, then rename). */
export function writeJsonAtomic(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, file);
}
