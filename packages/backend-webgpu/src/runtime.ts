/**
 * The execution engine: compiled pipelines (cached by key), batched command recording and submission, the
 * parameter arena, deferred frees, reads through pooled staging buffers, and error / device-loss reporting.
 *
 * Dispatches are recorded into one command encoder (one compute pass while no copy or clear intervenes) and
 * submitted together: on a read, on `sync()`, or every `maxBatch` dispatches. Each dispatch's parameters go to
 * their own 256-byte-aligned slot of a CPU-side arena that is uploaded with `writeBuffer` just before the
 * submit; since queue operations run in order, one uniform buffer serves every batch.
 */
import { DeviceError, type DType, IndexError } from "@cinder/tensor";
import { type BudgetOptions, FREE_IDIOM, MemoryBudget } from "./budget";
import { BufferPool, type GpuStorage, STORAGE_USAGE } from "./buffers";
import type { Access, BindingDecl, Params } from "./codegen";
import { header } from "./codegen";
import { withMath } from "./wgsl-math";

const UNIFORM = 0x40;
const COPY_DST = 0x8;
const COMPUTE = 0x4;
const MAP_READ = 0x1;
const SLOT = 256;
/** Words of the bounds-error buffer: [claimed, op, axis, index, size] (see `boundsArg`). */
const ERR_WORDS = 8;
const ERR_BYTES = ERR_WORDS * 4;
/** Op codes a kernel records in the bounds-error buffer, and the names the error gives them. */
export const BOUNDS_OPS = ["gather", "scatter", "scatter_add"] as const;

/** A compiled kernel: pipeline plus what `dispatch` needs to bind it. */
export interface Kernel {
  readonly key: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  readonly params: Params;
  readonly access: readonly Access[];
}

/** One storage argument of a dispatch. `covers`: the kernel overwrites the whole storage. */
export interface Arg {
  s: GpuStorage;
  covers?: boolean;
}

export interface RuntimeOptions extends BudgetOptions {
  maxBatch?: number;
  poolLimitBytes?: number;
  onError?: (error: Error) => void;
  onDeviceLost?: (info: { reason: string; message: string }) => void;
}

export class Runtime {
  readonly pool: BufferPool;
  /** When reads give finalisers a chance, and the limit allocations may not pass (budget.ts). */
  readonly budget: MemoryBudget;
  readonly maxBatch: number;
  /** Id of the batch being recorded; work recorded now is submitted with this id. */
  batch = 1;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private inBatch = 0;
  private readonly arena: Uint32Array;
  private arenaUsed = 0;
  private readonly paramBuffer: GPUBuffer;
  private readonly kernels = new Map<string, Kernel>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private pendingFrees: GPUBuffer[] = [];
  /** Compilation checks still running (awaited by `sync`, so their errors surface there). */
  private scopes = new Set<Promise<unknown>>();
  private error: Error | null = null;
  private lostInfo: { reason: string; message: string } | null = null;
  counters = { dispatches: 0, submits: 0, clears: 0, programs: 0 };
  /** Device-side bounds errors: the first out-of-range index of a gather/scatter kernel (created on first use). */
  private errStorage: GpuStorage | null = null;
  /** A bounds-checking kernel was recorded since the error buffer was last copied out for a read (implies errStorage). */
  private errArmed = false;

  constructor(
    /** Kept referenced: Dawn for Node destroys its instance when this is garbage collected. */
    readonly gpu: GPU,
    readonly device: GPUDevice,
    readonly label: string,
    private readonly options: RuntimeOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    const maxBytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.pool = new BufferPool(
      device,
      options.poolLimitBytes ?? 512 * 1024 * 1024,
      maxBytes - (maxBytes % 4),
    );
    this.budget = new MemoryBudget(options);
    this.arena = new Uint32Array((this.maxBatch * SLOT) / 4);
    this.paramBuffer = device.createBuffer({ size: this.arena.byteLength, usage: UNIFORM | COPY_DST });
    device.lost.then((info) => {
      this.lostInfo = { reason: info.reason, message: info.message };
      options.onDeviceLost?.(this.lostInfo);
    });
    device.addEventListener("uncapturederror", (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      const oom = e.constructor?.name === "GPUOutOfMemoryError" || /out of memory/i.test(e.message);
      this.report(new DeviceError(`WebGPU error: ${e.message}${oom ? `; ${FREE_IDIOM}` : ""}`));
    });
  }

  private report(e: Error): void {
    this.error ??= e;
    this.options.onError?.(e);
  }

  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  /** Throw a pending device error or loss (called before every operation). */
  check(): void {
    if (this.lostInfo) {
      throw new DeviceError(
        `the WebGPU device was lost (${this.lostInfo.reason}: ${this.lostInfo.message || "no message"}); ` +
          "tensors on it are gone: call `await initWebGPU()` again and recreate them",
      );
    }
    if (this.error) {
      const e = this.error;
      this.error = null;
      throw e;
    }
  }

  // ---- kernels ----

