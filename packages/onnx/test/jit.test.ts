import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gradcheck } from "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import {
  ArgumentError,
  manualSeed,
  noGrad,
  randn,
  registerBackend,
  registeredDevices,
  type Tensor,
} from "@cinder/tensor";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import * as onnx from "../src";
import { SimpleNet } from "./models";
import { checker, checkerAvailable, expectClose, fnModule, runOrt } from "./ort";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);
const { jit } = onnx;
const scratch = mkdtempSync(join(tmpdir(), "cinder-jit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

/** The TracerWarnings emitted while `fn` runs. */
function tracerWarnings(fn: () => unknown): string[] {
  const seen: string[] = [];
  vi.spyOn(process, "emitWarning").mockImplementation((w: string | Error) => {
    if (w instanceof onnx.TracerWarning) seen.push(w.message);
  });
  fn();
  return seen;
}

describe("jit.trace", () => {
  it("records the MNIST MLP: same outputs at any batch size, the model's own parameters, readable graph and code", async () => {
    manualSeed(0);
    const model = new SimpleNet();
    const traced = jit.trace(model, randn([1, 784]));
    expect(traced).toBeInstanceOf(nn.Module);
    expect(traced).toBeInstanceOf(jit.TracedModule);
    for (const n of [1, 4]) {
      const x = randn([n, 784]);
      await expectClose(traced(x) as Tensor, model(x) as Tensor, [n, 10], 1e-6);
    }
    const own = model.parameters();
    expect(traced.parameters().every((p) => own.includes(p))).toBe(true);
    expect(traced.parameters()).toHaveLength(4);
    expect(traced.graph).toMatch(/^graph\(%input : Float\(1, 784\),\n {6}%fc1\.weight : Float\(128, 784\)/);
    expect(traced.graph).toContain("%2 : Float(1, 128) = aten::linear(%1, %fc1.weight, %fc1.bias)");
    expect(traced.graph).toContain("%3 : Float(1, 128) = aten::relu(%2, False)");
    expect(traced.graph).toMatch(/aten::log_softmax\(%4, 1, 3, None\)\n {2}return \(%5\)\n$/);
    expect(traced.code).toContain("def forward(self,\n    input: Tensor) -> Tensor:");
    expect(traced.code).toContain("_2 = torch.nn.functional.linear(_1, self.fc1.weight, self.fc1.bias)");
  });

  it("traces a function of tensors, and fine-tuning the traced module trains the model's parameters", async () => {
    const f = jit.trace((x: Tensor) => x.relu().mul(2), randn([3, 2]));
    const x = randn([5, 2]);
    await expectClose(f(x) as Tensor, x.relu().mul(2), [5, 2], 1e-7);

    manualSeed(1);
    const model = fnModule((y, [l]) => l(y) as Tensor, new nn.Linear(3, 2));
    const traced = jit.trace(model, randn([4, 3]));
    const before = noGrad(() => model(x.sum(1, true).expand(-1, 3)) as Tensor);
    (traced(randn([4, 3])) as Tensor).pow(2).sum().backward();
    noGrad(() => {
      for (const p of traced.parameters()) p.sub_((p.grad as Tensor).mul(0.1)); // SGD, lr 0.1
    });
    const after = noGrad(() => model(x.sum(1, true).expand(-1, 3)) as Tensor);
    expect(Array.from(await after.dataAsync())).not.toEqual(Array.from(await before.dataAsync()));
  });

  it("gradients through a traced module are the finite differences' (gradcheck in float64)", () => {
    manualSeed(4);
    const model = new nn.Sequential(
      new nn.Conv1d(2, 3, 3, { padding: 1 }),
      new nn.GroupNorm(1, 3),
      new nn.GELU(),
      new nn.Flatten(),
      new nn.Linear(12, 2),
      new nn.LogSoftmax(1),
    ).to("float64");
    const x = randn([2, 2, 4], { dtype: "float64" });
    const traced = jit.trace(model, x);
    const f = (input: Tensor, ..._params: Tensor[]) => traced(input) as Tensor;
    expect(gradcheck(f, [x.requiresGrad_(true), ...traced.parameters()])).toBe(true);
  });

  it("save -> jit.load round-trips (outputs, graph text, parameter names), checked by ONNX Runtime and onnx.checker", async () => {
    manualSeed(2);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.AdaptiveAvgPool2d(1),
      new nn.Flatten(),
      new nn.Linear(4, 3),
    );
    noGrad(() => model(randn([4, 1, 6, 6])));
    model.eval();
    const traced = jit.trace(model, randn([2, 1, 6, 6]));
    const path = join(scratch, "traced.onnx");
    await traced.save(path);
    const other = join(scratch, "jit-save.onnx");
    await jit.save(traced, other);
    expect(readFileSync(other)).toEqual(readFileSync(path));
    const loaded = await jit.load(path);
    expect(loaded).toBeInstanceOf(jit.TracedModule);
    expect(loaded.graph).toBe(traced.graph);
    expect(loaded.code).toBe(traced.code);
    expect([...loaded.namedParameters()].map(([n]) => n)).toEqual(
      [...model.namedParameters()].map(([n]) => n),
    );
    expect([...loaded.namedBuffers()].map(([n]) => n)).toEqual(
      expect.arrayContaining(["1.running_mean", "1.running_var"]),
    );
    for (const n of [1, 3]) {
      const x = randn([n, 1, 6, 6]);
      const want = noGrad(() => model(x) as Tensor);
      await expectClose(loaded(x) as Tensor, want, [n, 3]);
      const [ort] = await runOrt(new Uint8Array(readFileSync(path)), [x]);
      await expectClose(ort, want, [n, 3]);
    }
    if (checkerAvailable) expect(checker(path)).toBe("ok");
    // the saved file holds the current values: fine-tune the loaded module, save, load again
    const bytes = readFileSync(path);
    noGrad(() => (loaded.getParameter("5.bias") as Tensor).add_(1));
    await jit.save(loaded, path);
    const again = await jit.load(new Uint8Array(readFileSync(path)));
    const x = randn([2, 1, 6, 6]);
    await expectClose(again(x) as Tensor, noGrad(() => model(x) as Tensor).add(1), [2, 3]);
    expect(readFileSync(path)).not.toEqual(bytes);
  });

  it("warns (TracerWarning) on a value read inside forward, and checkInputs shows the branch it froze", () => {
    class Branchy extends nn.Module {
      override forward(x: Tensor): Tensor {
        return (x.sum().item() as number) > 0 ? x.mul(2) : x.neg();
      }
    }
    const positive = randn([2, 3]).abs();
    const warnings = tracerWarnings(() => jit.trace(new Branchy(), positive));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /reading a tensor's values inside forward \(item\(\), tolist\(\), data\(\)\)/,
    );
    const checked = tracerWarnings(() =>
      jit.trace(new Branchy(), positive, { checkInputs: [[positive.neg()]] }),
    );
    expect(checked.some((w) => /Output nr 1\. of the traced function does not match/.test(w))).toBe(true);
    expect(tracerWarnings(() => jit.trace(new SimpleNet(), randn([1, 784])))).toEqual([]);
  });

  it("calling with another rank or dtype than traced is a clear error; other batch sizes are fine", () => {
    const traced = jit.trace(new SimpleNet(), randn([2, 784]));
    expect(() => traced(randn([784]))).toThrow(
      /TracedModule: input "input" must be float32 of shape \[\*, 784\] \(as traced or exported; \* is a dynamic axis\), got float32 of shape \[784\]/,
    );
    expect(() => traced(randn([3, 784], { dtype: "float64" }))).toThrow(/must be float32 .* got float64/);
    expect(() => traced(randn([3, 10]))).toThrow(/got float32 of shape \[3, 10\]/);
    expect((traced(randn([7, 784])) as Tensor).shape).toEqual([7, 10]);
  });

  it("an op without an ONNX mapping fails naming it; jit.script names jit.trace; arguments are parsed", () => {
    expect(() => jit.trace((x: Tensor) => x.sin(), randn([2]))).toThrow(
      /jit\.trace: the op sin has no ONNX mapping yet/,
    );
    expect(() => jit.script(new SimpleNet())).toThrow(
      /jit\.script compiles Python source .* use torch\.jit\.trace\(model, exampleInputs\)/,
    );
    const x = randn([1, 784]);
    // @ts-expect-error: not an option
    expect(() => jit.trace(new SimpleNet(), x, { checkTrac: false })).toThrow(ArgumentError);
    expect(() => jit.trace(new SimpleNet(), x, null, false, null, 1e-5, true, true)).toThrow(
      /_forceOutplace.*Cinder records in-place ops/,
    );
    // @ts-expect-error: not tensors
    expect(() => jit.trace(new SimpleNet(), [1, 2])).toThrow(/exampleInputs" must be Tensor or Tensor\[\]/);
    expect(() => jit.trace(new SimpleNet(), x, { checkTrace: false, strict: false })).not.toThrow();
  });
});
