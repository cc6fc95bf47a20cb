/**
 * @cinder/onnx: `torch.onnx` for Cinder. `await onnx.export(model, exampleInput, "model.onnx", options)` traces
 * a model and writes it as ONNX (opset 17 by default), which ONNX Runtime (`onnxruntime-node`,
 * `onnxruntime-web`) runs.
 *
 *   import * as onnx from "@cinder/onnx";
 *   const bytes = await onnx.export(model, torch.randn([1, 784]));
 */
import "@cinder/autograd";

export {
  type DynamicAxes,
  type ExportArgs,
  type ExportOptions,
  export_ as export,
  OnnxExportError,
} from "./export";
