/**
 * Runs under `mpirun -np 2` (see ../mpi.test.ts): every collective of the "mpi" backend against the reference, for
 * every dtype and op and sizes from 1 element to 1 MB (and one 64 MB all-reduce), async handles, argument errors,
 * and a wait that times out. Prints one JSON line per rank: `{ rank, worldSize, checks, failures }`.
 */
import { DistributedError, type ReduceOpName, reduceArrays as reduce } from "@cinder/distributed";
import { MpiBackend, mpiState } from "../../src/index";
import type { MpiArray } from "../../src/native";
import { ARRAY_TYPES, concat, type DTypeName, firstDifference, input } from "./reference";

const backend = new MpiBackend({ timeoutMs: 60_000 });
const { rank, worldSize } = backend;
const ranks = [...Array(worldSize).keys()];
const failures: string[] = [];
let checks = 0;

function check(what: string, got: MpiArray, want: MpiArray): void {
  checks++;
  const i = firstDifference(got, want);
  if (i >= 0)
    failures.push(
      `${what}: element ${i} is ${got[i]}, expected ${want[i]} (length ${got.length}/${want.length})`,
    );
}

function expectThrow(
  what: string,
  f: () => unknown,
  pattern: RegExp,
  type: new (...a: never[]) => Error = Error,
): void {
  checks++;
  try {
    f();
    failures.push(`${what}: did not throw`);
  } catch (e) {
    if (!(e instanceof type) || !pattern.test((e as Error).message))
      failures.push(`${what}: threw ${(e as Error).name}: ${(e as Error).message}`);
  }
}

const FLOAT_OPS: ReduceOpName[] = ["sum", "product", "min", "max", "avg"];
const INT_OPS: ReduceOpName[] = ["sum", "product", "min", "max"];
let salt = 0;

/** Every collective once for `dtype` and `n` elements per rank. */
function collectives(dtype: DTypeName, n: number): void {
  const tag = `${dtype}[${n}]`;
  const mine = (s: number) => input(dtype, n, rank, s);
  const all = (s: number) => ranks.map((r) => input(dtype, n, r, s));
  for (const op of dtype.startsWith("float") ? FLOAT_OPS : INT_OPS) {
    const s = salt++;
    const buf = mine(s);
    backend.allReduce(buf, op).wait();
    check(`allReduce ${op} ${tag}`, buf, reduce(op, all(s)));
  }
  let s = salt++;
  const root = n % worldSize;
  const b = mine(s);
  backend.broadcast(b, root).wait();
  check(`broadcast ${tag}`, b, all(s)[root]);

  s = salt++;
  const gathered = new ARRAY_TYPES[dtype](n * worldSize);
  backend.allGather(gathered, mine(s)).wait();
  check(`allGather ${tag}`, gathered, concat(all(s)));

  // allGather in place: this rank's input already sits at its block of the output
  s = salt++;
  const inPlace = new ARRAY_TYPES[dtype](n * worldSize);
  inPlace.set(mine(s), rank * n);
  backend.allGather(inPlace, inPlace.subarray(rank * n, (rank + 1) * n)).wait();
  check(`allGather in place ${tag}`, inPlace, concat(all(s)));

  s = salt++;
  const op = dtype.startsWith("float") ? "avg" : "sum";
  const out = new ARRAY_TYPES[dtype](n);
  backend.reduceScatter(out, input(dtype, n * worldSize, rank, s), op).wait();
  const reduced = reduce(
    op,
    ranks.map((r) => input(dtype, n * worldSize, r, s)),
  );
  check(`reduceScatter ${op} ${tag}`, out, reduced.slice(rank * n, (rank + 1) * n));

  s = salt++;
  const dst = (n + 1) % worldSize;
  const gOut = rank === dst ? new ARRAY_TYPES[dtype](n * worldSize) : null;
  backend.gather(mine(s), gOut, dst).wait();
  if (gOut) check(`gather ${tag}`, gOut, concat(all(s)));

  s = salt++;
  const src = (n + 1) % worldSize;
  const sOut = new ARRAY_TYPES[dtype](n);
  const full = (r: number) => input(dtype, n * worldSize, r, s);
  backend.scatter(sOut, rank === src ? full(rank) : null, src).wait();
  check(`scatter ${tag}`, sOut, full(src).slice(rank * n, (rank + 1) * n));
}

