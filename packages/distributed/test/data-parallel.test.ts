/** nn.DataParallel: chunked forward and backward equal the module's own, PyTorch's state dict keys, errors. */
import "@cinder/autograd";
import { availableParallelism } from "node:os";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { DataParallel, cpu as torchCpu } from "../src/index";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

class TwoOut extends nn.Module {
  fc = new nn.Linear(5, 3);
  override forward(x: torch.Tensor, scale: number): [torch.Tensor, { logits: torch.Tensor }] {
    const y = this.fc(x).mul(scale);
    return [y, { logits: y.relu() }];
  }
}

function grads(m: nn.Module): number[][] {
  return m.parameters().map((p) => Array.from(p.grad?.data() ?? []));
}

describe("DataParallel", () => {
  it("splits the batch over deviceIds and gathers outputs and gradients as the module alone", () => {
    torch.manualSeed(0);
    const net = new TwoOut();
    const x = torch.randn([7, 5]);
    const [ref, { logits: refL }] = net(x, 2);
    ref.sum().add(refL.square().sum()).backward();
    const want = grads(net);
    net.zeroGrad();
    // every usable core (a 7-row batch: up to 7 chunks), and two cores in another order
    const cores = Math.min(torchCpu.deviceCount(), 7);
    for (const ids of [Array.from({ length: cores }, (_, i) => i), [1, 0]]) {
      net.zeroGrad();
      const dp = new DataParallel(net, { deviceIds: ids });
      const [y, { logits }] = dp(x, 2) as [torch.Tensor, { logits: torch.Tensor }];
      expect(dp.stats).toEqual({ parallel: 1, sequential: 0 });
      expect(y.shape).toEqual([7, 3]);
      expect(torch.allclose(y, ref, { atol: 1e-6 })).toBe(true);
      expect(torch.allclose(logits, refL, { atol: 1e-6 })).toBe(true);
      y.sum().add(logits.square().sum()).backward();
      for (const [i, g] of grads(net).entries())
        for (const [j, v] of g.entries()) expect(v).toBeCloseTo(want[i][j], 5);
      dp.close();
    }
  });

  it("runs the module unchanged without deviceIds (PyTorch on a machine without CUDA), keeps PyTorch's keys", () => {
    const net = new nn.Linear(2, 2);
    const dp = new DataParallel(net);
    const x = torch.randn([3, 2]);
    expect(torch.equal(dp(x) as torch.Tensor, net(x))).toBe(true);
    expect([...dp.stateDict().keys()]).toEqual(["module.weight", "module.bias"]);
    expect(String(dp)).toBe("DataParallel(\n  (module): Linear(in_features=2, out_features=2, bias=True)\n)");
    expect(new DataParallel(net, [0, 1], 0, 1).dim).toBe(1);
  });

  it("rejects wrong arguments", () => {
    const net = new nn.Linear(2, 2);
    expect(() => new DataParallel({} as never)).toThrow(/module/);
    expect(() => new DataParallel(net, { deviceIds: [0, 0] })).toThrow(/distinct/);
    expect(() => new DataParallel(net, { deviceIdz: [0] } as never)).toThrow(/deviceIdz/);
    expect(() => new DataParallel(net, [0, 1], 3)).toThrow(/outputDevice must be deviceIds\[0\]/);
    const n = torchCpu.deviceCount();
    expect(() => new DataParallel(net, [0, n])).toThrow(
      new RegExp(`deviceIds are cores, each < torch.cpu.deviceCount\\(\\) \\(${n}\\), got \\[0,${n}\\]`),
    );
  });

  it("cpu.deviceCount() answers device_count() with the usable cores", () => {
    expect(torchCpu.deviceCount()).toBe(availableParallelism());
    expect(() => (torchCpu.deviceCount as unknown as (...a: unknown[]) => number)(1)).toThrow(/deviceCount/);
  });
});
