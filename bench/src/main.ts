/**
 * Cinder's benchmark harness: Cinder side by side with PyTorch, TensorFlow.js (cpu, wasm), jax-js (wasm) and,
 * when its backend loads, Cinder on WebGPU, interleaved in one run (A, B, C, A, B, C, ...; median of each),
 * because these machines are noisy and absolute times drift. Ratios are peer time / Cinder time.
 *
 * Run through `pnpm bench [-- flags]` (scripts/bench.mjs sets up Node and the Vulkan driver); --help lists flags.
 */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cpu, getNumThreads } from "@cinder/backend-cpu";
import { registerBackend, registeredDevices } from "@cinder/tensor";
import { type RunRecord, renderMarkdown } from "./markdown";
import type { Peer, Prepared } from "./peer";
import { CinderPeer, createBlasPeer } from "./peers/cinder";
import {
  type Column,
  formatTables,
  headline,
  median,
  type PeerResult,
  type TaskResult,
  writeFileAtomic,
  writeJsonAtomic,
} from "./report";
import { checkTask, makeInputs, mismatch, TASKS, type Task, tolerance } from "./tasks";

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH = join(HERE, "..");
const MIN_ROUNDS = 3;
const PEER_IDS = ["cinder_blas", "pytorch", "pytorch1", "tfjs_cpu", "tfjs_wasm", "jax_wasm", "webgpu"];
const WORKLOADS = [...new Set(TASKS.map((t) => t.workload))];
/** Why a peer has no cell on a task it does not support (one note per task lists them). */
const NOT_RUN = "unsupported: the peer has no such workload";

const USAGE = `Usage: pnpm bench [-- options]

  --only <list>     tasks to run, by id or workload, comma separated (repeatable):
                    ${TASKS.map((t) => t.id).join(", ")};
                    workloads: ${WORKLOADS.join(", ")}
  --quick           short run (< ~2 min): fewer rounds, shorter samples, no cnn rows
  --rounds <n>      interleaved rounds per task (default 9; 5 with --quick; at most 5 for the cnn rows)
  --sample-ms <ms>  target duration of one sample (default 150; 40 with --quick)
  --warmup-ms <ms>  warm-up time per peer and task before calibration (default 2000; 300 with --quick)
  --peers <list>    peers beside Cinder (default all): ${PEER_IDS.join(", ")}, or none
                    (cinder_blas: Cinder with @cinder/blas's OpenBLAS GEMM; pytorch: 2 threads;
                    pytorch1: 1 thread)
  --skip-check      skip the correctness guard
  --out <file>      results file (default bench/results/latest.json)
  --markdown <file> also write the tables, machine and date as Markdown (e.g. BENCHMARKS.md), atomically
  --from <file>     with --markdown: render that results file (e.g. bench/results/latest.json); no timing
  --list            list the tasks and exit
  -h, --help        this text
`;

class UsageError extends Error {}

function parse() {
  const { values } = parseArgs({
    options: {
      only: { type: "string", multiple: true },
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      "sample-ms": { type: "string" },
      "warmup-ms": { type: "string" },
      peers: { type: "string" },
      "skip-check": { type: "boolean", default: false },
      out: { type: "string" },
      markdown: { type: "string" },
      from: { type: "string" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  });
  const num = (s: string | undefined, what: string, dflt: number) => {
    if (s === undefined) return dflt;
    const n = Number(s);
    if (!(n > 0)) throw new UsageError(`--${what} expects a positive number, got "${s}"`);
    return n;
  };
  const only = values.only?.flatMap((s) => s.split(",")).filter(Boolean);
  const peers = values.peers === "none" ? [] : values.peers?.split(",").filter(Boolean);
  for (const p of peers ?? []) {
    if (!PEER_IDS.includes(p))
      throw new UsageError(`--peers: unknown peer "${p}" (known: ${PEER_IDS.join(", ")})`);
  }
  return {
    only,
    quick: values.quick,
    rounds: Math.round(num(values.rounds, "rounds", values.quick ? 5 : 9)),
    sampleMs: num(values["sample-ms"], "sample-ms", values.quick ? 40 : 150),
    warmupMs: num(values["warmup-ms"], "warmup-ms", values.quick ? 300 : 2000),
    peers: new Set(peers ?? PEER_IDS),
    check: !values["skip-check"],
    out: values.out ?? join(BENCH, "results", "latest.json"),
    // pnpm runs scripts from the package's directory; INIT_CWD is where `pnpm bench` was typed.
    markdown: values.markdown && resolve(process.env.INIT_CWD ?? process.cwd(), values.markdown),
    from: values.from && resolve(process.env.INIT_CWD ?? process.cwd(), values.from),
    list: values.list,
    help: values.help,
  };
}
type Options = ReturnType<typeof parse>;

function selectTasks(o: Options): Task[] {
  if (o.only) {
    const unknown = o.only.filter((s) => !TASKS.some((t) => t.id === s || t.workload === s));
    if (unknown.length) throw new UsageError(`--only: unknown task "${unknown[0]}" (--list shows them)`);
    return TASKS.filter((t) => o.only?.some((s) => s === t.id || s === t.workload));
  }
  return TASKS.filter((t) => !(o.quick && t.heavy));
}

const log = (s: string) => process.stderr.write(`${s}\n`);

/** The commit the sources are at, and whether the library's sources (packages/) differ from it. */
function revision(): { commit?: string; dirty?: boolean } {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: BENCH, encoding: "utf8" }).trim();
    return {
      commit: git("rev-parse", "--short", "HEAD"),
      dirty: git("status", "--porcelain", "--", "../packages") !== "",
    };
  } catch {
    return {};
  }
}

