/**
 * Node built-ins for the packages that read and write files (`@cinder/nn`, `@cinder/datasets-mnist`,
 * `@cinder/onnx`), loaded lazily and out of bundlers' sight so that those packages bundle for browsers: the
 * specifier reaches `import()` through a parameter (a bundler cannot resolve it, so it leaves the call alone) and
 * keeps its `node:` prefix. Each package wraps this with its own typed table of the built-ins it uses.
 */

/**
 * `import(specifier)` of a Node built-in. Where there is none (a browser), it fails with
 * `<pkg>: files are not available in browsers (<specifier> could not be loaded: ...); there, <instead>`.
 */
export async function importNodeBuiltin<T>(specifier: string, pkg: string, instead: string): Promise<T> {
  try {
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as T;
  } catch (e) {
    throw new Error(
      `${pkg}: files are not available in browsers (${specifier} could not be loaded: ${(e as Error).message}); there, ${instead}`,
      { cause: e },
    );
  }
}
