/**
 * nn.DataParallel on two cores: chunk 1 runs in a worker thread that replays the traced forward. Outputs and
 * parameter gradients equal the module's own (MNIST MLP and CNN) and the sequential fallback's (BatchNorm: per-chunk
 * batch statistics, running statistics from chunk 0 only, as PyTorch's replica 0); 20 SGD steps reach the same
 * parameters; a worker's error names its device; what cannot be traced falls back, reported.
 */
import "@cinder/autograd";
import { grad } from "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { DataParallel } from "../src/index";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

const open: DataParallel[] = [];
afterAll(() => {
  for (const dp of open) dp.close();
});

/** A DataParallel over cores 0 and 1, closed after the tests. */
function dp2<M extends nn.Module>(m: M): DataParallel<M> {
  const dp = new DataParallel(m, { deviceIds: [0, 1] }) as DataParallel<M>;
  open.push(dp);
  return dp;
}

const mlp = () =>
  new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 10));
const cnn = () =>
  new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(16 * 7 * 7, 32),
    new nn.ReLU(),
    new nn.Linear(32, 10),
  );
const withBatchNorm = () =>
  new nn.Sequential(
    new nn.Conv2d(1, 4, 3),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(4 * 26 * 26, 10),
  );

const loss = new nn.CrossEntropyLoss();
const close = (a: torch.Tensor | null, b: torch.Tensor | null, atol = 1e-5) =>
  a !== null && b !== null && torch.allclose(a, b, { atol, rtol: 1e-4 });

/** SGD with momentum 0.9 by hand (this package does not depend on @cinder/optim): zeroGrad and step. */
function sgd(params: torch.Tensor[], lr: number) {
  const bufs = params.map(() => null as torch.Tensor | null);
  return {
    zeroGrad: () => {
      for (const p of params) p.grad = null;
    },
    step: () =>
      torch.noGrad(() => {
        for (const [i, p] of params.entries()) {
          if (p.grad === null) continue;
          const b = bufs[i] === null ? p.grad.clone() : (bufs[i] as torch.Tensor).mul(0.9).add(p.grad);
          bufs[i] = b;
          p.sub_(b.mul(lr));
        }
      }),
  };
}

/** Loss and gradients of `f` on a batch (gradients of `params`, then zeroed). */
function step(f: (x: torch.Tensor) => unknown, params: torch.Tensor[], x: torch.Tensor, y: torch.Tensor) {
  for (const p of params) p.grad = null;
  const out = f(x) as torch.Tensor;
  loss(out, y).backward();
  return { out: out.detach(), grads: params.map((p) => p.grad) };
}

