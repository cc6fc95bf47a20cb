/** What the onnx tests share: ONNX Runtime's outputs for Cinder tensors, closeness, and Debian's onnx.checker. */
import { spawnSync } from "node:child_process";
import * as nn from "@cinder/nn";
import type { Tensor } from "@cinder/tensor";
import * as ort from "onnxruntime-node";
import { expect } from "vitest";

const ORT_TYPES = {
  float32: "float32",
  int32: "int32",
  int64: "int64",
  float64: "float64",
  bool: "bool",
} as const;

/** ONNX Runtime's outputs of the model `bytes` for `inputs` (one ort session per call). */
export async function runOrt(bytes: Uint8Array, inputs: readonly Tensor[]): Promise<ort.Tensor[]> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [i, name] of session.inputNames.entries()) {
    const x = inputs[i];
    const type = ORT_TYPES[x.dtype as keyof typeof ORT_TYPES];
    const data = await x.dataAsync();
    // ONNX Runtime takes int64 as a BigInt64Array (Cinder's int64 storage is exact doubles)
    const values =
      x.dtype === "int64" ? BigInt64Array.from(data as Float64Array, BigInt) : (data as Float32Array);
    feeds[name] = new ort.Tensor(type, values, [...x.shape]);
  }
  const out = await session.run(feeds);
  return session.outputNames.map((n) => out[n]);
}

/** `got` (ONNX Runtime's or Cinder's) equals `want` within float32 tolerance, shape included. */
export async function expectClose(
  got: ort.Tensor | Tensor,
  want: Tensor | Float32Array,
  shape?: readonly number[],
  tol = 1e-4,
): Promise<void> {
  const gotShape = "dims" in got ? got.dims : got.shape;
  if (shape) expect([...gotShape]).toEqual([...shape]);
  const w = want instanceof Float32Array ? want : await want.dataAsync();
  const g = "dims" in got ? got.data : await got.dataAsync();
  expect(g.length).toBe(w.length);
  let worst = 0;
  for (let i = 0; i < w.length; i++)
    worst = Math.max(worst, Math.abs(Number(g[i]) - Number(w[i])) - tol * Math.abs(Number(w[i])));
  expect(worst).toBeLessThan(tol);
}

/** A module whose forward is `f`, with `layers` as its children (`l0`, `l1`, ...). */
export function fnModule(f: (x: Tensor, layers: nn.Module[]) => Tensor, ...layers: nn.Module[]): nn.Module {
  class Fn extends nn.Module {
    constructor() {
      super();
      layers.forEach((l, i) => {
        this.addModule(`l${i}`, l);
      });
    }
    override forward(x: Tensor): Tensor {
      return f(x, layers);
    }
  }
  return new Fn();
}

const hasPyOnnx = spawnSync("/usr/bin/python3", ["-c", "import onnx"]).status === 0;
/** Whether Debian's python3-onnx is installed (it must be in CI). */
export const checkerAvailable = hasPyOnnx || !!(process.env.CI && process.env.CI !== "false");

/** Python's `onnx.checker.check_model(full_check=True)` on the files at `paths`: "ok" or the error. */
export function checker(...paths: string[]): string {
  const r = spawnSync(
    "/usr/bin/python3",
    [
      "-c",
      "import onnx,sys\nfor p in sys.argv[1:]: onnx.checker.check_model(onnx.load(p), full_check=True)\nprint('ok')",
      ...paths,
    ],
    { encoding: "utf8" },
  );
  return r.status === 0 ? r.stdout.trim() : r.stderr;
}
