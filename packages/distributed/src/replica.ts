/**
 * A module's forward as plain data, so that another thread can run it: `traceReplica` runs the module once with
 * the core's tracing seam installed (`setOpTracer`, as `torch.jit.trace` does) and records each outermost op call
 * (its name, its arguments with tensors replaced by references, the grad mode it ran in); `replay` runs the record
 * on other inputs and other copies of the parameters, with autograd, in any thread that has the ops.
 *
 * Why not `jit.trace` -> ONNX -> the importer: an ONNX trace is taken in eval mode (BatchNorm with running stats, no
 * dropout), and a training replica must run training-mode ops; the op record replays the very calls, so its results
 * are the module's own (checked: `verify` replays the record on the traced inputs and compares bit for bit).
 *
 * What a record cannot capture refuses the trace with a reason (`ReplicaRefused`): reading values inside forward
 * (`item()`, `tolist()`: a branch on data), an op returning a JS value, a tensor computed outside the traced ops
 * (it has an autograd history, or shares storage with a traced tensor), an argument that is not plain data, an op
 * the replayer cannot name.
 */
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import {
  type DType,
  defaultGenerator,
  enableGrad,
  equal,
  isGradEnabled,
  noGrad,
  type OpTracer,
  setGradEnabled,
  setOpTracer,
  Tensor,
  tensor,
} from "@cinder/tensor";

/** Where a tensor of the record comes from. */
export type Ref =
  | readonly ["in", number] // the i-th tensor of the forward's inputs
  | readonly ["state", number] // the i-th parameter or buffer (`namedParameters()` then `namedBuffers()`)
  | readonly ["const", number] // a tensor made inside forward from no input (its values are in the record)
  | readonly ["op", number, ...(string | number)[]]; // the output of op i, at a path into it

/** A value of the record: plain data, with tensors as `{ $ref }` and plain objects as `{ $obj }`. */
export type Enc =
  | null
  | undefined
  | boolean
  | number
  | string
  | bigint
  | readonly Enc[]
  | { readonly $ref: Ref }
  | { readonly $obj: Readonly<Record<string, Enc>> };

/** A tensor's values, as the record and the threads' messages carry them. */
export interface TensorData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: ArrayLike<unknown>;
}

/** One op call: the op's name, its parsed arguments, and whether gradients were recorded when it ran. */
export interface OpRecord {
  readonly name: string;
  readonly args: Readonly<Record<string, Enc>>;
  readonly grad: boolean;
}

/** A traced forward: what `replay` runs. */
export interface ReplicaTrace {
  readonly ops: readonly OpRecord[];
  readonly consts: readonly TensorData[];
  /** The forward's return value. */
  readonly output: Enc;
  /** The shapes and dtypes of the output's tensors, in `tensorLeaves(output)` order. */
  readonly outputMeta: readonly { dtype: DType; shape: readonly number[] }[];
}

/** A forward that a trace cannot capture; the message says why. */
export class ReplicaRefused extends Error {
  override name = "ReplicaRefused";
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;

/** The tensors in a value (arrays and plain objects walked in order). */
export function tensorLeaves(v: unknown, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) for (const x of v) tensorLeaves(x, out);
  else if (isPlain(v)) for (const x of Object.values(v)) tensorLeaves(x, out);
  return out;
}

/** `v` with its tensors replaced by `f(tensor)` (the encoding of a value, or a decoding with `f` on refs). */
export function mapTensors<T>(v: unknown, f: (t: Tensor) => T): unknown {
  if (v instanceof Tensor) return f(v);
  if (Array.isArray(v)) return v.map((x) => mapTensors(x, f));
  if (isPlain(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapTensors(x, f)]));
  return v;
}

/** A tensor's values in row-major order (`data()` gives a fresh copy). */
export function tensorData(t: Tensor): TensorData {
  return { dtype: t.dtype, shape: [...t.shape], data: t.data() as ArrayLike<unknown> };
}

/** A tensor from its values. */
export function fromData(d: TensorData): Tensor {
  return tensor(d.data as never, { dtype: d.dtype }).reshape([...d.shape]);
}

/** The state a record refers to: parameters then buffers, in registration order. */
export function stateOf(module: nn.Module): Tensor[] {
  return [...module.parameters(), ...module.buffers()];
}

class Recorder implements OpTracer {
  depth = 0;
  readonly ops: OpRecord[] = [];
  readonly consts: TensorData[] = [];
  readonly refs = new Map<Tensor, Ref>();
  /** Storages of traced tensors: an unknown tensor over one of them is a view made outside the trace. */
  readonly storages = new Set<unknown>();
  refused: string | null = null;

  name(t: Tensor, ref: Ref): void {
    this.refs.set(t, ref);
    this.storages.add(t.storage);
  }

