import { cinderBuildConfig } from "../../tsup.shared";

export default cinderBuildConfig(["src/index.ts", "src/testing.ts"]);
