/**
 * Tensor collectives checked on every rank against references each rank computes itself (every rank can make
 * every rank's input): each dtype, sizes from 1 element past a chunk, contiguous and transposed (non-contiguous)
 * tensors, blocking and `asyncOp`. Returns the failures; also the failure programs of the error tests.
 */
import { cpu } from "@cinder/backend-cpu";
import type { DType, Tensor } from "@cinder/tensor";
import * as torch from "@cinder/tensor";
import * as dist from "../src/index";
import { staging } from "../src/staging";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

const DTYPES: DType[] = [
  "float32",
  "float64",
  "int32",
  "int16",
  "int8",
  "uint8",
  "bool",
  "float16",
  "bfloat16",
];

/** Rank r's input: [rows, cols] values that differ by rank, element and seed (small, exact in every dtype). */
function input(dtype: DType, rows: number, cols: number, r: number, seed: number): Tensor {
  const v = torch
    .arange(rows * cols, { dtype: "int32" })
    .mul(7 + seed)
    .add(r * 5 + seed)
    .remainder(dtype === "bool" ? 2 : 9);
  const signed = dtype === "uint8" || dtype === "bool" ? v : v.sub(4);
  return signed.to(dtype).reshape(rows, cols);
}

/** The reference reduction of `ts` (rank order). */
function reduce(op: string, ts: Tensor[]): Tensor {
  if (ts[0].dtype === "bool") {
    const any = op === "sum" || op === "max";
    return ts.reduce((a, b) => (any ? a.logicalOr(b) : a.logicalAnd(b)));
  }
  const f = (a: Tensor, b: Tensor): Tensor =>
    op === "product"
      ? a.mul(b)
      : op === "min"
        ? torch.minimum(a, b)
        : op === "max"
          ? torch.maximum(a, b)
          : a.add(b);
  const s = ts.reduce(f).to(ts[0].dtype);
  return op === "avg" ? s.div(ts.length).to(ts[0].dtype) : s;
}

function same(a: Tensor, b: Tensor): boolean {
  return a.dtype === b.dtype && torch.equal(a.contiguous(), b.contiguous());
}

