import { applySwiftShaderEnv } from "../../scripts/webgpu/swiftshader-env.mjs";
import { cinderTestConfig } from "../../vitest.shared";

// Without a GPU, Dawn runs on SwiftShader (chromium's CPU Vulkan driver). The variables must be in place
// before the forked test workers start, so they are set here, in the main vitest process.
applySwiftShaderEnv();

// --expose-gc: the training test measures memory after the FinalizationRegistry safety net has run.
export default cinderTestConfig({
  pool: "forks",
  execArgv: ["--expose-gc"],
  testTimeout: 300_000,
  hookTimeout: 120_000,
});
