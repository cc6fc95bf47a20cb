/** Embedding. */
import { empty, noGrad, type Tensor } from "@cinder/tensor";
import { embedding } from "../functional/linear";
import * as init from "../init";
import { Module, Parameter } from "../module";
import { type FactoryOptions, pyFloat } from "../util";

export interface EmbeddingOptions extends FactoryOptions {
  /** This row gets no gradient and is initialised to zeros. */
  paddingIdx?: number | null;
  /** Renormalise looked-up rows whose norm exceeds this, in place. */
  maxNorm?: number | null;
  normType?: number;
  /** Use this tensor as the initial weight (torch.nn.Embedding's `_weight`). */
  weight?: Tensor;
}

/** A lookup table of `numEmbeddings` vectors of size `embeddingDim`, initialised N(0, 1). */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (pad >= numEmbeddings || pad < -numEmbeddings)
        throw new Error(`Embedding: paddingIdx must be within num_embeddings (${numEmbeddings}), got ${pad}`);
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.maxNorm = opts.maxNorm ?? null;
    this.normType = opts.normType ?? 2;
    if (opts.weight) {
      if (
        opts.weight.ndim !== 2 ||
        opts.weight.shape[0] !== numEmbeddings ||
        opts.weight.shape[1] !== embeddingDim
      ) {
        throw new Error(
          `Embedding: shape of weight does not match num_embeddings and embedding_dim (got [${opts.weight.shape}])`,
        );
      }
      this.weight = new Parameter(opts.weight);
    } else {
      this.weight = new Parameter(
        empty([numEmbeddings, embeddingDim], { device: opts.device, dtype: opts.dtype ?? "float32" }),
      );
      this.resetParameters();
    }
  }

  resetParameters(): void {
    init.normal_(this.weight);
    const pad = this.paddingIdx;
    if (pad !== null) noGrad(() => this.weight.select(0, pad).fill_(0));
  }

  /** An Embedding holding `embeddings` (frozen unless `freeze: false`), as torch.nn.Embedding.from_pretrained. */
  static fromPretrained(
    embeddings: Tensor,
    opts: Omit<EmbeddingOptions, "weight"> & { freeze?: boolean } = {},
  ): Embedding {
    if (embeddings.ndim !== 2) throw new Error("Embeddings parameter is expected to be 2-dimensional");
    const e = new Embedding(embeddings.shape[0], embeddings.shape[1], { ...opts, weight: embeddings });
    e.weight.requiresGrad = !(opts.freeze ?? true);
    return e;
  }

  override forward(input: Tensor): Tensor {
    return embedding(input, this.weight, {
      paddingIdx: this.paddingIdx,
      maxNorm: this.maxNorm,
      normType: this.normType,
    });
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    return s;
  }
}
