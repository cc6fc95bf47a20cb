/**
 * @cinder/distributed: PyTorch's `torch.distributed` for Cinder.
 *
 *   import * as dist from "@cinder/distributed";
 *   await dist.initProcessGroup("threads");            // inside `cinder-run --nproc 2 train.ts`
 *   dist.allReduce(t, dist.ReduceOp.SUM);
 *   const model = new dist.DistributedDataParallel(net);
 *
 * The collective backend protocol (`backend.ts`) is what a transport implements; see the package README.
 */
export {
  BACKEND_SPECIFICATION_VERSION,
  type BackendFactory,
  type BackendInitOptions,
  COMPLETED_WORK,
  type CollectiveArray,
  type CollectiveBackend,
  checkBackend,
  DistributedError,
  getBackendFactory,
  REDUCE_OP_NAMES,
  type RecvWork,
  type ReduceOpName,
  registerBackend,
  registeredBackends,
  type Work,
} from "./backend";
export {
  allGather,
  allGatherIntoTensor,
  allReduce,
  barrier,
  broadcast,
  type CollectiveResult,
  gather,
  ReduceOp,
  reduce,
  reduceScatter,
  reduceScatterTensor,
  scatter,
} from "./collectives";
export {
  type ConformanceOptions,
  type ConformanceReport,
  conformanceInput,
  runBackendConformance,
} from "./conformance";
/** `torch.cpu`: `cpu.deviceCount()`, the usable cores. */
export * as cpu from "./cpu";
export { DataParallel } from "./data-parallel";
export { DistributedDataParallel } from "./ddp";
export { batchIsendIrecv, irecv, isend, P2POp, recv, send } from "./p2p";
export {
  destroyProcessGroup,
  getBackend,
  getGlobalRank,
  getGroupRank,
  getProcessGroupRanks,
  getRank,
  getWorldSize,
  group,
  initProcessGroup,
  isAvailable,
  isInitialized,
  newGroup,
  ProcessGroup,
} from "./process-group";
export { combineInto, finishReduce, reduceArrays } from "./reduce";
export { DEFAULT_TIMEOUT_MS, type RankJob, rankEnv, type SpawnOptions, spawnRanks } from "./spawn";