// CINDER_MPI_TEST_QUICK=1 (the 3-rank run): up to 65,537 elements, no 64 MB
const quick = process.env.CINDER_MPI_TEST_QUICK === "1";
for (const dtype of Object.keys(ARRAY_TYPES) as DTypeName[]) {
  const mb = (1 << 20) / ARRAY_TYPES[dtype].BYTES_PER_ELEMENT;
  for (const n of quick ? [1, 5, 1000, 65_537] : [1, 2, 5, 1000, 65_537, mb]) collectives(dtype, n);
}

// 64 MB once: a float32 all-reduce of 16M elements
if (!quick) {
  const n = 16 << 20;
  const buf = new Float32Array(n);
  for (let i = 0; i < n; i++) buf[i] = (i % 1000) * (rank + 1);
  backend.allReduce(buf, "sum").wait();
  const f = (worldSize * (worldSize + 1)) / 2;
  let bad = -1;
  for (let i = 0; i < n && bad < 0; i++) if (buf[i] !== Math.fround((i % 1000) * f)) bad = i;
  checks++;
  if (bad >= 0) failures.push(`allReduce of 64 MB: element ${bad} is ${buf[bad]}`);
}

// async handles: three collectives in flight; waiting on the last completes all three, in order
{
  const a = input("float32", 4096, rank, 1);
  const b = input("int32", 10, rank, 2);
  const c = new Float64Array(worldSize);
  const works = [
    backend.allReduce(a, "sum"),
    backend.broadcast(b, 0),
    backend.allGather(c, new Float64Array([rank])),
  ];
  works[2].wait();
  checks++;
  if (!works.every((w) => w.isCompleted()))
    failures.push("waiting on the last work did not complete the earlier ones");
  check(
    "async allReduce",
    a,
    reduce(
      "sum",
      ranks.map((r) => input("float32", 4096, r, 1)),
    ),
  );
  check("async broadcast", b, input("int32", 10, 0, 2));
  check("async allGather", c, new Float64Array(ranks));
  const d = new Uint8Array([rank]);
  const w = backend.allReduce(d, "max");
  while (!w.isCompleted()) {} // isCompleted polls MPI, so this loop makes progress
  check("isCompleted polling", d, new Uint8Array([worldSize - 1]));
}

// zero copies: MPI reads and writes the array's own memory, at its offset (a view into a larger buffer, shared too)
{
  const whole = new Float32Array(new SharedArrayBuffer(40)).fill(-1);
  whole.set([rank, rank + 1, rank + 2, rank + 3], 3);
  backend.allReduce(whole.subarray(3, 7), "sum").wait();
  const t = (worldSize * (worldSize - 1)) / 2;
  check(
    "allReduce of a view writes into its buffer",
    whole,
    new Float32Array([-1, -1, -1, t, t + worldSize, t + 2 * worldSize, t + 3 * worldSize, -1, -1, -1]),
  );
}

// the addon keeps a started collective's array alive: dropped by the caller and collected for, it survives until done
{
  const gc = (globalThis as { gc?: () => void }).gc;
  let ref: WeakRef<Float32Array> | undefined;
  const work = (() => {
    const a = new Float32Array(1 << 16).fill(rank + 1);
    ref = new WeakRef(a);
    return backend.allReduce(a, "sum");
  })();
  await new Promise((r) => setTimeout(r, 0)); // (a WeakRef keeps its target alive until the current job ends)
  gc?.();
  checks++;
  if (!gc) failures.push("run this program with node --expose-gc");
  const kept = ref?.deref();
  if (!kept) failures.push("the array of a pending allReduce was collected");
  work.wait();
  if (kept)
    check(
      "the kept array holds the result",
      kept.subarray(0, 2),
      new Float32Array(2).fill((worldSize * (worldSize + 1)) / 2),
    );
}

