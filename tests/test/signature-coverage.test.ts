/**
 * Every declared signature is exercised: replayed from PyTorch's own calls by a `sigcases-*.json` fixture
 * (tests/test/signatures-*.test.mjs), or, where a JSON fixture cannot express the call (methods of modules and
 * optimizers, functions of a graph, torchvision's datasets), tested by hand in the file named here. A callable added
 * with a signature but with neither fails this test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { signatures } from "@cinder/tensor";
import { expect, it } from "vitest";
import "./support/every-package";

const MODULES = "tests/test/signatures-modules.test.mjs";
const OPTIM_DATA = "tests/test/signatures-optim-data.test.mjs";
const ATTENTION = "packages/nn/test/attention-calls.test.ts";
const COMPLEX = "tests/test/complex.test.mjs";
const HAND_TESTED: Record<string, string> = {
  "Generator.seed": "tests/test/signatures-creation.test.mjs",
  "Generator.getState": "tests/test/signatures-creation.test.mjs",
  "Generator.setState": "tests/test/signatures-creation.test.mjs",
  Generator: "tests/test/signatures-creation.test.mjs",
  seed: "tests/test/signatures-creation.test.mjs",
  "Tensor.detach_": "tests/test/signatures-elementwise.test.mjs",
  "Tensor.half": "tests/test/half.test.mjs",
  "Tensor.bfloat16": "tests/test/half.test.mjs",
  "Tensor.backward": "tests/test/signatures-elementwise.test.mjs",
  "Tensor.cpu": "tests/test/signatures-elementwise.test.mjs",
  "Tensor.retainGrad": "tests/test/signatures-elementwise.test.mjs",
  "Tensor.registerHook": "packages/autograd/test/hooks-function.test.ts",
  save: "packages/nn/test/save.test.ts",
  setNumThreads: "packages/backend-cpu/test/threads.test.ts",
  getNumThreads: "packages/backend-cpu/test/threads.test.ts",
  "webgpu.isAvailable": "packages/backend-webgpu/test/devices.test.ts",
  "webgpu.deviceCount": "packages/backend-webgpu/test/devices.test.ts",
  "webgpu.getDeviceName": "packages/backend-webgpu/test/devices.test.ts",
  bestDevice: "packages/backend-webgpu/test/devices.test.ts",
  load: "packages/nn/test/save.test.ts",
  // return nothing (a JSON case compares a result): their call forms and values are tested there
  "nn.utils.clipGradValue_": "packages/nn/test/rnn-utils.test.ts",
  "nn.utils.vectorToParameters": "packages/nn/test/rnn-utils.test.ts",
  "nn.RNN.forward": "packages/nn/test/rnn.test.ts",
  "nn.LSTM.forward": "packages/nn/test/rnn.test.ts",
  "nn.GRU.forward": "packages/nn/test/rnn.test.ts",
  "nn.RNNCell.forward": "packages/nn/test/rnn.test.ts",
  "nn.LSTMCell.forward": "packages/nn/test/rnn.test.ts",
  "nn.GRUCell.forward": "packages/nn/test/rnn.test.ts",
  "autograd.grad": "packages/autograd/test/signatures.test.ts",
  "onnx.load": "packages/onnx/test/load.test.ts",
  "onnx.export": "packages/onnx/test/export.test.ts",
  "jit.trace": "packages/onnx/test/jit.test.ts",
  "jit.save": "packages/onnx/test/jit.test.ts",
  "jit.load": "packages/onnx/test/jit.test.ts",
  "jit.script": "packages/onnx/test/jit.test.ts",
  // complex tensors: the sigcases fixtures hold no complex values; their call forms are tested there by hand
  "linalg.eig": COMPLEX,
  "linalg.eigvals": COMPLEX,
  viewAsReal: COMPLEX,
  viewAsComplex: COMPLEX,
  real: COMPLEX,
  imag: COMPLEX,
  isComplex: COMPLEX,
  "Tensor.isComplex": COMPLEX,
  complex: COMPLEX,
  polar: COMPLEX,
  conj: COMPLEX,
  "Tensor.conj": COMPLEX,
  conjPhysical: COMPLEX,
  "Tensor.conjPhysical": COMPLEX,
  resolveConj: COMPLEX,
  "Tensor.resolveConj": COMPLEX,
  isConj: COMPLEX,
  "Tensor.isConj": COMPLEX,
  angle: COMPLEX,
  "Tensor.angle": COMPLEX,
  "autograd.gradcheck": "packages/autograd/test/signatures.test.ts",
  "transforms.ToTensor": OPTIM_DATA,
  "transforms.Normalize": OPTIM_DATA,
  "transforms.Compose": OPTIM_DATA,
  "transforms.Lambda": OPTIM_DATA,
  "datasets.MNIST": OPTIM_DATA,
  "datasets.FashionMNIST": OPTIM_DATA,
  "datasets.KMNIST": OPTIM_DATA,
  "optim.Optimizer.zeroGrad": OPTIM_DATA,
  "optim.Optimizer.step": OPTIM_DATA,
  "optim.Optimizer.addParamGroup": OPTIM_DATA,
  "optim.Optimizer.loadStateDict": OPTIM_DATA,
  "optim.Optimizer.stateDict": OPTIM_DATA,
  "nn.Sequential": MODULES,
  "nn.ModuleDict": MODULES,
  "nn.ParameterDict": MODULES,
  "nn.Identity": MODULES,
  "nn.functional.scaledDotProductAttention": ATTENTION,
  "nn.MultiheadAttention.forward": ATTENTION,
  "nn.TransformerEncoderLayer.forward": ATTENTION,
  "nn.TransformerDecoderLayer.forward": ATTENTION,
  "nn.TransformerEncoder.forward": ATTENTION,
  "nn.TransformerDecoder.forward": ATTENTION,
  "nn.Transformer.forward": ATTENTION,
  "nn.Transformer.generateSquareSubsequentMask": ATTENTION,
};
// torch.distributed, DDP, DataParallel, DistributedSampler: collectives need several ranks (threads)
const DIST = "packages/distributed/test/collectives.test.ts";
for (const name of [
  "initProcessGroup",
  "destroyProcessGroup",
  "getRank",
  "getWorldSize",
  "getBackend",
  "isInitialized",
  "isAvailable",
  "allReduce",
  "reduce",
  "broadcast",
  "allGather",
  "reduceScatter",
  "gather",
  "scatter",
  "barrier",
])
  HAND_TESTED[`distributed.${name}`] = DIST;
// point to point, subgroups and the flat-tensor collectives need several ranks too
for (const name of [
  "send",
  "recv",
  "isend",
  "irecv",
  "batchIsendIrecv",
  "P2POp",
  "newGroup",
  "getGroupRank",
  "getGlobalRank",
  "getProcessGroupRanks",
  "allGatherIntoTensor",
  "reduceScatterTensor",
])
  HAND_TESTED[`distributed.${name}`] = "packages/distributed/test/p2p.test.ts";
HAND_TESTED["nn.parallel.DistributedDataParallel"] = "packages/distributed/test/ddp.test.ts";
HAND_TESTED["nn.DataParallel"] = "packages/distributed/test/data-parallel.test.ts";
HAND_TESTED["cpu.deviceCount"] = "packages/distributed/test/data-parallel.test.ts";
HAND_TESTED["utils.data.DistributedSampler"] = "packages/data/test/distributed-sampler.test.ts";
const MODULE_METHOD = /^nn\.Module\.\w+$/; // every nn.Module method: tests/test/signatures-modules.test.mjs

it("every declared signature is replayed from PyTorch or tested by hand", () => {
  const dir = new URL("../fixtures/", import.meta.url);
  const called = new Set<string>();
  for (const f of readdirSync(dir)) {
    if (!f.startsWith("sigcases-")) continue;
    for (const c of JSON.parse(readFileSync(new URL(f, dir), "utf8")).cases) called.add(c.call);
  }
  const missing = new Set<string>();
  for (const s of signatures()) {
    for (const form of s.forms) {
      const key = form === "method" ? `Tensor.${s.name}` : s.name;
      if (called.has(key) || called.has(`new ${s.name}`) || HAND_TESTED[key] || MODULE_METHOD.test(key))
        continue;
      missing.add(key);
    }
  }
  expect([...missing]).toEqual([]);
});
