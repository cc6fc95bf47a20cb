/** Error cases: each message names what was expected and what was given. */
import "./setup";
import { tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import {
  Adagrad,
  Adam,
  AdamW,
  CosineAnnealingLR,
  ExponentialLR,
  LambdaLR,
  lrScheduler,
  MultiStepLR,
  OneCycleLR,
  Optimizer,
  ReduceLROnPlateau,
  RMSprop,
  SGD,
  StepLR,
} from "../src/index";
import { sgdRule } from "../src/sgd";

const leaf = () => tensor([1, 2, 3], { dtype: "float32", requiresGrad: true });

describe("optimizer hyperparameter checks", () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "SGD lr",
      () => new SGD([leaf()], { lr: -0.1 }),
      /SGD: invalid learning rate: expected lr >= 0, got -0\.1/,
    ],
    [
      "SGD momentum",
      () => new SGD([leaf()], { lr: 0.1, momentum: -1 }),
      /SGD: invalid momentum value: expected momentum >= 0, got -1/,
    ],
    [
      "SGD weightDecay",
      () => new SGD([leaf()], { lr: 0.1, weightDecay: -0.5 }),
      /expected weightDecay >= 0, got -0\.5/,
    ],
    [
      "SGD nesterov",
      () => new SGD([leaf()], { lr: 0.1, nesterov: true }),
      /Nesterov momentum requires a momentum and zero dampening: expected momentum > 0 and dampening = 0, got momentum 0 and dampening 0/,
    ],
    [
      "SGD nesterov dampening",
      () => new SGD([leaf()], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
      /got momentum 0\.9 and dampening 0\.1/,
    ],
    [
      "Adam lr",
      () => new Adam([leaf()], { lr: -1 }),
      /Adam: invalid learning rate: expected lr >= 0, got -1/,
    ],
    [
      "Adam eps",
      () => new Adam([leaf()], { eps: -1e-8 }),
      /Adam: invalid epsilon value: expected eps >= 0, got -1e-8/,
    ],
    [
      "Adam beta1",
      () => new Adam([leaf()], { betas: [1, 0.999] }),
      /Adam: invalid beta parameter at index 0: expected 0 <= betas\[0\] < 1, got 1/,
    ],
    [
      "Adam beta2",
      () => new Adam([leaf()], { betas: [0.9, -0.1] }),
      /invalid beta parameter at index 1: expected 0 <= betas\[1\] < 1, got -0\.1/,
    ],
    [
      "Adam betas shape",
      () => new Adam([leaf()], { betas: [0.9] as unknown as [number, number] }),
      /Adam\(\): argument "betas" must be \(float, float\), got list \[0\.9\]/,
    ],
    [
      "AdamW weightDecay",
      () => new AdamW([leaf()], { weightDecay: -1 }),
      /AdamW: invalid weight_decay value: expected weightDecay >= 0, got -1/,
    ],
    [
      "RMSprop alpha",
      () => new RMSprop([leaf()], { alpha: -0.5 }),
      /RMSprop: invalid alpha value: expected alpha >= 0, got -0\.5/,
    ],
    [
      "RMSprop momentum",
      () => new RMSprop([leaf()], { momentum: -0.5 }),
      /expected momentum >= 0, got -0\.5/,
    ],
    [
      "Adagrad lrDecay",
      () => new Adagrad([leaf()], { lrDecay: -1 }),
      /Adagrad: invalid lr_decay value: expected lrDecay >= 0, got -1/,
    ],
    [
      "Adagrad initialAccumulatorValue",
      () => new Adagrad([leaf()], { initialAccumulatorValue: -1 }),
      /expected initialAccumulatorValue >= 0, got -1/,
    ],
    ["NaN lr", () => new SGD([leaf()], { lr: Number.NaN }), /expected lr >= 0, got NaN/],
    [
      "group lr",
      () => new SGD([{ params: [leaf()], lr: -2 }], { lr: 0.1 }),
      /SGD: invalid learning rate: expected lr >= 0, got -2/,
    ],
  ];
  for (const [name, fn, msg] of cases) {
    it(name, () => expect(fn).toThrow(msg));
  }
  it("they are RangeErrors", () => expect(() => new Adam([leaf()], { lr: -1 })).toThrow(RangeError));
});

