/** `torch.utils`: `utils.data` is PyTorch's `torch.utils.data` (the @cinder/data package). */
// "./utils-data.js" is its own entry point and stays an import in the build (tsup.config.ts), so that the built
// declarations keep its classes and types whole (rollup-plugin-dts reduces a bundled namespace to values).
export * as data from "./utils-data.js";
