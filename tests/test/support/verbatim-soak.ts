/**
 * The seeds' five-step training loop written verbatim (no `tidy`, no `dispose`: `zeroGrad`, forward, loss,
 * `backward`, `step`, the loss read every step) as a soak, sampling memory every `every` steps. Used by the soak
 * tests (short runs) and `scripts/soak.mjs` (10,000 steps on the cpu, 2,000 on webgpu).
 *
 * At each sample it records what `memory()` reports mid-run, then collects garbage (a full collection and the
 * event-loop turns that let finalisers run) and records what `memory()` reports then ("settled") beside what is
 * really held: the ArrayBuffers of the process (cpu storage is plain TypedArrays) and the GPU pool's live buffers.
 */
import "@cinder/autograd";
import * as nn from "@cinder/nn";
import * as optim from "@cinder/optim";
import * as torch from "@cinder/tensor";
import { collectGarbage } from "./gc";

/** What the GPU pool reports (`webgpuMemory()`), when the soak runs on webgpu. */
export interface GpuCounts {
  buffersLive: number;
  bytesLive: number;
  reclaims: number;
}

/** Options of a soak run. */
export interface SoakOptions {
  device: string;
  steps: number;
  /** Sample every this many steps. */
  every: number;
  batch?: number;
  features?: number;
  hidden?: number;
  /** The GPU pool's counts (`webgpuMemory`), for a webgpu run. */
  gpu?: () => GpuCounts;
  /**
   * The CPU's WebAssembly heap (`heapStats` of @cinder/backend-cpu), for a cpu run: storage there is not in the
   * ArrayBuffers.
   */
  heap?: () => { storageBytes: number; liveBytes: number; freeBytes: number };
}

/** One sample of a soak run. */
export interface SoakSample {
  step: number;
  loss: number;
  /** `memory()` mid-run, as a program sees it without collecting garbage. */
  live: torch.MemoryInfo;
  /** `process.memoryUsage()` mid-run, before the collection (bytes). */
  liveUsage: { arrayBuffers: number; heapUsed: number; rss: number };
  /** `memory()` after a full collection and the finalisers. */
  settled: torch.MemoryInfo;
  /** `process.memoryUsage()` after the collection (bytes). */
  arrayBuffers: number;
  /** What the CPU buffer pool holds then (`bufferPoolStats().bytesHeld`): ArrayBuffers no storage counts. */
  pooled: number;
  /**
   * The CPU's WebAssembly heap then: bytes of its storage arrays, of its live blocks (storage rounded to size classes,
   * and kernels' scratch) and of its free blocks.
   */
  heap: { storageBytes: number; liveBytes: number; freeBytes: number };
  heapUsed: number;
  rss: number;
  /** The GPU pool at its largest since the previous sample, read after every step (webgpu only). */
  gpu?: GpuCounts;
}

/** Run the verbatim loop and return its samples (the first after `every` steps). */
export async function verbatimSoak(o: SoakOptions): Promise<SoakSample[]> {
  const { device, steps, every, batch = 64, features = 784, hidden = 128 } = o;
  torch.manualSeed(0);
  const batches = torch.tidy(() =>
    Array.from({ length: 16 }, () => {
      const x = torch.randn([batch, features]);
      return [x, x.at(":", "0:10").argmax({ dim: 1 })] as const;
    }),
  );
  const model = new nn.Sequential(
    new nn.Linear(features, hidden),
    new nn.ReLU(),
    new nn.Linear(hidden, 10),
  ).to(device);
  const criterion = new nn.CrossEntropyLoss();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const samples: SoakSample[] = [];
  let gpu: GpuCounts | undefined;
  for (let step = 1; step <= steps; step++) {
    const [x, y] = batches[step % batches.length];
    // the five steps, verbatim (the batch moved to the device as the seeds do)
    const inputs = x.to(device);
    const labels = y.to(device);
    optimizer.zeroGrad();
    const output = model(inputs);
    const loss = criterion(output, labels);
    loss.backward();
    optimizer.step();
    const value = device === "cpu" ? (loss.item() as number) : ((await loss.itemAsync()) as number);
    const g = o.gpu?.();
    if (g && (gpu === undefined || g.bytesLive > gpu.bytesLive)) gpu = g;
    if (step % every !== 0) continue;
    const live = torch.memory();
    const before = process.memoryUsage();
    const liveUsage = { arrayBuffers: before.arrayBuffers, heapUsed: before.heapUsed, rss: before.rss };
    await collectGarbage();
    const u = process.memoryUsage();
    samples.push({
      step,
      loss: value,
      live,
      liveUsage,
      settled: torch.memory(),
      arrayBuffers: u.arrayBuffers,
      pooled: torch.bufferPoolStats().bytesHeld,
      heap: o.heap?.() ?? { storageBytes: 0, liveBytes: 0, freeBytes: 0 },
      heapUsed: u.heapUsed,
      rss: u.rss,
      gpu,
    });
    gpu = undefined;
  }
  return samples;
}
