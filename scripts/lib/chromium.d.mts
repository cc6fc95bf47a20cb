/** Debian's Chromium (or `$CINDER_CHROMIUM`). */
export declare const CHROMIUM: string;
/** Headless, no sandbox, nothing fetched in the background. */
export declare const HEADLESS_ARGS: readonly string[];
/** WebGPU on SwiftShader. */
export declare const WEBGPU_ARGS: readonly string[];
