/**
 * Collectives on WebGPU tensors (SwiftShader here): staged through the CPU, so the call returns a Promise; the
 * results land in the WebGPU tensors. One rank in this thread; skipped where no adapter exists.
 */
import { cpu } from "@cinder/backend-cpu";
import { initWebGPU } from "@cinder/backend-webgpu";
import * as torch from "@cinder/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as dist from "../src/index";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
let unavailable = "";
try {
  await initWebGPU();
} catch (e) {
  unavailable = (e as Error).message;
  console.warn(`[webgpu test skipped] ${unavailable}`);
}

describe.skipIf(unavailable !== "")("collectives on WebGPU tensors", () => {
  beforeAll(() => dist.initProcessGroup("threads", { worldSize: 1, rank: 0 }));
  afterAll(() => dist.destroyProcessGroup());

  it("return Promises and write the results into the WebGPU tensors (strided views too)", async () => {
    const t = torch
      .tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: "float32" },
      )
      .to("webgpu");
    const view = t.T; // a strided view: written back through its strides
    const r = dist.allReduce(view, dist.ReduceOp.MAX);
    expect(r).toBeInstanceOf(Promise);
    expect(await r).toBeUndefined();
    expect(t.device).toBe("webgpu");
    expect(await t.toArrayAsync()).toEqual([
      [1, 2],
      [3, 4],
    ]);

    const list = [torch.zeros([2, 2], { dtype: "int32" }).to("webgpu")];
    await dist.allGather(
      list,
      torch
        .tensor([
          [5, 6],
          [7, 8],
        ])
        .to("webgpu"),
    );
    expect(await list[0].toArrayAsync()).toEqual([
      [5, 6],
      [7, 8],
    ]);

    const b = torch.tensor([true, false]).to("webgpu");
    const work = (await dist.broadcast(b, 0, { asyncOp: true })) as dist.Work;
    work.wait();
    expect(work.isCompleted()).toBe(true);
    expect(await b.toArrayAsync()).toEqual([true, false]);
  });
});