// argument errors are thrown on the calling rank before anything is started (no rank is left waiting)
{
  expectThrow(
    "mixed dtypes",
    () => backend.allGather(new Float32Array(2 * worldSize), new Int32Array(2)),
    /one dtype, got int32 and float32/,
    TypeError,
  );
  expectThrow(
    "wrong length",
    () => backend.allGather(new Float32Array(3), new Float32Array(2)),
    /must have \d+ elements/,
  );
  expectThrow(
    "not a typed array",
    () => backend.allReduce([1, 2] as unknown as Float32Array, "sum"),
    /must be a Float32Array/,
    TypeError,
  );
  expectThrow(
    "unsupported array",
    () => backend.allReduce(new Int16Array(2) as unknown as Int32Array, "sum"),
    /got a Int16Array/,
    TypeError,
  );
  expectThrow(
    "bad op",
    () => backend.allReduce(new Float32Array(2), "mean" as ReduceOpName),
    /op must be one of/,
    TypeError,
  );
  expectThrow(
    "bad root",
    () => backend.broadcast(new Float32Array(2), worldSize),
    new RegExp(`root must be a rank in \\[0, ${worldSize}\\), got ${worldSize}`),
  );
  const out = new Float32Array(2 * worldSize);
  expectThrow("overlap", () => backend.allGather(out, out.subarray(1, 3)), /must not share memory/);
  checks++;
  if (mpiState().pending !== 0)
    failures.push(`${mpiState().pending} requests pending after the argument errors`);
}

// MPI belongs to the thread that initialized it: the addon refuses calls from a worker thread
{
  const { Worker } = await import("node:worker_threads");
  const addon = new URL("../../build/Release/cinder_mpi.node", import.meta.url).pathname;
  const code = `const { parentPort } = require("node:worker_threads");
    try { require(${JSON.stringify(addon)}).init(); parentPort.postMessage("no error"); }
    catch (e) { parentPort.postMessage(e.message); }`;
  const message = await new Promise((resolve) => new Worker(code, { eval: true }).once("message", resolve));
  checks++;
  if (!/MPI is used by one thread per process/.test(String(message)))
    failures.push(`worker thread: ${message}`);
}

// a wait that times out throws a DistributedError naming the collective and the rank, and leaves the work pending:
// rank 1 joins the barrier only after rank 0 has seen its timeout (rank 0 writes a file when it has)
{
  const flag = `${process.env.CINDER_MPI_TEST_DIR}/timed-out`;
  const { existsSync, writeFileSync } = await import("node:fs");
  if (rank === 0) {
    const work = backend.barrier();
    expectThrow(
      "timeout",
      () => work.wait(200),
      new RegExp(`barrier on rank 0 of ${worldSize} timed out after 200 ms`),
      DistributedError,
    );
    writeFileSync(flag, "");
    work.wait();
  } else {
    while (!existsSync(flag)) await new Promise((r) => setTimeout(r, 20));
    backend.barrier().wait();
  }
}

expectThrow(
  "unknown option",
  () => new MpiBackend({ timeout: 5 } as object),
  /unknown option "timeout" \(expected rank, worldSize, initMethod, timeoutMs\)/,
  TypeError,
);
expectThrow(
  "bad timeout",
  () => new MpiBackend({ timeoutMs: -1 }),
  /option timeoutMs must be a number of milliseconds > 0, got -1/,
  TypeError,
);
backend.destroy();
expectThrow("after destroy", () => backend.barrier(), /was destroyed/, DistributedError);
console.log(JSON.stringify({ rank, worldSize, checks, failures, library: mpiState().library }));
