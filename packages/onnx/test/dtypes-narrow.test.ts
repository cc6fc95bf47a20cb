/**
 * ONNX's INT8 and INT16: initializers (raw little-endian bytes and int32_data) load as int8/int16 tensors, Cast to
 * them wraps, and arithmetic on them wraps as ONNX Runtime's; checked against ONNX Runtime on the same input.
 * Cinder's exporter writes them as INT8/INT16.
 */
import { cpu } from "@cinder/backend-cpu";
import { registerBackend, registeredDevices, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as onnx from "../src";
import { ATTRIBUTE_TYPE, DATA_TYPE, modelProtoType } from "../src/schema";
import { expectClose, runOrt } from "./ort";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

const INT8 = 3;
const INT16 = 5;
const FLOAT = 1;

/** y = float(cast(x * 20, int8) + a) + float(cast(x * 300, int16) * b): a raw INT8, b an INT16 from int32_data. */
function model(): Uint8Array {
  const type = modelProtoType();
  const raw = new Uint8Array(new Int8Array([100, -100, 127, -128, 5, 0]).buffer);
  const node = (opType: string, input: string[], output: string[], to?: number) => ({
    name: output[0],
    opType,
    input,
    output,
    attribute: to === undefined ? [] : [{ name: "to", type: ATTRIBUTE_TYPE.INT, i: to }],
  });
  return type
    .encode(
      type.fromObject({
        irVersion: 8,
        opsetImport: [{ domain: "", version: 17 }],
        graph: {
          name: "g",
          node: [
            node("Mul", ["x", "k20"], ["x20"]),
            node("Cast", ["x20"], ["c8"], INT8),
            node("Add", ["c8", "a"], ["s8"]),
            node("Cast", ["s8"], ["f8"], FLOAT),
            node("Mul", ["x", "k300"], ["x300"]),
            node("Cast", ["x300"], ["c16"], INT16),
            node("Mul", ["c16", "b"], ["p16"]),
            node("Cast", ["p16"], ["f16"], FLOAT),
            node("Add", ["f8", "f16"], ["y"]),
          ],
          initializer: [
            { name: "k20", dims: [], dataType: FLOAT, floatData: [20] },
            { name: "k300", dims: [], dataType: FLOAT, floatData: [300] },
            { name: "a", dims: [6], dataType: INT8, rawData: raw },
            { name: "b", dims: [6], dataType: INT16, int32Data: [3, -7, 200, 1, -1, 1000] },
          ],
          input: [
            { name: "x", type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 6 }] } } } },
          ],
          output: [{ name: "y", type: { tensorType: { elemType: FLOAT } } }],
        },
      }),
    )
    .finish();
}

describe("onnx INT8 and INT16", () => {
  it("load, cast and wrap as ONNX Runtime's", async () => {
    const bytes = model();
    const m = await onnx.load(bytes);
    // values keep both casts in range (float to int8/int16 out of range is undefined in ONNX) but overflow the sums
    const x = tensor([0.5, -0.5, 1.2, -3.1, 2.9, 0.04]);
    const [want] = await runOrt(bytes, [x]);
    await expectClose(m(x) as Tensor, want.data as Float32Array, [6]);
  });
  it("maps Cinder's int8/int16 to ONNX's data types for export", () => {
    expect([DATA_TYPE.int8, DATA_TYPE.int16]).toEqual([INT8, INT16]);
  });
});
