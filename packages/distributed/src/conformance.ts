/**
 * The conformance check of a collective backend: every collective, for each array type, on sizes from one element
 * to past a chunk, with every root, in blocking and started-then-waited form, against the reference reductions of
 * `reduce.ts`. Each rank runs it on its own backend instance (all ranks at once: under `cinder-run`, `spawnRanks`
 * or `mpirun -np N`); every rank can compute every rank's input, so each checks its results alone.
 *
 *   const report = runBackendConformance(backend);          // on every rank
 *   if (report.failures.length) throw new Error(report.failures.join("\n"));
 *
 * Inputs are small integers (and halves) whose sums, products and means are exact in every type, so a transport
 * that reduces in another order than rank order (MPI may) still matches exactly. The optional members are checked
 * when the backend has them: `send`/`recv` (a ring both ways, tags, a receive from any rank) and `newGroup` (a
 * subgroup of the even ranks: its ranks, an all-reduce over its members only, null elsewhere).
 */
import type { CollectiveArray, CollectiveBackend, ReduceOpName } from "./backend";
import { REDUCE_OP_NAMES } from "./backend";
import { reduceArrays } from "./reduce";

type Ctor = new (n: number) => CollectiveArray;
const TYPES: [string, Ctor][] = [
  ["float32", Float32Array],
  ["float64", Float64Array],
  ["int32", Int32Array],
  ["uint8", Uint8Array],
];

/** Options of {@link runBackendConformance}. */
export interface ConformanceOptions {
  /** Element counts per rank to try (default 1, 7, 1000 and 600,000, which crosses a 2 MB chunk). */
  sizes?: readonly number[];
}

/** What {@link runBackendConformance} found: the number of checks and a message per failed one. */
export interface ConformanceReport {
  /** The checks that ran. */
  checks: number;
  /** One line per failed check (empty: conforming). */
  failures: string[];
}

/** Rank `rank`'s input of case `seed`: `n` exact small values of the type (positive for uint8). */
export function conformanceInput(
  ctor: Ctor,
  n: number,
  rank: number,
  seed: number,
  forProduct = false,
): CollectiveArray {
  const a = new ctor(n);
  const float = a instanceof Float32Array || a instanceof Float64Array;
  for (let i = 0; i < n; i++) {
    const h = (i * 31 + rank * 17 + seed * 7) % 23;
    if (forProduct) a[i] = (h % 3) + (a instanceof Uint8Array ? 1 : -1);
    else if (a instanceof Uint8Array) a[i] = (h * 11) % 256;
    else a[i] = float ? (h - 11) / 2 : (h - 11) * 1000;
  }
  return a;
}

function firstDifference(got: ArrayLike<number>, want: ArrayLike<number>): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i]) && !(got[i] === 0 && want[i] === 0))
      return `element ${i} is ${got[i]}, expected ${want[i]}`;
  return null;
}

/**
 * Runs the conformance checks on this rank's `backend` (a collective call: every rank must run it). Never throws for
 * a wrong result (it is reported); a backend error or timeout propagates.
 */
export function runBackendConformance(
  backend: CollectiveBackend,
  options: ConformanceOptions = {},
): ConformanceReport {
  const sizes = options.sizes ?? [1, 7, 1000, 600_000];
  const { rank, worldSize: w } = backend;
  const failures: string[] = [];
  let checks = 0;
  let seed = 0;
  const check = (what: string, got: ArrayLike<number>, want: ArrayLike<number>) => {
    checks++;
    const d = firstDifference(got, want);
    if (d !== null) failures.push(`${backend.name} rank ${rank}: ${what}: ${d}`);
  };
  const inputs = (ctor: Ctor, n: number, s: number, product = false) =>
    Array.from({ length: w }, (_, r) => conformanceInput(ctor, n, r, s, product));
  for (const [type, ctor] of TYPES) {
    for (const n of sizes) {
      for (const op of REDUCE_OP_NAMES) {
        if (op === "avg" && !(type === "float32" || type === "float64")) continue;
        const all = inputs(ctor, n, ++seed, op === "product");
        const buf = all[rank].slice();
        const work = backend.allReduce(buf, op as ReduceOpName);
        work.wait();
        check(`allReduce(${type}[${n}], ${op})`, buf, reduceArrays(op, all));
        checks++;
        if (!work.isCompleted())
          failures.push(`${backend.name} rank ${rank}: a waited Work is not completed`);
        const out = new ctor(n);
        backend.reduceScatter(out, segments(ctor, all[rank], n, w), op).wait();
        const segs = Array.from({ length: w }, (_, r) => rotated(ctor, all[r], n, rank));
        check(`reduceScatter(${type}[${n}] per rank, ${op})`, out, reduceArrays(op, segs));
      }
      for (let root = 0; root < w; root++) {
        const all = inputs(ctor, n, ++seed);
        const buf = all[rank].slice();
        backend.broadcast(buf, root).wait();
        check(`broadcast(${type}[${n}], src ${root})`, buf, all[root]);
        const gathered = rank === root ? new ctor(n * w) : null;
        backend.gather(all[rank], gathered, root).wait();
        if (gathered !== null) check(`gather(${type}[${n}], dst ${root})`, gathered, flat(ctor, all));
        const pieces = Array.from({ length: w }, (_, r) => conformanceInput(ctor, n, r, seed + 1000));
        const mine = new ctor(n);
        backend.scatter(mine, rank === root ? flat(ctor, pieces) : null, root).wait();
        check(`scatter(${type}[${n}], src ${root})`, mine, pieces[rank]);
      }
      const all = inputs(ctor, n, ++seed);
      const out = new ctor(n * w);
      backend.allGather(out, all[rank]).wait();
      check(`allGather(${type}[${n}])`, out, flat(ctor, all));
    }
  }
  if (backend.send && backend.recv) checks += pointToPoint(backend, sizes, check);
  if (backend.newGroup) checks += subgroup(backend, check, failures);
  backend.barrier().wait();
  checks++;
  return { checks, failures };
}

