/**
 * Forward intermediates owned by the graph (`graphOwned` around every module call, `adopt` in autograd): what a
 * module's forward makes and neither returns nor keeps is disposed by the backward pass that frees the graph, so
 * the seeds' verbatim loop (no `tidy`, no `dispose`) leaves only what the user holds (the output and the loss).
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as optim from "@cinder/optim";
import * as torch from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";

beforeAll(() => {
  if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
});

/** The intermediates `Probe` made, for the tests to look at (outside the module: not one of its fields). */
let seen: torch.Tensor[] = [];

/** A module that records two of its intermediates in `seen`. */
class Probe extends nn.Module {
  lin = new nn.Linear(4, 3);
  override forward(x: torch.Tensor): torch.Tensor {
    const h = this.lin(x).relu();
    const internal = h.mul(2);
    seen = [h, internal];
    return internal.sum({ dim: 1 });
  }
}

describe("backward() disposes the forward's intermediates that only the graph reaches", () => {
  it("disposes a module's internal tensors, keeps what it returned and the parameters", () => {
    torch.manualSeed(0);
    const m = new Probe();
    const out = m(torch.randn(2, 4));
    const [h, internal] = seen;
    expect(h.isDisposed).toBe(false);
    out.sum().backward();
    expect(h.isDisposed).toBe(true);
    expect(internal.isDisposed).toBe(true);
    expect(out.isDisposed).toBe(false);
    expect(out.tolist()).toHaveLength(2);
    for (const p of m.parameters()) {
      expect(p.isDisposed).toBe(false);
      expect(p.grad?.isDisposed).toBe(false);
    }
  });

  it("keeps them while retainGraph asks for another pass, and gives the same gradients", () => {
    torch.manualSeed(0);
    const m = new Probe();
    const x = torch.randn(2, 4);
    const out = m(x);
    out.sum().backward({ retainGraph: true });
    const first = m.lin.weight.grad!.clone();
    expect(seen[0].isDisposed).toBe(false);
    out.sum().backward();
    expect(seen[0].isDisposed).toBe(true);
    expect(torch.allclose(m.lin.weight.grad!, first.mul(2))).toBe(true);
  });

  it("keeps what a forward caches in a field (a Map, an array, a plain object) or passes to keep()", () => {
    const elsewhere: torch.Tensor[] = []; // neither a field nor returned: only keep() protects it
    class Cache extends nn.Module {
      lin = new nn.Linear(4, 4);
      byShape = new Map<string, torch.Tensor>();
      list: torch.Tensor[] = [];
      record: { last?: torch.Tensor } = {};
      override forward(x: torch.Tensor): torch.Tensor {
        const h = this.lin(x);
        const g = h.relu();
        this.byShape.set(String(x.shape), h.mul(1));
        this.list.push(g.mul(1));
        this.record.last = g.add(1);
        elsewhere.push(torch.keep(g.mul(3)));
        return g.sum();
      }
    }
    const m = new Cache();
    m(torch.randn(2, 4)).backward();
    const cached = [...m.byShape.values(), ...m.list, m.record.last!, ...elsewhere];
    for (const t of cached) expect(t.isDisposed).toBe(false);
    expect(cached.map((t) => t.shape)).toEqual([
      [2, 4],
      [2, 4],
      [2, 4],
      [2, 4],
    ]);
  });

  it("keeps a tensor stored in a field of the module, and what forward hooks saw", () => {
    torch.manualSeed(0);
    class Stash extends nn.Module {
      lin = new nn.Linear(4, 4);
      act = new nn.ReLU();
      last: torch.Tensor | null = null;
      override forward(x: torch.Tensor): torch.Tensor {
        const h = this.lin(x);
        this.last = h;
        return this.act(h).sum();
      }
    }
    const m = new Stash();
    const hooked: torch.Tensor[] = [];
    m.act.registerForwardHook((_m, inputs, out) => {
      hooked.push(inputs[0] as torch.Tensor, out as torch.Tensor);
    });
    const loss = m(torch.randn(3, 4));
    loss.backward();
    expect(m.last?.isDisposed).toBe(false);
    expect(m.last?.shape).toEqual([3, 4]);
    for (const t of hooked) expect(t.isDisposed).toBe(false);
    expect(hooked[1].sum().item() as number).toBeCloseTo(loss.item() as number, 5);
  });

  it("owns nothing without gradient recording, nor when the result is an object of another kind", () => {
    torch.manualSeed(0);
    const m = new Probe();
    torch.noGrad(() => m(torch.randn(2, 4)));
    expect(seen.every((t) => !t.isDisposed)).toBe(true);

    class Boxed {
      constructor(readonly value: torch.Tensor) {}
    }
    class Wraps extends nn.Module {
      lin = new nn.Linear(4, 2);
      override forward(x: torch.Tensor): Boxed {
        const h = this.lin(x);
        return new Boxed(h.relu());
      }
    }
    const w = new Wraps();
    const boxed = w(torch.randn(2, 4)) as Boxed;
    boxed.value.sum().backward();
    expect(boxed.value.isDisposed).toBe(false);
  });

  it("the verbatim five-step loop on the cpu leaves two tensors a step (the output and the loss)", () => {
    torch.manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new nn.Linear(16, 3));
    const criterion = new nn.CrossEntropyLoss();
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const x = torch.randn(5, 8);
    const y = torch.tensor([0, 1, 2, 1, 0]);
    const counts: number[] = [];
    for (let step = 0; step < 30; step++) {
      optimizer.zeroGrad();
      const output = model(x);
      const loss = criterion(output, y);
      loss.backward();
      optimizer.step();
      counts.push(torch.memory().liveTensors);
    }
    // a synchronous loop: nothing is collected meanwhile, so the counts are what each step left
    const perStep = counts.slice(5).map((c, i) => c - counts[4 + i]);
    expect(new Set(perStep)).toEqual(new Set([2]));
  });
});
