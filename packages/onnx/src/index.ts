/**
 * @cinder/onnx: `torch.onnx` for Cinder. `await onnx.export(model, exampleInput, "model.onnx", options)` traces
 * a model and writes it as ONNX (opset 17 by default), which ONNX Runtime (`onnxruntime-node`,
 * `onnxruntime-web`) runs; `await onnx.load("model.onnx")` reads an ONNX model (Cinder's or PyTorch's) back as
 * a Cinder `nn.Module` that runs, and fine-tunes, on any device.
 *
 *   import * as onnx from "@cinder/onnx";
 *   const bytes = await onnx.export(model, torch.randn([1, 784]));
 *   const loaded = await onnx.load(bytes);
 */
import "@cinder/autograd";

export {
  type DynamicAxes,
  EXPORTED_OPS,
  type ExportArgs,
  type ExportOptions,
  export_ as export,
  OnnxExportError,
} from "./export";
/**
 * `torch.jit`: `trace(model, exampleInputs)` records a model as a `TracedModule` (callable, printable with `graph` and
 * `code`, saved with `save(path)`), `save`/`load` write and read it as an ONNX file, `script` fails naming `trace`.
 */
export * as jit from "./jit";
export { type LoadFn, load, OnnxLoadError, OnnxModule, SUPPORTED_OPS } from "./load";
export { TracerWarning } from "./trace";
