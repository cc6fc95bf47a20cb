import {
  ArgumentError,
  arg,
  fmtShape,
  type Kind,
  k,
  noGrad,
  onesLike,
  op,
  signature,
  type Tensor,
  tensor,
} from "@cinder/tensor";
import { accumulatorOf, type BackwardOptions, runBackward } from "./engine";

/** Options of `autograd.grad()`: the backward options plus PyTorch's `grad_outputs` and `allow_unused`. */
export interface GradOptions extends BackwardOptions {
  /** Seed gradients for non-scalar outputs (torch's grad_outputs). */
  gradOutputs?: Tensor | readonly Tensor[] | null;
  /** Return null for inputs the outputs do not depend on instead of throwing. */
  allowUnused?: boolean;
}

const tensorOrList = k.or(k.tensor, k.tensors);
/** A function of tensors returning a tensor (the kind is `callable`; the type is what gradcheck calls). */
const tensorFn = k.fn as unknown as Kind<(...xs: Tensor[]) => Tensor>;

/**
 * `grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
 * allow_unused=False, is_grads_batched=False)`: gradients of `outputs` w.r.t. `inputs`, returned instead of
 * accumulated into `.grad` (torch.autograd.grad).
 */
export const grad = op(
  signature("autograd.grad", [
    arg("outputs", tensorOrList),
    arg("inputs", tensorOrList),
    arg.opt("gradOutputs", tensorOrList),
    arg.opt("retainGraph", k.bool),
    arg("createGraph", k.bool, false),
    arg.unsupported("onlyInputs", true, "only_inputs is deprecated and always True"),
    arg("allowUnused", k.bool, false),
    arg.unsupported("isGradsBatched", false, "batched gradients (vmap) are not supported"),
  ]),
  (a): (Tensor | null)[] =>
    gradImpl(a.outputs, a.inputs, {
      gradOutputs: a.gradOutputs,
      retainGraph: a.retainGraph ?? undefined,
      createGraph: a.createGraph,
      allowUnused: a.allowUnused,
    }),
);

function gradImpl(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  opts: GradOptions = {},
): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs as Tensor];
  const ins = Array.isArray(inputs) ? inputs : [inputs as Tensor];
  const seedList =
    opts.gradOutputs == null ? [] : Array.isArray(opts.gradOutputs) ? opts.gradOutputs : [opts.gradOutputs];
  if (opts.gradOutputs != null && seedList.length !== outs.length) {
    throw new ArgumentError(`grad(): got ${seedList.length} grad_outputs for ${outs.length} outputs`);
  }
  const seeds = outs.map((o, i) => {
    const s = seedList[i] as Tensor | undefined;
    if (s) return s;
    if (o.numel() !== 1)
      throw new Error(
        `grad: gradOutputs is needed for the non-scalar output ${i} of shape ${fmtShape(o.shape)}`,
      );
    return onesLike(o);
  });
  const nodes = ins.map((t, i) => {
    if (!t.requiresGrad) throw new Error(`grad: input ${i} does not require grad`);
    return accumulatorOf(t) as object;
  });
  const captured = runBackward(
    outs,
    seeds,
    { retainGraph: opts.retainGraph ?? opts.createGraph, createGraph: opts.createGraph },
    nodes,
  );
  return nodes.map((n, i) => {
    const g = captured.get(n);
    if (!g && !opts.allowUnused) {
      throw new Error(
        `grad: one of the differentiated tensors (input ${i}) appears to not have been used in the graph; pass allowUnused: true`,
      );
    }
    return g ?? null;
  });
}

/**
 * Options of `gradcheck()`: the finite-difference step `eps` and the tolerances `atol`/`rtol` that the
 * analytical gradients must meet, as in `torch.autograd.gradcheck`.
 */
export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** false: return false on a mismatch instead of throwing (PyTorch's raise_exception). */
  raiseException?: boolean;
}

const onlyDefault = (name: string, dflt: boolean | number) =>
  arg.unsupported(name, dflt, `Cinder's gradcheck checks first-order backward-mode gradients only`);

/**
 * `gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True, ...)`: compare analytical
 * gradients with central finite differences for every input that requires grad (torch.autograd.gradcheck). Use
 * float64 inputs. Returns true, or throws an Error naming the mismatch (false with `raiseException: false`).
 */
export const gradcheck = op(
  signature(
    "autograd.gradcheck",
    [arg("func", tensorFn), arg("inputs", tensorOrList)],
    [
      arg("eps", k.float, 1e-6),
      arg("atol", k.float, 1e-5),
      arg("rtol", k.float, 1e-3),
      arg("raiseException", k.bool, true),
      onlyDefault("checkSparseNnz", false),
      onlyDefault("nondetTol", 0),
      onlyDefault("checkUndefinedGrad", true),
      onlyDefault("checkGradDtypes", false),
      onlyDefault("checkBatchedGrad", false),
      onlyDefault("checkBatchedForwardGrad", false),
      onlyDefault("checkForwardAd", false),
      onlyDefault("checkBackwardAd", true),
      onlyDefault("fastMode", false),
    ],
  ),
  (a): boolean => {
    const inputs = Array.isArray(a.inputs) ? (a.inputs as readonly Tensor[]) : [a.inputs as Tensor];
    const fn = a.func;
    try {
      return gradcheckImpl(fn, inputs, a);
    } catch (e) {
      if (a.raiseException || !(e instanceof GradcheckError)) throw e;
      return false;
    }
  },
);

/** A Jacobian mismatch found by gradcheck. */
export class GradcheckError extends Error {
  override name = "GradcheckError";
}

function gradcheckImpl(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  opts: { eps: number; atol: number; rtol: number },
): boolean {
  const { eps, atol, rtol } = opts;
  const out0 = noGrad(() => fn(...inputs));
  const nOut = out0.numel();
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    if (x.dtype !== "float64")
      throw new Error(`gradcheck: input ${xi} is ${x.dtype}; use float64 inputs for finite differences`);
    const n = x.numel();
    // numerical Jacobian, column by column (perturb the input in place, outside the graph)
    const numeric: number[][] = Array.from({ length: nOut }, () => new Array(n).fill(0));
    const alias = x.detach();
    for (let j = 0; j < n; j++) {
      const at = unravel(j, x.shape);
      const orig = alias.at(...at).item() as number;
      alias.set(at, orig + eps);
      const plus = noGrad(() => fn(...inputs))
        .double()
        .data();
      alias.set(at, orig - eps);
      const minus = noGrad(() => fn(...inputs))
        .double()
        .data();
      alias.set(at, orig);
      for (let k = 0; k < nOut; k++) numeric[k][j] = (plus[k] - minus[k]) / (2 * eps);
    }
    // analytical Jacobian, row by row
    for (let k = 0; k < nOut; k++) {
      const out = fn(...inputs);
      const seed = new Float64Array(nOut);
      seed[k] = 1;
      const [g] = gradImpl(out, [x], {
        gradOutputs: [tensor(seed, { device: out.device }).reshape(out.shape).to(out.dtype)],
        allowUnused: true,
      });
      const row = g ? g.double().data() : new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const a = row[j];
        const e = numeric[k][j];
        if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
          throw new GradcheckError(
            `gradcheck: Jacobian mismatch for output ${k} with respect to input ${xi}, element ${j}: numerical ${e}, analytical ${a}`,
          );
        }
      }
    }
  });
  return true;
}

function unravel(j: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = j % shape[d];
    j = Math.floor(j / shape[d]);
  }
  return idx;
}
