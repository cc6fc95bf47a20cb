import { cinderTestConfig } from "../../vitest.shared";

export default cinderTestConfig();
