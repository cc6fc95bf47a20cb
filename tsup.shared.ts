import { defineConfig } from "tsup";

/**
 * The one build every package shares: ESM only, declarations, source maps, ES2022.
 * `entry` lists the package's entry points (one per subpath export).
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
  });
}
