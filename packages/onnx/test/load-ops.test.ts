/**
 * The importer's kernels that neither Cinder's exporter nor the PyTorch fixtures reach in every form: one small
 * hand-built graph per operator form, run by `onnx.load` and by ONNX Runtime on the same random input.
 */
import { cpu } from "@cinder/backend-cpu";
import { randn, registerBackend, registeredDevices, type Tensor } from "@cinder/tensor";
import { describe, it } from "vitest";
import * as onnx from "../src";
import { ATTRIBUTE_TYPE, modelProtoType } from "../src/schema";
import { expectClose, runOrt } from "./ort";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

type Attr =
  | number
  | number[]
  | string
  | { f: number }
  | { t: { dims: number[]; dataType: number; floatData?: number[]; int64Data?: number[] } };
type NodeDef = [opType: string, inputs: string[], outputs: string[], attrs?: Record<string, Attr>];

const attribute = (name: string, v: Attr) =>
  typeof v === "number"
    ? { name, type: ATTRIBUTE_TYPE.INT, i: v }
    : typeof v === "string"
      ? { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(v) }
      : Array.isArray(v)
        ? { name, type: ATTRIBUTE_TYPE.INTS, ints: v }
        : "f" in v
          ? { name, type: ATTRIBUTE_TYPE.FLOAT, f: v.f }
          : { name, type: ATTRIBUTE_TYPE.TENSOR, t: v.t };

/** An initializer: int64 or float values, 1-D unless `dims` says otherwise (`[]`: a scalar). */
interface Init {
  ints?: number[];
  floats?: number[];
  dims?: number[];
}
const i64 = (...v: number[]): Init => ({ ints: v });
const f32 = (...v: number[]): Init => ({ floats: v });
const scalar = (v: number): Init => ({ ints: [v], dims: [] });

/** A model of `nodes` over a float input "x" of shape [batch, ...shape] and the output "y". */
function model(shape: number[], nodes: NodeDef[], inits: Record<string, Init> = {}, opset = 17): Uint8Array {
  const type = modelProtoType();
  const dim = [{ dimParam: "batch" }, ...shape.map((d) => ({ dimValue: d }))];
  return type
    .encode(
      type.fromObject({
        irVersion: 8,
        opsetImport: [{ domain: "", version: opset }],
        graph: {
          name: "g",
          node: nodes.map(([opType, input, output, attrs = {}], i) => ({
            name: `n${i}`,
            opType,
            input,
            output,
            attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
          })),
          initializer: Object.entries(inits).map(([name, v]) => ({
            name,
            dims: v.dims ?? [(v.ints ?? v.floats ?? []).length],
            ...(v.ints ? { dataType: 7, int64Data: v.ints } : { dataType: 1, floatData: v.floats }),
          })),
          input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim } } } }],
          output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
        },
      }),
    )
    .finish();
}

