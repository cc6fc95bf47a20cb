/** MultiheadAttention (torch.nn.MultiheadAttention), over F.multiHeadAttentionForward. */
import { arg, type CallsOf, empty, k, signature, type Tensor } from "@cinder/tensor";
import { multiHeadAttentionForward } from "../functional/attention";
import * as init from "../init";
import { Module, Parameter } from "../module";
import { deviceArg, dtypeArg } from "./args";
import { Linear } from "./linear";

/**
 * PyTorch's `NonDynamicallyQuantizableLinear`: a Linear under another name (it only keeps quantization tools away),
 * which is how MultiheadAttention's `out_proj` prints.
 */
export class NonDynamicallyQuantizableLinear extends Linear {
  static override readonly name: string = "NonDynamicallyQuantizableLinear";
}

const MHA = signature("nn.MultiheadAttention", [
  arg("embedDim", k.int),
  arg("numHeads", k.int),
  arg("dropout", k.float, 0.0),
  arg("bias", k.bool, true),
  arg("addBiasKv", k.bool, false),
  arg("addZeroAttn", k.bool, false),
  arg.opt("kdim", k.int),
  arg.opt("vdim", k.int),
  arg("batchFirst", k.bool, false),
  deviceArg,
  dtypeArg,
]);

const MHA_FORWARD = signature("nn.MultiheadAttention.forward", [
  arg("query", k.tensor),
  arg("key", k.tensor),
  arg("value", k.tensor),
  arg.opt("keyPaddingMask", k.tensor),
  arg("needWeights", k.bool, true),
  arg.opt("attnMask", k.tensor),
  arg("averageAttnWeights", k.bool, true),
]);

/**
 * `MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
 * kdim=None, vdim=None, batch_first=False, device=None, dtype=None)`: attention over `num_heads` heads of
 * `embed_dim / num_heads` features. Parameters and state-dict keys are PyTorch's: `in_proj_weight` [3E, E] (or
 * `q_proj_weight` [E, E], `k_proj_weight` [E, kdim], `v_proj_weight` [E, vdim] when kdim or vdim differs from E),
 * `in_proj_bias` [3E], `bias_k`/`bias_v` [1, 1, E], `out_proj` (a Linear); initialised as PyTorch's
 * (`xavier_uniform_` projections, zero biases, `xavier_normal_` bias_k/bias_v).
 */
export class MultiheadAttention extends Module {
  static override readonly name: string = "MultiheadAttention";
  static readonly signature = MHA;
  static readonly forwardSignature = MHA_FORWARD;
  static override stateNames = {
    qProjWeight: "q_proj_weight",
    kProjWeight: "k_proj_weight",
    vProjWeight: "v_proj_weight",
    inProjWeight: "in_proj_weight",
    inProjBias: "in_proj_bias",
    outProj: "out_proj",
    biasK: "bias_k",
    biasV: "bias_v",
  };
  readonly embedDim: number;
  readonly kdim: number;
  readonly vdim: number;
  /** Whether key and value have `embedDim` features (one packed `in_proj_weight`). */
  readonly qkvSameEmbedDim: boolean;
  readonly numHeads: number;
  /** Dropout probability on the attention weights (training only). */
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly headDim: number;
  qProjWeight: Parameter | null = null;
  kProjWeight: Parameter | null = null;
  vProjWeight: Parameter | null = null;
  inProjWeight: Parameter | null = null;
  inProjBias: Parameter | null;
  outProj: NonDynamicallyQuantizableLinear;
  biasK: Parameter | null;
  biasV: Parameter | null;
  readonly addZeroAttn: boolean;

