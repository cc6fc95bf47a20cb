/**
 * `torch.nn` of the umbrella: all of `@cinder/nn`, plus `nn.DataParallel` and `nn.parallel` (PyTorch's
 * `torch.nn.parallel.DistributedDataParallel` and `DataParallel`), which live in `@cinder/distributed` because
 * they need process groups.
 */

export { DataParallel } from "@cinder/distributed";
export * from "@cinder/nn";
// an entry of its own, imported (not inlined) by the build: see tsup.config.ts
/** `torch.nn.parallel`: `DistributedDataParallel` and `DataParallel`. */
export * as parallel from "./nn-parallel.js";