  encode(v: unknown, where: string): Enc {
    if (v instanceof Tensor) return { $ref: this.refOf(v, where) };
    if (Array.isArray(v)) return v.map((x) => this.encode(x, where));
    if (isPlain(v))
      return { $obj: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.encode(x, where)])) };
    const kind = typeof v;
    if (v === null || kind === "undefined" || kind === "boolean" || kind === "number" || kind === "string")
      return v as Enc;
    if (kind === "bigint") return v as bigint;
    throw new ReplicaRefused(`${where} takes a ${describe(v)}, which is not plain data`);
  }

  private refOf(t: Tensor, where: string): Ref {
    const known = this.refs.get(t);
    if (known) return known;
    if (t.gradFn !== null)
      throw new ReplicaRefused(
        `${where} takes a tensor computed by ${t.gradFn.name}, a computation the tracer did not see`,
      );
    if (this.storages.has(t.storage))
      throw new ReplicaRefused(`${where} takes a view of a traced tensor made outside the traced ops`);
    const ref = ["const", this.consts.length] as const;
    this.depth++; // (reading the constant's values is not forward's read)
    try {
      this.consts.push(tensorData(t));
    } finally {
      this.depth--;
    }
    this.name(t, ref);
    return ref;
  }

  call(name: string, args: Readonly<Record<string, unknown>>, run: () => unknown): unknown {
    if (this.depth > 0 || this.refused !== null) return run();
    const grad = isGradEnabled();
    let enc: Record<string, Enc>;
    try {
      if (resolveOp(name, args) === null) throw new ReplicaRefused(`the op ${name} cannot be replayed`);
      enc = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, this.encode(v, `the op ${name}`)]));
    } catch (e) {
      if (!(e instanceof ReplicaRefused)) throw e;
      this.refused = e.message;
      return run();
    }
    this.depth++;
    let out: unknown;
    try {
      out = run();
    } finally {
      this.depth--;
    }
    const i = this.ops.length;
    this.ops.push({ name, args: enc, grad });
    if (!(out instanceof Tensor) && tensorLeaves(out).length === 0)
      this.refused = `the op ${name} returns a JS value (${describe(out)}), which a branch could depend on`;
    this.nameOutputs(out, ["op", i]);
    return out;
  }

  private nameOutputs(v: unknown, path: readonly (string | number)[]): void {
    if (v instanceof Tensor) this.name(v, path as unknown as Ref);
    else if (Array.isArray(v)) for (const [j, x] of v.entries()) this.nameOutputs(x, [...path, j]);
    else if (isPlain(v)) for (const [k, x] of Object.entries(v)) this.nameOutputs(x, [...path, k]);
  }

  read(): void {
    if (this.depth === 0 && this.refused === null)
      this.refused =
        "forward reads tensor values (item(), tolist(), data()), so its ops may depend on the data";
  }
}

const describe = (v: unknown) =>
  v === null || typeof v !== "object" ? typeof v : `${(v as object).constructor?.name ?? "object"} object`;

/**
 * Traces `module`'s forward on `args` (a call's arguments, tensors anywhere in arrays and plain objects) in the
 * module's current mode. The module's buffers and the default generator are restored afterwards, so the trace
 * leaves no trace: the caller's own forward then runs as if it had not happened. Throws `ReplicaRefused`.
 */
export function traceReplica(module: nn.Module, args: readonly unknown[]): ReplicaTrace {
  const state = stateOf(module);
  const savedBuffers = noGrad(() => module.buffers().map((b) => b.clone()));
  const rng = defaultGenerator.getState();
  const rec = new Recorder();
  for (const [i, t] of state.entries()) rec.name(t, ["state", i]);
  let n = 0;
  // inputs require grad while tracing, so a value computed from them outside the tracer's sight is caught
  const inputs = mapTensors(args, (t) => {
    const x = t.isFloatingPoint() ? t.detach().requiresGrad_(true) : t.detach();
    rec.name(x, ["in", n++]);
    return x;
  }) as unknown[];
  const call = module as unknown as (...a: unknown[]) => unknown;
  const prev = setOpTracer(rec);
  let result: unknown;
  try {
    result = enableGrad(() => call(...inputs));
  } finally {
    setOpTracer(prev);
    noGrad(() => {
      for (const [i, b] of module.buffers().entries()) b.copy_(savedBuffers[i]);
    });
  }
  try {
    if (rec.refused !== null) throw new ReplicaRefused(rec.refused);
    const outs = tensorLeaves(result);
    if (outs.length === 0) throw new ReplicaRefused("forward returns no tensor");
    const trace: ReplicaTrace = {
      ops: rec.ops,
      consts: rec.consts,
      output: rec.encode(result, "the forward's result"),
      outputMeta: outs.map((t) => ({ dtype: t.dtype, shape: [...t.shape] })),
    };
    defaultGenerator.setState(rng);
    verify(trace, inputs, state, outs);
    return trace;
  } finally {
    defaultGenerator.setState(rng);
  }
}

