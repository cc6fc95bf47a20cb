import { cinderTestConfig } from "../vitest.shared";

// .test.mjs: tests written in plain JavaScript, as a JavaScript user calls the API (no type checker)
export default cinderTestConfig({ include: ["test/**/*.test.ts", "test/**/*.test.mjs"] });
