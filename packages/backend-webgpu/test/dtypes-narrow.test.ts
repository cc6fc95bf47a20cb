/**
 * int8 and int16 on WebGPU: one sign-extended i32 word per element (WGSL's core has no 8/16-bit storage types),
 * wrapped to the dtype after every op as the CPU's stores wrap, so results are the CPU's bit for bit; float64 stays a
 * CPU dtype (no 64-bit floats in WGSL) and is refused with a DTypeError naming the dtypes WebGPU stores.
 */
import { cpu } from "@cinder/backend-cpu";
import { DTypeError, intOn, registerBackend, registeredDevices, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { gpu } from "./setup";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

const NARROW = ["int8", "int16"] as const;
const VALUES = { int8: [127, -128, -1, 0, 1, 100, -100, 7], int16: [32767, -32768, -1, 0, 1, 300, -300, 7] };

/** `f` on the CPU and on WebGPU: same dtype (int64 results are webgpu's int32, its default integer), same values. */
async function same(x: Tensor, f: (t: Tensor) => Tensor): Promise<number[]> {
  const want = f(x);
  const got = f(x.to("webgpu"));
  const dtype = intOn(want.dtype, got.backend);
  expect(got.dtype).toBe(dtype);
  const g = Array.from(await got.dataAsync());
  expect(g).toEqual(Array.from(want.to(dtype).data()));
  return g;
}

describe.skipIf(!gpu)("webgpu int8 and int16", () => {
  it("lists its dtypes and still refuses float64", () => {
    expect(gpu!.dtypes).toEqual(["float32", "int32", "uint8", "bool", "int8", "int16"]);
    expect(() => tensor([1], { dtype: "float64", device: "webgpu" })).toThrow(DTypeError);
    expect(() => tensor([1], { dtype: "float64", device: "webgpu" })).toThrow(
      /float64 is not supported on webgpu; it stores float32, int32, uint8, bool, int8, int16/,
    );
  });

  for (const dtype of NARROW) {
    it(`${dtype}: uploads, downloads and wraps after every op as the CPU does`, async () => {
      const x = tensor(VALUES[dtype], { dtype });
      expect(await same(x, (t) => t)).toEqual(VALUES[dtype]);
      await same(x, (t) => t.add(1)); // 127 + 1 wraps to -128
      await same(x, (t) => t.mul(t).sub(3).neg());
      await same(x, (t) => t.abs()); // abs(-128) is -128 in int8
      await same(x, (t) => t.bitwiseLeftShift(3).bitwiseXor(5));
      await same(x, (t) => t.floorDivide(3).remainder(5));
      await same(x, (t) => t.float().mul(2.75).to(dtype)); // float to narrow: through int32, low bits kept
      await same(x, (t) => t.int().mul(1000).to(dtype)); // int32 to narrow wraps
      await same(x, (t) => t.sum());
      await same(x, (t) => t.amax());
      await same(x, (t) => t.gt(0).where(t, t.neg()));
    });
  }

  it("scatter add wraps the accumulated sums", async () => {
    const idx = tensor([0, 0, 1, 1, 1]);
    const src = tensor([100, 100, -100, -100, -100], { dtype: "int8" });
    const want = tensor([0, 0], { dtype: "int8" }).scatterAdd(0, idx, src);
    const got = tensor([0, 0], { dtype: "int8", device: "webgpu" }).scatterAdd(
      0,
      idx.to("webgpu"),
      src.to("webgpu"),
    );
    expect(Array.from(await got.dataAsync())).toEqual(Array.from(want.data())); // [-56, -44]
  });
});
