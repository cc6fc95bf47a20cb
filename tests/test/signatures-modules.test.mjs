// torch.nn modules constructed as in PyTorch, in plain JavaScript: every call form of every constructor against
// PyTorch 1.13 (compared by printout, and by output where the module is deterministic), then explicit checks of
// the Module methods, the containers and the error messages.
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { signatureCases } from "./support/signature-cases.mjs";
import { thrownMessage as thrown } from "./support/thrown.mjs";

torch.registerBackend(cpu);
// the Transformer stacks' layer, norm and custom encoder/decoder arguments (sigcases_modules.py's Make)
const stackOf =
  (Stack, Layer) =>
  ([d, h, f, n]) =>
    new Stack(new Layer(d, h, f), n);
const makers = {
  encoderLayer: (a) => new nn.TransformerEncoderLayer(...a),
  decoderLayer: (a) => new nn.TransformerDecoderLayer(...a),
  layerNorm: (a) => new nn.LayerNorm(...a),
  encoder: stackOf(nn.TransformerEncoder, nn.TransformerEncoderLayer),
  decoder: stackOf(nn.TransformerDecoder, nn.TransformerDecoderLayer),
};
const cases = signatureCases(
  "modules",
  (name) => (name.startsWith("nn.init.") ? nn.init[name.slice(8)] : nn[name.replace(/^nn\./, "")]),
  { makers },
);

