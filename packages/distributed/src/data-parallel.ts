/**
 * `nn.DataParallel`: splits each batch along `dim` into one chunk per device id, runs the module on every chunk,
 * and gathers the outputs along `dim`; the gradients of the chunks flow back into the one set of parameters, so
 * they are summed over the chunks as PyTorch's replicas' gradients are.
 *
 * On the CPU the device ids are cores (`torch.cpu.deviceCount()`), and the chunks run at the same time: chunk 0 on
 * the calling thread with the module itself (so, as in PyTorch, only replica 0's buffer updates, e.g. BatchNorm's
 * running statistics, reach the module), the others in worker threads (`replica-pool.ts`) that replay the module's
 * forward traced as plain data (`replica.ts`: a replica needs no class code) with the module's current parameters,
 * read through shared memory. Each worker's chunk output joins the caller's graph through a `ReplicaBackward` node:
 * backward sends the output's gradient to the worker, the caller's own backward runs meanwhile, and the worker's
 * parameter gradients are added into `.grad` before `backward()` returns (a final callback of the pass; under
 * `autograd.grad`, or when the chunk's inputs require grad, the node waits and returns them).
 *
 * A forward that a trace cannot capture (it reads values, e.g. `item()`, or branches on data), a module off the CPU,
 * or a runtime without worker threads (a browser) run the chunks one after another on the calling thread instead:
 * PyTorch's results without the speed-up; `dp.parallel` is then false and `dp.fallbackReason` says why (with a
 * warning, once; setting it forces that path). Without `deviceIds` the module runs unchanged, as PyTorch's on a
 * machine without CUDA.
 */
import { Function as AutogradFunction, currentBackwardPass, type FunctionCtx } from "@cinder/autograd";
import { Module } from "@cinder/nn";
import {
  arg,
  type CallsOf,
  cat,
  defaultGenerator,
  isGradEnabled,
  k,
  noGrad,
  signature,
  Tensor,
} from "@cinder/tensor";
import { usableCores } from "./node";
import {
  type Enc,
  mapTensors,
  ReplicaRefused,
  type ReplicaTrace,
  stateOf,
  tensorData,
  tensorLeaves,
  traceReplica,
} from "./replica";
import { MAX_INPUTS, ReplicaPool } from "./replica-pool";

const DATA_PARALLEL = signature(
  "nn.DataParallel",
  [
    arg("module", k.instance(Module)),
    arg.opt("deviceIds", k.ints),
    arg.opt("outputDevice", k.or(k.int, k.str)),
    arg("dim", k.int, 0),
  ],
  [],
  { torch: "torch.nn.DataParallel" },
);

/** Splits a forward argument into `n` chunks along `dim` (tensors), or repeats it (anything else). */
function scatter(v: unknown, n: number, dim: number): unknown[] {
  if (v instanceof Tensor) {
    if (v.ndim === 0) return Array(n).fill(v);
    return v.chunk(n, dim);
  }
  if (Array.isArray(v)) {
    const parts = v.map((x) => scatter(x, n, dim));
    const m = Math.min(n, ...parts.map((p) => p.length));
    return Array.from({ length: m }, (_, i) => parts.map((p) => p[i]));
  }
  return Array(n).fill(v);
}

/** Joins the chunks' outputs: tensors along `dim`, arrays and plain objects element by element. */
function gather(outs: unknown[], dim: number): unknown {
  const first = outs[0];
  if (first instanceof Tensor)
    return first.ndim === 0 ? cat(outs.map((o) => (o as Tensor).reshape(1))) : cat(outs as Tensor[], dim);
  if (Array.isArray(first))
    return first.map((_, i) =>
      gather(
        outs.map((o) => (o as unknown[])[i]),
        dim,
      ),
    );
  if (first !== null && typeof first === "object" && Object.getPrototypeOf(first) === Object.prototype)
    return Object.fromEntries(
      Object.keys(first).map((key) => [
        key,
        gather(
          outs.map((o) => (o as Record<string, unknown>)[key]),
          dim,
        ),
      ]),
    );
  return first;
}