/** The CPU model: /proc/cpuinfo's "model name" (Linux), else what Node reports. */
function cpuName(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown CPU";
}
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 300);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

interface Started {
  peers: Peer[];
  notes: string[];
  adapter: string | null;
  /** Framework versions, for BENCHMARKS.md. */
  versions: Record<string, string>;
}

async function startPeers(o: Options): Promise<Started> {
  const notes: string[] = [];
  const versions: Record<string, string> = {};
  const peers: Peer[] = [new CinderPeer("cpu")];
  const add = (p: Peer | string, id: string) => {
    if (typeof p === "string") notes.push(`${id} skipped: ${p}`);
    else peers.push(p);
  };
  if (o.peers.has("cinder_blas")) add(await createBlasPeer(), "cinder-blas");
  // Peers load lazily: a run without them (e.g. profiling Cinder alone) never loads tfjs or jax-js.
  for (const threads of [2, 1] as const) {
    const id = threads === 1 ? "pytorch1" : "pytorch";
    if (!o.peers.has(id)) continue;
    const { createPytorchPeer } = await import("./peers/pytorch");
    const p = await createPytorchPeer(join(BENCH, "pytorch_bench.py"), threads);
    if (typeof p !== "string" && p.info.torch) versions.PyTorch = String(p.info.torch);
    add(p, id);
  }
  if (o.peers.has("tfjs_cpu") || o.peers.has("tfjs_wasm")) {
    const { TfjsPeer, TFJS_VERSION } = await import("./peers/tfjs");
    versions["TensorFlow.js"] = TFJS_VERSION;
    for (const b of ["cpu", "wasm"] as const)
      if (o.peers.has(`tfjs_${b}`)) add(await TfjsPeer.create(b), `tfjs-${b}`);
  }
  if (o.peers.has("jax_wasm")) {
    const { JaxPeer, JAX_VERSION } = await import("./peers/jax");
    versions["jax-js"] = JAX_VERSION;
    add(await JaxPeer.create().catch((e) => errMsg(e)), "jax-wasm");
  }
  let adapter: string | null = null;
  if (o.peers.has("webgpu")) {
    const { createWebGPUPeer } = await import("./peers/webgpu");
    const w = await createWebGPUPeer();
    if (w.peer) {
      peers.push(w.peer);
      adapter = w.adapter ?? null;
    } else if (w.note) notes.push(w.note);
  }
  return { peers, notes, adapter, versions };
}

/** The guard: every peer runs the small instance; each is compared with PyTorch's result (else Cinder's). */
async function guard(task: Task, peers: readonly Peer[], result: TaskResult): Promise<void> {
  const small = checkTask(task);
  const inputs = makeInputs(small);
  const outs = new Map<string, Float32Array>();
  for (const p of peers) {
    try {
      outs.set(p.id, await p.check(small, inputs));
    } catch (e) {
      const m = errMsg(e);
      const unsupported = /not registered for backend|not supported|not implemented/i.test(m);
      result.peers[p.id] = {
        samples: [],
        skipped: `${unsupported ? "unsupported" : "error in check"}: ${m}`,
      };
    }
  }
  const ref = outs.has("pytorch") ? "pytorch" : "cinder";
  const want = outs.get(ref);
  if (!want) return;
  result.reference = ref;
  result.checked = small.id;
  const [atol, rtol] = tolerance(task);
  for (const [id, got] of outs) {
    if (id === ref) continue;
    const m = mismatch(got, want, atol, rtol);
    const r: PeerResult = { samples: [], mismatch: m };
    result.peers[id] = r;
    if (m > 1) {
      const detail =
        got.length <= 4
          ? ` (got ${[...got].map((v) => v.toPrecision(7))}, ${ref} ${[...want].map((v) => v.toPrecision(7))})`
          : "";
      log(`  guard: ${id} differs from ${ref} on ${small.id}: ${m.toFixed(2)}x the tolerance${detail}`);
      // Cinder is still timed (the table marks the task); a peer that computes something else is not.
      if (id !== "cinder") r.skipped = `mismatch ${m.toFixed(2)}x tolerance`;
    }
  }
}