describe("the module cases cover every module class and every constructor parameter", () => {
  const declared = torch.signatures().filter((s) => /^nn\.[A-Z]/.test(s.name) && !s.name.includes(".", 3));
  // checked explicitly below: their arguments are modules (or anything, for Identity)
  const explicit = new Set([
    "nn.Sequential",
    "nn.ModuleDict",
    "nn.ModuleList",
    "nn.ParameterDict",
    "nn.Identity",
  ]);
  // parameters whose only valid value is the default (PyTorch: transposed convolutions pad with zeros only)
  const onlyDefault = new Set([
    "nn.ConvTranspose1d.paddingMode",
    "nn.ConvTranspose2d.paddingMode",
    "nn.ConvTranspose3d.paddingMode",
    // RNN and GRU keep LSTM's proj_size position, which only LSTM may set
    "nn.RNN.projSize",
    "nn.GRU.projSize",
  ]);
  for (const s of declared) {
    if (explicit.has(s.name)) continue;
    it(s.name, () => {
      const mine = cases.filter((c) => c.call === `new ${s.name}`);
      expect(mine.length, `no case constructs ${s.name}`).toBeGreaterThan(0);
      for (const [i, p] of s.positional.entries()) {
        const set = mine.some(
          (c) =>
            (c.args.length > i && c.args[i] !== p.default) ||
            (p.name in c.kwargs && c.kwargs[p.name] !== p.default),
        );
        // legacy (size_average, reduce, min_value, ...) and unsupported parameters accept only their default
        if (!set && !/^None \(|^False \(/.test(p.kind.name) && !onlyDefault.has(`${s.name}.${p.name}`))
          expect.fail(`${s.name}: no case gives "${p.name}" a non-default value`);
      }
    });
  }
});

const x = () => torch.randn([2, 3]);
describe("errors name the constructor, the parameter, what was expected and what was given", () => {
  it("a missing required argument", () => {
    expect(thrown(() => new nn.Linear(784))).toBe(
      'Linear(): missing required argument "outFeatures" (int); signature: Linear(inFeatures, outFeatures, bias=True, device=None, dtype=None)',
    );
  });
  it("an unknown option, with the nearest name", () => {
    expect(thrown(() => new nn.Linear(784, 128, { bais: false }))).toBe(
      'Linear(): unknown option "bais"; did you mean "bias"? (options: inFeatures, outFeatures, bias, device, dtype)',
    );
    expect(thrown(() => new nn.Conv2d(1, 2, 3, { kernel_size: 3 }))).toMatch(
      /unknown option "kernel_size"; did you mean "kernelSize"\?/,
    );
    expect(thrown(() => new nn.Embedding(4, 2, { weight: torch.randn([4, 2]) }))).toMatch(
      /Embedding\(\): unknown option "weight"; did you mean "_weight"\?/,
    );
  });
  it("too many positional arguments", () => {
    expect(thrown(() => new nn.ReLU(true, 1))).toBe(
      "ReLU(): takes 1 positional argument (inplace) but 2 were given; keyword arguments go in a final options object",
    );
    expect(thrown(() => new nn.Sigmoid(1))).toMatch(
      /^Sigmoid\(\): takes 0 positional arguments but 1 was given/,
    );
  });
  it("a value of the wrong kind", () => {
    expect(thrown(() => new nn.Conv2d(1, 2, [3, 3, 3]))).toBe(
      'Conv2d(): argument "kernelSize" must be int or int[2], got list [3, 3, 3]',
    );
    expect(thrown(() => new nn.Linear(3, 4, "no"))).toBe(
      'Linear(): argument "bias" must be bool, got str "no"',
    );
    expect(thrown(() => new nn.Dropout("0.5"))).toBe('Dropout(): argument "p" must be float, got str "0.5"');
    expect(thrown(() => new nn.GELU("fast"))).toBe(
      'GELU(): argument "approximate" must be "none" | "tanh", got str "fast"',
    );
    expect(thrown(() => new nn.Conv2d(1, 2, 3, { paddingMode: "mirror" }))).toMatch(
      /argument "paddingMode" must be "zeros" \| "reflect" \| "replicate" \| "circular", got str "mirror"/,
    );
  });
  it("the legacy size_average / reduce accept only null, pointing at reduction", () => {
    expect(thrown(() => new nn.MSELoss(true))).toBe(
      'MSELoss(): argument "sizeAverage" must be None (deprecated in PyTorch: use reduction ("mean", "sum" or "none")), got bool true',
    );
    expect(thrown(() => new nn.CrossEntropyLoss({ reduce: false }))).toMatch(
      /argument "reduce" must be None \(deprecated in PyTorch: use reduction/,
    );
    expect(new nn.NLLLoss(null, null, -100, null, "sum").reduction).toBe("sum");
  });
  it("unsupported parameters say why", () => {
    expect(thrown(() => new nn.Embedding(4, 2, { sparse: true }))).toMatch(
      /Embedding\(\): argument "sparse" must be False \(Cinder has no sparse gradients\), got bool true/,
    );
    expect(thrown(() => new nn.Hardtanh({ minValue: -2 }))).toMatch(/deprecated in PyTorch: use minVal/);
  });
  it("PyTorch's value checks", () => {
    expect(thrown(() => new nn.Dropout(1.5), RangeError)).toMatch(/between 0 and 1, but got 1.5/);
    expect(thrown(() => new nn.Conv2d(3, 4, 3, 1, 0, 1, 2), RangeError)).toMatch(/divisible by groups/);
    expect(thrown(() => new nn.ConvTranspose2d(2, 2, 3, { paddingMode: "reflect" }), Error)).toMatch(
      /Only "zeros" padding mode is supported for ConvTranspose2d/,
    );
  });
});

describe("calls that were silently wrong before", () => {
  it("new nn.Conv2d(1, 1, 3, 2) has stride 2", () => {
    const conv = new nn.Conv2d(1, 1, 3, 2);
    expect(conv.stride).toEqual([2, 2]);
    expect(conv(torch.randn([1, 1, 7, 7])).shape).toEqual([1, 1, 3, 3]);
  });
  it("new nn.BatchNorm1d(4, 1e-3) and new nn.LayerNorm(4, 1e-3) have eps 1e-3", () => {
    expect(new nn.BatchNorm1d(4, 1e-3).eps).toBe(1e-3);
    expect(new nn.LayerNorm(4, 1e-3).eps).toBe(1e-3);
    expect(new nn.GroupNorm(2, 4, 1e-3).eps).toBe(1e-3);
  });
  it("new nn.Conv2d(1, 32, { kernelSize: 3 }) works", () => {
    expect(String(new nn.Conv2d(1, 32, { kernelSize: 3 }))).toBe(
      "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))",
    );
    expect(String(new nn.Conv2d({ inChannels: 1, outChannels: 2, kernelSize: [3, 1] }))).toBe(
      "Conv2d(1, 2, kernel_size=(3, 1), stride=(1, 1))",
    );
  });
  it("Softmin and LogSigmoid exist", () => {
    const t = torch.tensor([[1, 2, 3]], { dtype: "float32" });
    expect(new nn.Softmin(1)(t).allclose(t.neg().softmax(1))).toBe(true);
    expect(new nn.LogSigmoid()(t).allclose(t.sigmoid().log())).toBe(true);
  });
  it("Bilinear(in1, in2, out) computes F.bilinear with its weight and bias", () => {
    const b = new nn.Bilinear(3, 2, 4);
    const x1 = torch.randn([5, 3]);
    const x2 = torch.randn([5, 2]);
    expect(b(x1, x2).allclose(nn.F.bilinear(x1, x2, b.weight, b.bias), { atol: 1e-5 })).toBe(true);
  });
  it("TripletMarginWithDistanceLoss takes a distance function (keyword-only, as PyTorch)", () => {
    const l1 = (a, b) => a.sub(b).abs().sum(-1);
    const loss = new nn.TripletMarginWithDistanceLoss({ distanceFunction: l1, margin: 0.5 });
    expect(String(loss)).toBe("TripletMarginWithDistanceLoss()");
    const [a, p, n] = [torch.randn([4, 3]), torch.randn([4, 3]), torch.randn([4, 3])];
    const want = l1(a, p).sub(l1(a, n)).add(0.5).clamp({ min: 0 }).mean();
    expect(loss(a, p, n).allclose(want)).toBe(true);
    expect(thrown(() => new nn.TripletMarginWithDistanceLoss(l1))).toMatch(/takes 0 positional arguments/);
  });
  it("device and dtype reach the parameters", () => {
    const l = new nn.Linear(2, 3, true, "cpu", "float64");
    expect([l.weight.dtype, l.bias.dtype, l.weight.device]).toEqual(["float64", "float64", "cpu"]);
    expect(new nn.Conv2d(1, 2, 3, { dtype: "float64" }).weight.dtype).toBe("float64");
    expect(new nn.BatchNorm1d(3, { dtype: "float64" }).runningMean.dtype).toBe("float64");
    expect(new nn.Embedding(3, 2, { dtype: "float64" }).weight.dtype).toBe("float64");
  });
});

describe("containers", () => {
  it("Sequential(*modules), or one Map / object of named modules", () => {
    const a = new nn.Linear(2, 3);
    const r = new nn.ReLU();
    expect(String(new nn.Sequential(a, r))).toBe(
      "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)",
    );
    expect(String(new nn.Sequential({ fc: a, act: r }))).toBe(
      "Sequential(\n  (fc): Linear(in_features=2, out_features=3, bias=True)\n  (act): ReLU()\n)",
    );
    expect([...new nn.Sequential(new Map([["x", r]])).namedChildren()].map(([k]) => k)).toEqual(["x"]);
    expect(String(new nn.Sequential())).toBe("Sequential()");
    expect(thrown(() => new nn.Sequential(a, 3))).toMatch(
      /Sequential\(\): argument "args" must be Modules, or one Map \/ object of Modules by name, got list/,
    );
  });
  it("ModuleList(modules=None), ModuleDict(modules=None)", () => {
    const a = new nn.Linear(2, 3);
    expect(new nn.ModuleList([a, new nn.ReLU()]).length).toBe(2);
    expect(new nn.ModuleList({ modules: [a] }).length).toBe(1);
    expect(thrown(() => new nn.ModuleList([a, 1]))).toMatch(
      /ModuleList\(\): argument "modules" must be Module\[\]/,
    );
    expect(new nn.ModuleDict({ fc: a }).keys()).toEqual(["fc"]);
    expect(new nn.ModuleDict([["b", a]]).keys()).toEqual(["b"]);
    expect(new nn.ModuleDict(null).keys()).toEqual([]);
    expect(thrown(() => new nn.ModuleDict({ fc: 1 }))).toMatch(
      /ModuleDict\(\): argument "modules" must be Map or object/,
    );
    expect(thrown(() => new nn.ModuleDict({}, 1))).toMatch(/takes 1 positional argument/);
  });
  it("ParameterList(values=None), ParameterDict(parameters=None): state dict keys and printouts as PyTorch", () => {
    const x = torch.zeros([2, 3]);
    const x4 = torch.zeros([2, 4]);
    const d = new nn.ParameterDict({ b: x, 10: x4, a: x.to("float64") });
    // a plain object is PyTorch's dict: ParameterDict sorts its items; a Map keeps its order
    expect(String(d)).toBe(
      "ParameterDict(\n    (10): Parameter containing: [torch.FloatTensor of size 2x4]\n    (a): Parameter containing: [torch.DoubleTensor of size 2x3]\n    (b): Parameter containing: [torch.FloatTensor of size 2x3]\n)",
    );
    expect([
      ...new nn.ParameterDict(
        new Map([
          ["b", x],
          ["10", x4],
        ]),
      )
        .stateDict()
        .keys(),
    ]).toEqual(["b", "10"]);
    expect(
      String(
        new nn.ParameterDict([
          ["w", x],
          ["bias", x4.at(0)],
        ]),
      ),
    ).toBe(
      "ParameterDict(\n    (w): Parameter containing: [torch.FloatTensor of size 2x3]\n    (bias): Parameter containing: [torch.FloatTensor of size 4]\n)",
    );
    const m = new nn.Module();
    m.p = new nn.ParameterList([x, x4]);
    m.d = new nn.ParameterDict({ k: x });
    expect(String(m)).toBe(
      "Module(\n  (p): ParameterList(\n      (0): Parameter containing: [torch.float32 of size 2x3]\n      (1): Parameter containing: [torch.float32 of size 2x4]\n  )\n  (d): ParameterDict(  (k): Parameter containing: [torch.FloatTensor of size 2x3])\n)",
    );
    expect([...m.stateDict().keys()]).toEqual(["p.0", "p.1", "d.k"]);
    expect(m.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad)).toBe(true);
    expect(m.p.length).toBe(2);
    expect(m.p.at(-1).shape).toEqual([2, 4]);
    expect(m.d.get("k").shape).toEqual([2, 3]);
    m.to("float64");
    expect(m.d.get("k").dtype).toBe("float64");
    expect(thrown(() => new nn.ParameterDict({ k: 1 }))).toMatch(
      /ParameterDict\(\): argument "parameters" must be Map or object of Tensors/,
    );
    expect(thrown(() => new nn.ParameterList([x, 1]))).toMatch(
      /ParameterList\(\): argument "values" must be Tensor\[\]/,
    );
  });
  it("Identity(*args, **kwargs) accepts and ignores anything", () => {
    expect(String(new nn.Identity(54, { unused: "argument" }))).toBe("Identity()");
  });
});

class Net extends nn.Module {
  constructor() {
    super();
    this.fc1 = new nn.Linear(3, 4);
    this.bn = new nn.BatchNorm1d(4);
    this.fc2 = new nn.Linear(4, 2);
  }
  forward(input) {
    return this.fc2(this.bn(this.fc1(input)).relu());
  }
}

describe("Module methods take PyTorch's arguments", () => {
  it("train(mode=True), eval()", () => {
    const m = new Net();
    expect(m.train(false).training).toBe(false);
    expect(m.train().bn.training).toBe(true);
    expect(m.train({ mode: false }).fc1.training).toBe(false);
    expect(thrown(() => m.train("no"))).toBe('train(): argument "mode" must be bool, got str "no"');
    expect(thrown(() => m.eval(true))).toMatch(/^eval\(\): takes 0 positional arguments but 1 was given/);
  });
  it("zeroGrad(set_to_none=True)", () => {
    const m = new Net();
    m(x()).sum().backward();
    m.zeroGrad(false);
    expect(m.fc1.weight.grad.abs().sum().item()).toBe(0);
    m.zeroGrad({ setToNone: true });
    expect(m.fc1.weight.grad).toBeNull();
    expect(thrown(() => m.zeroGrad({ set_to_none: true }))).toMatch(/did you mean "setToNone"/);
  });
  it("parameters(recurse=True), namedParameters(prefix='', recurse=True), buffers", () => {
    const m = new Net();
    expect(m.parameters().length).toBe(6);
    expect(m.parameters(false).length).toBe(0);
    expect(m.fc1.parameters({ recurse: false }).length).toBe(2);
    expect([...m.namedParameters("net")].map(([k]) => k)[0]).toBe("net.fc1.weight");
    expect([...m.namedParameters({ recurse: false })]).toEqual([]);
    expect([...m.namedBuffers("m", false)]).toEqual([]);
    expect(m.buffers().length).toBe(3);
    expect(thrown(() => m.parameters(1))).toBe('parameters(): argument "recurse" must be bool, got int 1');
  });
  it("children(), namedChildren(), modules(), namedModules(memo=None, prefix='', remove_duplicate=True)", () => {
    const shared = new nn.Linear(2, 2);
    const s = new nn.Sequential(shared, shared);
    // as PyTorch's: a module held twice is one child, one module (the printout shows both places)
    expect([...s.children()].length).toBe(1);
    expect([...s.namedChildren()].map(([k]) => k)).toEqual(["0"]);
    expect(String(s)).toMatch(/\(0\): Linear.*\n {2}\(1\): Linear/);
    expect([...s.modules()].length).toBe(2);
    expect([...s.namedModules({ removeDuplicate: false })].map(([k]) => k)).toEqual(["", "0", "1"]);
    expect([...s.namedModules(null, "seq")].map(([k]) => k)).toEqual(["seq", "seq.0"]);
    expect(thrown(() => s.modules(1))).toMatch(/^modules\(\): takes 0 positional arguments/);
  });
  it("stateDict(*, destination=None, prefix='', keep_vars=False)", () => {
    const m = new Net();
    expect([...m.stateDict({ prefix: "net." }).keys()][0]).toBe("net.fc1.weight");
    expect([...m.stateDict({ prefix: "net" }).keys()][0]).toBe("netfc1.weight"); // put in front as given, as PyTorch
    expect(m.stateDict({ keepVars: true }).get("fc1.weight")).toBe(m.fc1.weight);
    expect(m.stateDict().get("fc1.weight").requiresGrad).toBe(false);
    const dest = new Map();
    expect(m.stateDict({ destination: dest })).toBe(dest);
    expect(dest.size).toBe(9);
    expect(thrown(() => m.stateDict(dest))).toMatch(
      /stateDict\(\): argument "args" must be nothing \(PyTorch deprecates positional arguments here/,
    );
  });
  it("loadStateDict(state_dict, strict=True) takes a Map or a plain object", () => {
    const a = new Net();
    const b = new Net();
    b.loadStateDict(a.stateDict());
    expect(b.fc2.bias.toArray()).toEqual(a.fc2.bias.toArray());
    const l = new nn.Linear(2, 1);
    expect(l.loadStateDict({ weight: torch.ones([1, 2]) }, false)).toEqual({
      missingKeys: ["bias"],
      unexpectedKeys: [],
    });
    expect(l.loadStateDict({ weight: torch.ones([1, 2]) }, { strict: false }).missingKeys).toEqual(["bias"]);
    expect(thrown(() => l.loadStateDict([1, 2]))).toBe(
      'loadStateDict(): argument "stateDict" must be Map or dict, got list [1, 2]',
    );
    expect(
      thrown(() => l.loadStateDict({ weight: torch.ones([1, 2]) }, { strict: false, strcit: 1 })),
    ).toMatch(/unknown option "strcit"; did you mean "strict"/);
  });
  it("registerBuffer(name, tensor, persistent=True), registerParameter(name, param), addModule(name, module)", () => {
    const m = new nn.Module();
    m.registerBuffer("mean", torch.zeros([2]));
    m.registerBuffer("cache", torch.ones([1]), false);
    m.registerParameter("w", new nn.Parameter(torch.ones([2])));
    m.addModule("fc", new nn.Linear(2, 2));
    expect([...m.stateDict().keys()]).toEqual(["w", "mean", "fc.weight", "fc.bias"]);
    expect(m.buffers().length).toBe(2);
    expect(String(m)).toBe("Module(\n  (fc): Linear(in_features=2, out_features=2, bias=True)\n)");
    expect(thrown(() => m.registerParameter("v", torch.ones([2])))).toMatch(
      /^registerParameter\(\): argument "param" must be Parameter( or null|\?), got Tensor of shape \[2\] and dtype float32$/,
    );
    expect(thrown(() => m.registerBuffer("a.b", torch.ones([1])), Error)).toMatch(/can't contain "."/);
    expect(thrown(() => m.addModule("train", new nn.ReLU()), Error)).toBe("attribute 'train' already exists");
    const s = new nn.Sequential(new nn.ReLU());
    s.addModule("last", new nn.Tanh());
    expect([...s.namedChildren()].map(([k]) => k)).toEqual(["0", "last"]);
  });
  it("getSubmodule(target), getParameter(target)", () => {
    const m = new nn.Sequential({ block: new Net() });
    expect(m.getSubmodule("block.fc2")).toBe(m.block.fc2);
    expect(m.getParameter("block.bn.weight")).toBe(m.block.bn.weight);
    expect(thrown(() => m.getSubmodule("block.nope"), Error)).toBe("Net has no attribute `nope`");
    expect(thrown(() => m.getParameter("block.bn.running_mean"), Error)).toBe(
      "`running_mean` is not an nn.Parameter",
    );
  });
  it("apply(fn), requiresGrad_(requires_grad=True), registerForwardHook(hook)", () => {
    const m = new Net();
    const names = [];
    m.apply((s) => names.push(s.constructor.name));
    expect(names).toEqual(["Linear", "BatchNorm1d", "Linear", "Net"]);
    m.requiresGrad_(false);
    expect(m.parameters().every((p) => !p.requiresGrad)).toBe(true);
    m.requiresGrad_({ requiresGrad: true });
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(thrown(() => m.apply(3))).toBe('apply(): argument "fn" must be callable, got int 3');
    expect(thrown(() => m.registerForwardHook())).toMatch(/missing required argument "hook"/);
  });
  it("to(device), to(dtype), to(device, dtype), to(tensor), to({ device, dtype })", () => {
    const l = new nn.Linear(2, 2);
    expect(l.to("float64").weight.dtype).toBe("float64");
    expect(l.to("cpu", "float32").weight.dtype).toBe("float32");
    expect(l.to(torch.zeros([1], { dtype: "float64" })).weight.dtype).toBe("float64");
    expect(l.to({ dtype: "float32" }).weight.dtype).toBe("float32");
    expect(l.to({ device: "cpu", dtype: "float64", nonBlocking: true }).weight.dtype).toBe("float64");
    expect(thrown(() => l.to({ dtpye: "float64" }))).toMatch(/^to\(\): unknown option "dtpye"/);
    expect(thrown(() => l.to(1))).toMatch(/^to\(\): argument "args" must be device, dtype, Tensor/);
  });
  it("Parameter(data=None, requires_grad=True)", () => {
    expect(new nn.Parameter().shape).toEqual([0]);
    expect(new nn.Parameter(torch.ones([2]), false).requiresGrad).toBe(false);
    expect(new nn.Parameter({ data: torch.ones([2]) }).requiresGrad).toBe(true);
    expect(thrown(() => new nn.Parameter([1, 2]))).toMatch(
      /^Parameter\(\): argument "data" must be Tensor( or null|\?), got list \[1, 2\]$/,
    );
  });
});

describe("nn.init takes PyTorch's positional arguments", () => {
  const maxAbs = (t) => t.abs().max().item();
  it("kaimingUniform_(tensor, a, mode, nonlinearity) honours each (they were options only)", () => {
    const w = torch.empty([64, 16]); // fan_in 16, fan_out 64
    nn.init.kaimingUniform_(w, 0, "fan_out", "relu");
    const bound = Math.sqrt(2) * Math.sqrt(3 / 64);
    expect(maxAbs(w)).toBeLessThanOrEqual(bound);
    expect(maxAbs(w)).toBeGreaterThan(0.9 * bound);
    nn.init.kaimingUniform_(w, { mode: "fanIn", nonlinearity: "leakyRelu", a: Math.sqrt(5) });
    expect(maxAbs(w)).toBeLessThanOrEqual(1 / Math.sqrt(16));
    expect(maxAbs(w)).toBeGreaterThan(0.9 / Math.sqrt(16));
  });
  it("xavierUniform_(tensor, gain), uniform_(tensor, a, b), constant_(tensor, val)", () => {
    const w = torch.empty([30, 20]);
    nn.init.xavierUniform_(w, 2);
    expect(maxAbs(w)).toBeLessThanOrEqual(2 * Math.sqrt(6 / 50));
    expect(maxAbs(w)).toBeGreaterThan(1.8 * Math.sqrt(6 / 50));
    nn.init.uniform_(w, 5, 6);
    expect(w.min().item()).toBeGreaterThanOrEqual(5);
    expect(nn.init.constant_(w, 0.5).max().item()).toBe(0.5);
  });
  it("misuse names the function, the parameter, what was expected and what was given", () => {
    const w = torch.empty([2, 2]);
    expect(thrown(() => nn.init.kaimingNormal_(w, { mode: "fan_avg" }))).toBe(
      'kaimingNormal_(): argument "mode" must be "fan_in" | "fan_out" | "fanIn" | "fanOut", got str "fan_avg"',
    );
    expect(thrown(() => nn.init.constant_(w))).toMatch(
      /^constant_\(\): missing required argument "val" \(float\)/,
    );
    expect(thrown(() => nn.init.normal_(w, 0, 1, 2))).toMatch(/^normal_\(\): takes 3 positional arguments/);
    expect(thrown(() => nn.init.xavierNormal_(w, { gian: 2 }))).toMatch(
      /unknown option "gian"; did you mean "gain"\?/,
    );
  });
});
