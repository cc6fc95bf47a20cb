/**
 * `nn.DataParallel`: splits each batch along `dim` into one chunk per device id, runs the module on every chunk,
 * and gathers the outputs along `dim`; the gradients of the chunks flow back into the one set of parameters, so
 * they are summed over the chunks as PyTorch's replicas' gradients are.
 *
 * The chunks run one after another on the calling thread: Cinder's modules cannot be copied into other threads (a
 * replica would need its class's code there), so this is PyTorch's data flow without its speed-up; on CPU the
 * large matrix products already use every core (`setNumThreads`). For training on several cores, use
 * `DistributedDataParallel` under `cinder-run --nproc N`. As in PyTorch on a machine without CUDA, the default
 * `deviceIds` is empty and the module then runs unchanged.
 */
import { Module } from "@cinder/nn";
import { arg, type CallsOf, cat, k, signature, Tensor } from "@cinder/tensor";

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

  constructor(...args: CallsOf<typeof DATA_PARALLEL>) {
    super();
    const a = DATA_PARALLEL.parse(args);
    this.module = a.module as M;
    this.deviceIds = a.deviceIds ?? [];
    this.dim = a.dim;
    if (new Set(this.deviceIds).size !== this.deviceIds.length || this.deviceIds.some((d) => d < 0))
      throw new RangeError(`DataParallel: deviceIds must be distinct ids >= 0, got [${this.deviceIds}]`);
    if (a.outputDevice !== null && a.outputDevice !== this.deviceIds[0] && a.outputDevice !== "cpu")
      throw new RangeError(
        `DataParallel: outputDevice must be deviceIds[0] or "cpu", got ${JSON.stringify(a.outputDevice)}`,
      );
  }

  /** Runs the module on each chunk of the inputs and joins the outputs. */
  override forward(...inputs: unknown[]): any {
    const call = this.module as unknown as (...a: unknown[]) => unknown;
    if (this.deviceIds.length <= 1) return call(...inputs);
    const chunks = scatter(inputs, this.deviceIds.length, this.dim) as unknown[][];
    if (chunks.length <= 1) return call(...inputs);
    return gather(
      chunks.map((c) => call(...c)),
      this.dim,
    );
  }
}
