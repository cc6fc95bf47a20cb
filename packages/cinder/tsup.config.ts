import { defineConfig, type Options } from "tsup";
import { cinderBuildConfig } from "../../tsup.shared";

// src/utils-data.ts (`torch.utils.data`) is an entry of its own that index.js imports instead of inlining: bundled
// into index.d.ts, rollup-plugin-dts would reduce that namespace to `typeof` values (no classes as types, no type
// exports). src/nn.ts (`torch.nn`, with `nn.parallel` from src/nn-parallel.ts) likewise.
export default defineConfig({
  ...(cinderBuildConfig(["src/index.ts", "src/utils-data.ts", "src/nn.ts", "src/nn-parallel.ts"]) as Options),
  external: ["./utils-data.js", "./nn.js", "./nn-parallel.js"],
});
