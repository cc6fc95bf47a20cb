// Imports every package for its side effect: each declares its signatures on import, so afterwards
// `signatures()` of @cinder/tensor lists every callable (for the signature tests and docs/signatures.md).
import "@cinder/autograd";
import "@cinder/data";
import "@cinder/datasets-mnist";
import "@cinder/distributed";
import "@cinder/nn";
import "@cinder/optim";
import "@cinder/backend-cpu";
import "@cinder/backend-webgpu";
import "@cinder/onnx";
