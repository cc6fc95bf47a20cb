/** Counter-based random fill: element i (row-major) is randomUniform/randomNormal(key, counter + i). */
import { type RandomDist, randomNormal, randomUniform, type TypedArray, type View } from "@cinder/tensor";
import { contiguousStrides, isContiguous, numel } from "./codegen";
import { copy } from "./elementwise";

function fillUniform(a: TypedArray, off: number, n: number, key: number, counter: number): void {
  for (let i = 0; i < n; i++) a[off + i] = randomUniform(key, counter + i);
}

function fillNormal(a: TypedArray, off: number, n: number, key: number, counter: number): void {
  for (let i = 0; i < n; i++) a[off + i] = randomNormal(key, counter + i);
}

export function random(dist: RandomDist, key: number, counter: number, out: View): void {
  const n = numel(out.shape);
  if (n === 0) return;
  const gen = dist === "uniform" ? fillUniform : fillNormal;
  if (isContiguous(out)) {
    gen(out.handle as TypedArray, out.offset, n, key, counter);
    return;
  }
  const tmp = new Float64Array(n);
  gen(tmp, 0, n, key, counter);
  copy(
    { handle: tmp, dtype: "float64", shape: out.shape, strides: contiguousStrides(out.shape), offset: 0 },
    out,
  );
}
