/**
 * Deployment, the ONNX way (issue 15; seed 003's TorchScript tour, in JavaScript's format): train seed 001's MNIST
 * MLP and the examples' CNN briefly, export each with `torch.onnx.export` (opset 17, weights as initializers, a
 * dynamic batch axis), run the files in ONNX Runtime (`onnxruntime-node`) on the whole test set, and compare:
 * Cinder's accuracy, ONNX Runtime's, and the largest difference between their logits. The MLP is also traced with
 * `torch.jit.trace` and saved with `traced.save` (an ONNX file too), and its graph printed.
 *
 *   pnpm example export-onnx [-- --dataset mnist|fashion-mnist|mnist-sample --epochs 1 --train-size N
 *                               --out examples/out/export-onnx.onnx]
 *
 * The last line is JSON: {"example":"export-onnx","maxAbsDiff","bytes","mlp":{"testAccuracy","ortAccuracy",
 * "maxAbsDiff","bytes"},"cnn":{...},...}; the top-level maxAbsDiff and bytes cover both models.
 */
import * as torch from "cinder";
import * as ort from "onnxruntime-node";
import { r4, report } from "./lib/cli";
import { evaluate, mnistSetup, trainEpochs } from "./lib/mnist";

const { nn, optim } = torch;

const setup = await mnistSetup("export-onnx", 1);
const { device, log, epochs, trainLoader, testLoader } = setup;
const out = (name: string) => setup.values.out.replace(/(\.safetensors|\.onnx)?$/, `.${name}.onnx`);

// the MLP of seed 001, taking the images as they come ([N, 1, 28, 28]): the flattening is part of the model
class SimpleNet extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  fc2 = new nn.Linear(128, 10);
  override forward(x: torch.Tensor): torch.Tensor {
    x = x.view(-1, 784);
    return this.fc2(nn.F.relu(this.fc1(x)));
  }
}
// examples/mnist-cnn.ts's network
const cnn = () =>
  new nn.Sequential(
    new nn.Conv2d(1, 32, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(32, 64, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(3136, 128),
    new nn.ReLU(),
    new nn.Linear(128, 10),
  );

/** Train, export, and run the file in ONNX Runtime on the test set next to Cinder. */
async function trainExportCompare(name: string, model: torch.nn.Module, optimizer: torch.optim.Optimizer) {
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

  // torch.onnx.export(model, dummy_input, "mnist.onnx", input_names=..., output_names=..., dynamic_axes=...)
  const file = out(name);
  const bytes = await torch.onnx.export(model, torch.randn([1, 1, 28, 28], { device }), file, {
    inputNames: ["input"],
    outputNames: ["logits"],
    dynamicAxes: { input: { 0: "batch" }, logits: { 0: "batch" } },
  });

  // ONNX Runtime on the same test set: its accuracy, and its logits against Cinder's
  const session = await ort.InferenceSession.create(file);
  let correct = 0;
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
  }
  const ortAccuracy = correct / setup.test.length;
  log(
    `${name}: Cinder ${(100 * testAccuracy).toFixed(2)}%, ONNX Runtime ${(100 * ortAccuracy).toFixed(2)}% ` +
      `(${file}, ${bytes.length} bytes); largest logit difference ${maxAbsDiff.toExponential(2)}`,
  );
  return { testAccuracy: r4(testAccuracy), ortAccuracy: r4(ortAccuracy), maxAbsDiff, bytes: bytes.length };
}

const mlp = new SimpleNet().to(device);
const mlpResult = await trainExportCompare(
  "mlp",
  mlp,
  new optim.SGD(mlp.parameters(), { lr: 0.01, momentum: 0.9 }),
);
const conv = cnn().to(device);
const cnnResult = await trainExportCompare("cnn", conv, new optim.Adam(conv.parameters(), { lr: 1e-3 }));

// torch.jit.trace: the MLP as a TracedModule, printable and saved as an ONNX file
const traced = torch.jit.trace(mlp, torch.randn([1, 1, 28, 28], { device }));
log(traced.graph);
await traced.save(out("traced"));

report({
  example: "export-onnx",
  dataset: setup.name,
  device,
  epochs,
  trainSamples: setup.trainSet.length,
  maxAbsDiff: Math.max(mlpResult.maxAbsDiff, cnnResult.maxAbsDiff),
  bytes: mlpResult.bytes + cnnResult.bytes,
  mlp: mlpResult,
  cnn: cnnResult,
});
