/**
 * Node built-ins, loaded lazily and out of bundlers' sight (as `@cinder/nn` does), so that `@cinder/onnx`
 * bundles for browsers: only `export` given a path calls this, and in a browser it fails with the message below.
 */
interface NodeModules {
  "node:fs/promises": typeof import("node:fs/promises");
}

/** `import(specifier)` of a Node built-in, with a clear error where there is none (a browser). */
export async function nodeImport<K extends keyof NodeModules>(specifier: K): Promise<NodeModules[K]> {
  try {
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier as string)) as NodeModules[K];
  } catch (e) {
    throw new Error(
      `@cinder/onnx: files are not available in browsers (${specifier} could not be loaded: ${(e as Error).message}); ` +
        "there, call onnx.export without a path to get the model's bytes",
      { cause: e },
    );
  }
}