/**
 * Runs a peer for about `warmupMs` before it is calibrated and sampled, so every peer is measured in its steady
 * state: a JIT-compiled JavaScript library (Cinder, tfjs, jax-js) takes hundreds of small training steps to reach
 * it (Cinder's MLP step: ~2.3 ms over its first 200 steps, ~0.8 ms after 1,000), while PyTorch starts there.
 * Iterations run in batches of ~100 ms; returns the last batch's time per iteration.
 */
async function warmUp(prep: Prepared, once: number, warmupMs: number): Promise<number> {
  let spent = once;
  let per = once;
  while (spent < warmupMs) {
    const iters = Math.max(
      1,
      Math.min(10_000, Math.round(Math.min(100, warmupMs - spent) / Math.max(per, 1e-3))),
    );
    per = await prep.run(iters);
    spent += per * iters;
  }
  return per;
}

async function runTask(task: Task, peers: readonly Peer[], o: Options): Promise<TaskResult> {
  const result: TaskResult = { task, peers: {} };
  const mine = peers.filter((p) => p.supports(task));
  if (!task.gpuOnly) {
    for (const p of peers) if (!mine.includes(p)) result.peers[p.id] = { samples: [], skipped: NOT_RUN };
  }
  if (o.check) await guard(task, mine, result);
  const inputs = makeInputs(task);
  const timed: { peer: Peer; prep: Prepared; iters: number }[] = [];
  const maxIterMs = (o.quick ? 1 : 15) * 1000;
  for (const peer of mine) {
    result.peers[peer.id] ??= { samples: [] };
    const r = result.peers[peer.id];
    if (r.skipped) continue;
    try {
      const prep = await peer.prepare(task, inputs);
      let once = await prep.run(1); // warm-up: JIT, compilation, first allocations
      let what = "the warm-up iteration";
      if (once > maxIterMs && !o.quick && once <= 2 * maxIterMs) {
        once = await prep.run(1); // the warm-up may have been mostly compilation
        what = "one iteration after warm-up";
      }
      if (once > maxIterMs) {
        // Too slow for rounds: that one iteration stands as an estimate, marked as such.
        r.samples.push(once);
        r.median = once;
        r.iters = 1;
        r.estimate = `${what} only (${(once / 1000).toFixed(1)} s; the limit for rounds is ${maxIterMs / 1000} s)`;
        await prep.dispose();
        continue;
      }
      once = await warmUp(prep, once, o.warmupMs);
      if (once < o.sampleMs) once = Math.min(await prep.run(1), await prep.run(1));
      const iters = Math.max(1, Math.min(100_000, Math.round(o.sampleMs / Math.max(once, 1e-3))));
      timed.push({ peer, prep, iters });
      r.iters = iters;
    } catch (e) {
      r.skipped = `error: ${errMsg(e)}`;
      log(`  ${peer.label}: ${r.skipped}`);
    }
  }
  // Every peer gets at least MIN_ROUNDS samples; a slow one stops after that once it has used its budget.
  const rounds = task.heavy ? Math.min(o.rounds, 5) : o.rounds;
  const budgetMs = (o.quick ? 4 : 20) * 1000;
  for (let round = 0; round < rounds; round++) {
    for (const t of timed) {
      const r = result.peers[t.peer.id];
      if (r.skipped) continue;
      const spent = r.samples.reduce((a, b) => a + b, 0) * t.iters;
      if (round >= MIN_ROUNDS && spent > budgetMs) continue;
      gc();
      try {
        r.samples.push(await t.prep.run(t.iters));
      } catch (e) {
        r.skipped = `error: ${errMsg(e)}`;
        log(`  ${t.peer.label}: ${r.skipped}`);
      }
    }
  }
  for (const t of timed) {
    const r = result.peers[t.peer.id];
    if (!r.skipped && r.samples.length) r.median = median(r.samples);
    await t.prep.dispose();
  }
  return result;
}

