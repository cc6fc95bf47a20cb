/** Shared test setup: the CPU backend, autograd, the PyTorch fixtures and tolerant comparisons. */
import "./setup";
import { readFileSync } from "node:fs";
import { type Tensor, tensor } from "@cinder/tensor";
import { expect } from "vitest";
import {
  Adagrad,
  Adam,
  AdamW,
  CosineAnnealingLR,
  ExponentialLR,
  LambdaLR,
  type LrLambda,
  MultiStepLR,
  OneCycleLR,
  type Optimizer,
  type ParamGroupInput,
  ReduceLROnPlateau,
  RMSprop,
  SGD,
  StepLR,
} from "../src/index";

type Nested = number | Nested[];

export interface OptimizerCase {
  name: string;
  optimizer: string;
  options: Record<string, unknown>;
  groups: (Record<string, unknown> & { params: number[] })[] | null;
  drop: [number, number][];
  expected: Nested[][];
  state: Record<string, Record<string, Nested | null>>;
  param_groups: Record<string, unknown>[];
  scheduler?: { cls: string; options: Record<string, unknown> };
}

export interface SchedulerCase {
  name: string;
  optimizer: string;
  opt_options: Record<string, unknown>;
  schedulers: { cls: string; options: Record<string, unknown> }[];
  metrics: number[] | null;
  epochs: number[] | null;
  lrs: number[][];
  momentum: (number | null)[][];
  last_lr: number[];
  last_epoch: number;
}

export interface Fixtures {
  torch: string;
  shapes: number[][];
  init: Nested[];
  grads: Nested[][];
  optimizers: OptimizerCase[];
  schedulers: SchedulerCase[];
}

export const fx: Fixtures = JSON.parse(
  readFileSync(new URL("./fixtures/optim.json", import.meta.url), "utf8"),
);

export const LAMBDAS: Record<string, LrLambda> = {
  pow095: (e) => 0.95 ** e,
  warmup5: (e) => Math.min(1, (e + 1) / 5),
  halve10: (e) => 0.5 ** Math.floor(e / 10),
};

type OptimizerCtor = new (
  params: Iterable<Tensor> | Iterable<ParamGroupInput>,
  options: Record<string, unknown>,
) => Optimizer;
export const OPTIMIZERS: Record<string, OptimizerCtor> = {
  SGD: SGD as unknown as OptimizerCtor,
  Adam: Adam as unknown as OptimizerCtor,
  AdamW: AdamW as unknown as OptimizerCtor,
  RMSprop: RMSprop as unknown as OptimizerCtor,
  Adagrad: Adagrad as unknown as OptimizerCtor,
};

type SchedulerLike = { step(arg?: number): void };
type SchedulerCtor = new (optimizer: Optimizer, options: never) => unknown;
export const SCHEDULERS: Record<string, SchedulerCtor> = {
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LambdaLR,
  OneCycleLR,
  ReduceLROnPlateau,
};

/** Fresh float32 leaf parameters holding the fixture's initial values. */
export function freshParams(): Tensor[] {
  return fx.init.map((v) => tensor(v as number[], { dtype: "float32", requiresGrad: true }));
}

/** The optimizer of a case over `params` (groups mapped from parameter indices to tensors). */
export function makeOptimizer(c: OptimizerCase, params: Tensor[]): Optimizer {
  const Ctor = OPTIMIZERS[c.optimizer];
  const arg = c.groups ? c.groups.map((g) => ({ ...g, params: g.params.map((i) => params[i]) })) : params;
  return new Ctor(arg, c.options);
}

export function makeScheduler(
  cls: string,
  optimizer: Optimizer,
  options: Record<string, unknown>,
): SchedulerLike {
  const o = { ...options };
  if (o.lrLambda !== undefined) {
    const names = o.lrLambda as string | string[];
    o.lrLambda = Array.isArray(names) ? names.map((n) => LAMBDAS[n]) : LAMBDAS[names];
  }
  return new SCHEDULERS[cls](optimizer, o as never) as SchedulerLike;
}

/** Set each parameter's gradient for step t (null where the case drops it). */
export function setGrads(params: Tensor[], t: number, drop: [number, number][] = []): void {
  params.forEach((p, i) => {
    p.grad = drop.some(([s, j]) => s === t && j === i)
      ? null
      : tensor(fx.grads[t][i] as number[], { dtype: "float32" });
  });
}

export function flat(v: Nested | null | undefined): number[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v.flatMap((x) => flat(x)) : [v];
}

/** Largest |a - b| / (|b| + atol / rtol) over the elements: <= rtol passes. */
export function expectClose(actual: Nested, expected: Nested, what: string, rtol = 1e-5, atol = 1e-7): void {
  const a = flat(actual);
  const e = flat(expected);
  expect(a.length, `${what}: element count`).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    const ok = Math.abs(a[i] - e[i]) <= rtol * Math.abs(e[i]) + atol;
    if (!ok) expect.fail(`${what}[${i}]: got ${a[i]}, expected ${e[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

export function toNested(t: Tensor): Nested {
  return t.toArray() as Nested;
}

/** PyTorch's snake_case key in Cinder's camelCase ("exp_avg_sq" -> "expAvgSq"). */
export function camel(key: string): string {
  const [head, ...rest] = key.split("_");
  return head.toLowerCase() + rest.map((r) => r.charAt(0).toUpperCase() + r.slice(1)).join("");
}

/** Group options PyTorch 1.13 has and Cinder does not (implementation switches without a meaning here). */
export const TORCH_ONLY_GROUP_KEYS = new Set(["foreach", "differentiable", "capturable", "fused"]);
