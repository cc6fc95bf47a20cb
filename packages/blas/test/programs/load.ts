/**
 * Imports @cinder/blas under the environment the test gives (CINDER_BLAS, CINDER_BLAS_LIBRARY) and prints one JSON
 * line: whether the import worked, whether the provider is on, and what enable() said.
 */
export {}; // a module, for top-level await

const result: Record<string, unknown> = {};
try {
  const blas = await import("../../src/index");
  result.imported = true;
  result.enabled = blas.isEnabled();
  try {
    blas.enable();
    result.enable = "ok";
  } catch (e) {
    result.enable = (e as Error).message;
  }
} catch (e) {
  result.imported = false;
  result.error = (e as Error).message;
}
console.log(JSON.stringify(result));
