import { cinderBuildConfig } from "../../tsup.shared";

export default cinderBuildConfig();
