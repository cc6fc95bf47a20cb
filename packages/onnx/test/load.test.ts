import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import {
  fromTypedArray,
  manualSeed,
  noGrad,
  randn,
  registerBackend,
  registeredDevices,
  type Tensor,
  tensor,
} from "@cinder/tensor";
import { afterAll, describe, expect, it } from "vitest";
import * as onnx from "../src";
import { cnn, dynamicAxes, SimpleNet } from "./models";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

const fixtures = new URL("./fixtures/", import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), "cinder-onnx-load-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function expectClose(got: Tensor, want: Tensor | Float32Array, shape?: number[]) {
  if (shape) expect(got.shape).toEqual(shape);
  const w = want instanceof Float32Array ? want : ((await want.dataAsync()) as Float32Array);
  const g = (await got.dataAsync()) as Float32Array;
  expect(g.length).toBe(w.length);
  for (let i = 0; i < w.length; i++) expect(Math.abs(g[i] - w[i])).toBeLessThan(1e-5 + 1e-4 * Math.abs(w[i]));
}

describe("onnx.load: Cinder's exports round-trip", () => {
  it("the MNIST MLP (from a file) gives the original model's outputs at two batch sizes", async () => {
    manualSeed(0);
    const model = new SimpleNet();
    const path = join(scratch, "mlp.onnx");
    await onnx.export(model, randn([2, 1, 28, 28]), path, { dynamicAxes });
    const loaded = await onnx.load(path);
    expect(loaded).toBeInstanceOf(nn.Module);
    expect([...loaded.namedParameters()].map(([n]) => n)).toEqual([
      "fc1.weight",
      "fc1.bias",
      "fc2.weight",
      "fc2.bias",
    ]);
    for (const n of [1, 4]) {
      const x = randn([n, 1, 28, 28]);
      await expectClose(loaded(x) as Tensor, model(x) as Tensor, [n, 10]);
    }
  });

  it("the MNIST CNN (from bytes) gives the original model's outputs", async () => {
    manualSeed(1);
    const model = cnn().eval();
    const bytes = await onnx.export(model, randn([1, 1, 28, 28]), undefined, { dynamicAxes });
    const loaded = await onnx.load(bytes.slice().buffer);
    for (const n of [1, 3]) {
      const x = randn([n, 1, 28, 28]);
      await expectClose(loaded(x) as Tensor, model(x) as Tensor, [n, 10]);
    }
    expect(loaded.graphText).toContain("Conv(");
  });
});

interface Case {
  shape: number[];
  input: number[];
  output: number[];
  outputShape: number[];
}
const golden = JSON.parse(readFileSync(new URL("onnx-models.json", fixtures), "utf8")) as {
  models: Record<string, { parameters: string[]; cases: Case[] }>;
};

describe("onnx.load: models written by PyTorch 1.13's torch.onnx.export (opset 17)", () => {
  for (const name of ["mlp", "cnn", "extras", "transformer", "resnet"]) {
    it(`${name}: PyTorch's outputs at batch sizes 1 and 3, and one SGD step reaches the parameters`, async () => {
      const model = await onnx.load(new Uint8Array(readFileSync(new URL(`${name}.onnx`, fixtures))));
      const { cases, parameters } = golden.models[name];
      const names = [...model.namedParameters()].map(([n]) => n);
      // the parameters PyTorch kept under their names (it folds BatchNorm into convs, pre-transposes some weights)
      for (const p of parameters) expect(names).toContain(p);
      for (const c of cases) {
        const x = fromTypedArray(Float32Array.from(c.input), c.shape);
        await expectClose(model(x) as Tensor, Float32Array.from(c.output), c.outputShape);
      }
      // fine-tuning: gradients flow into the loaded parameters and an SGD step changes the outputs
      const x = fromTypedArray(Float32Array.from(cases[1].input), cases[1].shape);
      const before = (await (model(x) as Tensor).dataAsync()).slice();
      const out = model(x) as Tensor;
      out
        .mul(tensor(Array.from({ length: out.numel() }, (_, i) => (i % 7) - 3)).reshape(out.shape))
        .sum()
        .backward();
      for (const [n, p] of model.namedParameters()) expect(p.grad, n).not.toBeNull();
      noGrad(() => {
        for (const p of model.parameters()) p.sub_((p.grad as Tensor).mul(0.1)); // SGD, lr 0.1
      });
      const after = await (model(x) as Tensor).dataAsync();
      expect(Array.from(after)).not.toEqual(Array.from(before));
    });
  }
});

describe("onnx.load: errors", () => {
  it("an unsupported operator is named with its node", async () => {
    const bytes = new Uint8Array(readFileSync(new URL("mlp.onnx", fixtures)));
    const text = Buffer.from(bytes).toString("latin1");
    const patched = Buffer.from(text.replaceAll("LogSoftmax", "Hardmax000"), "latin1");
    await expect(onnx.load(new Uint8Array(patched))).rejects.toThrow(
      /the operator Hardmax000 \(node "\/Hardmax000"\) is not supported; supported: .*Conv/,
    );
  });

  it("a truncated file, garbage bytes, an empty file and an unsupported opset are clear errors", async () => {
    const bytes = new Uint8Array(readFileSync(new URL("cnn.onnx", fixtures)));
    await expect(onnx.load(bytes.slice(0, bytes.length - 1000))).rejects.toThrow(
      /onnx\.load: the given bytes is not a valid ONNX model \(the protobuf data is truncated or malformed/,
    );
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 251);
    await expect(onnx.load(garbage)).rejects.toThrow(
      /onnx\.load: the given bytes (is not a valid ONNX model|has no graph)/,
    );
    await expect(onnx.load(new TextEncoder().encode("hello, this is not a model"))).rejects.toThrow(
      onnx.OnnxLoadError,
    );
    await expect(onnx.load(new Uint8Array(0))).rejects.toThrow(/is empty/);
    const old = await onnx.export(new SimpleNet(), randn([1, 784]), undefined, { opsetVersion: 13 });
    // opset 13 loads; patch the declared opset to 9 (the varint after the opset_import's version tag)
    await expect(onnx.load(old)).resolves.toBeInstanceOf(onnx.OnnxModule);
    const i = Buffer.from(old).lastIndexOf(Buffer.from([0x10, 13]));
    const v9 = old.slice();
    v9[i + 1] = 9;
    await expect(onnx.load(v9)).rejects.toThrow(/uses opset 9, which is not supported \(opsets 13 to 21/);
    await expect(onnx.load(join(scratch, "missing.onnx"))).rejects.toThrow(/ENOENT/);
    // @ts-expect-error: not a path or bytes
    await expect(onnx.load(42)).rejects.toThrow(/load\(\): argument "f" must be str \(a path\) or bytes/);
  });
});
