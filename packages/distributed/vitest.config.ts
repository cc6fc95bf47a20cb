import { applySwiftShaderEnv } from "../../scripts/webgpu/swiftshader-env.mjs";
import { cinderTestConfig } from "../../vitest.shared";

// the WebGPU collectives test runs Dawn on SwiftShader (chromium's CPU Vulkan driver) without a GPU: the variables must be in
// place before the forked test workers start
applySwiftShaderEnv();

export default cinderTestConfig();
