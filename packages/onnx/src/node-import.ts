/**
 * The Node built-ins `@cinder/onnx` uses for files (`export`, `jit.save`/`load`, `load` given a path), loaded
 * lazily out of bundlers' sight (`importNodeBuiltin`); in a browser they fail with a clear message.
 */
import { importNodeBuiltin } from "@cinder/tensor";

interface NodeModules {
  "node:fs/promises": typeof import("node:fs/promises");
}

/** `import(specifier)` of a Node built-in, with a clear error where there is none (a browser). */
export const nodeImport = <K extends keyof NodeModules>(specifier: K): Promise<NodeModules[K]> =>
  importNodeBuiltin<NodeModules[K]>(
    specifier,
    "@cinder/onnx",
    "call onnx.export without a path to get the model's bytes",
  );
