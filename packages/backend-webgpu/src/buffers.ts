/**
 * GPU memory: storage handles, a pooled allocator with size classes, and a pool of staging buffers for reads.
 *
 * Buffers are never returned to the pool while recorded-but-unsubmitted work references them: `Runtime.free`
 * defers them until the batch is submitted (after which queue order makes reuse safe). A reused buffer holds
 * stale data, so its handle is marked `dirty` and is zeroed lazily (`clearBuffer`) the first time it is read
 * or partially written; a kernel that overwrites the whole storage skips the clear.
 */
import type { DType } from "@cinder/tensor";

/** A storage handle: what `alloc` returns and views carry. */
export interface GpuStorage {
  readonly buffer: GPUBuffer;
  readonly dtype: DType;
  /** Elements. */
  readonly length: number;
  /** Id of the last batch that recorded work touching this buffer (see `Runtime.batch`). */
  lastUse: number;
  /** Contents are stale pool data and must read as zeros. */
  dirty: boolean;
  freed: boolean;
}

export const STORAGE_USAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const MAP_READ_USAGE = 0x1 | 0x8; // MAP_READ | COPY_DST

/** Size class of a request in bytes: at least 256, then four steps per power of two (<= 25% slack). */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

export type PoolStats = {
  /** Buffers handed out and not yet freed. */
  buffersLive: number;
  /** Bytes of those buffers (size classes, i.e. what the GPU holds). */
  bytesLive: number;
  /** Free buffers kept for reuse. */
  buffersPooled: number;
  bytesPooled: number;
  /** Freed buffers waiting for their batch to be submitted. */
  buffersPending: number;
  /** Staging (map-read) buffers kept for reuse. */
  stagingPooled: number;
  stagingBytesPooled: number;
  /** GPU buffers created so far (storage and staging). */
  created: number;
};

class FreeLists {
  private readonly lists = new Map<number, GPUBuffer[]>();
  count = 0;
  bytes = 0;
  take(size: number): GPUBuffer | undefined {
    const l = this.lists.get(size);
    const b = l?.pop();
    if (b) {
      this.count--;
      this.bytes -= size;
    }
    return b;
  }
  put(b: GPUBuffer): void {
    let l = this.lists.get(b.size);
    if (!l) {
      l = [];
      this.lists.set(b.size, l);
    }
    l.push(b);
    this.count++;
    this.bytes += b.size;
  }
  drain(): GPUBuffer[] {
    const all = [...this.lists.values()].flat();
    this.lists.clear();
    this.count = 0;
    this.bytes = 0;
    return all;
  }
}

export class BufferPool {
  private readonly free = new FreeLists();
  private readonly staging = new FreeLists();
  private live = 0;
  private liveBytes = 0;
  private created = 0;
  pending = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Pooled bytes above this are destroyed instead of kept. */
    public limitBytes: number,
    /** The largest buffer a kernel can bind (size classes are capped to it). */
    readonly maxBytes: number,
  ) {}

  /** A storage buffer of at least `bytes` (at most `maxBytes`); `reused` when it came from the pool. */
  acquire(bytes: number): { buffer: GPUBuffer; reused: boolean } {
    const size = Math.min(sizeClass(bytes), this.maxBytes);
    let buffer = this.free.take(size);
    const reused = buffer !== undefined;
    if (!buffer) {
      buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE });
      this.created++;
    }
    this.live++;
    this.liveBytes += size;
    return { buffer, reused };
  }

  /** Bytes of the buffers handed out and not yet freed. */
  get bytesLive(): number {
    return this.liveBytes;
  }
  /** Buffers handed out and not yet freed. */
  get buffersLive(): number {
    return this.live;
  }

  /** Give a buffer back (it must not be referenced by unsubmitted work). */
  release(buffer: GPUBuffer): void {
    this.live--;
    this.liveBytes -= buffer.size;
    if (this.free.bytes + buffer.size > this.limitBytes) buffer.destroy();
    else this.free.put(buffer);
  }

  acquireStaging(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const b = this.staging.take(size);
    if (b) return b;
    this.created++;
    return this.device.createBuffer({ size, usage: MAP_READ_USAGE });
  }

  releaseStaging(b: GPUBuffer): void {
    if (this.staging.bytes + b.size > this.limitBytes / 4) b.destroy();
    else this.staging.put(b);
  }

  /** Destroy every pooled buffer (live ones are untouched). */
  trim(): void {
    for (const b of this.free.drain()) b.destroy();
    for (const b of this.staging.drain()) b.destroy();
  }

  stats(): PoolStats {
    return {
      buffersLive: this.live,
      bytesLive: this.liveBytes,
      buffersPooled: this.free.count,
      bytesPooled: this.free.bytes,
      buffersPending: this.pending,
      stagingPooled: this.staging.count,
      stagingBytesPooled: this.staging.bytes,
      created: this.created,
    };
  }
}
