/**
 * Shared test helpers: the CPU backend, the PyTorch fixture (test/fixtures/nn.json, written by
 * scripts/fixtures/nn_fixtures.py) and a float32 comparison: |actual - expected| <= 1e-5 |expected| + 1e-6 s,
 * where s is the largest magnitude in the expected tensor (at least 1), so values that cancel to near zero
 * are compared at the tensor's scale.
 */
import { readFileSync } from "node:fs";
import { cpu } from "@cinder/backend-cpu";
import { registerBackend, type Tensor, tensor } from "@cinder/tensor";
import { expect } from "vitest";

registerBackend(cpu);

export type Enc = number | string | boolean;
export interface T {
  shape: number[];
  dtype: "float32" | "float64" | "int32" | "uint8" | "bool";
  values: Enc[];
}

export const fixtureDir = new URL("./fixtures/", import.meta.url);
export const fixture = JSON.parse(readFileSync(new URL("nn.json", fixtureDir), "utf8"));

function num(v: Enc): number {
  if (v === "nan") return Number.NaN;
  if (v === "inf") return Number.POSITIVE_INFINITY;
  if (v === "-inf") return Number.NEGATIVE_INFINITY;
  return typeof v === "boolean" ? +v : (v as number);
}

/** A fixture tensor as a Cinder tensor (optionally requiring grad). */
export function t(e: T, requiresGrad = false): Tensor {
  const vals = e.values.map(num);
  const x = tensor(vals, { dtype: e.dtype }).reshape(e.shape);
  return requiresGrad ? x.requiresGrad_(true) : x;
}

export const RTOL = 1e-5;

/** Assert `actual` equals the fixture tensor within float32 tolerance (exactly for integers). */
export function expectClose(actual: Tensor | null | undefined, expected: T, what = "", rtol = RTOL): void {
  expect(actual, `${what}: missing tensor`).toBeTruthy();
  const a = actual as Tensor;
  expect([...a.shape], `${what}: shape`).toEqual(expected.shape);
  const got = Array.from(a.double().data());
  const want = expected.values.map(num);
  const scale = Math.max(1, ...want.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
  const exact = expected.dtype === "int32" || expected.dtype === "bool" || expected.dtype === "uint8";
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w)) {
      expect(Number.isNaN(g), `${what}[${i}]: expected NaN, got ${g}`).toBe(true);
      continue;
    }
    if (exact || !Number.isFinite(w)) {
      expect(g, `${what}[${i}]`).toBe(w);
      continue;
    }
    const tol = rtol * Math.abs(w) + 1e-6 * scale;
    if (!(Math.abs(g - w) <= tol)) {
      throw new Error(
        `${what}[${i}]: expected ${w}, got ${g} (|diff| ${Math.abs(g - w)} > tol ${tol}); shape [${expected.shape}]`,
      );
    }
  }
}
