/**
 * Replaying a PyTorch call recorded by a fixture script (`scripts/fixtures/ops_stats.py`, `linalg_decomp.py`): its
 * arguments decoded (tensors as `$tensor` records, dtypes as `$dtype`, special floats as `$float`), then called as
 * `torch.<name>` (a dotted name such as `linalg.svd` walks the namespace) or `Tensor.<method>`.
 */
import * as torch from "@cinder/tensor";
import { decode, type Encoded, type TensorRecord } from "./fixture-values";

type Tensor = torch.Tensor;

/** A tensor argument: its values, dtype and shape, how it is viewed, whether it requires grad. */
export interface TensorArg {
  $tensor: Encoded;
  dtype: TensorRecord["dtype"];
  shape: number[];
  view?: "t" | "step" | "clone";
  requiresGrad?: boolean;
}
/** A recorded argument. */
export type Arg =
  | TensorArg
  | { $dtype: string }
  | { $float: string }
  | number
  | boolean
  | string
  | null
  | Arg[];
/** What `invoke` needs of a case. */
export interface Call {
  call: string;
  args: Arg[];
  kwargs: Record<string, Arg>;
}

export const isTensorArg = (a: unknown): a is TensorArg =>
  typeof a === "object" && a !== null && "$tensor" in a;

/** The tensor of an argument (in `dtype` when given), a leaf requiring grad when `grad`. */
export function leafOf(a: TensorArg, dtype?: TensorRecord["dtype"], grad = a.requiresGrad): Tensor {
  const t = torch.tensor(decode(a.$tensor) as never, { dtype: dtype ?? a.dtype }).reshape(a.shape);
  return grad ? t.requiresGrad_(true) : t;
}

/** A non-tensor argument's JS value. */
export function decodeArg(a: Arg): unknown {
  if (Array.isArray(a)) return a.map(decodeArg);
  if (a === null || typeof a !== "object") return a;
  if ("$dtype" in a) return a.$dtype;
  if ("$float" in a) return Number(a.$float.replace("inf", "Infinity"));
  throw new Error(`cannot decode ${JSON.stringify(a)}`);
}

/** The case's call on given leaves (one per argument; null where it is not a tensor), each passed through `view`. */
export function invoke(
  c: Call,
  leaves: (Tensor | null)[],
  view: (t: Tensor, a: TensorArg) => Tensor = (t) => t,
): unknown {
  const args = c.args.map((a, i) => (isTensorArg(a) ? view(leaves[i] as Tensor, a) : decodeArg(a)));
  const kwargs = Object.fromEntries(Object.entries(c.kwargs).map(([k, v]) => [k, decodeArg(v)]));
  const all = Object.keys(kwargs).length > 0 ? [...args, kwargs] : args;
  if (c.call.startsWith("Tensor.")) {
    const [self, ...rest] = all as [Tensor, ...unknown[]];
    return (self as unknown as Record<string, (...a: unknown[]) => unknown>)[c.call.slice(7)](...rest);
  }
  let f: unknown = torch;
  for (const p of c.call.split(".")) f = (f as Record<string, unknown>)[p];
  return (f as (...a: unknown[]) => unknown)(...all);
}
