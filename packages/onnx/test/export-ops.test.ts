/**
 * Every exporter mapping: a small model per op or layer, exported with a dynamic batch dimension, run by ONNX
 * Runtime at two batch sizes and by `onnx.load` (the importer reads back everything the exporter writes), both
 * equal to Cinder's own outputs; each file also passes `onnx.checker`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import {
  arange,
  cat,
  manualSeed,
  noGrad,
  ones,
  randint,
  randn,
  registerBackend,
  registeredDevices,
  stack,
  type Tensor,
  tensor,
} from "@cinder/tensor";
import { afterAll, describe, expect, it } from "vitest";
import * as onnx from "../src";
import { checker, checkerAvailable, expectClose, fnModule, runOrt } from "./ort";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);
const F = nn.F;
const scratch = mkdtempSync(join(tmpdir(), "cinder-onnx-ops-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Case = [name: string, model: () => nn.Module, shape: number[], input?: (shape: number[]) => Tensor];
const layer = (l: nn.Module) => () => fnModule((x, [m]) => m(x) as Tensor, l);
const fn = (f: (x: Tensor) => Tensor) => () => fnModule(f);

/** A BatchNorm with running statistics of its own (one training step), in eval mode. */
function trainedBatchNorm(bn: nn.Module, shape: number[]): nn.Module {
  noGrad(() => bn(randn(shape).mul(2).add(1)));
  return bn.eval();
}