/** A traced forward, by input signature. */
interface Plan {
  readonly id: number;
  readonly trace: ReplicaTrace;
}

/** What a `ReplicaBackward` node needs: the worker, its outputs, the parameters its gradients are for. */
type ReplicaCtx = FunctionCtx & ReplicaInfo & { params: Tensor[] };
/** The node's context, as the forward gets it. */
interface ReplicaInfo {
  pool: ReplicaPool;
  worker: number;
  /** The indices (among the worker's output tensors) of the differentiable ones, and their count. */
  floats: number[];
  count: number;
  /** The state index of each of `params`. */
  index: number[];
  /** The positions (among the chunk's input tensors) of the inputs that require grad, the node's last inputs. */
  inputIdx: number[];
}

/**
 * Joins a worker's chunk outputs to the graph: its inputs are the parameters and the chunk's inputs that require
 * grad (the outputs are functions of them); its backward hands the outputs' gradients to the worker and collects
 * the gradients it computes.
 */
class Replica extends AutogradFunction {
  static forward(ctx: ReplicaCtx, info: ReplicaInfo, outs: Tensor[], ...tensors: Tensor[]): Tensor[] {
    Object.assign(ctx, info, { params: tensors.slice(0, info.index.length) });
    ctx.setMaterializeGrads(false);
    return outs; // (fresh tensors, not inputs: they become the node's outputs as they are)
  }

  static backward(ctx: ReplicaCtx, ...grads: (Tensor | null)[]): (Tensor | null)[] {
    const data = Array<ReturnType<typeof tensorData> | null>(ctx.count).fill(null);
    ctx.floats.forEach((i, q) => {
      const g = grads[q];
      if (g) data[i] = tensorData(g);
    });
    ctx.pool.backward(ctx.worker, data);
    const pass = currentBackwardPass();
    const nParams = ctx.params.length;
    const inputsNeedGrad = ctx.needsInputGrad.slice(2 + nParams).some(Boolean);
    if (pass?.accumulates && !inputsNeedGrad) {
      // the caller's own backward goes on while the worker computes; its gradients are added at the end of the pass
      pass.queueCallback(() => {
        const got = ctx.pool.gradients(ctx.worker).params;
        noGrad(() => {
          for (const [q, p] of ctx.params.entries()) {
            const g = got[ctx.index[q]];
            if (g === null) continue;
            if (p.grad === null) p.grad = g;
            else {
              p.grad.add_(g);
              g.dispose();
            }
          }
        });
      });
      return ctx.needsInputGrad.map(() => null);
    }
    // autograd.grad, or the chunk's inputs need their gradients in the graph: wait for the worker here
    const got = ctx.pool.gradients(ctx.worker);
    return [null, null, ...ctx.index.map((i) => got.params[i]), ...ctx.inputIdx.map((i) => got.inputs[i])];
  }
}

/** The trace cache key of a chunk: its tensors' dtypes and shapes, its other values, the module's mode. */
function chunkKey(chunk: readonly unknown[], training: boolean): string {
  const shapes = mapTensors(chunk, (t) => `${t.dtype}[${t.shape}]`);
  const check = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(check);
    else if (v !== null && typeof v === "object") {
      if (Object.getPrototypeOf(v) !== Object.prototype)
        throw new ReplicaRefused(`forward takes a ${v.constructor?.name ?? "non-plain"} object argument`);
      Object.values(v).forEach(check);
    } else if (typeof v === "function" || typeof v === "symbol")
      throw new ReplicaRefused(`forward takes a ${typeof v} argument`);
  };
  check(shapes);
  return JSON.stringify([training, shapes], (_, v) => (typeof v === "bigint" ? `${v}n` : v));
}

