/**
 * scaledDotProductAttention (torch.nn.functional.scaled_dot_product_attention, PyTorch 2.0) and the attention core
 * that multiHeadAttentionForward shares with it: softmax(q k^T / sqrt(E) + bias) v, composed from tensor ops (div,
 * matmul, add, softmax, dropout, matmul), so autograd and every backend need nothing of their own.
 */
import {
  arg,
  DTypeError,
  fmtShape,
  k,
  ones,
  op,
  ShapeError,
  signature,
  type Tensor,
  zeros,
} from "@cinder/tensor";
import { dropout } from "./linear";

/**
 * The attention core: `softmax(q / sqrt(E) @ k^T + bias) @ v` over any leading batch dims, with dropout `p` on the
 * weights (always applied when p > 0). `bias` is a float mask added to the scores (-inf where not allowed), or null.
 * Returns the output and the weights. The scaling before the product is PyTorch 1.13's `_scaled_dot_product_attention`.
 */
export function attentionCore(
  q: Tensor,
  key: Tensor,
  value: Tensor,
  bias: Tensor | null,
  p: number,
): [Tensor, Tensor] {
  let w = q.div(Math.sqrt(q.shape[q.ndim - 1])).matmul(key.transpose(-2, -1));
  if (bias) w = w.add(bias);
  w = w.softmax(-1);
  if (p > 0) w = dropout(w, p);
  return [w.matmul(value), w];
}

/** A bool mask (true = may attend) as the float bias it stands for: 0 where true, -inf where false. */
export function keepMaskToBias(mask: Tensor, like: Tensor): Tensor {
  return zeros(mask.shape, { dtype: like.dtype, device: like.device }).maskedFill(
    mask.logicalNot(),
    Number.NEGATIVE_INFINITY,
  );
}

function fail(message: string): never {
  throw new ShapeError(`scaled_dot_product_attention(): ${message}`);
}

/** Whether `shape` broadcasts to `target` (numpy rules, aligned from the right). */
function broadcastsTo(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  const off = target.length - shape.length;
  return shape.every((d, i) => d === 1 || d === target[off + i]);
}

/** The numpy broadcast of two shapes, or null when they do not broadcast. */
function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * `scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False)`, as PyTorch 2.0
 * defines it (PyTorch 1.13 has no such function; its `multi_head_attention_forward` computes the same core):
 * query [..., L, E], key [..., S, E], value [..., S, Ev] (leading dims broadcast) give [..., L, Ev] =
 * softmax(query key^T / sqrt(E) + bias) value. A bool `attnMask` keeps the positions where it is true (the others get
 * -inf); a float `attnMask` is added to the scores; either broadcasts to [..., L, S]. `isCausal` lets query i attend
 * to keys 0..i (top-left aligned when L != S) and cannot be combined with `attnMask`. `dropoutP` drops attention
 * weights (always, as PyTorch's: pass 0 in evaluation). A row with no allowed key gives NaN, as PyTorch's.
 */
export const scaledDotProductAttention = op(
  signature("nn.functional.scaledDotProductAttention", [
    arg("query", k.tensor),
    arg("key", k.tensor),
    arg("value", k.tensor),
    arg.opt("attnMask", k.tensor),
    arg("dropoutP", k.float, 0.0),
    arg("isCausal", k.bool, false),
  ]),
  ({ query, key, value, attnMask, dropoutP, isCausal }): Tensor => {
    for (const [name, t] of [
      ["query", query],
      ["key", key],
      ["value", value],
    ] as const) {
      if (t.ndim < 2) fail(`expected ${name} to have at least 2 dimensions, got shape ${fmtShape(t.shape)}`);
      if (!t.isFloatingPoint())
        throw new DTypeError(`scaled_dot_product_attention(): expected a floating ${name}, got ${t.dtype}`);
    }
    if (key.dtype !== query.dtype || value.dtype !== query.dtype)
      throw new DTypeError(
        `scaled_dot_product_attention(): expected query, key and value of one dtype, got ${query.dtype}, ${key.dtype} and ${value.dtype}`,
      );
    const L = query.shape[query.ndim - 2];
    const E = query.shape[query.ndim - 1];
    const S = key.shape[key.ndim - 2];
    if (key.shape[key.ndim - 1] !== E)
      fail(
        `query and key must have the same embedding size (last dim), got ${fmtShape(query.shape)} and ${fmtShape(key.shape)}`,
      );
    if (value.shape[value.ndim - 2] !== S)
      fail(
        `key and value must have the same sequence length (dim -2), got ${fmtShape(key.shape)} and ${fmtShape(value.shape)}`,
      );
    const lead = broadcastShape(query.shape.slice(0, -2), key.shape.slice(0, -2));
    if (lead === null)
      fail(
        `the batch dims of query ${fmtShape(query.shape)} and key ${fmtShape(key.shape)} do not broadcast together`,
      );
    if (!(dropoutP >= 0 && dropoutP <= 1))
      throw new RangeError(`scaled_dot_product_attention(): dropout_p must be in [0, 1], got ${dropoutP}`);
    let bias: Tensor | null = null;
    if (isCausal) {
      if (attnMask !== null)
        throw new TypeError(
          "scaled_dot_product_attention(): is_causal=True and an attn_mask cannot be given together (the causal mask is built from L and S)",
        );
      bias = zeros([L, S], { dtype: query.dtype, device: query.device }).maskedFill(
        ones([L, S], { dtype: "bool", device: query.device }).triu(1),
        Number.NEGATIVE_INFINITY,
      );
    } else if (attnMask !== null) {
      if (!broadcastsTo(attnMask.shape, [...lead, L, S]))
        fail(
          `attn_mask of shape ${fmtShape(attnMask.shape)} does not broadcast to the attention scores' [..., L, S] = ${fmtShape([...lead, L, S])}`,
        );
      if (attnMask.dtype === "bool") bias = keepMaskToBias(attnMask, query);
      else if (attnMask.dtype === query.dtype) bias = attnMask;
      else
        throw new DTypeError(
          `scaled_dot_product_attention(): expected a bool attn_mask or one of query's dtype (${query.dtype}), got ${attnMask.dtype}`,
        );
    }
    return attentionCore(query, key, value, bias, dropoutP)[0];
  },
);