const CASES: Case[] = [
  ["Linear on 3-D input (MatMul + Add)", layer(new nn.Linear(6, 4)), [3, 6]],
  ["Linear without bias", layer(new nn.Linear(6, 4, false)), [6]],
  ["Conv1d stride 2", layer(new nn.Conv1d(3, 4, 3, { padding: 1, stride: 2 })), [3, 10]],
  [
    "Conv2d same, dilation, groups",
    layer(new nn.Conv2d(4, 6, 3, { padding: "same", dilation: 2, groups: 2 })),
    [4, 8, 8],
  ],
  [
    "ConvTranspose1d",
    layer(new nn.ConvTranspose1d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 })),
    [3, 5],
  ],
  ["ConvTranspose2d", layer(new nn.ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1 })), [2, 4, 4]],
  ["MaxPool1d", layer(new nn.MaxPool1d(2)), [3, 8]],
  ["MaxPool2d padded", layer(new nn.MaxPool2d(3, { stride: 2, padding: 1 })), [3, 8, 8]],
  ["AvgPool1d", layer(new nn.AvgPool1d(3, { stride: 1, padding: 1 })), [3, 8]],
  ["AvgPool2d", layer(new nn.AvgPool2d(2)), [3, 8, 8]],
  ["AdaptiveAvgPool2d(1) (GlobalAveragePool)", layer(new nn.AdaptiveAvgPool2d(1)), [3, 6, 6]],
  ["AdaptiveAvgPool2d(2)", layer(new nn.AdaptiveAvgPool2d(2)), [3, 6, 6]],
  ["AdaptiveAvgPool1d(1)", layer(new nn.AdaptiveAvgPool1d(1)), [3, 6]],
  ["BatchNorm2d (eval)", () => layer(trainedBatchNorm(new nn.BatchNorm2d(3), [4, 3, 5, 5]))(), [3, 5, 5]],
  ["BatchNorm1d (eval)", () => layer(trainedBatchNorm(new nn.BatchNorm1d(5), [4, 5]))(), [5]],
  ["LayerNorm", layer(new nn.LayerNorm([6])), [5, 6]],
  ["LayerNorm over two dims", layer(new nn.LayerNorm([5, 6])), [5, 6]],
  ["GroupNorm", layer(new nn.GroupNorm(2, 4)), [4, 5, 5]],
  [
    "Dropout (eval)",
    () => fnModule((x, [l, d]) => d(l(x)) as Tensor, new nn.Linear(4, 4), new nn.Dropout(0.3)),
    [4],
  ],
  ["Embedding (Gather)", layer(new nn.Embedding(10, 4)), [3], (s) => randint(0, 10, s)],
  ["ReLU", layer(new nn.ReLU()), [7]],
  ["LeakyReLU", layer(new nn.LeakyReLU(0.2)), [7]],
  ["GELU", layer(new nn.GELU()), [7]],
  ["GELU tanh", layer(new nn.GELU("tanh")), [7]],
  ["SiLU", layer(new nn.SiLU()), [7]],
  ["ELU", layer(new nn.ELU(0.5)), [7]],
  ["Softplus", layer(new nn.Softplus()), [7]],
  ["Softplus beta 2", layer(new nn.Softplus(2)), [7]],
  ["Hardtanh (Clip)", layer(new nn.Hardtanh(-0.5, 0.5)), [7]],
  ["ReLU6 (Clip)", layer(new nn.ReLU6()), [7]],
  ["Sigmoid, Tanh", () => fnModule((x, [s, t]) => t(s(x)) as Tensor, new nn.Sigmoid(), new nn.Tanh()), [7]],
  ["softmax dim 0", fn((x) => x.softmax(0)), [3, 4]],
  ["logSoftmax dim -1 (F)", fn((x) => F.logSoftmax(x, -1)), [3, 4]],
  ["flatten, reshape, view", fn((x) => x.flatten(1).reshape(-1, 3, 4).view(-1, 12)), [3, 2, 2]],
  ["flatten(0, 1)", fn((x) => x.flatten(0, 1)), [3, 4]],
  ["permute, transpose, t", fn((x) => x.permute(0, 2, 1).transpose(1, 2).sum(2).t()), [3, 4]],
  [
    "cat, stack",
    fn((x) =>
      cat([x, x.mul(2)], 1)
        .sum(1)
        .add(stack([x, x], 1).sum(1).sum(1)),
    ),
    [3, 4],
  ],
  [
    "at: slices, ints, null, ...",
    fn((x) =>
      x
        .at(":", "1:3")
        .at("...", 0)
        .at(":", null)
        .add(x.at(":", -1, "::2").sum(1, true)),
    ),
    [3, 4],
  ],
  ["narrow, select", fn((x) => x.narrow(1, 1, 2).add(x.select(2, 0).unsqueeze(2).narrow(1, 0, 2))), [3, 4]],
  ["squeeze, unsqueeze", fn((x) => x.unsqueeze(1).squeeze(1).unsqueeze(-1).squeeze()), [1, 4]],
  ["expand", fn((x) => x.sum(1, true).expand(-1, 5)), [4]],
  [
    "matmul with a parameter",
    () => fnModule((x, [l]) => x.matmul((l as nn.Linear).weight.t()), new nn.Linear(4, 3)),
    [2, 4],
  ],
  ["bmm", fn((x) => x.bmm(x.transpose(1, 2))), [3, 4]],
  ["scalar operands", fn((x) => x.mul(2).add(1).pow(2).div(3).sub(0.5)), [5]],
  [
    "reductions",
    fn((x) =>
      x
        .sum(1)
        .add(x.mean(-1))
        .add(x.amax(1))
        .sub(x.amin(-1))
        .add((x.max(1) as unknown as [Tensor])[0])
        .add(x.min())
        .add(x.sum()),
    ),
    [4, 4],
  ],
  ["mean keepdim", fn((x) => x.sub(x.mean(-1, true))), [3, 4]],
  ["sqrt, abs, exp, log, neg", fn((x) => x.abs().sqrt().add(x.exp()).add(x.abs().add(1).log()).neg()), [5]],
  ["clamp", fn((x) => x.clamp(-0.3, 0.4).add(x.clamp({ min: 0 }))), [5]],
  ["chunk, split (Split)", fn((x) => x.chunk(2, 1)[1].sub(x.split([1, 3], 1)[0])), [4, 3]],
  [
    "indexSelect, expandAs",
    fn((x) => x.indexSelect(1, tensor([2, 0])).add(x.sum(1, true).expandAs(x.narrow(1, 0, 2)))),
    [3, 2],
  ],
  ["norm, F.normalize (traced through)", fn((x) => nn.F.normalize(x, 2, 1).add(x.norm(1, -1, true))), [4, 3]],
  [
    "F.pad: constant, reflect, replicate",
    fn((x) =>
      F.pad(x, [1, 2, 0, 1], "constant", 0.5)
        .add(F.pad(x, [1, 2, 0, 1], "reflect"))
        .add(F.pad(x, [1, 2, 0, 1], "replicate")),
    ),
    [2, 3, 4],
  ],
  [
    "F.interpolate nearest (scale) and bilinear (size, alignCorners)",
    fn((x) =>
      F.interpolate(x, { scaleFactor: 2, mode: "nearest" }).add(
        F.interpolate(x, { size: [6, 8], mode: "bilinear", alignCorners: true }),
      ),
    ),
    [2, 3, 4],
  ],
  [
    "MultiheadAttention (batch first)",
    () =>
      fnModule(
        (x, [m]) => (m(x, x, x) as Tensor[])[0],
        new nn.MultiheadAttention(8, 2, { batchFirst: true }),
      ),
    [5, 8],
  ],
  [
    "TransformerEncoderLayer (sequence first: a dynamic sequence length, the batch in the middle)",
    layer(new nn.TransformerEncoderLayer(8, 2, 16, 0.1)),
    [5, 8],
  ],
  ["constants made inside forward", fn((x) => x.add(ones([4])).mul(arange(4).float())), [4]],
  ["casts (a comparison as a float mask)", fn((x) => x.gt(0).float().mul(x)), [4]],
];

describe("onnx.export: each mapping, checked by ONNX Runtime and onnx.load at two batch sizes", () => {
  const files: string[] = [];
  for (const [name, make, shape, input = (s: number[]) => randn(s)] of CASES) {
    it(name, async () => {
      manualSeed(7);
      const model = make().eval();
      const bytes = await onnx.export(model, input([2, ...shape]), undefined, {
        dynamicAxes: { input: { 0: "batch" }, output: { 0: "batch" } },
      });
      const path = join(scratch, `${files.length}.onnx`);
      writeFileSync(path, bytes);
      files.push(path);
      const loaded = await onnx.load(bytes);
      for (const n of [1, 3]) {
        const x = input([n, ...shape]);
        const want = noGrad(() => model(x) as Tensor);
        const [got] = await runOrt(bytes, [x]);
        await expectClose(got, want, want.shape);
        await expectClose(loaded(x) as Tensor, want, want.shape);
      }
    });
  }

  it.skipIf(!checkerAvailable)("every file passes onnx.checker", () => {
    expect(files.length).toBe(CASES.length);
    expect(checker(...files)).toBe("ok");
  });
});