/** Every collective on every dtype and size; returns a list of failures (empty: all good). */
export async function collectives(data: { sizes: [number, number][]; direct?: boolean }): Promise<string[]> {
  // direct: false runs everything through copies (the fallback of the zero-copy staging), for comparison
  staging.useDirect = data.direct !== false;
  await dist.initProcessGroup("threads", { timeout: 60_000 });
  const rank = dist.getRank();
  const w = dist.getWorldSize();
  const fails: string[] = [];
  const check = (what: string, got: Tensor, want: Tensor) => {
    if (!same(got, want))
      fails.push(
        `rank ${rank} ${what}: got ${got.toString().slice(0, 200)} want ${want.toString().slice(0, 200)}`,
      );
  };
  let seed = 0;
  for (const dtype of DTYPES)
    for (const [rows, cols] of data.sizes)
      for (const transposed of [false, true]) {
        const tag = `${dtype}[${rows}x${cols}]${transposed ? ".T" : ""}`;
        const make = (r: number, s: number) => {
          const t = input(dtype, rows, cols, r, s);
          return transposed ? t.T.contiguous().T : t; // same values, column-major strides
        };
        for (const op of ["sum", "product", "min", "max", "avg"]) {
          if (op === "avg" && !dtype.startsWith("float")) continue;
          const seeds = Array.from({ length: w }, () => ++seed);
          const all = seeds.map((s, r) => make(r, s));
          const view = make(rank, seeds[rank]); // reduced in place (transposed: written back through its strides)
          const work = dist.allReduce(view, op as never, { asyncOp: op === "max" }) as dist.Work | undefined;
          if (op === "max") {
            (work as dist.Work).wait();
            if (!(work as dist.Work).isCompleted()) fails.push("a waited Work is not completed");
          }
          check(`allReduce ${op} ${tag}`, view, reduce(op, all));
        }
        const all = Array.from({ length: w }, (_, r) => make(r, ++seed));
        const red = all[rank].clone();
        dist.reduce(red, 1, "max");
        check(`reduce max to rank 1 ${tag}`, red, rank === 1 ? reduce("max", all) : all[rank]);
        const b = make(rank, seed);
        dist.broadcast(b, w - 1);
        check(`broadcast ${tag}`, b, all[w - 1]);
        const list = Array.from({ length: w }, () => torch.zeros([rows, cols], { dtype }));
        dist.allGather(list, all[rank]);
        for (const [r, t] of list.entries()) check(`allGather[${r}] ${tag}`, t, all[r]);
        const out = torch.zeros([rows, cols], { dtype }).T.contiguous().T;
        const inputs = Array.from({ length: w }, (_, s) => make(rank, 100 + s));
        dist.reduceScatter(out, inputs, "sum");
        check(
          `reduceScatter ${tag}`,
          out,
          reduce(
            "sum",
            Array.from({ length: w }, (_, r) => make(r, 100 + rank)),
          ),
        );
        const gl = rank === 0 ? Array.from({ length: w }, () => torch.zeros([rows, cols], { dtype })) : null;
        dist.gather(all[rank], gl, 0);
        for (const [r, t] of (gl ?? []).entries()) check(`gather[${r}] ${tag}`, t, all[r]);
        const sc = make(rank, 999);
        dist.scatter(sc, rank === 0 ? Array.from({ length: w }, (_, r) => make(r, 500)) : null, 0);
        check(`scatter ${tag}`, sc, make(rank, 500));
      }
  dist.barrier();
  dist.destroyProcessGroup();
  if (staging.direct > 0 !== staging.useDirect)
    fails.push(
      `rank ${rank}: ${staging.direct} tensors went without copies (useDirect ${staging.useDirect})`,
    );
  return fails;
}

/** One all-reduce of `mb` megabytes of float32 (the big size): returns whether the result is right. */
export async function big(data: { mb: number }): Promise<boolean> {
  await dist.initProcessGroup("threads", { timeout: 120_000 });
  const n = (data.mb * 1024 * 1024) / 4;
  const rank = dist.getRank();
  const t = torch.full([n], rank + 1, { dtype: "float32" });
  dist.allReduce(t);
  const d = t.data() as Float32Array;
  const w = dist.getWorldSize();
  const want = (w * (w + 1)) / 2;
  let ok = d.length === n;
  for (let i = 0; i < n && ok; i += 4099) ok = d[i] === want;
  ok &&= d[n - 1] === want;
  dist.destroyProcessGroup();
  return ok;
}

/** Rank 1 throws before its first collective; rank 0 all-reduces. */
export async function throws(): Promise<void> {
  await dist.initProcessGroup("threads", { timeout: 20_000 });
  if (dist.getRank() === 1) throw new Error("boom in rank 1");
  dist.allReduce(torch.ones([4]));
}

/** Rank 1 is late (3 s, far past the skew of worker start-ups); rank 0's collective has a 300 ms timeout. */
export async function late(): Promise<void> {
  await dist.initProcessGroup("threads", { timeout: 300 });
  if (dist.getRank() === 1) await new Promise((r) => setTimeout(r, 3000));
  dist.allReduce(torch.ones([4]));
}

/** The ranks disagree on the collective's size. */
export async function mismatch(): Promise<void> {
  await dist.initProcessGroup("threads", { timeout: 20_000 });
  dist.allReduce(torch.ones([dist.getRank() === 0 ? 10 : 20]));
}

/** Rank 1 returns without joining rank 0's all-reduce. */
export async function early(): Promise<void> {
  await dist.initProcessGroup("threads", { timeout: 20_000 });
  if (dist.getRank() === 1) return;
  dist.allReduce(torch.ones([4]));
}