/** `enc` (a trace's output) with its tensors, in order, from `leaves`. */
function withLeaves(enc: Enc, leaves: readonly Tensor[]): unknown {
  let n = 0;
  const fill = (e: Enc): unknown => {
    if (Array.isArray(e)) return e.map(fill);
    if (e !== null && typeof e === "object") {
      if ("$ref" in e) return leaves[n++];
      if ("$obj" in e) return Object.fromEntries(Object.entries(e.$obj).map(([key, x]) => [key, fill(x)]));
    }
    return e;
  };
  return fill(enc);
}

/** Where worker threads cannot be started or waited for (a browser), the reason; else null. */
function noThreadsReason(): string | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  if (typeof p?.getBuiltinModule !== "function")
    return "worker threads need Node >= 20.16 (a browser's main thread cannot wait for workers)";
  return null;
}

/**
 * `DataParallel(module, device_ids=None, output_device=None, dim=0)`: `new nn.DataParallel(model, { deviceIds:
 * [0, 1] })` runs `model` on two halves of each batch and concatenates the results (see the module docs for what
 * runs where). Its state dict keys are the module's prefixed with `module.`, as PyTorch's.
 */
export class DataParallel<M extends Module = Module> extends Module {
  static override readonly name: string = "DataParallel";
  static readonly signature = DATA_PARALLEL;
  /** The wrapped module. */
  readonly module: M;
  /** One chunk of each batch per id (empty: no splitting). */
  readonly deviceIds: readonly number[];
  /** The dimension batches are split and outputs joined along. */
  readonly dim: number;
  /** Why the chunks run one after another on the calling thread (null: they run in parallel; a string forces it). */
  fallbackReason: string | null = null;
  /** How many forwards ran their chunks in worker threads, and how many one after another. */
  readonly stats = { parallel: 0, sequential: 0 };
  /** The bound on every wait for a worker thread, in ms: a worker that hangs fails the forward or backward. */
  timeoutMs = 120_000;
  #pool: ReplicaPool | null = null;
  readonly #plans = new Map<string, Plan>();
  /** The module's state layout the plans refer to (a trace names parameters and buffers by position). */
  #layout = "";
  #nextPlan = 0;

  constructor(...args: CallsOf<typeof DATA_PARALLEL>) {
    super();
    const a = DATA_PARALLEL.parse(args);
    this.module = a.module as M;
    this.deviceIds = a.deviceIds ?? [];
    this.dim = a.dim;
    if (new Set(this.deviceIds).size !== this.deviceIds.length || this.deviceIds.some((d) => d < 0))
      throw new RangeError(`DataParallel: deviceIds must be distinct ids >= 0, got [${this.deviceIds}]`);
    const cores = usableCores();
    if (this.deviceIds.some((d) => d >= cores))
      throw new RangeError(
        `DataParallel: deviceIds are cores, each < torch.cpu.deviceCount() (${cores}), got [${this.deviceIds}]`,
      );
    if (a.outputDevice !== null && a.outputDevice !== this.deviceIds[0] && a.outputDevice !== "cpu")
      throw new RangeError(
        `DataParallel: outputDevice must be deviceIds[0] or "cpu", got ${JSON.stringify(a.outputDevice)}`,
      );
  }

  /** True while forwards run their chunks in worker threads (false: see `fallbackReason`). */
  get parallel(): boolean {
    return this.deviceIds.length > 1 && this.fallbackReason === null;
  }

  /** Runs the module on each chunk of the inputs and joins the outputs. */
  override forward(...inputs: unknown[]): any {
    const call = this.module as unknown as (...a: unknown[]) => unknown;
    if (this.deviceIds.length <= 1) return call(...inputs);
    const chunks = scatter(inputs, this.deviceIds.length, this.dim) as unknown[][];
    if (chunks.length <= 1) return call(...inputs);
    const plans = this.fallbackReason === null ? this.plan(chunks) : null;
    if (plans === null) {
      this.stats.sequential++;
      return gather(
        chunks.map((c) => call(...c)),
        this.dim,
      );
    }
    this.stats.parallel++;
    return gather(this.runParallel(chunks, plans), this.dim);
  }

