#!/usr/bin/env node
// Adds up the JSON reports that every package's vitest run writes to .cache/vitest/ (see
// vitest.shared.ts) and prints one closing line: `N passed, N failed, N skipped`.
//
//   node scripts/test-summary.mjs [--failed-steps lint,build,...]
//
// Reports are read from $CINDER_VITEST_REPORT_DIR when set (as by test-all.sh), else .cache/vitest.
//
// It also lists the slowest tests with their share of the 60 s timeout, warning above a third of it.
//
// --failed-steps names the other steps of scripts/test-all.sh that failed; each counts as one
// failure, so the closing line never says "0 failed" about a run that failed. A package that has
// a test script but wrote no report (vitest crashed or never ran) also counts as one failure.
// Exits 1 when anything failed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { reportName, root, workspacePackages } from "./lib/workspace.mjs";

const args = process.argv.slice(2);
const stepsIndex = args.indexOf("--failed-steps");
const failedSteps =
  stepsIndex >= 0 && args[stepsIndex + 1] ? args[stepsIndex + 1].split(",").filter(Boolean) : [];

const reportDir = process.env.CINDER_VITEST_REPORT_DIR || join(root, ".cache", "vitest");
/** vitest.shared.ts's testTimeout: a test that needs a third of it on a quiet machine fails on a loaded one. */
const TIMEOUT_MS = 60_000;

/** A package's test timeout: its vitest.config.ts's `testTimeout` when it sets one, else the shared default. */
function packageTimeout(dir) {
  const config = join(dir, "vitest.config.ts");
  if (!existsSync(config)) return TIMEOUT_MS;
  const m = /testTimeout:\s*([\d_]+)/.exec(readFileSync(config, "utf8"));
  return m ? Number(m[1].replaceAll("_", "")) : TIMEOUT_MS;
}
const rows = [];
/** Every test's duration, for the slowest-tests table. */
const timings = [];
let passed = 0;
let failed = 0;
let skipped = 0;

for (const pkg of workspacePackages()) {
  if (!pkg.manifest.scripts?.test) continue;
  const name = pkg.manifest.name ?? pkg.rel;
  const file = join(reportDir, `${reportName(name)}.json`);
  if (!existsSync(file)) {
    rows.push({ name, note: "no report: vitest did not run or crashed" });
    failed += 1;
    continue;
  }
  let report;
  try {
    report = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    rows.push({ name, note: `unreadable report: ${error.message}` });
    failed += 1;
    continue;
  }
  const p = report.numPassedTests ?? 0;
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  let f = report.numFailedTests ?? 0;
  // A test file that failed to load fails its suite without failing a test: count the file.
  const brokenFiles = (report.testResults ?? []).filter(
    (r) => r.status === "failed" && !(r.assertionResults ?? []).some((a) => a.status === "failed"),
  );
  f += brokenFiles.length;
  // Errors outside tests (unhandled rejections...) mark the run unsuccessful with no failed test.
  const note = brokenFiles.map((r) => `failed to run ${r.name.replace(`${root}/`, "")}`);
  if (report.success === false && f === 0) {
    f = 1;
    note.push("run unsuccessful (errors outside tests)");
  }
  for (const file of report.testResults ?? []) {
    for (const a of file.assertionResults ?? []) {
      if (typeof a.duration === "number")
        timings.push({ name: `${name} > ${a.fullName}`, ms: a.duration, timeout: packageTimeout(pkg.dir) });
    }
  }
  passed += p;
  failed += f;
  skipped += s;
  rows.push({ name, passed: p, failed: f, skipped: s, note: note.join("; ") });
}

// The test step failed but no report shows why (turbo or a config error): still a failure.
if (failedSteps.includes("test") && failed === 0) {
  rows.push({ name: "[test]", note: "step failed without a failing test" });
  failed += 1;
}
for (const step of failedSteps) {
  if (step === "test") continue; // reflected in the reports, their absence, or the row above
  rows.push({ name: `[${step}]`, note: "step failed" });
  failed += 1;
}

// The slowest tests against their package's timeout (a test may set its own, which this does not see). Above a third
// of it, a test is likely to time out when the CI machine is busy: a warning to make it cheaper, not to raise it.
timings.sort((a, b) => b.ms / b.timeout - a.ms / a.timeout);
if (timings.length > 0) {
  console.log("\nSlowest tests (share of their package's timeout)");
  for (const t of timings.slice(0, 8)) {
    const share = t.ms / t.timeout;
    const flag = share > 1 / 3 ? "  WARNING: over a third of the timeout" : "";
    console.log(
      `  ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${(share * 100).toFixed(0).padStart(3)}%  ${t.name}${flag}`,
    );
  }
}

const width = Math.max(0, ...rows.map((r) => r.name.length));
console.log("\nTest summary");
for (const r of rows) {
  const counts = r.passed === undefined ? "" : `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`;
  console.log(`  ${r.name.padEnd(width)}  ${counts}${counts && r.note ? "  " : ""}${r.note ?? ""}`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
