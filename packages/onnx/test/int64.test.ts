/**
 * int64 tensors (exact integers in doubles on the CPU) export as ONNX INT64 raw data: the two's-complement words of
 * their values, not the doubles' bytes; loading INT64 gives int32 with a range check (Cinder's default integer).
 */
import { cpu } from "@cinder/backend-cpu";
import { registerBackend, registeredDevices, tensor } from "@cinder/tensor";
import { expect, it } from "vitest";
import { encodeObject } from "../src/graph";
import { DATA_TYPE, modelProtoType } from "../src/schema";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

it("an int64 initializer is written as INT64 words", async () => {
  const k = tensor([3, -2, 2 ** 40], { dtype: "int64" });
  const bytes = await encodeObject({
    irVersion: 8,
    graph: { name: "g", initializer: [{ name: "k", tensor: k }] },
  });
  const m = modelProtoType().decode(bytes) as unknown as {
    graph: { initializer: { dataType: number; rawData: Uint8Array }[] };
  };
  const init = m.graph.initializer[0];
  expect(init.dataType).toBe(DATA_TYPE.int64);
  const raw = Uint8Array.from(init.rawData); // a copy (protobufjs gives a Node Buffer, whose slice is a view)
  expect(Array.from(new BigInt64Array(raw.buffer, 0, 3))).toEqual([3n, -2n, 2n ** 40n]);
});