describe("DataParallel on worker threads", () => {
  for (const [name, make] of [
    ["MNIST MLP", mlp],
    ["MNIST CNN", cnn],
  ] as const) {
    it(`${name}: outputs and parameter gradients equal the module's; 20 SGD steps reach its parameters`, () => {
      torch.manualSeed(1);
      const net = make();
      const twin = make();
      twin.loadStateDict(net.stateDict());
      const dp = dp2(net);
      const x = torch.randn([33, 1, 28, 28]); // 17 + 16 rows: the worker's chunk has a shape of its own
      const y = torch.randint(0, 10, [33]);
      const got = step(dp, net.parameters(), x, y);
      const want = step(twin, twin.parameters(), x, y);
      expect(dp.parallel).toBe(true);
      expect(dp.stats).toEqual({ parallel: 1, sequential: 0 });
      expect(close(got.out, want.out)).toBe(true);
      for (const [i, g] of got.grads.entries()) expect(close(g, want.grads[i])).toBe(true);

      const opt = sgd(net.parameters(), 0.05);
      const optTwin = sgd(twin.parameters(), 0.05);
      for (let s = 0; s < 20; s++) {
        const xb = torch.randn([16, 1, 28, 28]);
        const yb = torch.randint(0, 10, [16]);
        for (const [o, f] of [
          [opt, dp],
          [optTwin, twin],
        ] as const) {
          o.zeroGrad();
          loss(f(xb) as torch.Tensor, yb).backward();
          o.step();
        }
      }
      expect(dp.stats.parallel).toBe(21);
      for (const [i, p] of net.parameters().entries())
        expect(close(p, twin.parameters()[i], 1e-4)).toBe(true);
    });
  }

  it("BatchNorm: per-chunk statistics as the sequential fallback; running stats from chunk 0 only (PyTorch's replica 0)", () => {
    torch.manualSeed(2);
    const net = withBatchNorm();
    const twin = withBatchNorm();
    twin.loadStateDict(net.stateDict());
    const dp = dp2(net);
    const seq = new DataParallel(twin, { deviceIds: [0, 1] });
    seq.fallbackReason = "forced by the test";
    const x = torch.randn([12, 1, 28, 28]);
    const y = torch.randint(0, 10, [12]);
    for (const m of [net, twin]) m.eval();
    const evalOut = step(dp, net.parameters(), x, y);
    const evalWant = step(twin, twin.parameters(), x, y);
    expect(close(evalOut.out, evalWant.out)).toBe(true);
    for (const [i, g] of evalOut.grads.entries()) expect(close(g, evalWant.grads[i])).toBe(true);

    for (const m of [net, twin]) m.train();
    const ref = withBatchNorm();
    ref.loadStateDict(net.stateDict());
    const got = step(dp, net.parameters(), x, y);
    const want = step(seq, twin.parameters(), x, y);
    expect(dp.stats).toEqual({ parallel: 2, sequential: 0 });
    expect(seq.stats).toEqual({ parallel: 0, sequential: 1 });
    expect(close(got.out, want.out)).toBe(true);
    for (const [i, g] of got.grads.entries()) expect(close(g, want.grads[i])).toBe(true);
    // the module's buffers saw chunk 0 only (the fallback's saw both chunks, one after the other)
    ref(x.narrow(0, 0, 6));
    const bn = (m: nn.Module) => (m as nn.Sequential).get(1) as nn.BatchNorm2d;
    expect(torch.equal(bn(net).runningMean as torch.Tensor, bn(ref).runningMean as torch.Tensor)).toBe(true);
    expect(torch.equal(bn(net).runningVar as torch.Tensor, bn(ref).runningVar as torch.Tensor)).toBe(true);
    expect(Number(bn(net).numBatchesTracked?.item())).toBe(1);
    expect(Number(bn(twin).numBatchesTracked?.item())).toBe(2);
  });

  it("dropout replicates (the worker draws from its own generator); chunk 0 draws as the module would", () => {
    const net = new nn.Sequential(new nn.Linear(4, 4), new nn.Dropout(0.5));
    const dp = dp2(net);
    const x = torch.randn([8, 4]);
    torch.manualSeed(4);
    const out = dp(x) as torch.Tensor;
    torch.manualSeed(4);
    const first = net(x.narrow(0, 0, 4));
    expect(dp.parallel).toBe(true);
    expect(torch.equal(out.narrow(0, 0, 4), first)).toBe(true);
  });

  it("autograd.grad through the workers' outputs gives the module's gradients (the node waits for them)", () => {
    torch.manualSeed(3);
    const net = mlp();
    const dp = dp2(net);
    const x = torch.randn([8, 784]);
    const want = grad(net(x).square().sum(), net.parameters());
    const got = grad((dp(x) as torch.Tensor).square().sum(), net.parameters());
    for (const [i, g] of got.entries()) expect(close(g, want[i], 1e-4)).toBe(true);
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    const out = (dp(x) as torch.Tensor).sum();
    out.backward({ retainGraph: true });
    expect(() => out.backward()).toThrow(
      /replica on device 1 failed \(backward\): .*a second backward through a DataParallel output \(retainGraph\) is not supported/,
    );
    const evalOut = torch.noGrad(() => dp(x) as torch.Tensor);
    expect(evalOut.requiresGrad).toBe(false);
    expect(close(evalOut, net(x).detach())).toBe(true);
  });

  it("an input that requires grad gets the module's gradient (the worker's chunk part included)", () => {
    torch.manualSeed(5);
    const net = mlp();
    const dp = dp2(net);
    const x = torch.randn([6, 784], { requiresGrad: true });
    (dp(x) as torch.Tensor).square().sum().backward();
    const got = x.grad?.clone() ?? null;
    const wantGrads = net.parameters().map((p) => p.grad?.clone() ?? null);
    x.grad = null;
    for (const p of net.parameters()) p.grad = null;
    net(x).square().sum().backward();
    expect(dp.parallel).toBe(true);
    expect(close(got, x.grad, 1e-4)).toBe(true);
    for (const [i, p] of net.parameters().entries()) expect(close(wantGrads[i], p.grad, 1e-4)).toBe(true);
  });

  it("tensors made inside forward and plain tensor attributes (constants of the trace) replicate", () => {
    class Scaled extends nn.Module {
      fc = new nn.Linear(3, 3);
      // a tensor that is neither parameter nor buffer: the trace keeps its values
      factor = torch.tensor([1, 2, 3]);
      override forward(x: torch.Tensor): [torch.Tensor, torch.Tensor] {
        const y = this.fc(x)
          .mul(this.factor)
          .add(torch.ones([x.shape[0], 3]));
        return [y, y.argmax(1)];
      }
    }
    const net = new Scaled();
    const dp = dp2(net);
    const x = torch.randn([6, 3]);
    const [y, i] = dp(x) as [torch.Tensor, torch.Tensor];
    const [wantY, wantI] = net(x);
    expect(dp.parallel).toBe(true);
    expect(close(y, wantY)).toBe(true);
    expect(torch.equal(i, wantI)).toBe(true);
  });

  it("splits along dim 1 and gathers along it", () => {
    class Scale extends nn.Module {
      w = new nn.Parameter(torch.tensor([1.5]));
      override forward(x: torch.Tensor): torch.Tensor {
        return x.mul(this.w).tanh();
      }
    }
    const net = new Scale();
    const dp = new DataParallel(net, [0, 1], 0, 1);
    open.push(dp);
    const x = torch.randn([3, 8]);
    const y = dp(x) as torch.Tensor;
    y.sum().backward();
    const got = net.w.grad?.clone() ?? null;
    net.w.grad = null;
    net(x).sum().backward();
    expect(dp.stats.parallel).toBe(1);
    expect(close(y, net(x).detach())).toBe(true);
    expect(close(got, net.w.grad)).toBe(true);
  });

  it("a module whose parameters change shape is traced again", () => {
    const net = new nn.Sequential(new nn.Linear(3, 4));
    const dp = dp2(net);
    const x = torch.randn([4, 3]);
    expect(close(dp(x) as torch.Tensor, net(x))).toBe(true);
    net.append(new nn.Linear(4, 2));
    expect(close(dp(x) as torch.Tensor, net(x))).toBe(true);
    expect(dp.stats).toEqual({ parallel: 2, sequential: 0 });
  });

  it("a worker's error fails forward naming its device; the next forward works", () => {
    const emb = new nn.Embedding(5, 3);
    const dp = dp2(emb);
    const ok = torch.tensor([0, 1, 2, 3], { dtype: "int32" });
    expect(close(dp(ok) as torch.Tensor, emb(ok))).toBe(true);
    const bad = torch.tensor([0, 1, 2, 9], { dtype: "int32" }); // index 9 in the worker's chunk
    expect(() => dp(bad)).toThrow(/DataParallel: the replica on device 1 failed \(forward\): .*9/);
    expect(close(dp(ok) as torch.Tensor, emb(ok))).toBe(true);
  });

  it("a worker that does not answer in time fails forward naming its device; the next forward starts new workers", () => {
    const net = new nn.Linear(2, 2);
    const dp = dp2(net);
    const x = torch.randn([4, 2]);
    dp.timeoutMs = 1; // a worker cannot start within 1 ms
    expect(() => dp(x)).toThrow(/the replica on device 1 did not answer \(forward\) within 1 ms/);
    dp.timeoutMs = 60_000;
    expect(close(dp(x) as torch.Tensor, net(x))).toBe(true);
  });

  it("a forward that reads values falls back to sequential chunks, reported", () => {
    class Branchy extends nn.Module {
      fc = new nn.Linear(4, 2);
      override forward(x: torch.Tensor): torch.Tensor {
        const y = this.fc(x);
        return (y.sum().item() as number) > 0 ? y : y.neg();
      }
    }
    const net = new Branchy();
    const dp = dp2(net);
    const x = torch.randn([6, 4]);
    const want = torch.cat([net(x.narrow(0, 0, 3)), net(x.narrow(0, 3, 3))]);
    expect(close(dp(x) as torch.Tensor, want)).toBe(true);
    expect(dp.parallel).toBe(false);
    expect(dp.fallbackReason).toMatch(/reads tensor values \(item\(\), tolist\(\), data\(\)\)/);
    expect(dp.stats).toEqual({ parallel: 0, sequential: 1 });
  });
});