async function main(): Promise<void> {
  const o = parse();
  if (o.help) return void process.stdout.write(USAGE);
  if (o.list) {
    for (const t of TASKS)
      process.stdout.write(
        `${t.id.padEnd(16)} ${t.title}${t.heavy ? " (not in --quick)" : ""}${t.gpuOnly ? " (WebGPU on a real GPU only)" : ""}\n`,
      );
    return;
  }
  if (o.from) {
    if (!o.markdown) throw new UsageError("--from needs --markdown <file>");
    writeFileAtomic(o.markdown, renderMarkdown(JSON.parse(readFileSync(o.from, "utf8")) as RunRecord));
    log(`wrote ${o.markdown} from ${o.from}`);
    return;
  }
  if (!registeredDevices().includes("cpu")) registerBackend(cpu);
  const t0 = performance.now();
  const loadStart = loadavg()[0];
  const tasks = selectTasks(o);
  const { peers, notes, adapter, versions } = await startPeers(o);
  const columns = peers.map((p) => ({ id: p.id, label: p.label }) satisfies Column);
  log(
    `peers: ${columns.map((c) => c.label).join(", ")}; ${o.rounds} rounds, ~${o.sampleMs} ms samples, ~${o.warmupMs} ms warm-up`,
  );
  const results: TaskResult[] = [];
  try {
    for (const task of tasks) {
      if (!peers.some((p) => p.supports(task))) continue;
      const t1 = performance.now();
      log(`${task.id}: ${task.title}`);
      results.push(await runTask(task, peers, o));
      log(`  ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    }
  } finally {
    for (const p of peers) await p.close?.();
  }
  const allNotes = [...peers.flatMap((p) => p.notes), ...notes];
  for (const r of results) {
    const agreed = Object.entries(r.peers).filter(([, pr]) => pr.mismatch !== undefined && pr.mismatch <= 1);
    if (
      r.reference &&
      agreed.length + Object.values(r.peers).filter((pr) => pr.mismatch !== undefined).length
    ) {
      const list = agreed.map(([id, pr]) => `${id} ${(pr.mismatch ?? 0).toFixed(2)}`).join(", ");
      allNotes.push(
        `${r.task.id}: guard (${r.checked}) vs ${r.reference}, worst error / tolerance: ${list || "none"}`,
      );
    }
    for (const [id, pr] of Object.entries(r.peers)) {
      if (pr.skipped && pr.skipped !== NOT_RUN) allNotes.push(`${r.task.id}: ${id} ${pr.skipped}`);
      if (pr.estimate) allNotes.push(`${r.task.id}: ${id} ${pr.estimate}`);
    }
    const notRun = Object.keys(r.peers).filter((id) => r.peers[id].skipped === NOT_RUN);
    if (notRun.length) allNotes.push(`${r.task.id}: not run on ${notRun.join(", ")} (see bench/README.md)`);
  }
  const cpuModel = cpuName();
  allNotes.push(
    `${cpus().length} cores (${cpuModel}); Cinder splits large float32 matrix products over ${getNumThreads()} threads (elementwise single-threaded); the JS peers run single-threaded; PyTorch uses its threads`,
    "training steps read the loss every step (loss.item()), as the seeds' loop does",
  );
  const line = headline(results, columns, { quick: o.quick, adapter });
  process.stdout.write(
    `\n${formatTables(results, columns)}\n\nNotes:\n${allNotes.map((n) => `  - ${n}`).join("\n")}\n`,
  );
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`\ntotal ${seconds.toFixed(1)} s\n`);
  const record: RunRecord = {
    date: new Date().toISOString(),
    node: process.version,
    ...revision(),
    cpu: cpuModel,
    cores: cpus().length,
    versions,
    load: { start: loadStart, end: loadavg()[0] },
    seconds,
    options: { ...o, peers: [...o.peers] },
    columns,
    notes: allNotes,
    tasks: results,
    headline: line,
  };
  writeJsonAtomic(o.out, record);
  if (o.markdown) {
    writeFileAtomic(o.markdown, renderMarkdown(record));
    log(`wrote ${o.markdown}`);
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    const usage = e instanceof UsageError || (e as { code?: string })?.code?.startsWith("ERR_PARSE_ARGS");
    log(usage ? `bench: ${(e as Error).message} (--help lists the options)` : `bench: ${e?.stack ?? e}`);
    process.exit(usage ? 2 : 1);
  },
);
