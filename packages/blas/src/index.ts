/**
 * @cinder/blas: the CPU backend's float32/float64 matrix products on the system's OpenBLAS (the library PyTorch
 * uses on Debian), through a small Node-API addon calling cblas_sgemm/cblas_dgemm on the tensors' own memory.
 *
 * Importing this package opens OpenBLAS (an error names the Debian package when it is missing) and registers it as
 * the CPU backend's GEMM provider (see @cinder/backend-cpu's gemm-provider.ts), unless `CINDER_BLAS=0`, which
 * leaves the WASM GEMM in place and opens nothing. `disable()` / `enable()` switch at run time.
 */
import { type GemmProvider, gemmProvider, setGemmProvider } from "@cinder/backend-cpu";
import { op, signature } from "@cinder/tensor";
import { type BlasState, loadNative } from "./native";

export { type BlasState, explainLoadError, libraryPaths, OPENBLAS_PACKAGES } from "./native";

let provider: GemmProvider | null = null;

function blasProvider(): GemmProvider {
  if (provider) return provider;
  const native = loadNative();
  // Named after what was opened: $CINDER_BLAS_LIBRARY may name another CBLAS (then without thread control).
  const name = native.state().config.startsWith("OpenBLAS") ? "openblas" : "cblas";
  provider = { name, setThreads: (n) => native.setThreads(n), gemm: native.gemm };
  return provider;
}

/**
 * Run the CPU backend's float products on OpenBLAS from the next product on (what importing the package does,
 * unless `CINDER_BLAS=0`). Throws an error naming the Debian package when OpenBLAS cannot be opened.
 */
export const enable = op(signature("enable", []), (): void => {
  setGemmProvider(blasProvider());
});

/** Back to Cinder's own GEMM (WASM SIMD for float32, JS for float64) from the next product on. */
export const disable = op(signature("disable", []), (): void => {
  if (provider !== null && gemmProvider() === provider) setGemmProvider(null);
});

/** Whether the CPU backend's products run on this package's BLAS now. */
export const isEnabled = op(signature("isEnabled", []), (): boolean => {
  return provider !== null && gemmProvider() === provider;
});

/**
 * The library in use: the path or soname opened, OpenBLAS's build string (`openblas_get_config()`) and its thread
 * count (set from `getNumThreads()` before each product). Opens the library if it is not open yet.
 */
export const blasInfo = op(signature("blasInfo", []), (): BlasState & { enabled: boolean } => {
  blasProvider();
  return { ...loadNative().state(), enabled: isEnabled() };
});

if (process.env.CINDER_BLAS !== "0") enable();
