/**
 * The Node built-ins `@cinder/nn`'s file functions use (`saveSafetensors`, `loadSafetensors`, `save`/`load` given a
 * path), loaded lazily out of bundlers' sight (`importNodeBuiltin`); in a browser they fail with a clear message.
 */
import { importNodeBuiltin } from "@cinder/tensor";

interface NodeModules {
  "node:fs/promises": typeof import("node:fs/promises");
  "node:path": typeof import("node:path");
}

/** `import(specifier)` of a Node built-in, with a clear error where there is none (a browser). */
export const nodeImport = <K extends keyof NodeModules>(specifier: K): Promise<NodeModules[K]> =>
  importNodeBuiltin<NodeModules[K]>(
    specifier,
    "@cinder/nn",
    'torch.save/torch.load take bytes, Blobs, URLs and "indexeddb://" names instead of paths',
  );
