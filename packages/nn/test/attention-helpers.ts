/**
 * The attention fixture (test/fixtures/attention.json, written by scripts/fixtures/attention_fixtures.py) and how its
 * module cases are built and run in Cinder: the module from its spec, PyTorch's state dict loaded, the call replayed.
 */
import { readFileSync } from "node:fs";
import { noGrad, type Tensor } from "@cinder/tensor";
import * as nn from "../src";
import { fixtureDir, type T, t } from "./helpers";

/** How to build a module: class, positional and keyword arguments; the stacks also their layer and norm. */
export interface Spec {
  cls: string;
  args?: unknown[];
  kwargs: Record<string, unknown>;
  layer?: Spec;
  numLayers?: number;
  norm?: number | null;
}
/** A call's value: a tensor, a ref to an input, or a plain value. */
type CallValue = T | { ref: string } | boolean | number | null;
/** A recorded module case. */
export interface ModuleCase {
  name: string;
  spec: Spec;
  mode: "train" | "eval";
  noGrad: boolean;
  state: Record<string, T>;
  call: { inputs: Record<string, T>; args: CallValue[]; kwargs: Record<string, CallValue> };
  outputs: (T | null)[];
  repr: string;
  upstream?: (T | null)[];
  inputGrads?: Record<string, T>;
  paramGrads?: Record<string, T>;
}
/** A recorded scaled_dot_product_attention case (PyTorch 2.0's formula, evaluated by PyTorch 1.13). */
export interface SdpaCase {
  name: string;
  query: T;
  key: T;
  value: T;
  attnMask: T | null;
  isCausal: boolean;
  output: T;
  upstream: T;
  grads: [T, T, T];
}

export const fx = JSON.parse(readFileSync(new URL("attention.json", fixtureDir), "utf8")) as {
  modules: ModuleCase[];
  sdpa: SdpaCase[];
  gelu: { approximate: "none" | "tanh"; input: T; output: T; upstream: T; grad: T; repr: string }[];
};

type Ctor = new (...args: unknown[]) => nn.Module;
/** The module a spec describes (Cinder's classes take PyTorch's arguments, keywords in a final options object). */
export function build(spec: Spec): nn.Module {
  const ctor = (nn as unknown as Record<string, Ctor>)[spec.cls];
  if (spec.layer) {
    const norm = spec.norm ? new nn.LayerNorm(spec.norm) : null;
    return new ctor(build(spec.layer), spec.numLayers, norm, spec.kwargs);
  }
  return new ctor(...(spec.args ?? []), spec.kwargs);
}

const isRef = (v: CallValue): v is { ref: string } => typeof v === "object" && v !== null && "ref" in v;
const isT = (v: CallValue): v is T => typeof v === "object" && v !== null && "values" in v;

/** The case's inputs (float ones requiring grad unless `noGrad`) and its call's arguments, moved to `device`. */
export function callOf(c: ModuleCase, device = "cpu") {
  const inputs: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.call.inputs)) {
    const x = t(v).to(device);
    inputs[k] = c.noGrad ? x : x.requiresGrad_(true);
  }
  const val = (v: CallValue) => (isRef(v) ? inputs[v.ref] : isT(v) ? t(v).to(device) : v);
  const args = c.call.args.map(val);
  const kwargs = Object.fromEntries(Object.entries(c.call.kwargs).map(([k, v]) => [k, val(v)]));
  return { inputs, args, kwargs };
}

/** A case's module with PyTorch's state loaded, in the case's mode. */
export function moduleOf(c: ModuleCase, device = "cpu"): nn.Module {
  const m = build(c.spec);
  m.loadStateDict(new Map(Object.entries(c.state).map(([k, v]) => [k, t(v)])));
  m.train(c.mode === "train");
  return m.to(device);
}

/** Run a module on a case's call: its outputs as a list (MultiheadAttention returns two). */
export function run(m: nn.Module, c: ModuleCase, call: ReturnType<typeof callOf>): (Tensor | null)[] {
  const go = () => {
    const out = (m as unknown as (...a: unknown[]) => Tensor | (Tensor | null)[])(...call.args, call.kwargs);
    return Array.isArray(out) ? out : [out];
  };
  return c.noGrad ? noGrad(go) : go();
}
