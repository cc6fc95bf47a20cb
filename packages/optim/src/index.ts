/**
 * @cinder/optim: optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) and learning-rate schedulers, with PyTorch 1.13's
 * semantics. Schedulers are exported at the top level and as the `lrScheduler` namespace
 * (`new lrScheduler.StepLR(optimizer, { stepSize: 30 })`, like `torch.optim.lr_scheduler.StepLR`).
 */
export { Adagrad, type AdagradOptions, type AdagradState, adagradRule } from "./adagrad";
export { Adam, type AdamOptions, type AdamState, AdamW, adamRule, adamwRule } from "./adam";
export { setFusedUpdates } from "./fused";
/**
 * `torch.optim.lr_scheduler`: the learning-rate schedulers as one namespace (`new
 * lrScheduler.StepLR(optimizer, 30)`); they are also exported at the top level.
 */
export * as lrScheduler from "./lr-scheduler/index";
export * from "./lr-scheduler/index";
export { addcdiv_, addcmul_ } from "./ops";
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
export { RMSprop, type RMSpropOptions, type RMSpropState, rmspropRule } from "./rmsprop";
export { SGD, type SGDOptions, type SGDState, sgdRule } from "./sgd";