describe("parameter checks", () => {
  it("SGD's lr is required: in the options or in every group", () => {
    expect(() => new SGD([leaf()])).toThrow(
      /SGD: parameter group didn't specify a value of required optimization parameter lr/,
    );
    expect(() => new SGD([{ params: [leaf()] }, { params: [leaf()], lr: 0.1 }])).toThrow(
      /required optimization parameter lr/,
    );
    expect(new SGD([{ params: [leaf()], lr: 0.1 }]).paramGroups[0].lr).toBe(0.1);
  });
  it("a tensor instead of an iterable", () => {
    expect(() => new SGD(leaf() as never, { lr: 0.1 })).toThrow(
      /SGD: params should be an iterable of Tensors or parameter groups, but got a Tensor of shape \[3\] \(wrap it in an array: \[t\]\)/,
    );
    expect(() => new SGD(5 as never, { lr: 0.1 })).toThrow(
      /SGD\(\): argument "params" must be an iterable of Tensors or of parameter groups, got int 5/,
    );
  });
  it("an empty parameter list", () => {
    expect(() => new Adam([])).toThrow(
      /Adam: optimizer got an empty parameter list \(expected at least one tensor\)/,
    );
  });
  it("a non-tensor parameter", () => {
    expect(() => new SGD([leaf(), 3 as never], { lr: 0.1 })).toThrow(
      /optimizer can only optimize Tensors, but params\[1\] is a number \(3\)/,
    );
    expect(() => new SGD([{ params: 3 as never }], { lr: 0.1 })).toThrow(
      /a parameter group's params must be a Tensor or an iterable of Tensors, got a number \(3\)/,
    );
    expect(() => new SGD([leaf()], { lr: 0.1 }).addParamGroup({} as never)).toThrow(
      /a parameter group must be an object with a params field/,
    );
  });
  it("a non-leaf tensor", () => {
    const x = leaf();
    const y = x.mul(2);
    expect(() => new SGD([x, y], { lr: 0.1 })).toThrow(
      /SGD: can't optimize a non-leaf Tensor: expected a leaf \(a parameter\), but params\[1\] \(shape \[3\]\) was computed by MulBackward0/,
    );
    y.retainGrad();
    expect(() => new SGD([y], { lr: 0.1 })).not.toThrow(); // as PyTorch: a non-leaf that retains its grad is allowed
  });
  it("a parameter in two groups", () => {
    const a = leaf();
    const b = leaf();
    expect(() => new SGD([{ params: [a, b] }, { params: [b] }], { lr: 0.1 })).toThrow(
      /SGD: some parameters appear in more than one parameter group: params\[0\] of the new group is already in paramGroups\[0\]/,
    );
    const opt = new Adam([a]);
    expect(() => opt.addParamGroup({ params: [b, a] })).toThrow(
      /params\[1\] of the new group is already in paramGroups\[0\]/,
    );
    expect(opt.paramGroups.length).toBe(1);
  });
  it("a gradient of another dtype", () => {
    const p = leaf();
    p.grad = tensor([1, 2, 3], { dtype: "int32" });
    expect(() => new Adam([p]).step()).toThrow(
      /Adam: paramGroups\[0\]\.params\[0\] is float32 on cpu but its grad is int32 on cpu; expected the same dtype and device/,
    );
  });
  it("a gradient of the wrong shape", () => {
    const p = leaf();
    p.grad = tensor([1, 2]);
    expect(() => new SGD([p], { lr: 0.1 }).step()).toThrow(
      /SGD: paramGroups\[0\]\.params\[0\] has shape \[3\] but its grad has shape \[2\]/,
    );
  });
});

