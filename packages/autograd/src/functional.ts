import { type GradFn, noGrad, onesLike, type Tensor, tensor } from "@cinder/tensor";
import { accumulatorOf, type BackwardOptions, runBackward } from "./engine";

export interface GradOptions extends BackwardOptions {
  /** Seed gradients for non-scalar outputs (torch's grad_outputs). */
  gradOutputs?: readonly Tensor[];
  /** Return null for inputs the outputs do not depend on instead of throwing. */
  allowUnused?: boolean;
}

/**
 * Gradients of `outputs` w.r.t. `inputs`, returned instead of accumulated into `.grad` (torch.autograd.grad).
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  opts: GradOptions = {},
): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs as Tensor];
  const ins = Array.isArray(inputs) ? inputs : [inputs as Tensor];
  const seeds = outs.map((o, i) => {
    const s = opts.gradOutputs?.[i];
    if (s) return s;
    if (o.numel() !== 1)
      throw new Error(`grad: gradOutputs is needed for the non-scalar output ${i} of shape [${o.shape}]`);
    return onesLike(o);
  });
  const nodes = ins.map((t, i) => {
    if (!t.requiresGrad) throw new Error(`grad: input ${i} does not require grad`);
    return accumulatorOf(t) as GradFn;
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

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
}

/**
 * Compare analytical gradients with central finite differences for every input that requires grad
 * (torch.autograd.gradcheck). Use float64 inputs. Returns true or throws an Error naming the mismatch.
 */
export function gradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): boolean {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
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
      const [g] = grad(out, [x], {
        gradOutputs: [tensor(seed, { device: out.device }).reshape(out.shape).to(out.dtype)],
        allowUnused: true,
      });
      const row = g ? g.double().data() : new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const a = row[j];
        const e = numeric[k][j];
        if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
          throw new Error(
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