  /** Ends the worker threads (a later forward starts new ones). */
  close(): void {
    this.#pool?.close();
    this.#pool = null;
  }

  /** `using dp = new DataParallel(...)`: {@link close} at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The traces of chunks 1.. (made once per input signature), or null after recording why they cannot be. */
  private plan(chunks: readonly unknown[][]): Plan[] | null {
    try {
      const why =
        noThreadsReason() ??
        (stateOf(this.module).some((t) => t.device !== "cpu")
          ? "the module is not on the CPU (the replicas are CPU threads)"
          : null) ??
        (chunks.some((c) => tensorLeaves(c).length > MAX_INPUTS)
          ? `forward takes more than ${MAX_INPUTS} tensors`
          : null);
      if (why !== null) throw new ReplicaRefused(why);
      const layout = stateOf(this.module)
        .map((t) => `${t.dtype}[${t.shape}]`)
        .join();
      if (layout !== this.#layout) {
        // a parameter or buffer was added, removed or reshaped: the traces' references are out of date
        this.#plans.clear();
        this.#layout = layout;
      }
      return chunks.slice(1).map((c) => {
        const key = chunkKey(c, this.module.training);
        let plan = this.#plans.get(key);
        if (plan === undefined) {
          // (ids are never reused: a worker keeps the traces it was sent by id)
          plan = { id: this.#nextPlan++, trace: traceReplica(this.module, c) };
          this.#plans.set(key, plan);
        }
        return plan;
      });
    } catch (e) {
      if (!(e instanceof ReplicaRefused)) throw e;
      this.fallbackReason = e.message;
      warnOnce(`DataParallel runs its chunks one after another on the calling thread: ${e.message}`);
      return null;
    }
  }

  /** Posts chunks 1.. to the workers, runs chunk 0 here, and returns every chunk's output. */
  private runParallel(chunks: readonly unknown[][], plans: readonly Plan[]): unknown[] {
    const call = this.module as unknown as (...a: unknown[]) => unknown;
    if (this.#pool === null || this.#pool.closed)
      this.#pool = new ReplicaPool(this.deviceIds.slice(1), defaultGenerator.initialSeed(), this.timeoutMs);
    const pool = this.#pool;
    pool.timeoutMs = this.timeoutMs;
    const state = stateOf(this.module);
    const nParams = this.module.parameters().length;
    const needsGrad = state.map((t, i) => i < nParams && t.requiresGrad);
    const grad =
      isGradEnabled() &&
      (needsGrad.some(Boolean) || chunks.some((c) => tensorLeaves(c).some((t) => t.requiresGrad)));
    const index = needsGrad.flatMap((g, i) => (g ? [i] : []));
    const params = index.map((i) => state[i]);
    try {
      noGrad(() => pool.writeState(state, needsGrad));
      for (const [j, plan] of plans.entries())
        pool.forward(j, plan.id, plan.trace, tensorLeaves(chunks[j + 1]), grad);
      const first = call(...chunks[0]);
      return [
        first,
        ...plans.map((plan, j) => {
          const outs = pool.outputs(j);
          const floats = outs.flatMap((t, i) => (grad && t.isFloatingPoint() ? [i] : []));
          if (floats.length > 0) {
            const leaves = tensorLeaves(chunks[j + 1]);
            const inputIdx = leaves.flatMap((t, i) => (t.requiresGrad ? [i] : []));
            const info = { pool, worker: j, floats, count: outs.length, index, inputIdx };
            const joined = Replica.apply(
              info,
              floats.map((i) => outs[i]),
              ...params,
              ...inputIdx.map((i) => leaves[i]),
            ) as Tensor[];
            floats.forEach((i, q) => {
              outs[i] = joined[q];
            });
          }
          return withLeaves(plan.trace.output, outs);
        }),
      ];
    } catch (e) {
      pool.drain();
      throw e;
    }
  }
}

let warned = false;
function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  const proc = (globalThis as { process?: { emitWarning?: (m: string) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(message);
  else console.warn(message);
}