  constructor(...args: CallsOf<typeof MHA>) {
    super();
    const a = MHA.parse(args);
    const E = a.embedDim;
    this.embedDim = E;
    this.kdim = a.kdim ?? E;
    this.vdim = a.vdim ?? E;
    this.qkvSameEmbedDim = this.kdim === E && this.vdim === E;
    this.numHeads = a.numHeads;
    this.dropout = a.dropout;
    this.batchFirst = a.batchFirst;
    this.headDim = Math.floor(E / a.numHeads);
    if (a.numHeads <= 0 || this.headDim * a.numHeads !== E)
      throw new RangeError(
        `MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim=${E} and num_heads=${a.numHeads}`,
      );
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    if (this.qkvSameEmbedDim) this.inProjWeight = new Parameter(empty([3 * E, E], f));
    else {
      this.qProjWeight = new Parameter(empty([E, E], f));
      this.kProjWeight = new Parameter(empty([E, this.kdim], f));
      this.vProjWeight = new Parameter(empty([E, this.vdim], f));
    }
    this.inProjBias = a.bias ? new Parameter(empty([3 * E], f)) : null;
    this.outProj = new NonDynamicallyQuantizableLinear(E, E, { bias: a.bias, ...f });
    this.biasK = a.addBiasKv ? new Parameter(empty([1, 1, E], f)) : null;
    this.biasV = a.addBiasKv ? new Parameter(empty([1, 1, E], f)) : null;
    this.addZeroAttn = a.addZeroAttn;
    this.resetParameters();
  }

  /** Re-initialises the parameters as PyTorch's `_reset_parameters`. */
  resetParameters(): void {
    for (const w of [this.inProjWeight, this.qProjWeight, this.kProjWeight, this.vProjWeight])
      if (w) init.xavierUniform_(w);
    if (this.inProjBias) {
      init.constant_(this.inProjBias, 0);
      init.constant_(this.outProj.bias as Parameter, 0);
    }
    if (this.biasK) init.xavierNormal_(this.biasK);
    if (this.biasV) init.xavierNormal_(this.biasV);
  }

  /**
   * `forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
   * average_attn_weights=True)`: query [L, N, E] ([N, L, E] with `batchFirst`, [L, E] unbatched), key/value
   * [S, N, kdim/vdim]; `keyPaddingMask` [N, S] (true or -inf: ignore that key), `attnMask` [L, S] or [N * heads, L, S]
   * (bool: true = may not attend; float: added). Returns `[output, weights]`: weights [N, L, S] averaged over the
   * heads (or [N, heads, L, S]), null unless `needWeights`.
   */
  override forward(...args: CallsOf<typeof MHA_FORWARD>): [Tensor, Tensor | null] {
    const a = MHA_FORWARD.parse(args);
    const { keyPaddingMask: kpm } = a;
    if (kpm && kpm.dtype !== "bool" && !kpm.isFloatingPoint())
      throw new TypeError(
        `MultiheadAttention: only bool and floating types of key_padding_mask are supported, got ${kpm.dtype}`,
      );
    const batched = a.query.ndim === 3;
    const tb = (x: Tensor) => (this.batchFirst && batched ? x.transpose(1, 0) : x);
    // transposed once each, so that self-attention stays recognisable (query is key is value), as PyTorch's
    const query = tb(a.query);
    const key = a.key === a.query ? query : tb(a.key);
    const value = a.value === a.key ? key : tb(a.value);
    const [out, weights] = multiHeadAttentionForward(
      query,
      key,
      value,
      this.embedDim,
      this.numHeads,
      this.inProjWeight,
      this.inProjBias,
      this.biasK,
      this.biasV,
      this.addZeroAttn,
      this.dropout,
      this.outProj.weight,
      this.outProj.bias,
      {
        training: this.training,
        keyPaddingMask: kpm,
        needWeights: a.needWeights,
        attnMask: a.attnMask,
        useSeparateProjWeight: !this.qkvSameEmbedDim,
        qProjWeight: this.qProjWeight,
        kProjWeight: this.kProjWeight,
        vProjWeight: this.vProjWeight,
        averageAttnWeights: a.averageAttnWeights,
      },
    );
    return [tb(out), weights];
  }
}
