/** torch.optim.lr_scheduler: also exported as the `lrScheduler` namespace of @cinder/optim. */
export { LRScheduler, type SchedulerStateDict } from "./base";
export { OneCycleLR, type OneCycleLROptions } from "./one-cycle";
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./plateau";
export {
  CosineAnnealingLR,
  type CosineAnnealingLROptions,
  ExponentialLR,
  type ExponentialLROptions,
  LambdaLR,
  type LambdaLROptions,
  type LrLambda,
  MultiStepLR,
  type MultiStepLROptions,
  type SchedulerOptions,
  StepLR,
  type StepLROptions,
} from "./schedulers";
