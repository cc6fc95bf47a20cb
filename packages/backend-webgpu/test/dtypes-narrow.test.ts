/**
 * int8 and int16 (and float64) are CPU dtypes: WebGPU does not list them in `dtypes` (WGSL's core has no 8/16-bit
 * storage types and no 64-bit floats), so moving or creating such a tensor on it is a DTypeError naming the dtype
 * and the ones it stores, never a wrong answer; its own dtypes keep working, and converting first works.
 */
import { cpu } from "@cinder/backend-cpu";
import { DTypeError, registerBackend, registeredDevices, tensor, zeros } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { gpu } from "./setup";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

describe.skipIf(!gpu)("webgpu refuses int8 and int16 clearly", () => {
  it("lists its dtypes", () => {
    expect(gpu!.dtypes).toEqual(["float32", "int32", "uint8", "bool"]);
  });
  it("names the dtype and what it stores, on .to() and at creation", () => {
    const x = tensor([1, -2, 3], { dtype: "int8" });
    expect(() => x.to("webgpu")).toThrow(DTypeError);
    expect(() => x.to("webgpu")).toThrow(
      /to\(\): int8 is not supported on webgpu; it stores float32, int32, uint8, bool/,
    );
    expect(() => zeros([2], { dtype: "int16", device: "webgpu" })).toThrow(
      /int16 is not supported on webgpu/,
    );
    expect(() => tensor([1], { dtype: "float64", device: "webgpu" })).toThrow(
      /float64 is not supported on webgpu/,
    );
  });
  it("view(dtype) needs the data on the host and says so", () => {
    const x = tensor([1.5, 2], { device: "webgpu" });
    expect(() => x.view("int32")).toThrow(
      /view\(\): reinterpreting a webgpu tensor's bytes as int32 .*toAsync\("cpu"\)/,
    );
    expect(x.view("float32").shape).toEqual([2]);
  });
  it("converted to a dtype it stores, the values move", async () => {
    const x = tensor([1, -2, 300], { dtype: "int16" });
    const y = x.int().to("webgpu").mul(2);
    expect(y.dtype).toBe("int32");
    expect(Array.from(await y.dataAsync())).toEqual([2, -4, 600]);
  });
});
