import { defineConfig } from "tsup";

/**
 * The one build every package shares: ESM only, declarations, source maps, ES2022.
 * `entry` lists the package's entry points (one per subpath export).
 *
 * Built files run in Node and in browser bundles: Node built-ins keep their `node:` prefix (tsup 8 strips it
 * by default, and a bare `fs/promises` is something browser bundlers try, and fail, to resolve) and are only
 * loaded lazily, through a specifier bundlers cannot see (`nodeImport` in nn and datasets-mnist, `io.ts` in
 * viz). `keepNames` keeps class and function names through the build (esbuild would otherwise rename
 * `Sequential` to `_Sequential` when two modules' names collide); names that must survive a user's own
 * minifier too are set explicitly (`static name` on every nn module class).
 */
export function cinderBuildConfig(entry: string[] = ["src/index.ts"]) {
  return defineConfig({
    entry,
    format: ["esm"],
    // tsup 8 passes `baseUrl` to the declaration build, which TypeScript 6 deprecates.
    dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
    clean: true,
    sourcemap: true,
    target: "es2022",
    removeNodeProtocol: false,
    keepNames: true,
  });
}
