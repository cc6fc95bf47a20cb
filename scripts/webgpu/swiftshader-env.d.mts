export declare const SWIFTSHADER_ICD: string;
/** Apply the SwiftShader environment to `env` (default process.env); returns what was set. */
export declare function applySwiftShaderEnv(env?: Record<string, string | undefined>): Record<string, string>;
