/**
 * @cinder/optim: optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) and learning-rate schedulers, with PyTorch 1.13's
 * semantics. Schedulers are exported at the top level and as the `lrScheduler` namespace
 * (`new lrScheduler.StepLR(optimizer, { stepSize: 30 })`, like `torch.optim.lr_scheduler.StepLR`). The update rules of
 * the built-in optimizers and the fused-update switch are internals (import them from their source files in tests).
 */
export { Adagrad, type AdagradOptions, type AdagradState } from "./adagrad";
export { Adam, type AdamOptions, type AdamState, AdamW } from "./adam";
/**
 * `torch.optim.lr_scheduler`: the learning-rate schedulers as one namespace (`new
 * lrScheduler.StepLR(optimizer, 30)`); they are also exported at the top level.
 */
export * as lrScheduler from "./lr-scheduler/index";
export * from "./lr-scheduler/index";
export {
  type BaseOptions,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type SchedulerGroupKeys,
  type StateValue,
  type UpdateRule,
} from "./optimizer";
export { RMSprop, type RMSpropOptions, type RMSpropState } from "./rmsprop";
export { SGD, type SGDOptions, type SGDState } from "./sgd";
