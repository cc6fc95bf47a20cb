/**
 * Node built-ins, loaded lazily and out of bundlers' sight, so that `@cinder/nn` bundles for browsers: the
 * specifier reaches `import()` through a parameter (a bundler cannot resolve it, so it leaves the call alone,
 * as `@cinder/viz` does) and keeps its `node:` prefix. Only the file functions (`saveSafetensors`,
 * `loadSafetensors`, `save`/`load` given a path) call this; in a browser they fail at run time with the message
 * below.
 */
interface NodeModules {
  "node:fs/promises": typeof import("node:fs/promises");
  "node:path": typeof import("node:path");
}

/** `import(specifier)` of a Node built-in, with a clear error where there is none (a browser). */
export async function nodeImport<K extends keyof NodeModules>(specifier: K): Promise<NodeModules[K]> {
  try {
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier as string)) as NodeModules[K];
  } catch (e) {
    throw new Error(
      `@cinder/nn: files are not available in browsers (${specifier} could not be loaded: ${(e as Error).message}); ` +
        'there, torch.save/torch.load take bytes, Blobs, URLs and "indexeddb://" names instead of paths',
      { cause: e },
    );
  }
}