/** Replays `trace` on the traced inputs (same random draws) and demands the module's outputs, bit for bit. */
function verify(
  trace: ReplicaTrace,
  inputs: readonly unknown[],
  state: readonly Tensor[],
  want: Tensor[],
): void {
  const saved = noGrad(() => state.map((t) => t.clone()));
  let got: Tensor[];
  try {
    got = tensorLeaves(noGrad(() => replay(trace, tensorLeaves(inputs), saved)));
  } catch (e) {
    throw new ReplicaRefused(`replaying the trace failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const [i, t] of want.entries())
    if (!equal(got[i], t.detach()))
      throw new ReplicaRefused(
        `replaying the trace gives other values than the module (output ${i}): forward does something the ops do not show (an in-place change of a view?)`,
      );
}

/** How an op call is made again from its parsed arguments, or null when it cannot be. */
type Replayer = (a: Record<string, unknown>) => unknown;

const fnOf = (ns: object, name: string) => {
  const f = (ns as Record<string, unknown>)[name];
  if (typeof f !== "function") return null;
  const op = f as { signature?: unknown; signatures?: unknown };
  return op.signature !== undefined || op.signatures !== undefined ? (f as (a: object) => unknown) : null;
};

/**
 * The replayer of an op named as the seam names it: `nn.functional.X` and `linalg.X` by their functions, other
 * names by the `torch` function or the tensor method of that name (parsed arguments given back as the options
 * object, which every signature accepts); the elementwise fast paths and indexing by their method forms.
 */
export function resolveOp(name: string, args: Readonly<Record<string, unknown>>): Replayer | null {
  const input = args.input;
  if (name === "at" && input instanceof Tensor) return (a) => (a.input as Tensor).at(...(a.items as []));
  if (name.startsWith("nn.functional.")) {
    const f = fnOf(nn.functional, name.slice(14));
    return f && ((a) => f(a));
  }
  if (name.startsWith("linalg.")) {
    const f = fnOf(torch.linalg, name.slice(7));
    return f && ((a) => f(a));
  }
  if (name.includes(".")) return null;
  const f = fnOf(torch, name);
  if (f) return (a) => f(a);
  const method = (Tensor.prototype as unknown as Record<string, unknown>)[name];
  if (!(input instanceof Tensor) || typeof method !== "function") return null;
  const keys = Object.keys(args);
  // the fast paths' arguments: `x.exp()`, `x.add(y)`, `x.to(dtype)`
  if (keys.length === 1) return (a) => (a.input as Record<string, () => unknown>)[name]();
  if (keys.length === 2 && (keys[1] === "other" || keys[1] === "dtype")) {
    const k = keys[1];
    return (a) => (a.input as Record<string, (x: unknown) => unknown>)[name](a[k]);
  }
  return (a) => {
    const { input: self, ...rest } = a;
    return (self as Record<string, (x: unknown) => unknown>)[name](rest);
  };
}

/**
 * Runs `trace` on `inputs` (the forward's tensors, in the traced order) with `state` as the parameters and buffers,
 * and returns the forward's result (tensors computed, with autograd where the grad mode allows).
 */
export function replay(trace: ReplicaTrace, inputs: readonly Tensor[], state: readonly Tensor[]): unknown {
  const outs: unknown[] = [];
  const consts = trace.consts.map(fromData);
  const lookup = (ref: Ref): Tensor => {
    const [kind, i, ...path] = ref;
    const base =
      kind === "in" ? inputs[i] : kind === "state" ? state[i] : kind === "const" ? consts[i] : outs[i];
    let v: unknown = base;
    for (const p of path) v = (v as Record<string | number, unknown>)[p];
    if (!(v instanceof Tensor)) throw new Error(`internal: the record's ${ref.join(".")} is not a tensor`);
    return v;
  };
  const decode = (e: Enc): unknown => {
    if (Array.isArray(e)) return e.map(decode);
    if (e !== null && typeof e === "object") {
      if ("$ref" in e) return lookup(e.$ref);
      if ("$obj" in e) return Object.fromEntries(Object.entries(e.$obj).map(([k, x]) => [k, decode(x)]));
    }
    return e;
  };
  const mode = isGradEnabled();
  try {
    for (const rec of trace.ops) {
      const args = decode({ $obj: rec.args }) as Record<string, unknown>;
      const run = resolveOp(rec.name, args);
      if (run === null) throw new Error(`the op ${rec.name} cannot be replayed`);
      setGradEnabled(mode && rec.grad);
      outs.push(run(args));
    }
  } finally {
    setGradEnabled(mode);
  }
  return decode(trace.output);
}
