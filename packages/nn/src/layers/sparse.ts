/** Embedding. */
import { arg, type CallsOf, empty, k, noGrad, Signature, signature, type Tensor } from "@cinder/tensor";
import { embedding } from "../functional/linear";
import * as init from "../init";
import { Module, Parameter } from "../module";
import { pyBool, pyFloat } from "../util";
import { deviceArg, dtypeArg } from "./args";

const lookupParams = [
  arg.opt("paddingIdx", k.int),
  arg.opt("maxNorm", k.float),
  arg("normType", k.float, 2.0),
  arg("scaleGradByFreq", k.bool, false),
  arg.unsupported("sparse", false, "Cinder has no sparse gradients"),
] as const;
const EMBEDDING = signature("nn.Embedding", [
  arg("numEmbeddings", k.int),
  arg("embeddingDim", k.int),
  ...lookupParams,
  arg.opt("_weight", k.tensor),
  deviceArg,
  dtypeArg,
]);
/** `Embedding.from_pretrained(embeddings, freeze=True, padding_idx=None, ...)` (not in PyTorch's stubs: unregistered). */
const FROM_PRETRAINED = new Signature(
  "nn.Embedding.fromPretrained",
  [arg("embeddings", k.tensor), arg("freeze", k.bool, true), ...lookupParams] as const,
  [] as const,
);

/**
 * `Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
 * scale_grad_by_freq=False, sparse=False, _weight=None, device=None, dtype=None)`: a lookup table of
 * `numEmbeddings` vectors of size `embeddingDim`, initialised N(0, 1) (the `paddingIdx` row zero), or `_weight`.
 */
export class Embedding extends Module {
  static readonly signature = EMBEDDING;
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;
  weight: Parameter;

  constructor(...args: CallsOf<typeof EMBEDDING>) {
    super();
    const a = EMBEDDING.parse(args);
    const { numEmbeddings, embeddingDim } = a;
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let pad = a.paddingIdx;
    if (pad !== null) {
      if (pad >= numEmbeddings || pad < -numEmbeddings)
        throw new Error(`Embedding: paddingIdx must be within num_embeddings (${numEmbeddings}), got ${pad}`);
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.maxNorm = a.maxNorm;
    this.normType = a.normType;
    this.scaleGradByFreq = a.scaleGradByFreq;
    const w = a._weight;
    if (w) {
      if (w.ndim !== 2 || w.shape[0] !== numEmbeddings || w.shape[1] !== embeddingDim) {
        throw new Error(
          `Embedding: shape of weight does not match num_embeddings and embedding_dim (got [${[...w.shape].join(", ")}])`,
        );
      }
      this.weight = new Parameter(w);
    } else {
      this.weight = new Parameter(
        empty([numEmbeddings, embeddingDim], { device: a.device ?? undefined, dtype: a.dtype ?? "float32" }),
      );
      this.resetParameters();
    }
  }

  resetParameters(): void {
    init.normal_(this.weight);
    const pad = this.paddingIdx;
    if (pad !== null) noGrad(() => this.weight.select(0, pad).fill_(0));
  }

  /**
   * `Embedding.fromPretrained(embeddings, freeze=True, paddingIdx=None, maxNorm=None, normType=2.0,
   * scaleGradByFreq=False, sparse=False)`: an Embedding holding `embeddings`, frozen unless `freeze` is false.
   */
  static fromPretrained(...args: CallsOf<typeof FROM_PRETRAINED>): Embedding {
    const { embeddings, freeze, ...o } = FROM_PRETRAINED.parse(args);
    if (embeddings.ndim !== 2) throw new Error("Embeddings parameter is expected to be 2-dimensional");
    const e = new Embedding(embeddings.shape[0], embeddings.shape[1], { ...o, _weight: embeddings });
    e.weight.requiresGrad = !freeze;
    return e;
  }

  override forward(input: Tensor): Tensor {
    return embedding(input, this.weight, {
      paddingIdx: this.paddingIdx,
      maxNorm: this.maxNorm,
      normType: this.normType,
      scaleGradByFreq: this.scaleGradByFreq,
    });
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    if (this.scaleGradByFreq) s += `, scale_grad_by_freq=${pyBool(this.scaleGradByFreq)}`;
    return s;
  }
}
