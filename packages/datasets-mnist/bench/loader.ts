/**
 * DataLoader throughput over the shipped MNIST sample (8,000 train digits), batch 64, ToTensor + Normalize:
 * the dataset's getBatch fast path (one gather, batch transforms) against collating 64 per-item tensors.
 *
 *   node --conditions=@cinder/source --import tsx packages/datasets-mnist/bench/loader.ts
 */
import { cpu } from "@cinder/backend-cpu";
import { DataLoader } from "@cinder/data";
import { Generator, registerBackend } from "@cinder/tensor";
import { MNIST, transforms } from "../src/index";

registerBackend(cpu);

const transform = new transforms.Compose([
  new transforms.ToTensor(),
  new transforms.Normalize([0.1307], [0.3081]),
]);
const ds = await MNIST.create({ sample: true, transform });
const itemsOnly = { length: ds.length, getItem: (i: number) => ds.getItem(i) }; // no getBatch: per-item collate

async function measure(name: string, loader: DataLoader<any, any>, mode: "sync" | "async", minMs = 1500) {
  const epoch = async () => {
    let n = 0;
    if (mode === "sync") for (const _ of loader) n++;
    else for await (const _ of loader) n++;
    // let finalizers run: a program that never yields to the event loop keeps CPU tensors alive (see README)
    await new Promise((resolve) => setImmediate(resolve));
    return n;
  };
  await epoch(); // warm-up
  let batches = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) batches += await epoch();
  const ms = performance.now() - t0;
  const rate = (batches / ms) * 1000;
  console.log(
    `${name.padEnd(48)} ${rate.toFixed(0).padStart(6)} batches/s  ${(1000 / rate).toFixed(3)} ms/batch  ${((rate * 64) / 1000).toFixed(0).padStart(4)}k images/s`,
  );
  return rate;
}

const opts = { batchSize: 64, shuffle: true, generator: new Generator(0) };
console.log(
  `MNIST sample, ${ds.length} train images, batch 64, shuffle, ToTensor + Normalize; Node ${process.version}`,
);
const fast = await measure(
  "getBatch (one gather + batch transforms), sync",
  new DataLoader(ds, opts),
  "sync",
);
await measure("getBatch, for await (prefetch 1)", new DataLoader(ds, opts), "async");
const slow = await measure(
  "per-item getItem + defaultCollate (stack), sync",
  new DataLoader(itemsOnly, opts),
  "sync",
);
await measure("per-item getItem + defaultCollate, for await", new DataLoader(itemsOnly, opts), "async");
const raw = await MNIST.create({ sample: true });
await measure("getBatch without transforms (uint8 [64, 28, 28]), sync", new DataLoader(raw, opts), "sync");
console.log(`getBatch / per-item: ${(fast / slow).toFixed(1)}x`);
