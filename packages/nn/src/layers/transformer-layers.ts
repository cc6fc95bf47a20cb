/** TransformerEncoderLayer and TransformerDecoderLayer (torch.nn), PyTorch 1.13's structure and parameter names. */
import { arg, type CallsOf, type Kind, k, signature, type Tensor } from "@cinder/tensor";
import { gelu, relu } from "../functional/activation";
import { Module } from "../module";
import { GELU, ReLU } from "./activation";
import { deviceArg, dtypeArg } from "./args";
import { MultiheadAttention } from "./attention";
import { Dropout } from "./dropout";
import { Linear } from "./linear";
import { LayerNorm } from "./normalization";

/** A unary tensor function, or a module used as one (`new nn.GELU("tanh")`). */
export type Activation = ((x: Tensor) => Tensor) | Module;

/** `activation`: "relu", "gelu" or a unary callable (a function or a module). */
export const activationKind: Kind<"relu" | "gelu" | Activation> = k.or(
  k.oneOf("relu", "gelu"),
  k.fn as Kind<unknown> as Kind<Activation>,
);

/** PyTorch's `_get_activation_fn`: the strings as F.relu / F.gelu, callables as given. */
function activationFn(a: "relu" | "gelu" | Activation): Activation {
  return a === "relu" ? relu : a === "gelu" ? gelu : a;
}

/** PyTorch's `activation_relu_or_gelu`: 1 for relu, 2 for gelu (function or module), else 0 (no fast path). */
function reluOrGelu(a: Activation): 0 | 1 | 2 {
  if (a === relu || a instanceof ReLU) return 1;
  if (a === gelu || a instanceof GELU) return 2;
  return 0;
}

/** The parameters the two layers share, in PyTorch's order. */
const layerParams = [
  arg("dModel", k.int),
  arg("nhead", k.int),
  arg("dimFeedforward", k.int, 2048),
  arg("dropout", k.float, 0.1),
  arg("activation", activationKind, "relu"),
  arg("layerNormEps", k.float, 1e-5),
  arg("batchFirst", k.bool, false),
  arg("normFirst", k.bool, false),
  deviceArg,
  dtypeArg,
] as const;

const ENCODER_LAYER = signature("nn.TransformerEncoderLayer", layerParams);
const DECODER_LAYER = signature("nn.TransformerDecoderLayer", layerParams);
const maskArg = <const N extends string>(name: N) => arg.opt(name, k.tensor);
const ENCODER_LAYER_FORWARD = signature("nn.TransformerEncoderLayer.forward", [
  arg("src", k.tensor),
  maskArg("srcMask"),
  maskArg("srcKeyPaddingMask"),
]);
/** The decoder's forward parameters (layer and stack), in PyTorch's order. */
export const decoderForwardParams = [
  arg("tgt", k.tensor),
  arg("memory", k.tensor),
  maskArg("tgtMask"),
  maskArg("memoryMask"),
  maskArg("tgtKeyPaddingMask"),
  maskArg("memoryKeyPaddingMask"),
] as const;
const DECODER_LAYER_FORWARD = signature("nn.TransformerDecoderLayer.forward", decoderForwardParams);

/** PyTorch's check of a key padding mask's dtype. */
export function checkKeyPaddingMask(m: Tensor | null, who: string): void {
  if (m && m.dtype !== "bool" && !m.isFloatingPoint())
    throw new TypeError(
      `${who}: only bool and floating types of key_padding_mask are supported, got ${m.dtype}`,
    );
}

type LayerArgs = ReturnType<typeof ENCODER_LAYER.parse>;

/** A layer's attention: `MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first)`. */
const attention = (a: LayerArgs, f: object) =>
  new MultiheadAttention(a.dModel, a.nhead, { dropout: a.dropout, batchFirst: a.batchFirst, ...f });

