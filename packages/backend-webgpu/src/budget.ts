/**
 * A GPU memory budget. GPU buffers are freed when their tensors are disposed (`tidy`, `using`, `dispose()`) or,
 * as a safety net, when the garbage collector finalises tensors nobody references any more. The collector does
 * not see GPU memory, so it may run too late: a loop that never disposes would grow until the GPU runs out.
 *
 * So when the live bytes pass the budget, the next read (`dataAsync`, `itemAsync`, `sync()`, the points where a
 * program waits for the GPU anyway) first gives the finalisers a chance: it asks for a full collection where the
 * host allows one (Node), then yields a task so the finalisers run; their buffers go back to the pool and the
 * next step reuses them. If that frees little (the program holds what it allocated), the threshold rises above
 * what is held, so a program that legitimately holds more is not slowed by a collection on every read.
 *
 * A hard limit (`memoryLimitBytes`, unset by default: the device decides) makes an allocation past it throw an
 * error naming the idiom that fixes the program, as does the device's own out-of-memory error.
 */
import { DeviceError } from "@cinder/tensor";

/** The advice every out-of-memory error gives. */
export const FREE_IDIOM =
  "tensors are freed when disposed, not when unreachable (the garbage collector does not see GPU memory): run each " +
  "training step in `torch.tidy(() => ...)`, declare tensors with `using`, or call `t.dispose()` on tensors you no " +
  "longer need";

/** Options of the budget (from `initWebGPU`). */
export interface BudgetOptions {
  memoryBudgetBytes?: number;
  memoryLimitBytes?: number;
}

type Gc = () => void;
let gcFn: Gc | null | undefined;

/** The host's full garbage collection: `globalThis.gc`, or in Node the one `--expose-gc` would give; else null. */
function hostGc(): Gc | null {
  if (gcFn !== undefined) return gcFn;
  const g = (globalThis as { gc?: unknown }).gc;
  gcFn = typeof g === "function" ? (g as Gc) : null;
  if (gcFn !== null) return gcFn;
  type Builtins = { getBuiltinModule?: (id: string) => unknown };
  const proc = (globalThis as { process?: Builtins }).process;
  const v8 = proc?.getBuiltinModule?.("node:v8") as { setFlagsFromString(f: string): void } | undefined;
  const vm = proc?.getBuiltinModule?.("node:vm") as { runInNewContext(code: string): unknown } | undefined;
  if (v8 && vm) {
    // as Jest's leak detector does: the flag makes `gc` exist in contexts created from now on
    v8.setFlagsFromString("--expose-gc");
    const fn = vm.runInNewContext("gc");
    if (typeof fn === "function") gcFn = fn as Gc;
  }
  return gcFn;
}

/** The budget of one device: when reads reclaim, and what an allocation may not pass. */
export class MemoryBudget {
  /** Live bytes above which a read first gives finalisers a chance (default 256 MiB). */
  budgetBytes: number;
  /** Live bytes no allocation may pass (default: no limit of our own). */
  limitBytes: number;
  /** Times a read reclaimed. */
  reclaims = 0;
  /** The threshold now: the budget, or above what the program held after the last reclaim. */
  private threshold: number;

  constructor(options: BudgetOptions = {}) {
    this.budgetBytes = options.memoryBudgetBytes ?? 256 * 1024 * 1024;
    this.limitBytes = options.memoryLimitBytes ?? Number.POSITIVE_INFINITY;
    this.threshold = this.budgetBytes;
  }

  /** Throw, naming the idiom, if allocating `bytes` more would pass the limit. */
  admit(bytes: number, live: number, buffers: number): void {
    if (live + bytes <= this.limitBytes) return;
    throw new DeviceError(
      `webgpu: out of memory: allocating ${bytes} bytes would pass the memory limit of ${this.limitBytes} bytes ` +
        `(${live} bytes held in ${buffers} live buffers); ${FREE_IDIOM}`,
    );
  }

  /** After a read: if the live bytes passed the threshold, collect, yield for the finalisers, and re-aim. */
  async settle(live: () => number): Promise<void> {
    const now = live();
    if (now <= this.budgetBytes) this.threshold = this.budgetBytes;
    if (now <= this.threshold) return;
    this.reclaims++;
    hostGc()?.();
    // finalisers run in a task of their own, queued by the collection: let it and the next one run
    for (let i = 0; i < 2; i++) await new Promise((r) => setTimeout(r, 0));
    // what is still live is held: reclaim again only when it has grown by half past that (or past the budget)
    this.threshold = Math.max(this.budgetBytes, live() * 1.5);
  }
}
