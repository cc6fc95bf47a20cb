/**
 * Out-of-range indices on webgpu: the gather / scatter kernels record the first offender in the runtime's
 * bounds-error buffer and the next read (or `sync()`) throws an `IndexError` naming the op, the index and the
 * size, where the cpu raises at once. In-range results are unchanged and the error is reported once.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { IndexError } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { gpu } from "./setup";

torch.registerBackend(cpu);

const device = "webgpu";
const F = nn.F;

async function read(t: torch.Tensor): Promise<number[]> {
  return Array.from(await t.dataAsync());
}

describe.skipIf(!gpu)("webgpu index bounds", () => {
  it("gather: index 3 of size 3 throws at the next read", async () => {
    const x = torch.tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { device },
    );
    const bad = x.gather(1, torch.tensor([[0], [3]], { dtype: "int32", device }));
    await expect(read(bad)).rejects.toThrow(
      /^gather\(\): index 3 is out of bounds for dimension 1 with size 3 \(found on webgpu at the next read; valid indices are 0\.\.2/,
    );
    // reported once; in-range results are unchanged
    const ok = x.gather(1, torch.tensor([[2], [0]], { dtype: "int32", device }));
    expect(await read(ok)).toEqual([3, 4]);
  });

  it("the error is an IndexError and surfaces at sync() too", async () => {
    const x = torch.tensor([1, 2, 3], { device });
    x.gather(0, torch.tensor([5], { dtype: "int32", device }));
    const e = await gpu!.sync().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(IndexError);
    expect((e as Error).message).toMatch(/gather\(\): index 5 is out of bounds for dimension 0 with size 3/);
    await gpu!.sync(); // reported once
  });

  it("indexSelect: index 1000 and -1 throw, in-range unchanged", async () => {
    const x = torch.arange(6, { device }).reshape(2, 3).float();
    const bad = x.indexSelect(1, torch.tensor([0, 1000], { dtype: "int32", device }));
    await expect(read(bad)).rejects.toThrow(/index 1000 is out of bounds for dimension 1 with size 3/);
    // PyTorch's index_select rejects negative indices as well
    const neg = x.indexSelect(1, torch.tensor([-1], { dtype: "int32", device }));
    await expect(read(neg)).rejects.toThrow(/index -1 is out of bounds for dimension 1 with size 3/);
    expect(await read(x.indexSelect(1, torch.tensor([2, 0], { dtype: "int32", device })))).toEqual([
      2, 0, 5, 3,
    ]);
  });

  it("embedding: index 7 of 5 rows throws", async () => {
    const w = torch.arange(10, { device }).reshape(5, 2).float();
    const bad = F.embedding(torch.tensor([1, 7], { dtype: "int32", device }), w);
    await expect(read(bad)).rejects.toThrow(/index 7 is out of bounds for dimension 0 with size 5/);
    const ok = F.embedding(torch.tensor([4, 0], { dtype: "int32", device }), w);
    expect(await read(ok)).toEqual([8, 9, 0, 1]);
  });

  it("crossEntropy: target 3 of 3 classes throws instead of a loss", async () => {
    const logits = torch.tensor(
      [
        [1, 2, 3],
        [0, 0, 1],
      ],
      { device, dtype: "float32" },
    );
    const bad = F.crossEntropy(logits, torch.tensor([0, 3], { dtype: "int32", device }));
    await expect(bad.itemAsync()).rejects.toThrow(/index 3 is out of bounds for dimension 1 with size 3/);
    const ok = F.crossEntropy(logits, torch.tensor([2, 2], { dtype: "int32", device }));
    const ref = F.crossEntropy(
      torch.tensor(
        [
          [1, 2, 3],
          [0, 0, 1],
        ],
        { dtype: "float32" },
      ),
      torch.tensor([2, 2], { dtype: "int32" }),
    );
    expect(await ok.itemAsync()).toBeCloseTo(ref.item() as number, 5);
  });

  it("scatter: index -1 throws and writes nothing out of range; scatter_add too", async () => {
    const bad = torch
      .zeros([2, 3], { device })
      .scatter(1, torch.tensor([[-1], [0]], { dtype: "int32", device }), 1);
    await expect(read(bad)).rejects.toThrow(
      /^scatter\(\): index -1 is out of bounds for dimension 1 with size 3/,
    );
    const add = torch
      .zeros([2, 3], { device })
      .scatterAdd(1, torch.tensor([[1], [3]], { dtype: "int32", device }), torch.ones([2, 1], { device }));
    await expect(read(add)).rejects.toThrow(
      /^scatter_add\(\): index 3 is out of bounds for dimension 1 with size 3/,
    );
    const ok = torch
      .zeros([2, 3], { device })
      .scatter(1, torch.tensor([[2], [0]], { dtype: "int32", device }), 1);
    expect(await read(ok)).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it("the first offender is reported when several ops go wrong before a read", async () => {
    const x = torch.tensor([1, 2, 3], { device });
    x.gather(0, torch.tensor([4], { dtype: "int32", device }));
    const y = x.gather(0, torch.tensor([9], { dtype: "int32", device }));
    await expect(read(y)).rejects.toThrow(/index 4 is out of bounds/);
    expect(await read(x)).toEqual([1, 2, 3]);
  });
});
