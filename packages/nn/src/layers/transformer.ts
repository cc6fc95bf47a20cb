/** TransformerEncoder, TransformerDecoder and Transformer (torch.nn): stacks of deep-copied layers, PyTorch 1.13's. */
import {
  arange,
  arg,
  type CallsOf,
  full,
  isGradEnabled,
  type Kind,
  k,
  signature,
  type Tensor,
  tensor,
} from "@cinder/tensor";
import * as init from "../init";
import { Module } from "../module";
import { deviceArg, dtypeArg } from "./args";
import type { ModuleList } from "./container";
import { LayerNorm } from "./normalization";
import { getClones } from "./transformer-clone";
import {
  activationKind,
  checkKeyPaddingMask,
  decoderForwardParams,
  TransformerDecoderLayer,
  TransformerEncoderLayer,
} from "./transformer-layers";

const moduleKind = k.where(k.fn, (v) => v instanceof Module, "Module") as Kind<unknown> as Kind<Module>;

const ENCODER = signature("nn.TransformerEncoder", [
  arg("encoderLayer", moduleKind),
  arg("numLayers", k.int),
  arg.opt("norm", moduleKind),
  arg("enableNestedTensor", k.bool, true),
  arg("maskCheck", k.bool, true),
]);
const ENCODER_FORWARD = signature("nn.TransformerEncoder.forward", [
  arg("src", k.tensor),
  arg.opt("mask", k.tensor),
  arg.opt("srcKeyPaddingMask", k.tensor),
]);

/** Each row's count of leading valid (not padded) positions, when the padding is at the end of every row; else null. */
function validLengths(kpm: Tensor, checkAligned: boolean): number[] | null {
  const valid = kpm.logicalNot().int();
  const counts = valid.sum(1).tolist() as number[];
  if (checkAligned) {
    // left aligned: valid positions only before padded ones, so the running minimum never rises again
    const rows = valid.tolist() as number[][];
    if (!rows.every((r) => r.every((v, j) => j === 0 || v <= r[j - 1]))) return null;
  }
  return counts;
}

/**
 * `TransformerEncoder(encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True)`: `numLayers`
 * deep copies of `encoderLayer` (each its own parameters, starting from the prototype's values) applied in turn, then
 * `norm`. In evaluation without gradients, with a key padding mask, on the CPU and under PyTorch's other conditions
 * for its nested-tensor path (batch-first, post-norm relu/gelu layers, an even number of heads, no `mask`), the output is
 * PyTorch's: zero at padded positions and only as long as the longest unpadded sequence.
 */
export class TransformerEncoder extends Module {
  static override readonly name: string = "TransformerEncoder";
  static readonly signature = ENCODER;
  static readonly forwardSignature = ENCODER_FORWARD;
  layers: ModuleList<Module>;
  readonly numLayers: number;
  norm: Module | null;
  readonly enableNestedTensor: boolean;
  readonly maskCheck: boolean;

  constructor(...args: CallsOf<typeof ENCODER>) {
    super();
    const a = ENCODER.parse(args);
    this.layers = getClones(a.encoderLayer, a.numLayers);
    this.numLayers = a.numLayers;
    this.norm = a.norm;
    this.enableNestedTensor = a.enableNestedTensor;
    this.maskCheck = a.maskCheck;
  }

  /** Whether PyTorch 1.13 would take its nested-tensor path (`why_not_sparsity_fast_path` empty). */
  private nestedPath(src: Tensor, mask: Tensor | null, kpm: Tensor | null): boolean {
    const l = this.layers.length > 0 ? this.layers.at(0) : null;
    if (!(l instanceof TransformerEncoderLayer) || kpm === null || mask !== null) return false;
    const sa = l.selfAttn;
    if (l.normFirst || l.training || !sa.batchFirst || !sa.qkvSameEmbedDim || l.activationReluOrGelu === 0)
      return false;
    if (l.norm1.eps !== l.norm2.eps || src.ndim !== 3 || !this.enableNestedTensor || sa.numHeads % 2 === 1)
      return false;
    const tensors = [src, sa.inProjWeight, sa.inProjBias, sa.outProj.weight, sa.outProj.bias];
    tensors.push(l.norm1.weight, l.norm1.bias, l.norm2.weight, l.norm2.bias);
    tensors.push(l.linear1.weight, l.linear1.bias, l.linear2.weight, l.linear2.bias);
    if (tensors.some((t) => t && t.device !== "cpu")) return false; // PyTorch: "neither CUDA nor CPU"
    return !(isGradEnabled() && tensors.some((t) => t?.requiresGrad));
  }

