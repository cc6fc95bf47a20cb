/**
 * Node built-ins, loaded lazily and out of bundlers' sight, so that `@cinder/datasets-mnist` bundles for
 * browsers: the specifier reaches `import()` through a parameter (a bundler cannot resolve it, so it leaves
 * the call alone, as `@cinder/viz` does) and keeps its `node:` prefix. Reading, inflating and downloading
 * files call this; in a browser they fail at run time with the message below.
 */
interface NodeModules {
  "node:crypto": typeof import("node:crypto");
  "node:fs/promises": typeof import("node:fs/promises");
  "node:path": typeof import("node:path");
  "node:url": typeof import("node:url");
  "node:zlib": typeof import("node:zlib");
}

/** `import(specifier)` of a Node built-in, with a clear error where there is none (a browser). */
export async function nodeImport<K extends keyof NodeModules>(specifier: K): Promise<NodeModules[K]> {
  try {
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier as string)) as NodeModules[K];
  } catch (e) {
    throw new Error(
      `@cinder/datasets-mnist: files are not available in browsers (${specifier} could not be loaded: ${(e as Error).message}); ` +
        "there, build the dataset from bytes you fetch (parseIdx, TensorDataset)",
      { cause: e },
    );
  }
}
