/**
 * Loading the BLAS addon (`build/Release/cinder_blas.node`, built by `scripts/build-addon.mjs`) and opening the
 * system's OpenBLAS with it, with errors that say what to install instead of a bare `dlopen` message.
 */
import { createRequire } from "node:module";
import type { GemmProvider } from "@cinder/backend-cpu";

/** What the opened library is: its path as opened, OpenBLAS's build string, its thread count (-1: no control). */
export interface BlasState {
  library: string;
  config: string;
  threads: number;
}

/** The addon's functions (see src/native/blas_addon.c). */
export interface NativeBlas {
  /** Opens the first library of `paths` that loads and exports cblas_sgemm/dgemm (once per process). */
  open(paths: readonly string[]): BlasState;
  state(): BlasState;
  /** `openblas_set_num_threads(n)`. */
  setThreads(n: number): void;
  /** CBLAS row-major gemm (alpha 1, beta 0) over a batch, with `GemmProvider.gemm`'s arguments. */
  gemm: GemmProvider["gemm"];
}

/** The Debian/Ubuntu package that provides OpenBLAS's library (the one PyTorch uses on Debian). */
export const OPENBLAS_PACKAGES = "apt-get install libopenblas0-pthread";

/**
 * Where the library is looked for: `$CINDER_BLAS_LIBRARY` alone when set (a path or a soname; any CBLAS library),
 * else OpenBLAS's soname, which Debian's alternatives and other distributions' packages resolve.
 */
export function libraryPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const chosen = env.CINDER_BLAS_LIBRARY;
  return chosen ? [chosen] : ["libopenblas.so.0", "libopenblas.so"];
}

const ADDON = new URL("../build/Release/cinder_blas.node", import.meta.url);

/** Why loading failed, as a message saying what to do (exported for tests). */
export function explainLoadError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string } | null)?.code;
  if (code === "MODULE_NOT_FOUND" || /Cannot find module/.test(text))
    return (
      "@cinder/blas: its addon is not built (build/Release/cinder_blas.node is missing); run `npm run build:addon` " +
      "in the package (in the Cinder repository: `pnpm --filter @cinder/blas build:addon`); it needs a C compiler"
    );
  return (
    `@cinder/blas needs OpenBLAS's library, which could not be opened (${text.split("\n")[0]}); ` +
    `install it with \`${OPENBLAS_PACKAGES}\` or set CINDER_BLAS_LIBRARY to a CBLAS library's path`
  );
}

let native: NativeBlas | null = null;

/** The addon with the library open, loaded on first use; throws an error naming the Debian package. */
export function loadNative(): NativeBlas {
  if (native) return native;
  try {
    const loaded = createRequire(import.meta.url)(ADDON.pathname) as NativeBlas;
    loaded.open(libraryPaths());
    native = loaded;
    return loaded;
  } catch (error) {
    throw new Error(explainLoadError(error), { cause: error });
  }
}
