/** Complex tensors in collectives: refused before any communication (2 words per element), real views go through. */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { expect, it } from "vitest";
import { readAll } from "../src/staging";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

it("a complex tensor is refused naming viewAsReal; its real view is read whole", () => {
  const z = torch.tensor([
    { re: 1, im: 2 },
    { re: 3, im: -1 },
  ]);
  expect(() => readAll([z])).toThrow(/complex64 tensors are not supported by the collectives.*viewAsReal/);
  const [words] = readAll([torch.viewAsReal(z)]) as Float32Array[];
  expect([...words]).toEqual([1, 2, 3, -1]);
});
