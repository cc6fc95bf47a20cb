/** The report's tables, headline and Markdown from a made-up run (no timing, no peers started). */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { markdownTable, type RunRecord, renderMarkdown } from "../src/markdown";
import { type Column, formatTables, headline, type TaskResult, writeFileAtomic } from "../src/report";
import { TASKS } from "../src/tasks";

const task = (id: string) => {
  const t = TASKS.find((x) => x.id === id);
  if (!t) throw new Error(`no task ${id}`);
  return t;
};

const columns: Column[] = [
  { id: "cinder", label: "cinder" },
  { id: "pytorch", label: "pytorch" },
  { id: "pytorch1", label: "pytorch-1t" },
  { id: "jax_wasm", label: "jax-wasm" },
];

const results: TaskResult[] = [
  {
    task: task("add-small"),
    peers: {
      cinder: { samples: [2, 2], median: 2 },
      pytorch: { samples: [1], median: 1 },
      pytorch1: { samples: [0.5], median: 0.5 },
      jax_wasm: { samples: [100], median: 100 },
    },
  },
  {
    task: task("mnist-mlp-e2e"),
    peers: {
      cinder: { samples: [100], median: 100 },
      pytorch: { samples: [20], median: 20 },
      pytorch1: { samples: [40], median: 40 },
      jax_wasm: { samples: [], skipped: "unsupported: the peer has no such workload" },
    },
  },
];

const run: RunRecord = {
  date: "2026-01-02T03:04:05.000Z",
  node: "v20.0.0",
  cpu: "Test CPU",
  cores: 2,
  versions: { PyTorch: "1.13.0" },
  load: { start: 1.5, end: 2.25 },
  seconds: 300,
  options: { quick: false, rounds: 9, sampleMs: 150 },
  columns,
  notes: ["a note"],
  tasks: results,
  headline: {},
};

describe("report", () => {
  it("compares Cinder with the faster PyTorch configuration per row", () => {
    const h = headline(results, columns, { quick: false, adapter: null });
    expect(h.cinder_vs_pytorch_add_small).toBe(0.5);
    expect(h.cinder_vs_pytorch1_add_small).toBe(0.25);
    expect(h.cinder_vs_pytorch_best_add_small).toBe(0.25);
    expect(h.cinder_vs_pytorch_best_mnist_mlp_e2e).toBe(0.2);
    expect(h.cinder_add_small_ops_per_s).toBe(500_000); // 1000 adds in 2 ms
    expect(h.cinder_mnist_mlp_e2e_samples_per_s).toBe(12_800); // 1280 samples in 100 ms
    const text = formatTables(results, columns);
    expect(text).toContain("0.25x (1t)");
    expect(text).toContain("0.20x (2t)");
  });

  it("with a cinder-blas column: its ratio to Cinder, and best PyTorch / cinder-blas per row", () => {
    const blasColumns: Column[] = [...columns, { id: "cinder_blas", label: "cinder-blas" }];
    const blasResults: TaskResult[] = results.map((r) => ({
      ...r,
      peers: { ...r.peers, cinder_blas: { samples: [0.25], median: r.peers.cinder.median! / 4 } },
    }));
    const h = headline(blasResults, blasColumns, { quick: false, adapter: null });
    expect(h.cinder_vs_cinder_blas_add_small).toBe(0.25);
    expect(h.cinder_blas_vs_pytorch_best_add_small).toBe(1); // pytorch-1t 0.5 ms, cinder-blas 0.5 ms
    expect(h.cinder_blas_vs_pytorch_best_mnist_mlp_e2e).toBe(0.8); // pytorch 20 ms, cinder-blas 25 ms
    expect(h.cinder_blas_add_small_ops_per_s).toBe(2_000_000);
    const text = formatTables(blasResults, blasColumns);
    expect(text).toContain("best pytorch / cinder-blas");
    expect(text).toMatch(/1000x a\.add\(b\), 4 f32 .* 0\.25x \(1t\)\s+1\.00x \(1t\)/);
    expect(text).toMatch(/0\.20x \(2t\)\s+0\.80x \(2t\)/);
  });

  it("renders the run as Markdown: machine, date, tables, how to regenerate", () => {
    const md = renderMarkdown(run);
    expect(md).toContain("Test CPU, 2 logical cores; Node v20.0.0; PyTorch 1.13.0");
    expect(md).toContain("2026-01-02");
    expect(md).toContain("| task | pytorch | pytorch-1t | jax-wasm | best pytorch |");
    expect(md).toMatch(/\| 1000x a\.add\(b\), 4 f32 \| 0\.50x \| 0\.25x \| 50\.0x \| 0\.25x \(1t\) \|/);
    expect(md).toMatch(/\| mnist-mlp end to end, 20x64 samples \| 100 ms \| 20\.0 ms \| 40\.0 ms \| n\/a \|/);
    expect(md).toContain("pnpm bench -- --markdown BENCHMARKS.md");
    expect(md).toContain("- a note");
  });

  it("escapes pipes in cells", () => {
    expect(
      markdownTable([
        ["a", "b"],
        ["x|y", ""],
      ]),
    ).toBe("| a | b |\n| --- | ---: |\n| x\\|y |   |");
  });

  it("writes files atomically, leaving no temporary file", () => {
    const dir = mkdtempSync(join(tmpdir(), "cinder-bench-"));
    const file = join(dir, "sub", "B.md");
    writeFileAtomic(file, "one");
    writeFileAtomic(file, "two");
    expect(readFileSync(file, "utf8")).toBe("two");
    expect(readdirSync(join(dir, "sub"))).toEqual(["B.md"]);
    expect(existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
  });
});
