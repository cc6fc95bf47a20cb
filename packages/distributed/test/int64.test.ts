/**
 * int64 tensors (exact integers in doubles on the CPU) are refused by the collectives with a clear error: reduced as
 * float64, a sum could round past 2^53 - 1 and an average leave fractions in an integer tensor.
 */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { expect, it } from "vitest";
import { readAll } from "../src/staging";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

it("an int64 tensor is refused naming the conversions; its int32 or float64 copy is read", () => {
  const x = torch.tensor([1, 2 ** 40], { dtype: "int64" });
  expect(() => readAll([x])).toThrow(
    /int64 tensors are not supported by the collectives.*\.double\(\).*\.int\(\)/,
  );
  const [d] = readAll([x.double()]) as Float64Array[];
  expect(Array.from(d)).toEqual([1, 2 ** 40]);
});
