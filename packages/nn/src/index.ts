/**
 * @cinder/nn: modules, layers, losses, initialisers and state dicts (torch.nn).
 *
 *   import * as nn from "@cinder/nn";
 *   const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 *   const loss = new nn.CrossEntropyLoss()(model(x), y);
 *   nn.F.relu(x); nn.init.kaimingNormal_(w);
 */
import "@cinder/autograd";

/**
 * `torch.nn.functional`, usually imported as `F`: stateless ops on tensors (activations, convolutions,
 * pooling, losses, ...).
 */
export * as F from "./functional";
/** `torch.nn.functional` under its full name; the same namespace as `F`. */
export * as functional from "./functional";
/**
 * `torch.nn.init`: in-place initialisers (`init.kaimingUniform_(w, { a: Math.sqrt(5) })`, `init.zeros_(b)`),
 * seeded by `manualSeed`.
 */
export * as init from "./init";
export * from "./layers/activation";
export { MultiheadAttention } from "./layers/attention";
export * from "./layers/container";
export * from "./layers/conv";
export * from "./layers/distance";
export * from "./layers/dropout";
export * from "./layers/linear";
export * from "./layers/loss";
export * from "./layers/normalization";
export * from "./layers/padding";
export * from "./layers/pool";
export { GRU, LSTM, RNN } from "./layers/rnn";
export { GRUCell, LSTMCell, RNNCell } from "./layers/rnn-cells";
export * from "./layers/shuffle";
export * from "./layers/sparse";
export {
  Transformer,
  TransformerDecoder,
  TransformerEncoder,
} from "./layers/transformer";
export {
  type Activation,
  TransformerDecoderLayer,
  TransformerEncoderLayer,
} from "./layers/transformer-layers";
export * from "./layers/upsampling";
export { buffer, type ForwardHook, type ForwardPreHook, Module, Parameter } from "./module";
export {
  deserializeSafetensors,
  deserializeSafetensorsWithMetadata,
  SafetensorsError,
  serializeSafetensors,
  type TensorMap,
} from "./safetensors";
export {
  loadSafetensors,
  loadSafetensorsWithMetadata,
  saveSafetensors,
} from "./safetensors-files";
export {
  type LoadFn,
  type LoadSource,
  load,
  type MapLocation,
  type SaveFn,
  type SaveTarget,
  save,
} from "./save";
export type { FactoryOptions, Reduction } from "./util";
/**
 * `torch.nn.utils`: `clipGradNorm_`, `clipGradValue_`, `parametersToVector`, `vectorToParameters`, and `utils.rnn`
 * (`padSequence`, `PackedSequence`, `packPaddedSequence`, `padPackedSequence`, `packSequence`, ...).
 */
export * as utils from "./utils";
