/**
 * Would worker threads pay off for MNIST? A prototype worker pool (worker_threads; each worker holds its own
 * copy of the images and makes normalized float32 batches, transferred without copying) against the in-thread
 * getBatch, with and without a simulated training step on the main thread.
 *
 *   node --conditions=@cinder/source --import tsx packages/datasets-mnist/bench/workers.ts
 */

import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { cpu } from "@cinder/backend-cpu";
import { DataLoader } from "@cinder/data";
import { fromTypedArray, Generator, registerBackend } from "@cinder/tensor";
import { MNIST, transforms } from "../src/index";

registerBackend(cpu);
const dataDir = fileURLToPath(new URL("../data/", import.meta.url));
const transform = new transforms.Compose([
  new transforms.ToTensor(),
  new transforms.Normalize([0.1307], [0.3081]),
]);
const ds = await MNIST.create({ sample: true, transform });

// The worker: loads the sample itself, then answers { id, indices } with transferred Float32Array/Int32Array.
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const { gunzipSync } = require("node:zlib");
const img = gunzipSync(readFileSync(workerData.dir + "train-images-idx3-ubyte.gz")).subarray(16);
const lab = gunzipSync(readFileSync(workerData.dir + "train-labels-idx1-ubyte.gz")).subarray(8);
const f = Math.fround, m = f(0.1307), s = f(0.3081);
const lut = Float32Array.from({ length: 256 }, (_, v) => f(f(f(v / 255) - m) / s));
parentPort.on("message", ({ id, indices }) => {
  const b = indices.length, x = new Float32Array(b * 784), y = new Int32Array(b);
  for (let k = 0; k < b; k++) {
    const o = indices[k] * 784;
    for (let p = 0; p < 784; p++) x[k * 784 + p] = lut[img[o + p]];
    y[k] = lab[indices[k]];
  }
  parentPort.postMessage({ id, x, y }, [x.buffer, y.buffer]);
});`;

class Pool {
  workers: Worker[];
  pending = new Map<number, (v: { x: Float32Array; y: Int32Array }) => void>();
  next = 0;
  constructor(n: number) {
    this.workers = Array.from({ length: n }, () => {
      const w = new Worker(workerSource, { eval: true, workerData: { dir: dataDir } });
      w.on("message", (m) => {
        this.pending.get(m.id)!(m);
        this.pending.delete(m.id);
      });
      return w;
    });
  }
  request(indices: number[]) {
    const id = this.next++;
    const p = new Promise<{ x: Float32Array; y: Int32Array }>((r) => this.pending.set(id, r));
    this.workers[id % this.workers.length].postMessage({ id, indices });
    return p;
  }
  /** Batches in order, keeping `ahead` requests in flight (PyTorch: prefetch_factor * num_workers). */
  async *batches(lists: number[][], ahead: number) {
    const q: Promise<{ x: Float32Array; y: Int32Array }>[] = [];
    let i = 0;
    while (i < lists.length && q.length < ahead) q.push(this.request(lists[i++]));
    while (q.length) {
      const { x, y } = await q.shift()!;
      if (i < lists.length) q.push(this.request(lists[i++]));
      yield [fromTypedArray(x, [y.length, 1, 28, 28]), fromTypedArray(y)];
    }
  }
  close() {
    return Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Busy main-thread work standing in for a training step. */
function step(ms: number) {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

const batchLists = () => {
  const loader = new DataLoader(ds, { batchSize: 64, shuffle: true, generator: new Generator(0) });
  return [...loader.batchSampler!];
};

/** One epoch; returns ms per batch overall and the ms per batch the loop spent waiting for the loader. */
async function epoch(stepMs: number, make: () => AsyncIterable<unknown>) {
  const t0 = performance.now();
  let n = 0;
  let waiting = 0;
  let t = performance.now();
  for await (const _ of make()) {
    waiting += performance.now() - t;
    n++;
    step(stepMs);
    t = performance.now();
  }
  return { perBatch: (performance.now() - t0) / n, wait: waiting / n };
}

const configs: [string, () => AsyncIterable<unknown>][] = [
  ["in-thread getBatch (for await, prefetch 1)", () => new DataLoader(ds, { batchSize: 64, shuffle: true })],
  ["1 worker thread, 2 batches in flight", () => pools[1].batches(batchLists(), 2)],
  ["2 worker threads, 4 batches in flight", () => pools[2].batches(batchLists(), 4)],
];

console.log(
  `MNIST sample (8,000 images), batch 64, ToTensor + Normalize; ${process.version}, ${(await import("node:os")).availableParallelism()} cores`,
);
console.log("best of 5 interleaved epochs; 'waiting' is main-thread time per batch spent in the loader");
const pools = { 1: new Pool(1), 2: new Pool(2) };
for (const [, make] of configs) await epoch(0, make); // warm-up
for (const stepMs of [0, 1, 5]) {
  const best = configs.map(() => ({ perBatch: Infinity, wait: Infinity }));
  for (let round = 0; round < 5; round++) {
    for (const [i, [, make]] of configs.entries()) {
      const r = await epoch(stepMs, make);
      best[i] = { perBatch: Math.min(best[i].perBatch, r.perBatch), wait: Math.min(best[i].wait, r.wait) };
    }
  }
  configs.forEach(([name], i) => {
    console.log(
      `step ${String(stepMs).padStart(2)} ms  ${name.padEnd(44)} ${best[i].perBatch.toFixed(3)} ms/batch, waiting ${best[i].wait.toFixed(3)} ms`,
    );
  });
}
await Promise.all(Object.values(pools).map((p) => p.close()));
