/**
 * Deployment, the ONNX way (issue 15; seed 003's TorchScript tour, in JavaScript's format): train seed 001's MNIST
 * MLP briefly, export it with `torch.onnx.export` (opset 17, weights as initializers, a dynamic batch axis), run
 * the file in ONNX Runtime (`onnxruntime-node`) on the whole test set, and compare: Cinder's accuracy, ONNX
 * Runtime's, and the largest difference between their logits. The same model is also traced with
 * `torch.jit.trace` and saved with `traced.save` (an ONNX file too), whose graph is printed.
 *
 *   pnpm example export-onnx [-- --dataset mnist|fashion-mnist|mnist-sample --epochs 1 --train-size N
 *                               --out examples/out/export-onnx.onnx]
 *
 * The last line is JSON: {"example":"export-onnx","testAccuracy","ortAccuracy","maxAbsDiff","bytes",...}.
 */
import * as torch from "cinder";
import * as ort from "onnxruntime-node";
import { r4, report } from "./lib/cli";
import { evaluate, mnistSetup, trainEpochs } from "./lib/mnist";

const { nn, optim } = torch;

const setup = await mnistSetup("export-onnx", 1);
const { device, log, epochs, trainLoader, testLoader } = setup;
const out = setup.values.out.replace(/\.safetensors$/, ".onnx");

// the MLP of seed 001, taking the images as they come ([N, 1, 28, 28]): the flattening is part of the model
class SimpleNet extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  fc2 = new nn.Linear(128, 10);
  override forward(x: torch.Tensor): torch.Tensor {
    x = x.view(-1, 784);
    return this.fc2(nn.F.relu(this.fc1(x)));
  }
}
const model = new SimpleNet().to(device);
const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
await trainEpochs({
  model,
  optimizer,
  criterion: new nn.CrossEntropyLoss(),
  loader: trainLoader,
  epochs,
  device,
  prepare: (x) => x,
  log,
  monitor: setup.monitor,
});
const testAccuracy = await evaluate(model, testLoader, device, (x) => x);
log(`Cinder: ${(100 * testAccuracy).toFixed(2)}% on the ${setup.test.length} test images`);

// torch.onnx.export(model, dummy_input, "mnist.onnx", input_names=..., output_names=..., dynamic_axes=...)
const bytes = await torch.onnx.export(model, torch.randn([1, 1, 28, 28], { device }), out, {
  inputNames: ["input"],
  outputNames: ["logits"],
  dynamicAxes: { input: { 0: "batch" }, logits: { 0: "batch" } },
});
log(`exported ${out} (${bytes.length} bytes)`);

// ONNX Runtime on the same test set: its accuracy, and its logits against Cinder's
const session = await ort.InferenceSession.create(out);
let correct = 0;
let seen = 0;
let maxAbsDiff = 0;
model.eval();
for await (const [data, target] of testLoader) {
  const input = new ort.Tensor("float32", (await data.dataAsync()) as Float32Array, [...data.shape]);
  const logits = (await session.run({ input })).logits.data as Float32Array;
  const ours = (await torch.noGrad(() => model(data.to(device))).dataAsync()) as Float32Array;
  const labels = await target.dataAsync();
  for (let i = 0; i < data.shape[0]; i++) {
    let best = 0;
    for (let c = 0; c < 10; c++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(logits[i * 10 + c] - ours[i * 10 + c]));
      if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    }
    if (best === labels[i]) correct++;
  }
  seen += data.shape[0];
}
const ortAccuracy = correct / seen;
log(
  `ONNX Runtime: ${(100 * ortAccuracy).toFixed(2)}%; largest logit difference ${maxAbsDiff.toExponential(2)}`,
);

// torch.jit.trace: the same model as a TracedModule, printable and saved as an ONNX file
const traced = torch.jit.trace(model, torch.randn([1, 1, 28, 28], { device }));
log(traced.graph);
await traced.save(out.replace(/\.onnx$/, ".traced.onnx"));

report({
  example: "export-onnx",
  dataset: setup.name,
  device,
  epochs,
  trainSamples: setup.trainSet.length,
  testAccuracy: r4(testAccuracy),
  ortAccuracy: r4(ortAccuracy),
  maxAbsDiff,
  bytes: bytes.length,
});
