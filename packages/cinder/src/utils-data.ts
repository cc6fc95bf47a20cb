/**
 * `torch.utils.data`: datasets, samplers, collation and the DataLoader, from @cinder/data (its public API; the
 * helpers it shares with other packages stay there).
 *
 *   const loader = new torch.utils.data.DataLoader(new torch.utils.data.TensorDataset(x, y), { batchSize: 64 });
 */
export {
  type BatchOf,
  BatchSampler,
  type Collated,
  type CollateFn,
  ConcatDataset,
  DataLoader,
  type DataLoaderOptions,
  Dataset,
  DistributedSampler,
  defaultCollate,
  IterableDataset,
  type MapDataset,
  RandomSampler,
  type RandomSamplerOptions,
  randomSplit,
  type Sampler,
  SequentialSampler,
  Subset,
  SubsetRandomSampler,
  TensorDataset,
  WeightedRandomSampler,
  type WeightedRandomSamplerOptions,
} from "@cinder/data";
