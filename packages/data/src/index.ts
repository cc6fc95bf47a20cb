/**
 * @cinder/data: PyTorch's `torch.utils.data` for Cinder. Datasets (map-style and iterable), TensorDataset, Subset,
 * ConcatDataset, randomSplit, samplers, default collation and the DataLoader.
 */
export { type Collated, type CollateFn, defaultCollate, mapTensors } from "./collate";
export { DataLoader, type DataLoaderOptions } from "./dataloader";
export {
  type BatchOf,
  ConcatDataset,
  checkIntIndex,
  Dataset,
  IterableDataset,
  isIterableDataset,
  type MapDataset,
  randomSplit,
  Subset,
  TensorDataset,
} from "./dataset";
export { DistributedSampler } from "./distributed-sampler";
export {
  BatchSampler,
  permutation,
  RandomSampler,
  type RandomSamplerOptions,
  type Sampler,
  SequentialSampler,
  SubsetRandomSampler,
  WeightedRandomSampler,
  type WeightedRandomSamplerOptions,
} from "./sampler";
