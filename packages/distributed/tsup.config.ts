import { cinderBuildConfig } from "../../tsup.shared";

// index: the library; worker: what each "threads" rank runs first (a worker_threads entry); data-parallel-worker:
// what each DataParallel replica runs (another worker_threads entry); cli: `cinder-run`.
export default cinderBuildConfig([
  "src/index.ts",
  "src/worker.ts",
  "src/data-parallel-worker.ts",
  "src/cli.ts",
]);
