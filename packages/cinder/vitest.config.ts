import { applySwiftShaderEnv } from "../../scripts/webgpu/swiftshader-env.mjs";
import { cinderTestConfig } from "../../vitest.shared";

// `bestDevice()` finds SwiftShader (chromium's CPU Vulkan driver) on machines without a GPU, as the
// backend-webgpu tests do: the variables are set here, before the test workers start.
applySwiftShaderEnv();

export default cinderTestConfig({ testTimeout: 120_000 });
