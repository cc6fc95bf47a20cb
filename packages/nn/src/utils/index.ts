/**
 * `torch.nn.utils`: gradient clipping (`clipGradNorm_`, `clipGradValue_`), parameter vectors, and `rnn` (padded and
 * packed sequences for the recurrent layers).
 */
export { clipGradNorm_, clipGradValue_, parametersToVector, vectorToParameters } from "./clip-grad";
/** `torch.nn.utils.rnn`: `padSequence`, `PackedSequence`, `packPaddedSequence`, `padPackedSequence`, ... */
export * as rnn from "./rnn";
