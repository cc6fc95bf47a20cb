/**
 * What the MPI test programs compare against: every rank's input (each rank makes all of them from the same seed,
 * so no communication is needed to know the right answer); the reductions in rank order are @cinder/distributed's
 * `reduceArrays`.
 */
import type { MpiArray } from "../../src/native";

/** The four array types, by Cinder's dtype name. */
export const ARRAY_TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
} as const;

/** A dtype name of {@link ARRAY_TYPES}. */
export type DTypeName = keyof typeof ARRAY_TYPES;

/** Rank `rank`'s input of `n` elements for test case `salt`: random, with large and negative values and NaN/±0. */
export function input(dtype: DTypeName, n: number, rank: number, salt: number): MpiArray {
  const a = new ARRAY_TYPES[dtype](n);
  let s = (Math.imul(rank + 1, 0x9e3779b1) ^ Math.imul(salt + 7, 0x85ebca6b) ^ n) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (dtype === "int32") a[i] = s | 0;
    else if (dtype === "uint8") a[i] = s >>> 24;
    else a[i] = ((s >>> 8) / 2 ** 24 - 0.5) * 2 ** ((s & 15) - 4);
  }
  if (dtype === "float32" || dtype === "float64") {
    if (n > 3 && rank === 1) a[3] = Number.NaN;
    if (n > 4) a[4] = rank === 0 ? -0 : 0;
  }
  return a;
}

/** The first index where `a` and `b` differ bit for bit (NaN equals NaN, -0 differs from 0), or -1. */
export function firstDifference(a: MpiArray, b: MpiArray): number {
  if (a.length !== b.length || a.constructor !== b.constructor) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** `parts` one after another, as one array of their type. */
export function concat(parts: readonly MpiArray[]): MpiArray {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new (parts[0].constructor as new (n: number) => MpiArray)(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
