#!/usr/bin/env bash
# The one test command: set up, then lint, typecheck, unit tests (vitest in every package, examples/
# and tests/), build, package checks (publint, attw), the consumer test (the packed tarballs
# installed with npm outside the workspace) and, when a base ref is known, the changeset check.
# Every step runs even when an earlier one failed (a package that did not build then fails the
# package checks too, and the consumer test if it is tensor or backend-cpu). Output is kept to
# errors and a table of steps; the last line is the summary `N passed, N failed, N skipped` over
# all vitest runs, each failed step counting as one more failure. Exits non-zero when anything
# failed.
#
#   bash scripts/test-all.sh [--no-apt]      (options go to scripts/setup.sh)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=$SECONDS
bash scripts/setup.sh "$@" || { echo "test-all: setup failed; nothing was tested" >&2; exit 1; }

failed_steps=()
declare -A step_result
step_order=()

# step NAME COMMAND...: runs COMMAND, records ok/FAILED and the time it took.
step() {
  local name="$1"
  shift
  local t0=$SECONDS
  printf '\n=== %s: %s\n' "$name" "$*"
  if "$@"; then
    step_result[$name]="ok      $((SECONDS - t0))s"
  else
    step_result[$name]="FAILED  $((SECONDS - t0))s"
    failed_steps+=("$name")
  fi
  step_order+=("$name")
}

# This run's vitest reports, apart from those of any other run in the same tree.
export CINDER_VITEST_REPORT_DIR="$PWD/.cache/vitest/test-all-$$"
rm -rf "$CINDER_VITEST_REPORT_DIR"
step lint pnpm lint
step typecheck pnpm typecheck
step test pnpm test --continue --output-logs=errors-only
step build pnpm build --continue --output-logs=errors-only
step api-docs pnpm docs:api
step packages node scripts/check-packages.mjs
step consumer node scripts/consumer-test.mjs
step browser node scripts/browser-consumer-test.mjs
step changeset node scripts/check-changeset.mjs

printf '\n=== steps (%ss in all)\n' "$((SECONDS - started))"
for name in "${step_order[@]}"; do printf '  %-10s %s\n' "$name" "${step_result[$name]}"; done

steps_csv="$(IFS=,; echo "${failed_steps[*]}")"
node scripts/test-summary.mjs --failed-steps "$steps_csv"
status=$?
rm -rf "$CINDER_VITEST_REPORT_DIR"
exit "$status"
