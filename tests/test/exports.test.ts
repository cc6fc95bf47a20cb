/**
 * What `import * as torch from "cinder"` holds, and where every declared signature is reachable.
 *
 * - cinder's namespace is pinned: exactly the public API listed below (tensor functions and classes, dtypes,
 *   devices, `nn`, `optim`, `autograd`, `utils.data`, seeding, memory scopes), so an internal of a layered package
 *   (the op table, the signature machinery, scalar kernels, ...) cannot leak into it unnoticed, and a public name
 *   cannot be dropped. Adding a public name means adding it here.
 * - Every declared signature is reachable where a user looks for it: tensor ops as `torch.f` (from @cinder/tensor
 *   and from cinder) and as `x.f`, `nn.functional.f`, `nn.X`, `optim.X`, `optim.lrScheduler.X`, `utils.data.X`,
 *   `webgpu.f`. A name forgotten in an index file would otherwise silently drop the export.
 */
import { readFileSync } from "node:fs";
import * as autograd from "@cinder/autograd";
import * as data from "@cinder/data";
import * as mnist from "@cinder/datasets-mnist";
import * as distributed from "@cinder/distributed";
import * as nn from "@cinder/nn";
import * as onnx from "@cinder/onnx";
import * as optim from "@cinder/optim";
import * as tensor from "@cinder/tensor";
import * as cinder from "cinder";
import { describe, expect, it } from "vitest";

/** `import * as torch from "cinder"`, by theme (each name once; sorted when compared). */
const PUBLIC = {
  namespaces: ["autograd", "cpu", "distributed", "jit", "nn", "onnx", "optim", "utils", "webgpu", "linalg"],
  classes: ["Tensor", "Size", "Generator"],
  errors: ["ArgumentError", "AllocationError", "DeviceError", "DTypeError", "IndexError", "ShapeError"],
  dtypes: [
    "float32",
    "float",
    "float64",
    "double",
    "float16",
    "half",
    "bfloat16",
    "int32",
    "int",
    "int64",
    "long",
    "int16",
    "short",
    "int8",
    "uint8",
    "bool",
    "complex64",
    "cfloat",
    "complex128",
    "cdouble",
    "promoteTypes",
  ],
  complex: [
    "complex",
    "polar",
    "viewAsReal",
    "viewAsComplex",
    "real",
    "imag",
    "isComplex",
    "conj",
    "conjPhysical",
    "resolveConj",
    "isConj",
    "angle",
  ],
  devices: [
    "bestDevice",
    "registeredDevices",
    "getDefaultDevice",
    "setDefaultDevice",
    "getNumThreads",
    "setNumThreads",
  ],
  version: ["version"],
  serialization: ["save", "load"],
  creation: [
    "tensor",
    "fromTypedArray",
    "zeros",
    "ones",
    "empty",
    "full",
    "zerosLike",
    "onesLike",
    "emptyLike",
    "fullLike",
    "arange",
    "linspace",
    "eye",
    "diag",
    "logspace",
    "meshgrid",
  ],
  random: [
    "manualSeed",
    "initialSeed",
    "seed",
    "defaultGenerator",
    "rand",
    "randn",
    "randint",
    "randperm",
    "randLike",
    "randnLike",
    "uniform_",
    "normal_",
    "normal",
    "bernoulli",
    "multinomial",
    "poisson",
  ],
  // every primitive of the op table is a public function (torch.exp, torch.add, ...)
  unary: [...tensor.UNARY_OPS],
  binary: [...tensor.BINARY_OPS],
  // PyTorch's aliases (ops/aliases.ts)
  aliases: [
    "absolute",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "fix",
    "negative",
    "sgn",
    "multiply",
    "subtract",
    "divide",
    "trueDivide",
    "arctan2",
    "greater",
    "greaterEqual",
    "less",
    "lessEqual",
    "notEqual",
    "ger",
    "concat",
    "concatenate",
    "rowStack",
    "swapdims",
    "swapaxes",
    "adjoint",
    "broadcastTo",
    "pinverse",
    "vdot",
    "inner",
  ],
  elementwise: [
    "where",
    "clamp",
    "clip",
    "allclose",
    "isclose",
    "equal",
    "detach",
    "isfinite",
    "frac",
    "lerp",
    "addcmul",
    "addcdiv",
    "logaddexp",
    "logaddexp2",
  ],
  indexing: [
    "at",
    "set",
    "slice",
    "indexPut",
    "gather",
    "indexSelect",
    "maskedFill",
    "nonzero",
    "scatter",
    "scatterAdd",
    "take",
    "indexAdd",
    "indexCopy",
    "indexFill",
    "maskedSelect",
    "put",
  ],
  linalg: [
    "matmul",
    "mm",
    "bmm",
    "mv",
    "dot",
    "outer",
    "kron",
    "tensordot",
    "cross",
    "cdist",
    "einsum",
    "det",
    "slogdet",
    "inverse",
    "choleskySolve",
    "matrixPower",
    "matrixExp",
    "vander",
    "orgqr",
    "lu",
    "luSolve",
    "luUnpack",
  ],
  reductions: [
    "sum",
    "mean",
    "prod",
    "std",
    "var",
    "variance",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "all",
    "any",
    "norm",
    "logsumexp",
    "softmax",
    "logSoftmax",
    "cumsum",
    "cumprod",
  ],
  sorting: ["sort", "argsort", "topk"],
  statistics: [
    "stdMean",
    "varMean",
    "median",
    "nanmedian",
    "mode",
    "kthvalue",
    "quantile",
    "nanquantile",
    "countNonzero",
    "aminmax",
    "unique",
    "uniqueConsecutive",
    "cummax",
    "cummin",
    "logcumsumexp",
    "scatterReduce",
  ],
  views: [
    "cat",
    "stack",
    "chunk",
    "split",
    "unbind",
    "clone",
    "contiguous",
    "expand",
    "flatten",
    "unflatten",
    "flip",
    "narrow",
    "permute",
    "repeat",
    "reshape",
    "view",
    "select",
    "squeeze",
    "unsqueeze",
    "t",
    "transpose",
    "roll",
    "tril",
    "triu",
    "diagonal",
    "diagEmbed",
    "trace",
    "fliplr",
    "flipud",
    "rot90",
    "movedim",
    "moveaxis",
    "tile",
    "repeatInterleave",
    "hstack",
    "vstack",
    "dstack",
    "columnStack",
  ],
  grad: ["noGrad", "enableGrad", "isGradEnabled", "setGradEnabled"],
  memory: ["tidy", "keep", "memory", "setBufferPool", "trimBufferPool", "bufferPoolStats"],
  printing: ["getPrintOptions", "setPrintOptions"],
  fusion: ["setFusion", "fusionEnabled"],
};