/** A layer's feed-forward block and norms, shared by the encoder and decoder layers. */
abstract class TransformerLayerBase extends Module {
  declare selfAttn: MultiheadAttention;
  declare linear1: Linear;
  declare dropout: Dropout;
  declare linear2: Linear;
  declare readonly normFirst: boolean;
  /** The activation between linear1 and linear2 (a module here is a registered child, as in PyTorch). */
  declare activation: Activation;
  /** 1 when the activation is relu, 2 when gelu, else 0 (PyTorch's fast-path flag). */
  declare readonly activationReluOrGelu: 0 | 1 | 2;

  protected constructor(a: LayerArgs) {
    super();
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    this.selfAttn = attention(a, f);
    this.addCrossAttention(a, f);
    this.linear1 = new Linear(a.dModel, a.dimFeedforward, f);
    this.dropout = new Dropout(a.dropout);
    this.linear2 = new Linear(a.dimFeedforward, a.dModel, f);
    this.normFirst = a.normFirst;
    this.addNorms(a, f);
    this.activation = activationFn(a.activation);
    this.activationReluOrGelu = reluOrGelu(this.activation);
  }

  /** The decoder's attention over memory, created after self_attn (none in the encoder). */
  protected addCrossAttention(_a: LayerArgs, _f: object): void {}

  /** The LayerNorms and residual Dropouts, in PyTorch's order. */
  protected abstract addNorms(a: LayerArgs, f: object): void;

  /** The self-attention block: attention (no weights) then dropout1. */
  protected saBlock(x: Tensor, mask: Tensor | null, kpm: Tensor | null, drop: Dropout): Tensor {
    return drop(this.selfAttn(x, x, x, { attnMask: mask, keyPaddingMask: kpm, needWeights: false })[0]);
  }

  /** The feed-forward block: linear2(dropout(activation(linear1(x)))), then the block's dropout. */
  protected ffBlock(x: Tensor, drop: Dropout): Tensor {
    const act = this.activation as (x: Tensor) => Tensor;
    return drop(this.linear2(this.dropout(act(this.linear1(x)))));
  }
}

const stateNames = { selfAttn: "self_attn", multiheadAttn: "multihead_attn" };

/**
 * `TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=relu, layer_norm_eps=1e-05,
 * batch_first=False, norm_first=False, device=None, dtype=None)`: self-attention then a feed-forward network, each with
 * a residual connection and LayerNorm (after, or before with `normFirst`). `activation` is "relu", "gelu" or a unary
 * callable. Submodules as PyTorch's: self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2. (In
 * evaluation without gradients PyTorch 1.13's fast path applies an `nn.GELU("tanh")` activation module as the exact
 * GELU; Cinder applies the module as given.)
 */
export class TransformerEncoderLayer extends TransformerLayerBase {
  static override readonly name: string = "TransformerEncoderLayer";
  static readonly signature = ENCODER_LAYER;
  static readonly forwardSignature = ENCODER_LAYER_FORWARD;
  static override stateNames = stateNames;
  declare norm1: LayerNorm;
  declare norm2: LayerNorm;
  declare dropout1: Dropout;
  declare dropout2: Dropout;

  constructor(...args: CallsOf<typeof ENCODER_LAYER>) {
    super(ENCODER_LAYER.parse(args));
  }

  protected addNorms(a: LayerArgs, f: object): void {
    this.norm1 = new LayerNorm(a.dModel, { eps: a.layerNormEps, ...f });
    this.norm2 = new LayerNorm(a.dModel, { eps: a.layerNormEps, ...f });
    this.dropout1 = new Dropout(a.dropout);
    this.dropout2 = new Dropout(a.dropout);
  }