type Check = (what: string, got: ArrayLike<number>, want: ArrayLike<number>) => void;

/** `send`/`recv`: every type and size around a ring (both started, then waited), tags, any source. */
function pointToPoint(b: CollectiveBackend, sizes: readonly number[], check: Check): number {
  const send = b.send as NonNullable<CollectiveBackend["send"]>;
  const recv = b.recv as NonNullable<CollectiveBackend["recv"]>;
  const { rank, worldSize: w } = b;
  if (w < 2) return 0;
  const next = (rank + 1) % w;
  const prev = (rank + w - 1) % w;
  let seed = 5000;
  for (const [type, ctor] of TYPES)
    for (const n of sizes) {
      seed++;
      const got = new ctor(n);
      const tagged = new ctor(n);
      // a receive posted before its send, and a second message with another tag received first
      const r1 = recv.call(b, got, prev, 0);
      const r2 = recv.call(b, tagged, next, 3);
      const s1 = send.call(b, conformanceInput(ctor, n, rank, seed), next, 0);
      const s2 = send.call(b, conformanceInput(ctor, n, rank, seed + 1), prev, 3);
      for (const work of [r2, r1, s1, s2]) work.wait();
      check(`send/recv(${type}[${n}]) from rank ${prev}`, got, conformanceInput(ctor, n, prev, seed));
      check(
        `send/recv(${type}[${n}], tag 3) from rank ${next}`,
        tagged,
        conformanceInput(ctor, n, next, seed + 1),
      );
    }
  // every other rank sends rank 0 one message; rank 0 receives them from any rank and learns who sent each
  const from: number[] = [];
  if (rank === 0)
    for (let i = 1; i < w; i++) {
      const got = new Int32Array(3);
      const work = recv.call(b, got, -1, 7);
      work.wait();
      const src = work.sourceRank();
      from.push(src);
      check(`recv from any rank (rank ${src} sent it)`, got, conformanceInput(Int32Array, 3, src, 77));
    }
  else send.call(b, conformanceInput(Int32Array, 3, rank, 77), 0, 7).wait();
  if (rank === 0)
    check(
      "the senders recv from any rank saw",
      from.sort((x, y) => x - y),
      Array.from({ length: w - 1 }, (_, i) => i + 1),
    );
  return TYPES.length * sizes.length * 2 + (rank === 0 ? w : 0);
}

/** `newGroup` of the even ranks: its rank and size, an all-reduce over its members only, null elsewhere. */
function subgroup(b: CollectiveBackend, check: Check, failures: string[]): number {
  const evens = Array.from({ length: Math.ceil(b.worldSize / 2) }, (_, i) => 2 * i);
  const sub = (b.newGroup as NonNullable<CollectiveBackend["newGroup"]>).call(b, evens);
  const member = b.rank % 2 === 0;
  if ((sub !== null) !== member) {
    failures.push(
      `${b.name} rank ${b.rank}: newGroup([${evens}]) returned ${sub === null ? "null" : "a backend"}`,
    );
    return 1;
  }
  if (sub === null) return 1;
  check(`newGroup([${evens}]) rank and worldSize`, [sub.rank, sub.worldSize], [b.rank / 2, evens.length]);
  const all = evens.map((r) => conformanceInput(Float64Array, 100, r, 9000));
  const buf = all[sub.rank].slice();
  sub.allReduce(buf, "sum").wait();
  check(`allReduce(float64[100], sum) in newGroup([${evens}])`, buf, reduceArrays("sum", all));
  sub.barrier().wait();
  sub.destroy();
  return 3;
}

/** A rank's reduceScatter input: `w` segments of `n`, segment `s` its `base` rotated by `s` (so segments differ). */
function segments(ctor: Ctor, base: CollectiveArray, n: number, w: number): CollectiveArray {
  const out = new ctor(w * n);
  for (let s = 0; s < w; s++) out.set(rotated(ctor, base, n, s), s * n);
  return out;
}

/** `base` rotated left by `s`. */
function rotated(ctor: Ctor, base: CollectiveArray, n: number, s: number): CollectiveArray {
  const seg = new ctor(n);
  for (let i = 0; i < n; i++) seg[i] = base[(i + s) % n];
  return seg;
}

function flat(ctor: Ctor, parts: CollectiveArray[]): CollectiveArray {
  const out = new ctor(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
