/** Tables for people (plain text and Markdown), one JSON line and a results file for machines. */
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

/** The PyTorch configurations (2 threads, 1 thread): "best PyTorch" is the faster of them on each row. */
export const PYTORCH_COLUMNS = ["pytorch", "pytorch1"] as const;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmtMs = (ms: number) =>
  ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
const fmtRatio = (r: number) => (r >= 10 ? r.toFixed(1) : r.toFixed(2));
const fmtRate = (x: number) =>
  x >= 1e5
    ? `${(x / 1e3).toFixed(0)}k`
    : x >= 1e4
      ? `${(x / 1e3).toFixed(1)}k`
      : x >= 100
        ? x.toFixed(0)
        : x >= 10
          ? x.toFixed(1)
          : x.toFixed(2);

/** The unit of a task's throughput and its value for a median time per iteration. */
export function throughput(task: Task, ms: number): { unit: string; value: number } {
  if (task.flops) return { unit: "GFLOPS", value: (task.flops / ms) * 1e-6 };
  if (task.ops) return { unit: "ops/s", value: (1000 * task.ops) / ms };
  if (task.workload === "e2e" && task.samples)
    return { unit: "samples/s", value: (1000 * task.samples) / ms };
  if (task.samples) return { unit: "steps/s", value: 1000 / ms };
  return { unit: "G elem/s", value: (task.n / ms) * 1e-6 };
}

/** The ratio of `peer` to Cinder's CPU time on one task (> 1: Cinder is faster), if both were timed. */
export function ratio(t: TaskResult, peer: string): number | undefined {
  const c = t.peers.cinder?.median;
  const p = t.peers[peer]?.median;
  return c && p ? p / c : undefined;
}

/** The faster PyTorch configuration on one task (by median), if any was timed. */
export function bestPytorch(t: TaskResult): { id: string; ratio: number } | undefined {
  let best: { id: string; ratio: number } | undefined;
  for (const id of PYTORCH_COLUMNS) {
    const r = ratio(t, id);
    if (r !== undefined && (!best || r < best.ratio)) best = { id, ratio: r };
  }
  return best;
}

/** The column of Cinder's CPU backend with `@cinder/blas` (OpenBLAS's GEMM) enabled. */
export const BLAS_COLUMN = "cinder_blas";

/**
 * Best PyTorch time / Cinder-with-BLAS time on one task (> 1: Cinder with OpenBLAS is faster), the figure issue
 * 11 asks of a Node user's Cinder; the other ratios stay against Cinder's portable (WASM) GEMM.
 */
export function blasVsPytorch(t: TaskResult): { id: string; ratio: number } | undefined {
  const b = t.peers[BLAS_COLUMN]?.median;
  const best = bestPytorch(t);
  const p = best && t.peers[best.id]?.median;
  return b && best && p ? { id: best.id, ratio: p / b } : undefined;
}

function cell(r: PeerResult | undefined): string {
  if (!r) return "-";
  if (r.median !== undefined) return `${r.estimate ? "~" : ""}${fmtMs(r.median)} ms`;
  const why = r.skipped ?? "";
  if (why.startsWith("mismatch")) return "MISMATCH";
  return why.startsWith("error") ? "error" : why.startsWith("unsupported") ? "n/a" : "-";
}

