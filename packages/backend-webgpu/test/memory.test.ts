import { memory, randn, setFusion, tensor, tidy, zeros } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import type { GpuStorage } from "../src/buffers";
import { webgpuMemory } from "../src/index";
import { gpu } from "./setup";

const bufferOf = (t: { storage: { handle: unknown } }) => (t.storage.handle as GpuStorage).buffer;

describe.skipIf(!gpu)("webgpu memory", () => {
  it("a 2,000-step tidy loop keeps live buffers and bytes flat after warm-up", async () => {
    const w = randn([64, 64], { device: "webgpu" });
    const b = randn([64], { device: "webgpu" });
    const x = randn([32, 64], { device: "webgpu" });
    const samples: {
      step: number;
      buffers: number;
      bytes: number;
      tensors: number;
      core: number;
      pooled: number;
    }[] = [];
    let last = 0;
    for (let step = 1; step <= 2000; step++) {
      const loss = tidy(() => x.matmul(w).add(b).relu().sum());
      if (step % 100 === 0) {
        last = (await loss.itemAsync()) as number;
        const m = webgpuMemory();
        const c = memory();
        samples.push({
          step,
          buffers: m.buffersLive,
          bytes: m.bytesLive,
          tensors: c.liveTensors,
          core: c.bytesInUse,
          pooled: m.bytesPooled,
        });
      }
      loss.dispose();
    }
    expect(Number.isFinite(last)).toBe(true);
    const warm = samples.filter((s) => s.step >= 200);
    for (const s of warm) {
      expect({ step: s.step, buffers: s.buffers, bytes: s.bytes, tensors: s.tensors, core: s.core }).toEqual({
        step: s.step,
        buffers: warm[0].buffers,
        bytes: warm[0].bytes,
        tensors: warm[0].tensors,
        core: warm[0].core,
      });
    }
    // the pool stops growing too: every step reuses the same buffers
    expect(warm[warm.length - 1].pooled).toBe(warm[0].pooled);
    for (const t of [w, b, x]) t.dispose();
  });

  it("defers frees of buffers that unsubmitted work still reads, then reuses them", async () => {
    const a = tensor(new Float32Array(1000).fill(1), { device: "webgpu" });
    // unfused, the multiply is recorded at once (fused, `a` would stay live until it runs: fusion.test.ts)
    const was = setFusion(false);
    const y = a.mul(2); // recorded, not submitted
    setFusion(was);
    const buf = bufferOf(a);
    a.dispose();
    expect(webgpuMemory().buffersPending).toBeGreaterThanOrEqual(1);
    const c = tensor(new Float32Array(1000).fill(5), { device: "webgpu" });
    expect(bufferOf(c)).not.toBe(buf); // not handed out while the multiply has not been submitted
    expect((await y.dataAsync())[999]).toBe(2);
    expect(webgpuMemory().buffersPending).toBe(0);
    const created = webgpuMemory().created;
    const d = zeros([1000], { device: "webgpu" });
    expect(webgpuMemory().created).toBe(created); // reused from the pool ...
    expect(Array.from(await d.dataAsync()).every((v) => v === 0)).toBe(true); // ... and reads as zeros
    for (const t of [y, c, d]) t.dispose();
  });

  it("using / dispose release storage, and emptyCache returns pooled memory", async () => {
    const before = webgpuMemory().buffersLive;
    {
      using t = randn([128, 128], { device: "webgpu" });
      expect(webgpuMemory().buffersLive).toBe(before + 1);
      await t.sum().itemAsync();
    }
    await gpu!.sync();
    expect(webgpuMemory().buffersLive).toBeLessThanOrEqual(before + 1); // the sum's scalar may await GC
    gpu!.emptyCache();
    expect(webgpuMemory().bytesPooled).toBe(0);
    expect(webgpuMemory().stagingBytesPooled).toBe(0);
  });
});