  /**
   * `forward(src, mask=None, src_key_padding_mask=None)`: src [S, N, E] ([N, S, E] batch first); `mask` [S, S] or
   * [N * nhead, S, S]; `srcKeyPaddingMask` [N, S] (true or -inf: padding).
   */
  override forward(...args: CallsOf<typeof ENCODER_FORWARD>): Tensor {
    const { src, mask, srcKeyPaddingMask: kpm } = ENCODER_FORWARD.parse(args);
    checkKeyPaddingMask(kpm, "TransformerEncoder");
    let lengths: number[] | null = null;
    let layerKpm = kpm;
    if (kpm && this.nestedPath(src, mask, kpm)) {
      lengths = validLengths(kpm, this.maskCheck);
      // nested tensors: each sequence is its first `length` positions, the rest is not there at all
      if (lengths) layerKpm = arange(src.shape[1]).unsqueeze(0).ge(tensor(lengths).unsqueeze(1));
    }
    let out = src;
    for (const layer of this.layers) out = layer(out, { srcMask: mask, srcKeyPaddingMask: layerKpm });
    if (lengths && layerKpm) {
      // to_padded_tensor(0.): zeros after each sequence, as long as the longest
      out = out.maskedFill(layerKpm.unsqueeze(-1), 0).narrow(1, 0, Math.max(0, ...lengths));
    }
    return this.norm ? this.norm(out) : out;
  }
}

const DECODER = signature("nn.TransformerDecoder", [
  arg("decoderLayer", moduleKind),
  arg("numLayers", k.int),
  arg.opt("norm", moduleKind),
]);
const DECODER_FORWARD = signature("nn.TransformerDecoder.forward", decoderForwardParams);

/**
 * `TransformerDecoder(decoder_layer, num_layers, norm=None)`: `numLayers` deep copies of `decoderLayer` applied in
 * turn (each attending to the same memory), then `norm`.
 */
export class TransformerDecoder extends Module {
  static override readonly name: string = "TransformerDecoder";
  static readonly signature = DECODER;
  static readonly forwardSignature = DECODER_FORWARD;
  layers: ModuleList<Module>;
  readonly numLayers: number;
  norm: Module | null;

  constructor(...args: CallsOf<typeof DECODER>) {
    super();
    const a = DECODER.parse(args);
    this.layers = getClones(a.decoderLayer, a.numLayers);
    this.numLayers = a.numLayers;
    this.norm = a.norm;
  }

  /**
   * `forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
   * memory_key_padding_mask=None)`: as TransformerDecoderLayer's, through every layer.
   */
  override forward(...args: CallsOf<typeof DECODER_FORWARD>): Tensor {
    const { tgt, memory, ...masks } = DECODER_FORWARD.parse(args);
    let out = tgt;
    for (const layer of this.layers) out = layer(out, memory, masks);
    return this.norm ? this.norm(out) : out;
  }
}

const TRANSFORMER = signature("nn.Transformer", [
  arg("dModel", k.int, 512),
  arg("nhead", k.int, 8),
  arg("numEncoderLayers", k.int, 6),
  arg("numDecoderLayers", k.int, 6),
  arg("dimFeedforward", k.int, 2048),
  arg("dropout", k.float, 0.1),
  arg("activation", activationKind, "relu"),
  arg.opt("customEncoder", moduleKind),
  arg.opt("customDecoder", moduleKind),
  arg("layerNormEps", k.float, 1e-5),
  arg("batchFirst", k.bool, false),
  arg("normFirst", k.bool, false),
  deviceArg,
  dtypeArg,
]);
const TRANSFORMER_FORWARD = signature("nn.Transformer.forward", [
  arg("src", k.tensor),
  arg("tgt", k.tensor),
  arg.opt("srcMask", k.tensor),
  arg.opt("tgtMask", k.tensor),
  arg.opt("memoryMask", k.tensor),
  arg.opt("srcKeyPaddingMask", k.tensor),
  arg.opt("tgtKeyPaddingMask", k.tensor),
  arg.opt("memoryKeyPaddingMask", k.tensor),
]);
const SQUARE_MASK = signature("nn.Transformer.generateSquareSubsequentMask", [
  arg("sz", k.int),
  arg("device", k.device, "cpu"),
]);