  /**
   * `forward(src, src_mask=None, src_key_padding_mask=None)`: src [S, N, E] ([N, S, E] with `batchFirst`, [S, E]
   * unbatched); `srcMask` [S, S] or [N * nhead, S, S]; `srcKeyPaddingMask` [N, S].
   */
  override forward(...args: CallsOf<typeof ENCODER_LAYER_FORWARD>): Tensor {
    const { src, srcMask, srcKeyPaddingMask: kpm } = ENCODER_LAYER_FORWARD.parse(args);
    checkKeyPaddingMask(kpm, "TransformerEncoderLayer");
    let x = src;
    if (this.normFirst) {
      x = x.add(this.saBlock(this.norm1(x), srcMask, kpm, this.dropout1));
      return x.add(this.ffBlock(this.norm2(x), this.dropout2));
    }
    x = this.norm1(x.add(this.saBlock(x, srcMask, kpm, this.dropout1)));
    return this.norm2(x.add(this.ffBlock(x, this.dropout2)));
  }
}

/**
 * `TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=relu, layer_norm_eps=1e-05,
 * batch_first=False, norm_first=False, device=None, dtype=None)`: self-attention, attention over the encoder's
 * output (memory), then a feed-forward network, each with a residual connection and LayerNorm. Submodules as
 * PyTorch's: self_attn, multihead_attn, linear1, dropout, linear2, norm1-3, dropout1-3.
 */
export class TransformerDecoderLayer extends TransformerLayerBase {
  static override readonly name: string = "TransformerDecoderLayer";
  static readonly signature = DECODER_LAYER;
  static readonly forwardSignature = DECODER_LAYER_FORWARD;
  static override stateNames = stateNames;
  declare multiheadAttn: MultiheadAttention;
  declare norm1: LayerNorm;
  declare norm2: LayerNorm;
  declare norm3: LayerNorm;
  declare dropout1: Dropout;
  declare dropout2: Dropout;
  declare dropout3: Dropout;

  constructor(...args: CallsOf<typeof DECODER_LAYER>) {
    super(DECODER_LAYER.parse(args));
  }

  protected override addCrossAttention(a: LayerArgs, f: object): void {
    this.multiheadAttn = attention(a, f);
  }

  protected addNorms(a: LayerArgs, f: object): void {
    this.norm1 = new LayerNorm(a.dModel, { eps: a.layerNormEps, ...f });
    this.norm2 = new LayerNorm(a.dModel, { eps: a.layerNormEps, ...f });
    this.norm3 = new LayerNorm(a.dModel, { eps: a.layerNormEps, ...f });
    this.dropout1 = new Dropout(a.dropout);
    this.dropout2 = new Dropout(a.dropout);
    this.dropout3 = new Dropout(a.dropout);
  }

  /** The attention over memory: multihead_attn (no weights) then dropout2. */
  private mhaBlock(x: Tensor, mem: Tensor, mask: Tensor | null, kpm: Tensor | null): Tensor {
    return this.dropout2(
      this.multiheadAttn(x, mem, mem, { attnMask: mask, keyPaddingMask: kpm, needWeights: false })[0],
    );
  }

  /**
   * `forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
   * memory_key_padding_mask=None)`: tgt [T, N, E], memory [S, N, E] (batch first with `batchFirst`); `tgtMask`
   * [T, T], `memoryMask` [T, S], key padding masks [N, T] and [N, S].
   */
  override forward(...args: CallsOf<typeof DECODER_LAYER_FORWARD>): Tensor {
    const a = DECODER_LAYER_FORWARD.parse(args);
    let x = a.tgt;
    if (this.normFirst) {
      x = x.add(this.saBlock(this.norm1(x), a.tgtMask, a.tgtKeyPaddingMask, this.dropout1));
      x = x.add(this.mhaBlock(this.norm2(x), a.memory, a.memoryMask, a.memoryKeyPaddingMask));
      return x.add(this.ffBlock(this.norm3(x), this.dropout3));
    }
    x = this.norm1(x.add(this.saBlock(x, a.tgtMask, a.tgtKeyPaddingMask, this.dropout1)));
    x = this.norm2(x.add(this.mhaBlock(x, a.memory, a.memoryMask, a.memoryKeyPaddingMask)));
    return this.norm3(x.add(this.ffBlock(x, this.dropout3)));
  }
}