describe("loadStateDict checks", () => {
  const two = () =>
    new SGD([{ params: [leaf(), leaf()] }, { params: [leaf()], lr: 0.01 }], { lr: 0.1, momentum: 0.9 });
  it("a different number of groups", () => {
    const sd = new SGD([leaf()], { lr: 0.1 }).stateDict();
    expect(() => two().loadStateDict(sd)).toThrow(
      /SGD: loaded state dict has a different number of parameter groups: expected 2 \(the optimizer's\), got 1/,
    );
  });
  it("a group of a different size", () => {
    const sd = two().stateDict();
    const other = new SGD([{ params: [leaf()] }, { params: [leaf(), leaf()], lr: 0.01 }], { lr: 0.1 });
    expect(() => other.loadStateDict(sd)).toThrow(
      /loaded state dict contains a parameter group that doesn't match the size of optimizer's group: paramGroups\[0\] has 1 parameters, the state dict's has 2/,
    );
  });
  it("not a state dict", () => {
    expect(() => two().loadStateDict({} as never)).toThrow(
      /loadStateDict expected an object \{ state, paramGroups \} from stateDict\(\), got an object/,
    );
    expect(() => two().loadStateDict(null as never)).toThrow(/got null/);
  });
  it("state for a parameter index no group lists", () => {
    const opt = two();
    const sd = opt.stateDict();
    sd.state[7] = { momentumBuffer: null };
    expect(() => opt.loadStateDict(sd)).toThrow(
      /loaded state dict has state for parameter 7, but its parameter groups list only 0, 1, 2/,
    );
  });
  it("a state tensor of the wrong shape, and nothing changes on failure", () => {
    const opt = two();
    const sd = opt.stateDict();
    sd.state[1] = { momentumBuffer: tensor([1, 2]) };
    sd.paramGroups[0].lr = 123;
    expect(() => opt.loadStateDict(sd)).toThrow(
      /loaded state momentumBuffer of parameter 1 has shape \[2\], but the parameter has shape \[3\]/,
    );
    expect(opt.paramGroups[0].lr).toBe(0.1);
  });
});

describe("scheduler checks", () => {
  const opt = () => new SGD([leaf()], { lr: 0.1, momentum: 0.9 });
  const cases: [string, () => unknown, RegExp][] = [
    [
      "not an optimizer",
      () => new StepLR({} as never, { stepSize: 3 }),
      /StepLR\(\): argument "optimizer" must be Optimizer, got object \{\}/,
    ],
    [
      "StepLR stepSize",
      () => new StepLR(opt(), { stepSize: 0 }),
      /StepLR: expected stepSize to be a positive integer, got a number \(0\)/,
    ],
    [
      "MultiStepLR milestones",
      () => new MultiStepLR(opt(), { milestones: 3 as never }),
      /MultiStepLR\(\): argument "milestones" must be int\[\], got int 3/,
    ],
    [
      "ExponentialLR gamma",
      () => new ExponentialLR(opt(), {} as never),
      /ExponentialLR\(\): missing required argument "gamma" \(float\)/,
    ],
    [
      "CosineAnnealingLR tMax",
      () => new CosineAnnealingLR(opt(), { tMax: 2.5 }),
      /CosineAnnealingLR\(\): argument "tMax" must be int, got float 2\.5/,
    ],
    [
      "LambdaLR count",
      () => new LambdaLR(opt(), [(e) => e, (e) => e]),
      /LambdaLR: expected 1 lrLambdas \(one per parameter group\), but got 2/,
    ],
    [
      "LambdaLR type",
      () => new LambdaLR(opt(), { lrLambda: 3 as never }),
      /LambdaLR\(\): argument "lrLambda" must be a function or a list of functions \(one per parameter group\), got int 3/,
    ],
    [
      "resuming without initialLr",
      () => new StepLR(opt(), { stepSize: 3, lastEpoch: 5 }),
      /StepLR: param 'initialLr' is not specified in paramGroups\[0\] when resuming an optimizer \(lastEpoch 5\)/,
    ],
    [
      "OneCycleLR steps",
      () => new OneCycleLR(opt(), { maxLr: 1 }),
      /you must define either totalSteps OR \(epochs AND stepsPerEpoch\)/,
    ],
    [
      "OneCycleLR totalSteps",
      () => new OneCycleLR(opt(), { maxLr: 1, totalSteps: -3 }),
      /expected totalSteps to be a positive integer, got a number \(-3\)/,
    ],
    [
      "OneCycleLR epochs",
      () => new OneCycleLR(opt(), { maxLr: 1, epochs: 2 }),
      /expected stepsPerEpoch to be a positive integer, got null/,
    ],
    [
      "OneCycleLR pctStart",
      () => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 10, pctStart: 1.5 }),
      /expected pctStart to be a number between 0 and 1, got a number \(1\.5\)/,
    ],
    [
      "OneCycleLR anneal",
      () => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 10, annealStrategy: "exp" as never }),
      /OneCycleLR\(\): argument "annealStrategy" must be "cos" \| "linear", got str "exp"/,
    ],
    [
      "OneCycleLR maxLr",
      () => new OneCycleLR(opt(), { maxLr: [1, 2], totalSteps: 10 }),
      /expected 1 values for maxLr \(one per parameter group\), got 2/,
    ],
    [
      "OneCycleLR momentum",
      () =>
        new OneCycleLR(new Optimizer([leaf()], { lr: 0.1 }, { ...sgdRule, check: () => {} } as never), {
          maxLr: 1,
          totalSteps: 10,
        }),
      /optimizer must support momentum with the cycleMomentum option enabled: expected an optimizer with a momentum or betas option/,
    ],
    [
      "ReduceLROnPlateau factor",
      () => new ReduceLROnPlateau(opt(), { factor: 1 }),
      /ReduceLROnPlateau: factor should be < 1\.0, got 1/,
    ],
    [
      "ReduceLROnPlateau mode",
      () => new ReduceLROnPlateau(opt(), { mode: "up" as never }),
      /ReduceLROnPlateau\(\): argument "mode" must be "min" \| "max", got str "up"/,
    ],
    [
      "ReduceLROnPlateau thresholdMode",
      () => new ReduceLROnPlateau(opt(), { thresholdMode: "x" as never }),
      /argument "thresholdMode" must be "rel" \| "abs", got str "x"/,
    ],
    [
      "ReduceLROnPlateau minLr",
      () => new ReduceLROnPlateau(opt(), { minLr: [0, 0] }),
      /expected 1 minLrs \(one per parameter group\), got 2/,
    ],
    [
      "ReduceLROnPlateau optimizer",
      () => new ReduceLROnPlateau(3 as never),
      /ReduceLROnPlateau\(\): argument "optimizer" must be Optimizer, got int 3/,
    ],
  ];
  for (const [name, fn, msg] of cases) {
    it(name, () => expect(fn).toThrow(msg));
  }
  it("OneCycleLR past its total steps", () => {
    const s = new lrScheduler.OneCycleLR(opt(), { maxLr: 1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    expect(() => s.step()).toThrow(
      /OneCycleLR: tried to step 5 times, but the specified number of total steps is 3/,
    );
  });
});
