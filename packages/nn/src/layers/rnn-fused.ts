/**
 * The recurrent step's pieces as single autograd nodes (as PyTorch's fused cells, `_thnn_fused_lstm_cell` and
 * `_thnn_fused_gru_cell`), each written in tensor ops so that every backend runs them:
 * - `StepRows`: the rows of every time step of the precomputed input gates, as views. Composed of `narrow`, each
 *   step's gradient would be a zero-filled tensor of the whole input (O(T^2) work); here backward concatenates the
 *   steps' gradients once.
 * - `LstmGates` and `GruGates`: the gate math of one step, forward as fused elementwise chains and backward from the
 *   saved activations, instead of a dozen recorded ops whose chunk views each take a full-size zero gradient.
 * - `HiddenProduct` and `GatherWeightGrad`: the hidden state's product h W_hh^T per step, whose weight gradient is
 *   not formed per step (a small K = batch product and a [gates, hidden] sum per step) but once per layer and
 *   direction from all steps' gradients, as one product with K = all rows.
 * Their derivatives are checked by finite differences (test/rnn.test.ts) and against PyTorch's gradients.
 */
import { Function as AutogradFunction, type FunctionCtx } from "@cinder/autograd";
import { cat, type Tensor } from "@cinder/tensor";

/** Splits [N, G] rows into consecutive blocks of `sizes` rows (views); backward concatenates their gradients. */
export class StepRows extends AutogradFunction {
  static override readonly name: string = "StepRows";
  static forward(_ctx: FunctionCtx, x: Tensor, sizes: readonly number[]): Tensor[] {
    let at = 0;
    return sizes.map((b) => {
      const rows = x.narrow(0, at, b);
      at += b;
      return rows;
    });
  }
  static backward(_ctx: FunctionCtx, ...grads: Tensor[]): (Tensor | null)[] {
    return [grads.length === 1 ? grads[0] : cat(grads), null];
  }
}

/** One LSTM step from its gates [B, 4H] (i, f, g, o) and cell state c [B, H]: returns [h, c']. */
export class LstmGates extends AutogradFunction {
  static override readonly name: string = "LstmGates";
  static forward(ctx: FunctionCtx, gates: Tensor, c: Tensor): [Tensor, Tensor] {
    const [i, f, g, o] = gates.chunk(4, 1);
    // each activation once, into one buffer (a lazily fused result would be recomputed by every reader)
    const [si, sf, tg, so] = cat([i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()], 1).chunk(4, 1);
    const c2 = sf.mul(c).add(si.mul(tg));
    const [c2r, tc] = cat([c2, c2.tanh()], 1).chunk(2, 1);
    ctx.saveForBackward(si, sf, tg, so, c, tc);
    return [so.mul(tc), c2r];
  }
  static backward(ctx: FunctionCtx, gh: Tensor, gc: Tensor): Tensor[] {
    const [si, sf, tg, so, c, tc] = ctx.savedTensors as Tensor[];
    const dc = gh.mul(so).mul(tc.mul(tc).neg().add(1)).add(gc);
    const di = dc.mul(tg).mul(si.mul(si.neg().add(1)));
    const df = dc.mul(c).mul(sf.mul(sf.neg().add(1)));
    const dg = dc.mul(si).mul(tg.mul(tg).neg().add(1));
    const dout = gh.mul(tc).mul(so.mul(so.neg().add(1)));
    return [cat([di, df, dg, dout], 1), dc.mul(sf)];
  }
}

/**
 * One GRU step from the input's gates xg [B, 3H] (r, z, n, with b_ih), the hidden state's hh [B, 3H] (with b_hh) and
 * h [B, H]: n = tanh(x_n + r hh_n), h' = (h - n) z + n.
 */
export class GruGates extends AutogradFunction {
  static override readonly name: string = "GruGates";
  static forward(ctx: FunctionCtx, xg: Tensor, hh: Tensor, h: Tensor): Tensor {
    const [xr, xz, xn] = xg.chunk(3, 1);
    const [hr, hz, hn] = hh.chunk(3, 1);
    // r, z and n once each, into buffers (see LstmGates)
    const [r, z] = cat([xr.add(hr).sigmoid(), xz.add(hz).sigmoid()], 1).chunk(2, 1);
    const [n, hnr] = cat([xn.add(r.mul(hn)).tanh(), hn], 1).chunk(2, 1);
    ctx.saveForBackward(r, z, n, hnr, h);
    return h.sub(n).mul(z).add(n);
  }
  static backward(ctx: FunctionCtx, gh: Tensor): Tensor[] {
    const [r, z, n, hn, h] = ctx.savedTensors as Tensor[];
    const dn = gh.mul(z.neg().add(1)).mul(n.mul(n).neg().add(1));
    const dz = gh.mul(h.sub(n)).mul(z.mul(z.neg().add(1)));
    const dr = dn.mul(hn).mul(r.mul(r.neg().add(1)));
    return [cat([dr, dz, dn], 1), cat([dr, dz, dn.mul(r)], 1), gh.mul(z)];
  }
}

/** The per-step gradients and inputs of one layer and direction's hidden products, gathered during backward. */
export interface Gathered {
  grads: Tensor[];
  inputs: Tensor[];
}

type GatherCtx = FunctionCtx & { acc: Gathered };

/** h W^T for one step; backward gives h its gradient and leaves W's to `GatherWeightGrad`. */
export class HiddenProduct extends AutogradFunction {
  static override readonly name: string = "HiddenProduct";
  static forward(ctx: GatherCtx, h: Tensor, w: Tensor, acc: Gathered): Tensor {
    ctx.acc = acc;
    ctx.saveForBackward(h, w);
    return h.matmul(w.t());
  }
  static backward(ctx: GatherCtx, g: Tensor): (Tensor | null)[] {
    const [h, w] = ctx.savedTensors as Tensor[];
    if (ctx.needsInputGrad[1]) {
      ctx.acc.grads.push(g);
      ctx.acc.inputs.push(h);
    }
    return [ctx.needsInputGrad[0] ? g.matmul(w) : null, null, null];
  }
}

/**
 * The identity on a direction's initial hidden state, placed before every step: its backward runs after all the
 * steps' (they all depend on it) and computes W's gradient as one product of the gathered gradients and inputs.
 */
export class GatherWeightGrad extends AutogradFunction {
  static override readonly name: string = "GatherWeightGrad";
  static forward(ctx: GatherCtx, h0: Tensor, _w: Tensor, acc: Gathered): Tensor {
    ctx.acc = acc;
    return h0;
  }
  static backward(ctx: GatherCtx, g: Tensor): (Tensor | null)[] {
    const { grads, inputs } = ctx.acc;
    const dw = grads.length === 0 ? null : cat(grads).t().matmul(cat(inputs));
    ctx.acc.grads = [];
    ctx.acc.inputs = [];
    return [g, dw, null];
  }
}