/** The three tables as rows of cells (first row: the heading): times, ratios, throughput. */
export function tableRows(
  results: readonly TaskResult[],
  columns: readonly Column[],
): { times: string[][]; ratios: string[][]; rates: string[][] } {
  const peers = columns.filter((c) => c.id !== "cinder");
  const withBest = PYTORCH_COLUMNS.every((id) => columns.some((c) => c.id === id));
  const times = [["task", ...columns.map((c) => c.label)]];
  const withBlas = withBest && columns.some((c) => c.id === BLAS_COLUMN);
  const ratios = [
    [
      "task",
      ...peers.map((c) => c.label),
      ...(withBest ? ["best pytorch"] : []),
      ...(withBlas ? ["best pytorch / cinder-blas"] : []),
    ],
  ];
  const rates = [["task", "unit", ...columns.map((c) => c.label)]];
  for (const t of results) {
    const name =
      t.peers.cinder?.mismatch !== undefined && t.peers.cinder.mismatch > 1
        ? `${t.task.title} (!)`
        : t.task.title;
    const approx = (id: string) => (t.peers[id]?.estimate || t.peers.cinder?.estimate ? "~" : "");
    times.push([name, ...columns.map((c) => cell(t.peers[c.id]))]);
    const row = [
      name,
      ...peers.map((c) => {
        const r = ratio(t, c.id);
        if (r === undefined) return cell(t.peers[c.id]).replace(/.* ms$/, "-");
        return `${approx(c.id)}${fmtRatio(r)}x`;
      }),
    ];
    if (withBest) {
      const b = bestPytorch(t);
      row.push(b ? `${approx(b.id)}${fmtRatio(b.ratio)}x (${b.id === "pytorch1" ? "1t" : "2t"})` : "-");
    }
    if (withBlas) {
      const b = blasVsPytorch(t);
      const approxBlas = b && (t.peers[b.id]?.estimate || t.peers[BLAS_COLUMN]?.estimate) ? "~" : "";
      row.push(b ? `${approxBlas}${fmtRatio(b.ratio)}x (${b.id === "pytorch1" ? "1t" : "2t"})` : "-");
    }
    ratios.push(row);
    const unit = throughput(t.task, 1).unit;
    rates.push([
      name,
      unit,
      ...columns.map((c) => {
        const m = t.peers[c.id]?.median;
        return m === undefined ? "" : `${approx(c.id)}${fmtRate(throughput(t.task, m).value)}`;
      }),
    ]);
  }
  return { times, ratios, rates };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "))
    .join("\n");
}

export const RATIO_HEADING =
  "Peer time / Cinder (CPU) time  (> 1: Cinder is faster; < 1: the peer is faster)";

export function formatTables(results: readonly TaskResult[], columns: readonly Column[]): string {
  const { times, ratios, rates } = tableRows(results, columns);
  return [
    "Median time per iteration:",
    table(times),
    "",
    `${RATIO_HEADING}:`,
    table(ratios),
    "",
    "Throughput (from the medians):",
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

/**
 * The one-line summary: ratios peer/Cinder per task (and against the faster PyTorch configuration), Cinder's own
 * throughput, the WebGPU adapter.
 */
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
    const best = bestPytorch(t);
    if (best) out[`cinder_vs_pytorch_best_${key}`] = round3(best.ratio);
    const blas = blasVsPytorch(t);
    if (blas) out[`cinder_blas_vs_pytorch_best_${key}`] = round3(blas.ratio);
    for (const id of ["cinder", BLAS_COLUMN, "cinder_webgpu"]) {
      const m = t.peers[id]?.median;
      if (m === undefined) continue;
      const { unit, value } = throughput(t.task, m);
      if (unit === "GFLOPS") out[`${id}_${key}_gflops`] = round3(value);
      else if (unit === "ops/s") out[`${id}_${key}_ops_per_s`] = Math.round(value);
      else if (unit === "samples/s") out[`${id}_${key}_samples_per_s`] = Math.round(value);
      else if (unit === "steps/s") out[`${id}_${key}s_per_s`] = round3(value);
      else out[`${id}_${key}_ms`] = round3(m);
    }
    if (t.peers.cinder?.mismatch !== undefined && t.peers.cinder.mismatch > 1)
      out[`check_failed_${key}`] = true;
  }
  out.adapter = extra.adapter;
  return out;
}

/** Writes `text` to `file` atomically (a temporary file in the same directory, then rename). */
export function writeFileAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export const writeJsonAtomic = (file: string, data: unknown): void =>
  writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`);
