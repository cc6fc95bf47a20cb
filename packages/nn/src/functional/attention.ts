/**
 * multiHeadAttentionForward (torch.nn.functional.multi_head_attention_forward): the computation behind
 * nn.MultiheadAttention, step by step as PyTorch 1.13 writes it (packed or separate in-projections, bias_k/bias_v,
 * zero attention, static keys/values, bool or float masks merged with the key padding mask, scaled dot-product
 * attention (`attentionCore`, shared with scaledDotProductAttention), dropout, out-projection, head-averaged weights),
 * composed from tensor ops.
 */
import { arg, cat, fmtShape, k, op, signature, type Tensor, zeros } from "@cinder/tensor";
import { attentionCore } from "./attention-sdpa";
import { linear } from "./linear";
import { pad } from "./pad";

const optT = <const N extends string>(name: N) => arg.opt(name, k.tensor);

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`multi_head_attention_forward(): ${message}`);
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * `multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
 * bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True, key_padding_mask=None,
 * need_weights=True, attn_mask=None, use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
 * v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True)`: query [L, N, E] (or [L, E]),
 * key/value [S, N, E]; returns `[attnOutput, attnWeights]` (weights null unless `needWeights`).
 */
export const multiHeadAttentionForward = op(
  signature("nn.functional.multiHeadAttentionForward", [
    arg("query", k.tensor),
    arg("key", k.tensor),
    arg("value", k.tensor),
    arg("embedDimToCheck", k.int),
    arg("numHeads", k.int),
    arg("inProjWeight", k.opt(k.tensor)),
    arg("inProjBias", k.opt(k.tensor)),
    arg("biasK", k.opt(k.tensor)),
    arg("biasV", k.opt(k.tensor)),
    arg("addZeroAttn", k.bool),
    arg("dropoutP", k.float),
    arg("outProjWeight", k.tensor),
    arg("outProjBias", k.opt(k.tensor)),
    arg("training", k.bool, true),
    optT("keyPaddingMask"),
    arg("needWeights", k.bool, true),
    optT("attnMask"),
    arg("useSeparateProjWeight", k.bool, false),
    optT("qProjWeight"),
    optT("kProjWeight"),
    optT("vProjWeight"),
    optT("staticK"),
    optT("staticV"),
    arg("averageAttnWeights", k.bool, true),
  ]),
  (a): [Tensor, Tensor | null] => {
    let { query, key, value, keyPaddingMask: kpm, attnMask: mask } = a;
    const H = a.numHeads;
    // PyTorch's _in_projection_packed looks at identity: one product for self-attention, two when key is value
    const kvSame = key === value;
    const selfAttention = kvSame && query === key;
    // _mha_shape_check
    let batched: boolean;
    if (query.ndim === 3) {
      batched = true;
      check(
        key.ndim === 3 && value.ndim === 3,
        `For batched (3-D) \`query\`, expected \`key\` and \`value\` to be 3-D but found ${key.ndim}-D and ${value.ndim}-D tensors respectively`,
      );
      check(
        kpm === null || kpm.ndim === 2,
        `For batched (3-D) \`query\`, expected \`key_padding_mask\` to be \`None\` or 2-D but found ${kpm?.ndim}-D tensor instead`,
      );
      check(
        mask === null || mask.ndim === 2 || mask.ndim === 3,
        `For batched (3-D) \`query\`, expected \`attn_mask\` to be \`None\`, 2-D or 3-D but found ${mask?.ndim}-D tensor instead`,
      );
    } else if (query.ndim === 2) {
      batched = false;
      check(
        key.ndim === 2 && value.ndim === 2,
        `For unbatched (2-D) \`query\`, expected \`key\` and \`value\` to be 2-D but found ${key.ndim}-D and ${value.ndim}-D tensors respectively`,
      );
      check(
        kpm === null || kpm.ndim === 1,
        `For unbatched (2-D) \`query\`, expected \`key_padding_mask\` to be \`None\` or 1-D but found ${kpm?.ndim}-D tensor instead`,
      );
      check(
        mask === null || mask.ndim === 2 || mask.ndim === 3,
        `For unbatched (2-D) \`query\`, expected \`attn_mask\` to be \`None\`, 2-D or 3-D but found ${mask?.ndim}-D tensor instead`,
      );
      if (mask?.ndim === 3) {
        const want = [H, query.shape[0], key.shape[0]];
        check(
          sameShape(mask.shape, want),
          `Expected \`attn_mask\` shape to be ${fmtShape(want)} but got ${fmtShape(mask.shape)}`,
        );
      }
      query = query.unsqueeze(1);
      key = key.unsqueeze(1);
      value = value.unsqueeze(1);
      if (kpm) kpm = kpm.unsqueeze(0);
    } else {
      throw new Error(
        `multi_head_attention_forward(): query should be unbatched 2D or batched 3D tensor but received ${query.ndim}-D query tensor`,
      );
    }
    const [tgtLen, bsz, E] = query.shape;
    let srcLen = key.shape[0];
    if (kpm)
      check(
        kpm.dtype === "bool" || kpm.isFloatingPoint(),
        "only bool and floating types of key_padding_mask are supported",
      );
    check(E === a.embedDimToCheck, `was expecting embedding dimension of ${a.embedDimToCheck}, but got ${E}`);
    const headDim = Math.floor(E / H);
    check(headDim * H === E, `embed_dim ${E} not divisible by num_heads ${H}`);
    if (a.useSeparateProjWeight) {
      check(
        sameShape(key.shape.slice(0, 2), value.shape.slice(0, 2)),
        `key's sequence and batch dims ${fmtShape(key.shape.slice(0, 2))} do not match value's ${fmtShape(value.shape.slice(0, 2))}`,
      );
    } else {
      check(
        sameShape(key.shape, value.shape),
        `key shape ${fmtShape(key.shape)} does not match value shape ${fmtShape(value.shape)}`,
      );
    }
    // in-projection
    let q: Tensor;
    let kk: Tensor;
    let v: Tensor;
    const bias = a.inProjBias ? a.inProjBias.chunk(3) : [null, null, null];
    if (!a.useSeparateProjWeight) {
      check(a.inProjWeight !== null, "use_separate_proj_weight is False but in_proj_weight is None");
      const w = a.inProjWeight as Tensor;
      if (selfAttention) [q, kk, v] = linear(query, w, a.inProjBias).chunk(3, -1);
      else if (kvSame) {
        const [wq, wkv] = w.split([E, 2 * E]);
        const [bq, bkv] = a.inProjBias ? a.inProjBias.split([E, 2 * E]) : [null, null];
        q = linear(query, wq, bq);
        [kk, v] = linear(key, wkv, bkv).chunk(2, -1);
      } else {
        const [wq, wk, wv] = w.chunk(3);
        q = linear(query, wq, bias[0]);
        kk = linear(key, wk, bias[1]);
        v = linear(value, wv, bias[2]);
      }
    } else {
      check(a.qProjWeight !== null, "use_separate_proj_weight is True but q_proj_weight is None");
      check(a.kProjWeight !== null, "use_separate_proj_weight is True but k_proj_weight is None");
      check(a.vProjWeight !== null, "use_separate_proj_weight is True but v_proj_weight is None");
      q = linear(query, a.qProjWeight as Tensor, bias[0]);
      kk = linear(key, a.kProjWeight as Tensor, bias[1]);
      v = linear(value, a.vProjWeight as Tensor, bias[2]);
    }
    // the attention mask, 3-D
    if (mask) {
      if (mask.dtype === "uint8") {
        console.warn(
          "Byte tensor for attn_mask in nn.MultiheadAttention is deprecated. Use bool tensor instead.",
        );
        mask = mask.to("bool");
      } else {
        check(
          mask.isFloatingPoint() || mask.dtype === "bool",
          `Only float, byte, and bool types are supported for attn_mask, not ${mask.dtype}`,
        );
      }
      if (mask.ndim === 2) {
        if (!sameShape(mask.shape, [tgtLen, srcLen])) {
          throw new Error(
            `multi_head_attention_forward(): The shape of the 2D attn_mask is ${fmtShape(mask.shape)}, but should be ${fmtShape([tgtLen, srcLen])}.`,
          );
        }
        mask = mask.unsqueeze(0);
      } else if (!sameShape(mask.shape, [bsz * H, tgtLen, srcLen])) {
        throw new Error(
          `multi_head_attention_forward(): The shape of the 3D attn_mask is ${fmtShape(mask.shape)}, but should be ${fmtShape([bsz * H, tgtLen, srcLen])}.`,
        );
      }
    }
    const padLast = (t: Tensor) =>
      t.dtype === "bool" ? pad(t.to("uint8"), [0, 1]).to("bool") : pad(t, [0, 1]);
    if (a.biasK && a.biasV) {
      check(a.staticK === null, "bias cannot be added to static key.");
      check(a.staticV === null, "bias cannot be added to static value.");
      kk = cat([kk, a.biasK.repeat(1, bsz, 1)]);
      v = cat([v, a.biasV.repeat(1, bsz, 1)]);
      if (mask) mask = padLast(mask);
      if (kpm) kpm = padLast(kpm);
    } else {
      check(a.biasK === null && a.biasV === null, "bias_k and bias_v must be given together");
    }
    // heads into the batch: [N * H, L, head_dim]
    q = q
      .contiguous()
      .view(tgtLen, bsz * H, headDim)
      .transpose(0, 1);
    if (a.staticK === null)
      kk = kk
        .contiguous()
        .view(kk.shape[0], bsz * H, headDim)
        .transpose(0, 1);
    else {
      check(
        a.staticK.shape[0] === bsz * H,
        `expecting static_k.size(0) of ${bsz * H}, but got ${a.staticK.shape[0]}`,
      );
      check(
        a.staticK.shape[2] === headDim,
        `expecting static_k.size(2) of ${headDim}, but got ${a.staticK.shape[2]}`,
      );
      kk = a.staticK;
    }
    if (a.staticV === null)
      v = v
        .contiguous()
        .view(v.shape[0], bsz * H, headDim)
        .transpose(0, 1);
    else {
      check(
        a.staticV.shape[0] === bsz * H,
        `expecting static_v.size(0) of ${bsz * H}, but got ${a.staticV.shape[0]}`,
      );
      check(
        a.staticV.shape[2] === headDim,
        `expecting static_v.size(2) of ${headDim}, but got ${a.staticV.shape[2]}`,
      );
      v = a.staticV;
    }
    if (a.addZeroAttn) {
      const z = zeros([bsz * H, 1, headDim], { dtype: kk.dtype, device: kk.device });
      kk = cat([kk, z], 1);
      v = cat([v, z], 1);
      if (mask) mask = padLast(mask);
      if (kpm) kpm = padLast(kpm);
    }
    srcLen = kk.shape[1];
    // merge the key padding mask into the attention mask
    if (kpm) {
      check(
        sameShape(kpm.shape, [bsz, srcLen]),
        `expecting key_padding_mask shape of ${fmtShape([bsz, srcLen])}, but got ${fmtShape(kpm.shape)}`,
      );
      const km = kpm
        .view(bsz, 1, 1, srcLen)
        .expand(-1, H, -1, -1)
        .reshape(bsz * H, 1, srcLen);
      if (!mask) mask = km;
      else if (mask.dtype === "bool") mask = mask.logicalOr(km);
      else mask = mask.maskedFill(km, Number.NEGATIVE_INFINITY);
    }
    if (mask && mask.dtype === "bool") {
      mask = zeros(mask.shape, { dtype: q.dtype, device: q.device }).maskedFill(
        mask,
        Number.NEGATIVE_INFINITY,
      );
    }
    const [o, w] = attentionCore(q, kk, v, mask, a.training ? a.dropoutP : 0);
    let out = o
      .transpose(0, 1)
      .contiguous()
      .view(tgtLen * bsz, E);
    out = linear(out, a.outProjWeight, a.outProjBias);
    out = out.view(tgtLen, bsz, out.shape[1]);
    if (!a.needWeights) return [batched ? out : out.squeeze(1), null];
    let weights = w.view(bsz, H, tgtLen, srcLen);
    if (a.averageAttnWeights) weights = weights.sum({ dim: 1 }).div(H);
    return batched ? [out, weights] : [out.squeeze(1), weights.squeeze(0)];
  },
);