/** `torch.utils.data`: @cinder/data's public API. */
const UTILS_DATA = [
  "BatchSampler",
  "ConcatDataset",
  "DataLoader",
  "Dataset",
  "DistributedSampler",
  "IterableDataset",
  "RandomSampler",
  "SequentialSampler",
  "Subset",
  "SubsetRandomSampler",
  "TensorDataset",
  "WeightedRandomSampler",
  "defaultCollate",
  "randomSplit",
];

const sorted = (names: Iterable<string>) => [...names].sort();

describe("cinder's namespace", () => {
  it("is exactly the public API", () => {
    const listed = Object.values(PUBLIC).flat();
    expect(new Set(listed).size, "a name listed twice").toBe(listed.length);
    expect(sorted(Object.keys(cinder))).toEqual(sorted(listed));
  });

  it("leaks none of the layered packages' internals", () => {
    for (const name of [
      "BINARY_OPS",
      "UNARY_OPS",
      "hash32",
      "powInt",
      "seedKey",
      "recordOp",
      "installAutograd",
      "registerBackend",
      "signature",
      "op",
      "k",
      "Storage",
      "tensorFromData",
    ]) {
      expect(name in cinder, name).toBe(false);
      expect(name in tensor, `${name} stays in @cinder/tensor`).toBe(true);
    }
  });

  it("utils.data is torch.utils.data, from @cinder/data", () => {
    expect(Object.keys(cinder.utils)).toEqual(["data"]);
    expect(sorted(Object.keys(cinder.utils.data))).toEqual(sorted(UTILS_DATA));
    for (const name of UTILS_DATA) {
      expect((cinder.utils.data as Record<string, unknown>)[name], name).toBe(
        (data as Record<string, unknown>)[name],
      );
    }
  });

  it("webgpu holds torch.cuda's questions", () => {
    expect(sorted(Object.keys(cinder.webgpu))).toEqual(["deviceCount", "getDeviceName", "isAvailable"]);
    expect(typeof cinder.bestDevice).toBe("function");
  });

  it("version is the package's version (torch.__version__)", () => {
    const manifest = JSON.parse(
      readFileSync(new URL("../../packages/cinder/package.json", import.meta.url), "utf8"),
    ) as { version: string };
    expect(cinder.version).toBe(manifest.version);
    expect(cinder.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("the namespaces are the packages'", () => {
    // torch.nn is @cinder/nn plus DataParallel and nn.parallel (from @cinder/distributed)
    expect({ ...cinder.nn }).toEqual({
      ...nn,
      DataParallel: distributed.DataParallel,
      parallel: cinder.nn.parallel,
    });
    expect({ ...cinder.nn.parallel }).toEqual({
      DataParallel: distributed.DataParallel,
      DistributedDataParallel: distributed.DistributedDataParallel,
    });
    expect(cinder.distributed).toEqual(distributed);
    expect(cinder.optim).toEqual(optim);
    expect(cinder.onnx).toEqual(onnx);
    expect(cinder.jit).toBe(onnx.jit);
    expect(cinder.autograd).toEqual(autograd);
    expect(cinder.Tensor).toBe(tensor.Tensor);
  });
});

const MEMBER = /^(nn\.Module|optim\.Optimizer|Generator)\.(\w+)$/;

function lookup(name: string): unknown {
  const parts = name.split(".");
  const roots: Record<string, unknown> = {
    autograd,
    distributed,
    cpu: cinder.cpu,
    nn: cinder.nn,
    onnx,
    jit: onnx.jit,
    optim,
    utils: { data },
    tensor,
    linalg: tensor.linalg,
    torchvision: mnist,
    webgpu: cinder.webgpu,
  };
  if (parts.length === 1) return (tensor as Record<string, unknown>)[name];
  let v: unknown = roots[parts[0]] ?? (mnist as Record<string, unknown>)[parts[0]];
  for (const p of parts.slice(1)) v = (v as Record<string, unknown> | undefined)?.[p];
  return v;
}

describe("every declared callable is exported", () => {
  for (const s of tensor.signatures()) {
    const member = MEMBER.exec(s.name);
    if (member) {
      const cls = { "nn.Module": nn.Module, "optim.Optimizer": optim.Optimizer, Generator: tensor.Generator }[
        member[1]
      ] as { prototype: object };
      it(`${s.name} is a method of ${member[1]}`, () => {
        expect(typeof (cls.prototype as unknown as Record<string, unknown>)[member[2]]).toBe("function");
      });
      continue;
    }
    if (s.torchName.startsWith("torchvision.")) continue; // checked by the datasets-mnist tests
    const forward = /^nn\.(\w+)\.forward$/.exec(s.name); // a module's forward: a method of its class
    if (forward) {
      it(`${s.name} is a method of nn.${forward[1]}`, () => {
        const cls = (nn as unknown as Record<string, { prototype: Record<string, unknown> }>)[forward[1]];
        expect(typeof cls.prototype.forward).toBe("function");
      });
      continue;
    }
    for (const form of s.forms) {
      if (form === "method") {
        it(`Tensor.prototype.${s.name}`, () => {
          expect(typeof (tensor.Tensor.prototype as unknown as Record<string, unknown>)[s.name]).toBe(
            "function",
          );
        });
      } else {
        it(`${s.name} (and from cinder)`, () => {
          if (!s.name.includes(".")) {
            const owner = s.name in tensor ? tensor : cinder; // e.g. bestDevice, from @cinder/backend-webgpu
            expect(typeof (owner as Record<string, unknown>)[s.name], s.name).toBe("function");
            expect(typeof (cinder as Record<string, unknown>)[s.name], `cinder.${s.name}`).toBe("function");
          } else {
            expect(typeof lookup(s.name), s.name).toBe("function");
          }
          if (/^(nn|onnx|jit|optim|autograd|utils|webgpu|linalg|distributed|cpu)\./.test(s.name)) {
            const [ns, ...rest] = s.name.split(".");
            let v: unknown = (cinder as Record<string, unknown>)[ns];
            for (const p of rest) v = (v as Record<string, unknown> | undefined)?.[p];
            expect(typeof v, `cinder.${s.name}`).toBe("function");
          }
        });
      }
    }
  }
});
