import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import { manualSeed, randn, registerBackend, registeredDevices, type Tensor, tensor } from "@cinder/tensor";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it, vi } from "vitest";
import * as onnx from "../src";
import { cnn, dynamicAxes, SimpleNet } from "./models";
import { fnModule } from "./ort";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

const scratch = mkdtempSync(join(tmpdir(), "cinder-onnx-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** ONNX Runtime's output for `x` next to Cinder's, for each batch size. */
async function compare(model: nn.Module, bytes: Uint8Array, shape: (n: number) => number[]) {
  const session = await ort.InferenceSession.create(bytes);
  for (const n of [1, 5]) {
    const x = randn(shape(n));
    const expected = model(x) as Tensor;
    const feeds = { input: new ort.Tensor("float32", (await x.dataAsync()) as Float32Array, x.shape) };
    const got = (await session.run(feeds)).output;
    expect(got.dims).toEqual(expected.shape);
    const want = (await expected.dataAsync()) as Float32Array;
    const data = got.data as Float32Array;
    for (let i = 0; i < want.length; i++)
      expect(Math.abs(data[i] - want[i])).toBeLessThan(1e-4 + 1e-4 * Math.abs(want[i]));
  }
}

/** Python's onnx.checker on `path`: null when Debian's python3-onnx is absent (outside CI). */
function checker(path: string): string | null {
  const probe = spawnSync("/usr/bin/python3", ["-c", "import onnx"], { encoding: "utf8" });
  if (probe.status !== 0) {
    if (process.env.CI && process.env.CI !== "false")
      throw new Error("python3-onnx is missing (scripts/setup.sh installs it)");
    return null;
  }
  const r = spawnSync(
    "/usr/bin/python3",
    [
      "-c",
      "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print('ok')",
      path,
    ],
    { encoding: "utf8" },
  );
  return r.status === 0 ? r.stdout.trim() : r.stderr;
}
const hasOnnx = spawnSync("/usr/bin/python3", ["-c", "import onnx"]).status === 0;

describe("onnx.export", () => {
  it("exports the MNIST MLP: ONNX Runtime gives Cinder's outputs for two batch sizes", async () => {
    manualSeed(0);
    const model = new SimpleNet();
    const path = join(scratch, "mlp.onnx");
    const bytes = await onnx.export(model, randn([2, 1, 28, 28]), path, {
      inputNames: ["input"],
      outputNames: ["output"],
      dynamicAxes,
    });
    expect(readFileSync(path)).toEqual(Buffer.from(bytes));
    await compare(model, bytes, (n) => [n, 1, 28, 28]);
  });

  it("exports the MNIST CNN (Dropout in eval is the identity) and restores training mode", async () => {
    manualSeed(1);
    const model = cnn();
    const bytes = await onnx.export(model, randn([1, 1, 28, 28]), undefined, { dynamicAxes });
    expect(model.training).toBe(true);
    model.eval();
    await compare(model, bytes, (n) => [n, 1, 28, 28]);
  });

  it("writes parameters as initializers under their state-dict names, opset 17 by default", async () => {
    manualSeed(2);
    const bytes = await onnx.export(new SimpleNet(), randn([1, 784]));
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(["input"]);
    expect(session.outputNames).toEqual(["output"]);
    const text = new TextDecoder("latin1").decode(bytes);
    for (const name of ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "Gemm", "Relu", "LogSoftmax"])
      expect(text).toContain(name);
  });

  it("fails naming an op that has no mapping", async () => {
    class Sine extends nn.Module {
      fc = new nn.Linear(4, 4);
      override forward(x: Tensor): Tensor {
        return this.fc(x).sin();
      }
    }
    await expect(onnx.export(new Sine(), randn([2, 4]))).rejects.toThrow(
      /onnx\.export: the op sin has no ONNX mapping yet; supported: .*F\.linear/,
    );
    await expect(
      onnx.export(new SimpleNet(), randn([1, 784]), undefined, { opsetVersion: 9 }),
    ).rejects.toThrow(/opsetVersion 9 is not supported/);
  });

  it("fails clearly where the trace would be wrong: an in-place write it cannot see, an unmapped composite", async () => {
    const inplace = fnModule((x) => {
      const y = x.mul(2);
      y.add_(1);
      return y.relu();
    });
    await expect(onnx.export(inplace, randn([2, 4]))).rejects.toThrow(
      /onnx\.export: a value was modified in place by code the tracer cannot see .* use the out-of-place form/,
    );
    const loss = fnModule((x) => nn.F.crossEntropy(x, tensor([1, 0])));
    await expect(onnx.export(loss, randn([2, 4]))).rejects.toThrow(
      /the op nn\.functional\.crossEntropy has no ONNX mapping yet/,
    );
  });

  it("takes PyTorch's positional arguments and keywords as options; unsupported values and unknown options throw", async () => {
    const model = new SimpleNet();
    const x = randn([1, 784]);
    const positional = await onnx.export(
      model,
      x,
      null,
      true,
      false,
      "eval",
      ["image"],
      ["scores"],
      "ONNX",
      15,
    );
    const session = await ort.InferenceSession.create(positional);
    expect([session.inputNames, session.outputNames]).toEqual([["image"], ["scores"]]);
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await onnx.export(model, x, { verbose: true });
    expect(log.mock.calls[0][0]).toMatch(/^graph\(%input : Float\(1, 784\),[\s\S]*aten::linear/);
    log.mockRestore();
    await expect(onnx.export(model, x, { exportParams: false })).rejects.toThrow(
      /argument "exportParams" must be True \(the weights are always written, as initializers\)/,
    );
    // @ts-expect-error: not an option
    await expect(onnx.export(model, x, { inputName: ["a"] })).rejects.toThrow(
      /unknown option "inputName"; did you mean "inputNames"/,
    );
    // @ts-expect-error: not a module
    await expect(onnx.export(x, x)).rejects.toThrow(/argument "model" must be nn.Module/);
  });

  it.skipIf(!hasOnnx && !(process.env.CI && process.env.CI !== "false"))(
    "passes onnx.checker (Debian's python3-onnx)",
    async () => {
      const mlp = join(scratch, "check-mlp.onnx");
      const conv = join(scratch, "check-cnn.onnx");
      await onnx.export(new SimpleNet(), randn([1, 784]), mlp, { dynamicAxes });
      await onnx.export(cnn(), randn([1, 1, 28, 28]), conv, { dynamicAxes });
      expect(existsSync(mlp) && existsSync(conv)).toBe(true);
      expect(checker(mlp)).toBe("ok");
      expect(checker(conv)).toBe("ok");
    },
  );
});
