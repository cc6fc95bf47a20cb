import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type ViteUserConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));
const reportDir = process.env.CINDER_VITEST_REPORT_DIR || join(root, ".cache", "vitest");

/** `@cinder/tensor` -> `cinder-tensor`, `cinder` -> `cinder`: the file name of a package's JSON report. */
function reportName(dir: string): string {
  const manifest = join(dir, "package.json");
  const name = existsSync(manifest) ? JSON.parse(readFileSync(manifest, "utf8")).name : undefined;
  return (typeof name === "string" ? name : basename(dir)).replace(/^@/, "").replace(/\//g, "-");
}

/**
 * Tests run against the packages' TypeScript sources, never their builds:
 * `@cinder/x` resolves to `packages/x/src/index.ts` and `@cinder/x/y` to `packages/x/src/y.ts`.
 *
 * Besides the usual console output every run writes a JSON report to `.cache/vitest/<package>.json`
 * at the repository root (or to `$CINDER_VITEST_REPORT_DIR/<package>.json`: scripts/test-all.sh gives
 * each run its own directory); `scripts/test-summary.mjs` adds them up into one closing line.
 */
export function cinderTestConfig(extra: NonNullable<ViteUserConfig["test"]> = {}) {
  return defineConfig({
    resolve: {
      alias: [
        { find: /^@cinder\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
        { find: /^@cinder\/([a-z0-9-]+)\/(.+)$/, replacement: `${root}packages/$1/src/$2.ts` },
        { find: /^cinder$/, replacement: `${root}packages/cinder/src/index.ts` },
      ],
    },
    test: {
      include: ["test/**/*.test.ts"],
      testTimeout: 60_000,
      // Packages whose sources are not written yet have no tests; that is not an error.
      passWithNoTests: true,
      reporters: ["default", ["json", { outputFile: join(reportDir, `${reportName(process.cwd())}.json`) }]],
      ...extra,
    },
  });
}
