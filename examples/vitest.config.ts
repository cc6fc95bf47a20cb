import { cinderTestConfig } from "../vitest.shared";

export default cinderTestConfig({ include: ["test/**/*.test.ts"] });