const CASES: [name: string, bytes: Uint8Array, shape: number[]][] = [
  [
    "Split (sizes input) and Concat back in another order",
    model(
      [6, 4],
      [
        ["Split", ["x", "sizes"], ["a", "b", "c"], { axis: 1 }],
        ["Concat", ["c", "a", "b"], ["y"], { axis: 1 }],
      ],
      { sizes: i64(1, 2, 3) },
    ),
    [6, 4],
  ],
  [
    "Split (equal parts, opset 18)",
    model(
      [4, 6],
      [
        ["Split", ["x"], ["a", "b"], { axis: 2, num_outputs: 2 }],
        ["Sub", ["a", "b"], ["y"]],
      ],
      {},
      18,
    ),
    [4, 6],
  ],
  ["Tile", model([2, 3], [["Tile", ["x", "reps"], ["y"]]], { reps: i64(1, 2, 3) }), [2, 3]],
  ["Expand", model([1, 3], [["Expand", ["x", "shape"], ["y"]]], { shape: i64(1, 4, 3) }), [1, 3]],
  [
    "Slice with steps (negative too) and negative bounds",
    model([8, 6], [["Slice", ["x", "s", "e", "a", "st"], ["y"]]], {
      s: i64(1, -1),
      e: i64(7, -9),
      a: i64(1, 2),
      st: i64(2, -2),
    }),
    [8, 6],
  ],
  [
    "ReduceSum (axes input, keepdims 0), ReduceMax, ReduceMin (attribute axes)",
    model(
      [3, 4],
      [
        ["ReduceSum", ["x", "ax"], ["s"], { keepdims: 0 }],
        ["ReduceMax", ["x"], ["m"], { axes: [2], keepdims: 0 }],
        ["ReduceMin", ["x"], ["n"], { axes: [2], keepdims: 0 }],
        ["Add", ["s", "m"], ["sm"]],
        ["Sub", ["sm", "n"], ["y"]],
      ],
      { ax: i64(2) },
    ),
    [3, 4],
  ],
  [
    "ArgMax and ArgMin",
    model(
      [5],
      [
        ["ArgMax", ["x"], ["i"], { axis: 1, keepdims: 1 }],
        ["ArgMin", ["x"], ["j"], { axis: 1, keepdims: 0 }],
        ["Cast", ["i"], ["fi"], { to: 1 }],
        ["Cast", ["j"], ["fj"], { to: 1 }],
        ["Sub", ["fi", "fj"], ["y"]],
      ],
    ),
    [5],
  ],
  [
    "Gelu (opset 20), Pow, Reciprocal, Floor, Ceil, Abs, Softplus, Elu, LeakyRelu",
    model(
      [7],
      [
        ["Gelu", ["x"], ["g"], { approximate: "tanh" }],
        ["Pow", ["g", "two"], ["p"]],
        ["Abs", ["x"], ["ax"]],
        ["Reciprocal", ["ax"], ["r"]],
        ["Floor", ["r"], ["f"]],
        ["Ceil", ["x"], ["c"]],
        ["Softplus", ["c"], ["sp"]],
        ["Elu", ["x"], ["el"], { alpha: { f: 0.3 } }],
        ["LeakyRelu", ["el"], ["lr"], { alpha: { f: 0.2 } }],
        ["Add", ["p", "f"], ["pf"]],
        ["Add", ["pf", "sp"], ["ps"]],
        ["Add", ["ps", "lr"], ["y"]],
      ],
      { two: f32(2) },
      20,
    ),
    [7],
  ],
  [
    "Equal, Less, Greater, LessOrEqual, GreaterOrEqual and Where",
    model(
      [6],
      [
        ["Constant", [], ["zero"], { value: { t: { dims: [], dataType: 1, floatData: [0] } } }],
        ["Greater", ["x", "zero"], ["gt"]],
        ["Less", ["x", "zero"], ["lt"]],
        ["GreaterOrEqual", ["x", "zero"], ["ge"]],
        ["LessOrEqual", ["x", "zero"], ["le"]],
        ["Equal", ["gt", "ge"], ["eq"]],
        ["Where", ["eq", "x", "zero"], ["w"]],
        ["Where", ["lt", "w", "x"], ["v"]],
        ["Where", ["le", "v", "x"], ["y"]],
      ],
    ),
    [6],
  ],
  [
    "Range, ConstantOfShape and Max/Min of several inputs",
    model(
      [5],
      [
        ["Shape", ["x"], ["shp"]],
        ["Gather", ["shp", "one"], ["n"], { axis: 0 }],
        ["Range", ["zero", "n", "step"], ["r"]],
        ["Cast", ["r"], ["rf"], { to: 1 }],
        ["ConstantOfShape", ["five"], ["c"], { value: { t: { dims: [1], dataType: 1, floatData: [0.25] } } }],
        ["Max", ["x", "rf", "c"], ["mx"]],
        ["Min", ["x", "rf"], ["mn"]],
        ["Add", ["mx", "mn"], ["y"]],
      ],
      { one: scalar(1), zero: scalar(0), step: scalar(1), five: i64(5) },
    ),
    [5],
  ],
  [
    "Resize nearest (PyTorch's: asymmetric, floor), scales from an initializer",
    model(
      [2, 3, 4],
      [
        [
          "Resize",
          ["x", "", "scales"],
          ["y"],
          { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" },
        ],
      ],
      { scales: f32(1, 1, 2, 3) },
    ),
    [2, 3, 4],
  ],
  [
    "Resize linear (pytorch_half_pixel, align_corners)",
    model(
      [2, 3, 4],
      [
        [
          "Resize",
          ["x", "", "scales"],
          ["a"],
          { mode: "linear", coordinate_transformation_mode: "pytorch_half_pixel" },
        ],
        [
          "Resize",
          ["x", "", "scales"],
          ["b"],
          { mode: "linear", coordinate_transformation_mode: "align_corners" },
        ],
        ["Sub", ["a", "b"], ["y"]],
      ],
      { scales: f32(1, 1, 2, 1.5) },
    ),
    [2, 3, 4],
  ],
  [
    "InstanceNormalization",
    model([3, 5], [["InstanceNormalization", ["x", "sc", "bi"], ["y"], { epsilon: { f: 1e-3 } }]], {
      sc: f32(1, 2, 0.5),
      bi: f32(0, -1, 1),
    }),
    [3, 5],
  ],
];

describe("onnx.load: operator forms against ONNX Runtime", () => {
  for (const [name, bytes, shape] of CASES) {
    it(name, async () => {
      const m = await onnx.load(bytes);
      for (const n of [1, 2]) {
        const x = randn([n, ...shape]);
        const [want] = await runOrt(bytes, [x]);
        await expectClose(m(x) as Tensor, want.data as Float32Array, [...want.dims]);
      }
    });
  }
});
