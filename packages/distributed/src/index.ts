/**
 * @cinder/distributed: PyTorch's `torch.distributed` for Cinder.
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
  type ReduceOpName,
  registerBackend,
  registeredBackends,
  type Work,
} from "./backend";
