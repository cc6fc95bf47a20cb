/**
 * `nn.parallel.DistributedDataParallel`: data-parallel training over a process group (the default one, or
 * `processGroup`). Every rank holds a replica of the model and trains on its own part of the data; at construction
 * the group's first rank's parameters and buffers are broadcast, and during backward the gradients are averaged over the ranks in buckets (`reducer.ts`), so after
 * `backward()` every rank has the same `.grad` and the optimizers stay in step.
 */
import { Module, type Parameter } from "@cinder/nn";
import { arg, type CallsOf, isGradEnabled, k, signature } from "@cinder/tensor";
import { DistributedError } from "./backend";
import { broadcast } from "./collectives";
import { groupKind, type ProcessGroup, resolveGroup } from "./process-group";
import { Reducer } from "./reducer";

const DDP = signature(
  "nn.parallel.DistributedDataParallel",
  [
    arg("module", k.instance(Module)),
    arg.opt("deviceIds", k.ints),
    arg.opt("outputDevice", k.or(k.int, k.str)),
    arg("dim", k.int, 0),
    arg("broadcastBuffers", k.bool, true),
    arg("processGroup", groupKind, null),
    arg(
      "bucketCapMb",
      k.where(k.float, (v) => v > 0, "float > 0"),
      25,
    ),
    arg("findUnusedParameters", k.bool, false),
    arg("checkReduction", k.bool, false),
    arg.unsupported("gradientAsBucketView", false, "gradients are copied into buckets"),
    arg("staticGraph", k.bool, false),
  ],
  [],
  { torch: "torch.nn.parallel.DistributedDataParallel" },
);

/**
 * `DistributedDataParallel(module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
 * process_group=None, bucket_cap_mb=25, find_unused_parameters=False, check_reduction=False,
 * gradient_as_bucket_view=False, static_graph=False)`: wraps `module` (then `ddp.module`); call it as the module.
 * Its state dict keys are the module's prefixed with `module.`, as PyTorch's. CPU parameters only (gradients are
 * read during backward, which WebGPU cannot do synchronously). `deviceIds`/`outputDevice` must be null (as for
 * PyTorch's CPU modules); `checkReduction` is ignored (deprecated in PyTorch) and `staticGraph` changes nothing.
 */
export class DistributedDataParallel<M extends Module = Module> extends Module {
  static override readonly name: string = "DistributedDataParallel";
  static readonly signature = DDP;
  /** The wrapped module. */
  readonly module: M;
  /** Whether forward broadcasts rank 0's buffers first. */
  readonly broadcastBuffers: boolean;
  /** Whether forward looks for parameters the outputs do not depend on. */
  readonly findUnusedParameters: boolean;
  private readonly _reducer: Reducer;
  /** The group it averages over; its first rank (group rank 0) is the source of the broadcast state. */
  private readonly _group: ProcessGroup;
  private _sync = true;

  constructor(...args: CallsOf<typeof DDP>) {
    super();
    const a = DDP.parse(args);
    const group = resolveGroup(a.processGroup, "DistributedDataParallel");
    if ((a.deviceIds !== null && a.deviceIds.length > 0) || a.outputDevice !== null)
      throw new DistributedError(
        `DistributedDataParallel: deviceIds and outputDevice must be null for CPU modules, got deviceIds ${JSON.stringify(a.deviceIds)} and outputDevice ${JSON.stringify(a.outputDevice)}`,
      );
    this.module = a.module as M;
    this._group = group;
    this.broadcastBuffers = a.broadcastBuffers;
    this.findUnusedParameters = a.findUnusedParameters;
    const named = [...a.module.namedParameters()].filter(([, p]) => p.requiresGrad) as [string, Parameter][];
    for (const [name, t] of [...named, ...a.module.namedBuffers()])
      if (t.device !== "cpu")
        throw new DistributedError(
          `DistributedDataParallel: ${name} is on ${t.device}; only CPU modules are supported (gradients are read synchronously during backward)`,
        );
    // rank 0's state everywhere (a rank whose shapes differ fails in the broadcast, naming both calls)
    for (const t of [...a.module.parameters(), ...a.module.buffers()]) broadcast(t, group.ranks[0], group);
    this._reducer = new Reducer(named, group.backend, a.bucketCapMb * 1024 * 1024);
  }

  /** Runs the module (after broadcasting rank 0's buffers, with `broadcastBuffers`) and prepares the reduction. */
  override forward(...inputs: unknown[]): any {
    this._reducer.checkFinished();
    if (this.broadcastBuffers)
      for (const b of this.module.buffers()) broadcast(b, this._group.ranks[0], this._group);
    const out = (this.module as unknown as (...a: unknown[]) => unknown)(...inputs);
    const sync = this._sync && isGradEnabled();
    this._reducer.prepare(out, sync, this.findUnusedParameters);
    return out;
  }

  /**
   * `no_sync()`: forward and backward passes run inside skip the gradient reduction, so gradients accumulate
   * locally; the first pass after it reduces the accumulated gradients. `ddp.noSync(() => { ... })` (the callback
   * may be async) or `using _ = ddp.noSync()`.
   */
  noSync(): Disposable;
  noSync<T>(fn: () => T): T;
  noSync<T>(fn?: () => T): T | Disposable {
    const prev = this._sync;
    this._sync = false;
    const restore = () => {
      this._sync = prev;
    };
    if (fn === undefined) return { [Symbol.dispose]: restore };
    let result: T;
    try {
      result = fn();
    } catch (e) {
      restore();
      throw e;
    }
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  }

  /** The parameter names of each gradient bucket, in reduction order. */
  bucketNames(): string[][] {
    return this._reducer.bucketNames();
  }
}
