/** The page of browser.test.ts: trace, write, load and compare in the browser; results on `window.__onnx`. */
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import { manualSeed, noGrad, randn, registerBackend, type Tensor } from "@cinder/tensor";
import * as onnx from "../src";

async function maxDiff(a: Tensor, b: Tensor): Promise<number> {
  const [x, y] = [await a.dataAsync(), await b.dataAsync()];
  let worst = x.length === y.length ? 0 : Number.POSITIVE_INFINITY;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

async function run() {
  registerBackend(cpu);
  manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(64, 5),
  ).eval();
  const traced = onnx.jit.trace(model, randn([1, 1, 8, 8]));
  const loaded = await onnx.jit.load(await traced.toBytes());
  const x = randn([3, 1, 8, 8]);
  const want = noGrad(() => model(x) as Tensor);
  const fixture = new Uint8Array((window as unknown as { __fixture: number[] }).__fixture);
  const pytorch = await onnx.load(fixture);
  return {
    error: null,
    tracedVsModel: await maxDiff(
      noGrad(() => traced(x) as Tensor),
      want,
    ),
    loadedVsModel: await maxDiff(
      noGrad(() => loaded(x) as Tensor),
      want,
    ),
    graph: loaded.graph,
    pytorchShape: [...(noGrad(() => pytorch(randn([3, 1, 28, 28]))) as Tensor).shape],
  };
}

run().then(
  (r) => Object.assign(window, { __onnx: r }),
  (e: Error) => Object.assign(window, { __onnx: { error: `${e.message}\n${e.stack}` } }),
);