/**
 * `Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048, dropout=0.1,
 * activation=relu, custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-05, batch_first=False,
 * norm_first=False, device=None, dtype=None)`: "Attention Is All You Need"'s encoder-decoder, an encoder and a
 * decoder stack each closed by a LayerNorm (or the custom ones); every parameter of more than one dimension
 * re-initialised by `xavier_uniform_`, as PyTorch's.
 */
export class Transformer extends Module {
  static override readonly name: string = "Transformer";
  static readonly signature = TRANSFORMER;
  static readonly forwardSignature = TRANSFORMER_FORWARD;
  encoder: Module;
  decoder: Module;
  readonly dModel: number;
  readonly nhead: number;
  readonly batchFirst: boolean;

  constructor(...args: CallsOf<typeof TRANSFORMER>) {
    super();
    const a = TRANSFORMER.parse(args);
    const f = { device: a.device, dtype: a.dtype };
    const layer = [a.dModel, a.nhead, a.dimFeedforward, a.dropout, a.activation, a.layerNormEps] as const;
    const opts = { batchFirst: a.batchFirst, normFirst: a.normFirst, ...f };
    const norm = () => new LayerNorm(a.dModel, { eps: a.layerNormEps, ...f });
    this.encoder =
      a.customEncoder ??
      new TransformerEncoder(new TransformerEncoderLayer(...layer, opts), a.numEncoderLayers, norm());
    this.decoder =
      a.customDecoder ??
      new TransformerDecoder(new TransformerDecoderLayer(...layer, opts), a.numDecoderLayers, norm());
    for (const p of this.parameters()) if (p.ndim > 1) init.xavierUniform_(p);
    this.dModel = a.dModel;
    this.nhead = a.nhead;
    this.batchFirst = a.batchFirst;
  }

  /**
   * `forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
   * tgt_key_padding_mask=None, memory_key_padding_mask=None)`: src [S, N, E] and tgt [T, N, E] (batch first with
   * `batchFirst`, or unbatched [S, E] / [T, E]) give [T, N, E].
   */
  override forward(...args: CallsOf<typeof TRANSFORMER_FORWARD>): Tensor {
    const a = TRANSFORMER_FORWARD.parse(args);
    const { src, tgt } = a;
    const b = this.batchFirst ? 0 : 1;
    if (src.ndim === 3 && src.shape[b] !== tgt.shape[b])
      throw new RangeError(
        `Transformer: the batch number of src and tgt must be equal, got ${src.shape[b]} and ${tgt.shape[b]}`,
      );
    if (src.shape[src.ndim - 1] !== this.dModel || tgt.shape[tgt.ndim - 1] !== this.dModel)
      throw new RangeError(
        `Transformer: the feature number of src and tgt must be equal to d_model (${this.dModel}), got ${src.shape[src.ndim - 1]} and ${tgt.shape[tgt.ndim - 1]}`,
      );
    const memory = this.encoder(src, { mask: a.srcMask, srcKeyPaddingMask: a.srcKeyPaddingMask });
    return this.decoder(tgt, memory, {
      tgtMask: a.tgtMask,
      memoryMask: a.memoryMask,
      tgtKeyPaddingMask: a.tgtKeyPaddingMask,
      memoryKeyPaddingMask: a.memoryKeyPaddingMask,
    });
  }

  /**
   * `Transformer.generate_square_subsequent_mask(sz, device='cpu')`: the [sz, sz] causal mask, -inf above the
   * diagonal and 0 elsewhere (float), so position i attends to positions 0..i.
   */
  static generateSquareSubsequentMask(...args: CallsOf<typeof SQUARE_MASK>): Tensor {
    const { sz, device } = SQUARE_MASK.parse(args);
    return full([sz, sz], Number.NEGATIVE_INFINITY, { device }).triu(1);
  }
}
