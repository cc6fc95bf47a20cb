/**
 * A model trained elsewhere, brought into Cinder (issue 15): load the MNIST MLP that PyTorch 1.13 wrote with
 * `torch.onnx.export` (packages/onnx/test/fixtures/mlp.onnx, made by scripts/fixtures/onnx_models.py), check it
 * gives PyTorch's outputs, fine-tune it for a few SGD steps on MNIST (its initializers are the module's
 * parameters), save it with `torch.jit.save` and run the saved file in ONNX Runtime.
 *
 *   pnpm example import-onnx [-- --dataset mnist|fashion-mnist|mnist-sample --epochs 1 --train-size N]
 *
 * The last line is JSON: {"example":"import-onnx","maxAbsDiff" (against PyTorch),"accuracyBefore",
 * "accuracyAfter","ortAccuracy","steps",...}.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as torch from "cinder";
import * as ort from "onnxruntime-node";
import { r4, report } from "./lib/cli";
import { evaluate, mnistSetup, trainEpochs } from "./lib/mnist";

const { nn, optim } = torch;
const fixtures = new URL("../packages/onnx/test/fixtures/", import.meta.url);

const setup = await mnistSetup("import-onnx", 1);
const { device, log, epochs, trainLoader, testLoader } = setup;
const out = setup.values.out.replace(/\.safetensors$/, ".onnx");

// 1. load what PyTorch exported: an nn.Module whose parameters are the graph's initializers
const model = (await torch.onnx.load(fileURLToPath(new URL("mlp.onnx", fixtures)))).to(device);
log(
  `loaded mlp.onnx: parameters ${[...model.namedParameters()].map(([n, p]) => `${n} [${[...p.shape].join(", ")}]`).join(", ")}`,
);

// 2. the same outputs as PyTorch on the inputs PyTorch saw
const golden = JSON.parse(readFileSync(new URL("onnx-models.json", fixtures), "utf8")).models.mlp;
let maxAbsDiff = 0;
for (const c of golden.cases as { shape: number[]; input: number[]; output: number[] }[]) {
  const x = torch.tensor(c.input).reshape(c.shape).to(device);
  const y = await torch.noGrad(() => model(x) as torch.Tensor).dataAsync();
  for (let i = 0; i < c.output.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(y[i] - c.output[i]));
}
log(`largest difference from PyTorch's outputs: ${maxAbsDiff.toExponential(2)}`);

// 3. fine-tune: the graph ends in log_softmax, so the loss is NLLLoss
const accuracyBefore = await evaluate(model, testLoader, device, (x) => x);
const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const trained = await trainEpochs({
  model,
  optimizer,
  criterion: new nn.NLLLoss(),
  loader: trainLoader,
  epochs,
  device,
  prepare: (x) => x,
  log,
  monitor: setup.monitor,
});
const accuracyAfter = await evaluate(model, testLoader, device, (x) => x);
log(
  `accuracy ${(100 * accuracyBefore).toFixed(2)}% -> ${(100 * accuracyAfter).toFixed(2)}% after fine-tuning`,
);

// 4. save the fine-tuned model (an ONNX file again) and run it in ONNX Runtime
await torch.jit.save(model, out);
const session = await ort.InferenceSession.create(out);
let correct = 0;
for await (const [data, target] of testLoader) {
  const input = new ort.Tensor("float32", (await data.dataAsync()) as Float32Array, [...data.shape]);
  const scores = (await session.run({ input })).output.data as Float32Array;
  const labels = await target.dataAsync();
  for (let i = 0; i < data.shape[0]; i++) {
    const row = scores.subarray(i * 10, i * 10 + 10);
    if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
  }
}
const ortAccuracy = correct / setup.test.length;
log(`${out} in ONNX Runtime: ${(100 * ortAccuracy).toFixed(2)}%`);

report({
  example: "import-onnx",
  dataset: setup.name,
  device,
  maxAbsDiff,
  accuracyBefore: r4(accuracyBefore),
  accuracyAfter: r4(accuracyAfter),
  ortAccuracy: r4(ortAccuracy),
  steps: trainLoader.length * epochs,
  trainSamples: trained.samples,
});