  /** The cached kernel for `key`, compiling `build()` the first time. */
  kernel(key: string, build: () => { params: Params; bindings: BindingDecl[]; body: string }): Kernel {
    const hit = this.kernels.get(key);
    if (hit) return hit;
    const { params, bindings, body } = build();
    const code = withMath(`${header(params, bindings)}\n${body}`);
    const access = bindings.map((b) => b.access);
    const layout = this.layout(access);
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ code, label: key });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
    });
    const scope = this.device.popErrorScope().then((err) => {
      if (err)
        this.report(new DeviceError(`webgpu: kernel ${key} failed to compile: ${err.message}\n${code}`));
      this.scopes.delete(scope);
    });
    this.scopes.add(scope);
    const k: Kernel = { key, pipeline, layout, params, access };
    this.kernels.set(key, k);
    return k;
  }

  private layout(access: readonly Access[]): GPUBindGroupLayout {
    const key = access.join(",");
    let l = this.layouts.get(key);
    if (!l) {
      l = this.device.createBindGroupLayout({
        entries: [
          { binding: 0, visibility: COMPUTE, buffer: { type: "uniform" } },
          ...access.map((a, i) => ({
            binding: i + 1,
            visibility: COMPUTE,
            buffer: { type: a === "read" ? ("read-only-storage" as const) : ("storage" as const) },
          })),
        ],
      });
      this.layouts.set(key, l);
    }
    return l;
  }

  get pipelineCount(): number {
    return this.kernels.size;
  }

  // ---- device-side bounds errors ----

  /**
   * The error buffer as a kernel argument, for kernels that check indices (WGSL from `boundsCheckFn`): on an
   * out-of-range index the first offender claims word 0 and records (op, axis, index, size). The buffer is
   * copied out together with the next read (or by `sync()`), which then throws an `IndexError`: no extra
   * round trip per op.
   */
  boundsArg(): Arg {
    if (!this.errStorage) {
      const buffer = this.device.createBuffer({ size: ERR_BYTES, usage: STORAGE_USAGE });
      this.errStorage = { buffer, dtype: "int32", length: ERR_WORDS, lastUse: 0, dirty: false, freed: false };
    }
    this.errArmed = true;
    return { s: this.errStorage };
  }

  /** Record a copy of the error buffer into `staging` at byte `at` (only when `errArmed`: a checking kernel ran). */
  private copyErrors(staging: GPUBuffer, at: number): void {
    this.errArmed = false;
    const e = this.errStorage!;
    e.lastUse = this.batch;
    this.command((enc) => enc.copyBufferToBuffer(e.buffer, 0, staging, at, ERR_BYTES));
  }

  /** The error that error-buffer words describe (null when none was recorded); resets the buffer. */
  private boundsError(words: Uint32Array): IndexError | null {
    if (words[0] === 0) return null;
    this.device.queue.writeBuffer(this.errStorage!.buffer, 0, new Uint32Array(ERR_WORDS));
    const op = BOUNDS_OPS[words[1]] ?? "index";
    const index = words[3] | 0;
    const via =
      op === "gather" ? "; indexSelect, embedding and the targets of nll/crossEntropy use gather" : "";
    return new IndexError(
      `${op}(): index ${index} is out of bounds for dimension ${words[2]} with size ${words[4]} ` +
        `(found on webgpu at the next read; valid indices are 0..${words[4] - 1}${via})`,
    );
  }

  // ---- recording ----

  private getEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Record a non-compute command (copy, clear) after ending the open compute pass. */
  command(fn: (enc: GPUCommandEncoder) => void): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    fn(this.getEncoder());
  }

  /** Zero a stale pooled buffer now (in recording order). */
  clear(s: GpuStorage): void {
    if (!s.dirty) return;
    s.dirty = false;
    s.lastUse = this.batch;
    this.counters.clears++;
    this.command((enc) => enc.clearBuffer(s.buffer));
  }

  dispatch(
    k: Kernel,
    values: Uint32Array,
    args: readonly Arg[],
    groups: readonly [number, number, number],
  ): void {
    this.check();
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    if (args.length !== k.access.length)
      throw new Error(`webgpu: kernel ${k.key} expects ${k.access.length} buffers`);
    // Stale pooled contents must read as zeros unless this dispatch overwrites all of them.
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a.s.freed) throw new DeviceError("webgpu: a kernel was given a freed storage (use after dispose)");
      if (!a.s.dirty) continue;
      if (a.covers && k.access[i] !== "read") a.s.dirty = false;
      else this.clear(a.s);
    }
    const slot = Math.ceil(values.byteLength / SLOT) * SLOT;
    if (slot > this.arena.byteLength) throw new Error(`webgpu: parameter block of ${k.key} is too large`);
    if (this.arenaUsed + slot > this.arena.byteLength) this.flush();
    const at = this.arenaUsed;
    this.arena.set(values, at / 4);
    this.arenaUsed += slot;
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.paramBuffer, offset: at, size: values.byteLength } },
    ];
    for (let i = 0; i < args.length; i++) {
      entries.push({ binding: i + 1, resource: { buffer: args[i].s.buffer } });
      args[i].s.lastUse = this.batch;
    }
    const group = this.device.createBindGroup({ layout: k.layout, entries });
    if (!this.pass) this.pass = this.getEncoder().beginComputePass();
    this.pass.setPipeline(k.pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.counters.dispatches++;
    if (++this.inBatch >= this.maxBatch) this.flush();
  }

  /** Submit everything recorded so far. */
  flush(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.encoder) {
      if (this.arenaUsed > 0)
        this.device.queue.writeBuffer(this.paramBuffer, 0, this.arena, 0, this.arenaUsed / 4);
      this.device.queue.submit([this.encoder.finish()]);
      this.counters.submits++;
      this.encoder = null;
    }
    this.arenaUsed = 0;
    this.inBatch = 0;
    this.batch++;
    for (const b of this.pendingFrees) this.pool.release(b);
    this.pool.pending = 0;
    this.pendingFrees = [];
  }

  // ---- storage ----

  alloc(dtype: DType, length: number): GpuStorage {
    this.check();
    const bytes = Math.max(length, 1) * 4;
    if (bytes > this.pool.maxBytes) {
      throw new DeviceError(
        `webgpu: a ${dtype} storage of ${length} elements (${bytes} bytes) exceeds this device's largest ` +
          `bindable buffer (${this.pool.maxBytes} bytes); split the tensor or use the cpu device`,
      );
    }
    this.budget.admit(bytes, this.pool.bytesLive, this.pool.buffersLive);
    const { buffer, reused } = this.pool.acquire(bytes);
    return { buffer, dtype, length, lastUse: 0, dirty: reused, freed: false };
  }

  free(s: GpuStorage): void {
    if (s.freed) return;
    s.freed = true;
    if (this.lostInfo) return;
    if (s.lastUse === this.batch) {
      this.pendingFrees.push(s.buffer);
      this.pool.pending++;
    } else this.pool.release(s.buffer);
  }

  /** Upload 32-bit words into `s` at element `offset`, ordered after all work recorded so far. */
  write(s: GpuStorage, words: ArrayBufferView, offset: number, count: number): void {
    this.check();
    if (s.lastUse === this.batch) this.flush();
    if (s.dirty) {
      if (offset !== 0 || count !== s.length)
        this.device.queue.writeBuffer(s.buffer, 0, new Uint32Array(s.length));
      s.dirty = false;
    }
    if (count > 0)
      this.device.queue.writeBuffer(s.buffer, offset * 4, words.buffer, words.byteOffset, count * 4);
  }

  /** Read `count` words starting at element `offset` of `s` (contiguous), after all recorded work. */
  async readWords(s: GpuStorage, offset: number, count: number): Promise<ArrayBuffer> {
    this.check();
    const bytes = count * 4;
    const armed = this.errArmed;
    // mapped ranges start at multiples of 8 bytes
    const errAt = Math.ceil(bytes / 8) * 8;
    const total = armed ? errAt + ERR_BYTES : bytes;
    const staging = this.pool.acquireStaging(total);
    this.clear(s);
    this.command((enc) => enc.copyBufferToBuffer(s.buffer, offset * 4, staging, 0, bytes));
    s.lastUse = this.batch;
    // the bounds-error words ride along in the same staging buffer: no second round trip
    if (armed) this.copyErrors(staging, errAt);
    this.flush();
    try {
      await staging.mapAsync(MAP_READ, 0, total);
    } catch (e) {
      this.check();
      throw new DeviceError(`webgpu: reading back failed: ${(e as Error).message}`);
    }
    const out = staging.getMappedRange(0, bytes).slice(0);
    const err = armed ? this.boundsError(new Uint32Array(staging.getMappedRange(errAt, ERR_BYTES))) : null;
    staging.unmap();
    this.pool.releaseStaging(staging);
    if (this.scopes.size) await Promise.all(this.scopes);
    this.check();
    if (err) throw err;
    await this.settle();
    return out;
  }

  async sync(): Promise<void> {
    if (this.errArmed) {
      // map the error words instead of waiting for onSubmittedWorkDone: the same single round trip
      const staging = this.pool.acquireStaging(ERR_BYTES);
      this.copyErrors(staging, 0);
      this.flush();
      let err: IndexError | null = null;
      try {
        await Promise.all([staging.mapAsync(MAP_READ, 0, ERR_BYTES), ...this.scopes]);
        err = this.boundsError(new Uint32Array(staging.getMappedRange(0, ERR_BYTES)));
        staging.unmap();
        this.pool.releaseStaging(staging);
      } catch (e) {
        this.check();
        throw new DeviceError(`webgpu: reading back failed: ${(e as Error).message}`);
      }
      this.check();
      if (err) throw err;
      await this.settle();
      return;
    }
    this.flush();
    await Promise.all([this.device.queue.onSubmittedWorkDone(), ...this.scopes]);
    this.check();
    await this.settle();
  }

  /** Past the memory budget, give finalisers a chance to free what nobody references (budget.ts). */
  private settle(): Promise<void> {
    return this.budget.settle(() => this.pool.bytesLive);
  }

  destroy(): void {
    this.flush();
    this.pool.trim();
    this.paramBuffer.destroy();
    this.device.destroy();
  }
}
