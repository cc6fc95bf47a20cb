/**
 * ONNX's FLOAT16 and BFLOAT16: initializers (raw little-endian bit patterns and int32_data) load as float16/bfloat16
 * tensors, Cast converts to and from them, and float16 arithmetic rounds each op to float16 (ONNX Runtime agrees within
 * float16 rounding: its CPU computes float16 Mul/Add in float32);
 * Cinder's exporter writes them as FLOAT16/BFLOAT16.
 */
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import {
  fromFloat16Bits,
  registerBackend,
  registeredDevices,
  roundBFloat16,
  roundFloat16,
  type Tensor,
  tensor,
} from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import * as onnx from "../src";
import { ATTRIBUTE_TYPE, DATA_TYPE, modelProtoType } from "../src/schema";
import { expectClose, runOrt } from "./ort";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

const FLOAT = 1;
const FLOAT16 = 10;
const BFLOAT16 = 16;

/** y = float(cast(x, FLOAT16) * a) + float(cast(cast(x, BFLOAT16), FLOAT16) + b): a raw FLOAT16, b from int32_data. */
function model(): Uint8Array {
  const type = modelProtoType();
  // 1.5, -0.333 (0xb554), 1000, 2^-20 (a subnormal), -2, 0.1 (0x2e66) as float16 bits
  const raw = new Uint8Array(new Uint16Array([0x3e00, 0xb554, 0x63d0, 0x0010, 0xc000, 0x2e66]).buffer);
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
            node("Cast", ["x"], ["h"], FLOAT16),
            node("Mul", ["h", "a"], ["ha"]),
            node("Cast", ["ha"], ["f1"], FLOAT),
            node("Cast", ["x"], ["bf"], BFLOAT16),
            node("Cast", ["bf"], ["bh"], FLOAT16),
            node("Add", ["bh", "b"], ["hb"]),
            node("Cast", ["hb"], ["f2"], FLOAT),
            node("Add", ["f1", "f2"], ["y"]),
          ],
          initializer: [
            { name: "a", dims: [6], dataType: FLOAT16, rawData: raw },
            {
              name: "b",
              dims: [6],
              dataType: FLOAT16,
              int32Data: [0x3c00, 0x4000, 0xbc00, 0x3555, 0x7bff, 0],
            },
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

describe("onnx FLOAT16 and BFLOAT16", () => {
  it("load, cast and round as ONNX Runtime's", async () => {
    const bytes = model();
    const m = await onnx.load(bytes);
    const x = tensor([0.1, -2.7, 3.14159, 1000.3, 0.0007, -65000]);
    const [want] = await runOrt(bytes, [x]);
    // ONNX Runtime's CPU runs float16 Mul/Add in float32 (it inserts casts and drops the redundant ones): equal
    // within float16 roundings (and may fold the BFLOAT16 casts); Cinder rounds each op as the graph says (exact below)
    await expectClose(m(x) as Tensor, want.data as Float32Array, [6], 1e-2);
    const r16 = roundFloat16;
    const xs = [0.1, -2.7, 3.14159, 1000.3, 0.0007, -65000].map(Math.fround);
    const a = [0x3e00, 0xb554, 0x63d0, 0x0010, 0xc000, 0x2e66].map(fromFloat16Bits);
    const b = [0x3c00, 0x4000, 0xbc00, 0x3555, 0x7bff, 0].map(fromFloat16Bits);
    const exact = xs.map((v, i) => Math.fround(r16(r16(v) * a[i]) + r16(r16(roundBFloat16(v)) + b[i])));
    expect(Array.from(await (m(x) as Tensor).dataAsync())).toEqual(exact);
  });
  it("maps Cinder's float16/bfloat16 to ONNX's data types for export", () => {
    expect([DATA_TYPE.float16, DATA_TYPE.bfloat16]).toEqual([FLOAT16, BFLOAT16]);
  });
  it("a bfloat16 module exports and loads back with the same bits and outputs", async () => {
    const model = new nn.Linear(3, 2).bfloat16();
    const x = tensor(
      [
        [0.5, -1.25, 3],
        [0.1, 0.2, 0.3],
      ],
      { dtype: "bfloat16" },
    );
    const bytes = await onnx.export(model, x);
    const back = await onnx.load(bytes);
    const weights = [...back.stateDict().values()].map((t) => t.dtype);
    expect(weights).toEqual(["bfloat16", "bfloat16"]);
    const y = back.forward(x) as Tensor;
    expect(y.dtype).toBe("bfloat16");
    expect(y.data()).toEqual((model.forward(x) as Tensor).data());
  });
});
