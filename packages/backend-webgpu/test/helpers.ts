import { cpu } from "@cinder/backend-cpu";
import { intOn, randomUniform, registerBackend, seedKey, type Tensor, tensor } from "@cinder/tensor";
import { assertClose, type Tolerance } from "@cinder/tensor/testing";
import { webgpuMemory } from "../src/index";

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
  // PyTorch's int64 results (sums of integers, indices) are the default integer of each device: int32 on webgpu
  const dtype = intOn(want.dtype, got.backend);
  if (got.dtype !== dtype) throw new Error(`${what}: dtype ${got.dtype}, expected ${dtype}`);
  if (String(got.shape) !== String(want.shape))
    throw new Error(`${what}: shape [${got.shape}], expected [${want.shape}]`);
  assertClose(await got.dataAsync(), want.to(dtype).data(), tol, what);
}

/** A function of tensors, differentiated by `compareWithGrad`. */
export type TensorFn = (...xs: Tensor[]) => Tensor;

/** `fn` forward and backward on `device` from the given values: its output, then each input's gradient. */
async function runWithGrad(
  device: string,
  fn: TensorFn,
  shapes: number[][],
  values: number[][],
): Promise<number[][]> {
  const xs = values.map((d, i) =>
    tensor(d, { dtype: "float32" }).reshape(shapes[i]).to(device).requiresGrad_(),
  );
  const y = fn(...xs);
  const w = tensor(
    Array.from({ length: y.numel() }, (_, i) => ((i % 7) - 3) / 4),
    { dtype: "float32" },
  ).reshape([...y.shape]);
  y.backward(w.to(device));
  const out = [Array.from(await y.dataAsync())];
  for (const x of xs) out.push(Array.from(await (x.grad as Tensor).dataAsync()));
  return out;
}

/**
 * Forward and backward of `fn` on webgpu and on the cpu from the same values (`values(shape, i)`), compared:
 * output and every input's gradient.
 */
export async function compareWithGrad(
  name: string,
  fn: TensorFn,
  shapes: number[][],
  values: (n: number, i: number) => number[],
): Promise<void> {
  const inputs = shapes.map((s, i) =>
    values(
      s.reduce((p, d) => p * d, 1),
      i,
    ),
  );
  const g = await runWithGrad("webgpu", fn, shapes, inputs);
  const c = await runWithGrad("cpu", fn, shapes, inputs);
  const tol = { rtol: 2e-4, atol: 2e-4 };
  assertClose(g[0], c[0], tol, `${name}: output`);
  for (let i = 1; i < g.length; i++) assertClose(g[i], c[i], tol, `${name}: gradient of input ${i - 1}`);
}

/**
 * Live buffers once garbage is collected. Gradients replaced by `zeroGrad()` (set to null, as in PyTorch 2) and
 * by gradient accumulation are not disposed by nn/optim/autograd today; on webgpu the core's
 * FinalizationRegistry frees them after a GC, so the count between GCs depends on GC timing (as do buffers other
 * tests of the file left to the garbage collector). Needs `--expose-gc` (vitest.config.ts passes it).
 */
export async function liveAfterGC(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
  return webgpuMemory().buffersLive;
}
