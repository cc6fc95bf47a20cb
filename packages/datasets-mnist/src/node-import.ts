/**
 * The Node built-ins `@cinder/datasets-mnist` uses to read, inflate and download files, loaded lazily out of
 * bundlers' sight (`importNodeBuiltin`); in a browser they fail with a clear message.
 */
import { importNodeBuiltin } from "@cinder/tensor";

interface NodeModules {
  "node:crypto": typeof import("node:crypto");
  "node:fs/promises": typeof import("node:fs/promises");
  "node:path": typeof import("node:path");
  "node:url": typeof import("node:url");
  "node:zlib": typeof import("node:zlib");
}

/** `import(specifier)` of a Node built-in, with a clear error where there is none (a browser). */
export const nodeImport = <K extends keyof NodeModules>(specifier: K): Promise<NodeModules[K]> =>
  importNodeBuiltin<NodeModules[K]>(
    specifier,
    "@cinder/datasets-mnist",
    "build the dataset from bytes you fetch (parseIdx, TensorDataset)",
  );
