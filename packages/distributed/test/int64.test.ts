/**
 * int64 tensors (exact integers in doubles on the CPU) are read as their Float64Array storage: the copying
 * collectives, min and max move them exactly; sums and products are refused by the op check (collectives.test.ts).
 */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { expect, it } from "vitest";
import { readAll } from "../src/staging";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

it("an int64 tensor is read as its exact values (a view of its storage when contiguous)", () => {
  const x = torch.tensor([1, 2 ** 40], { dtype: "int64" });
  const [d] = readAll([x]) as Float64Array[];
  expect(d).toBeInstanceOf(Float64Array);
  expect(Array.from(d)).toEqual([1, 2 ** 40]);
  const [s] = readAll([
    torch
      .tensor([
        [1, 2],
        [3, 2 ** 41],
      ])
      .t(),
  ]) as Float64Array[];
  expect(Array.from(s)).toEqual([1, 3, 2, 2 ** 41]);
});
