/** torch.nn.functional: stateless ops on tensors. Imported as `F` or `functional` from "@cinder/nn". */
export * from "./activation";
export * from "./attention";
export { scaledDotProductAttention } from "./attention-sdpa";
export * from "./conv";
export * from "./conv3d";
export * from "./distance";
export * from "./grid";
export * from "./interpolate";
export * from "./linear";
export * from "./loss";
export * from "./loss-more";
export * from "./normalization";
export * from "./pad";
export * from "./pool";
export * from "./shape";
