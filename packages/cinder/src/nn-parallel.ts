/** `torch.nn.parallel`: `DistributedDataParallel` and `DataParallel`, from `@cinder/distributed`. */
export { DataParallel, DistributedDataParallel } from "@cinder/distributed";
