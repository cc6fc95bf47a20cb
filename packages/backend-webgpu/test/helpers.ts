import { cpu } from "@cinder/backend-cpu";
import { randomUniform, registerBackend, seedKey, type Tensor, tensor } from "@cinder/tensor";
import { assertClose, type Tolerance } from "@cinder/tensor/testing";

registerBackend(cpu);

/** Deterministic test data in [lo, hi) (integers when `ints`). */
export function data(n: number, seed: number, lo = -1, hi = 1, ints = false): number[] {
  const key = seedKey(seed);
  return Array.from({ length: n }, (_, i) => {
    const v = lo + randomUniform(key, i) * (hi - lo);
    return ints ? Math.floor(v) : v;
  });
}

/** The same values on cpu and webgpu. */
export function pair(
  values: number[],
  shape: number[],
  dtype: "float32" | "int32" | "uint8" | "bool" = "float32",
) {
  return {
    c: tensor(values, { dtype, device: "cpu" }).reshape(shape),
    g: tensor(values, { dtype, device: "webgpu" }).reshape(shape),
  };
}

const F32: Tolerance = { rtol: 1e-5, atol: 1e-5 };

/** Run `f` on both devices' inputs and compare the webgpu result with the cpu one. */
export async function same(
  what: string,
  inputs: { c: Tensor; g: Tensor }[],
  f: (...xs: Tensor[]) => Tensor,
  tol: Tolerance = F32,
): Promise<void> {
  const want = f(...inputs.map((p) => p.c));
  const got = f(...inputs.map((p) => p.g));
  if (got.device !== "webgpu") throw new Error(`${what}: result is on ${got.device}`);
  if (got.dtype !== want.dtype) throw new Error(`${what}: dtype ${got.dtype}, expected ${want.dtype}`);
  if (String(got.shape) !== String(want.shape))
    throw new Error(`${what}: shape [${got.shape}], expected [${want.shape}]`);
  assertClose(await got.dataAsync(), want.data(), tol, what);
}
