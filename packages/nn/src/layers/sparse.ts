/** Embedding and EmbeddingBag. */
import {
  arg,
  type CallsOf,
  type DType,
  empty,
  k,
  noGrad,
  Signature,
  signature,
  type Tensor,
} from "@cinder/tensor";
import { embedding, embeddingBag } from "../functional/linear";
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

/** A padding index in [-n, n) as a row (negative counts from the end); `what` names it in the message. */
function paddingRow(pad: number | null, n: number, what: string): number | null {
  if (pad === null) return null;
  if (pad >= n || pad < -n) throw new Error(`${what} must be within num_embeddings (${n}), got ${pad}`);
  return pad < 0 ? pad + n : pad;
}

/** The table: `_weight` (checked to be [numEmbeddings, embeddingDim]), or a fresh one to initialise. */
function table(
  cls: string,
  a: {
    numEmbeddings: number;
    embeddingDim: number;
    _weight: Tensor | null;
    device: string | null;
    dtype: DType | null;
  },
): { weight: Parameter; fresh: boolean } {
  const { numEmbeddings, embeddingDim, _weight: w } = a;
  if (w) {
    if (w.ndim !== 2 || w.shape[0] !== numEmbeddings || w.shape[1] !== embeddingDim) {
      throw new Error(
        `${cls}: shape of weight does not match num_embeddings and embedding_dim (got [${[...w.shape].join(", ")}])`,
      );
    }
    return { weight: new Parameter(w), fresh: false };
  }
  const weight = new Parameter(
    empty([numEmbeddings, embeddingDim], { device: a.device ?? undefined, dtype: a.dtype ?? "float32" }),
  );
  return { weight, fresh: true };
}

/** N(0, 1), the padding row zero. */
function resetTable(weight: Parameter, pad: number | null): void {
  init.normal_(weight);
  if (pad !== null) noGrad(() => weight.select(0, pad).fill_(0));
}

/**
 * `Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
 * scale_grad_by_freq=False, sparse=False, _weight=None, device=None, dtype=None)`: a lookup table of
 * `numEmbeddings` vectors of size `embeddingDim`, initialised N(0, 1) (the `paddingIdx` row zero), or `_weight`.
 */
export class Embedding extends Module {
  static override readonly name: string = "Embedding";
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
    this.paddingIdx = paddingRow(a.paddingIdx, numEmbeddings, "Embedding: paddingIdx");
    this.maxNorm = a.maxNorm;
    this.normType = a.normType;
    this.scaleGradByFreq = a.scaleGradByFreq;
    const { weight, fresh } = table("Embedding", a);
    this.weight = weight;
    if (fresh) this.resetParameters();
  }

  /** Re-initialises the table from N(0, 1), with the `paddingIdx` row zeroed. */
  resetParameters(): void {
    resetTable(this.weight, this.paddingIdx);
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

const EMBEDDING_BAG = signature("nn.EmbeddingBag", [
  arg("numEmbeddings", k.int),
  arg("embeddingDim", k.int),
  arg.opt("maxNorm", k.float),
  arg("normType", k.float, 2.0),
  arg("scaleGradByFreq", k.bool, false),
  arg("mode", k.oneOf("sum", "mean", "max"), "mean"),
  arg.unsupported("sparse", false, "Cinder has no sparse gradients"),
  arg.opt("_weight", k.tensor),
  arg("includeLastOffset", k.bool, false),
  arg.opt("paddingIdx", k.int),
  deviceArg,
  dtypeArg,
]);

/**
 * `EmbeddingBag(num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
 * mode='mean', sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None, dtype=None)`:
 * sums, means or maxima of bags of embeddings; `forward(input, offsets?, perSampleWeights?)`.
 */
export class EmbeddingBag extends Module {
  static override readonly name: string = "EmbeddingBag";
  static readonly signature = EMBEDDING_BAG;
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;
  readonly mode: "sum" | "mean" | "max";
  readonly includeLastOffset: boolean;
  readonly paddingIdx: number | null;
  weight: Parameter;

  constructor(...args: CallsOf<typeof EMBEDDING_BAG>) {
    super();
    const a = EMBEDDING_BAG.parse(args);
    const { numEmbeddings, embeddingDim } = a;
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.maxNorm = a.maxNorm;
    this.normType = a.normType;
    this.scaleGradByFreq = a.scaleGradByFreq;
    this.mode = a.mode;
    this.includeLastOffset = a.includeLastOffset;
    this.paddingIdx = paddingRow(a.paddingIdx, numEmbeddings, "EmbeddingBag: padding_idx");
    const { weight, fresh } = table("EmbeddingBag", a);
    this.weight = weight;
    if (fresh) this.resetParameters();
  }

  /** Re-initialises the table from N(0, 1), with the `paddingIdx` row zeroed. */
  resetParameters(): void {
    resetTable(this.weight, this.paddingIdx);
  }

  override forward(
    input: Tensor,
    offsets: Tensor | null = null,
    perSampleWeights: Tensor | null = null,
  ): Tensor {
    return embeddingBag(input, this.weight, {
      offsets,
      maxNorm: this.maxNorm,
      normType: this.normType,
      scaleGradByFreq: this.scaleGradByFreq,
      mode: this.mode,
      perSampleWeights,
      includeLastOffset: this.includeLastOffset,
      paddingIdx: this.paddingIdx,
    });
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    if (this.scaleGradByFreq) s += ", scale_grad_by_freq=True";
    s += `, mode=${this.mode}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    return s;
  }
}
