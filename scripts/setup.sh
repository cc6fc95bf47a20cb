#!/usr/bin/env bash
# Set up a Cinder checkout: pnpm, the workspace's node_modules and, unless told not to, the Debian
# packages that the tests and the MNIST example use. Idempotent: a second run changes nothing and
# takes a second or two.
#
#   bash scripts/setup.sh            everything (the apt part needs root or sudo)
#   bash scripts/setup.sh --no-apt   only the JavaScript side (also: CINDER_NO_APT=1)
#
# In CI (CI set and not "false") the lockfile must be up to date; elsewhere an outdated lockfile
# falls back to a plain `pnpm install`, which updates pnpm-lock.yaml: commit that change.
set -euo pipefail

# Debian packages: PyTorch for golden fixtures, onnx for the ONNX checker, the BLAS it runs on (also @cinder/blas's), Fashion-MNIST for the example,
# headless Chromium for browser tests (and a font so pages render text), Open MPI for @cinder/distributed-mpi.
APT_PACKAGES=(python3-torch python3-onnx libopenblas0-pthread dataset-fashion-mnist chromium fonts-liberation fonts-wqy-microhei libvulkan1 openmpi-bin libopenmpi-dev)

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }

apt=1
[ "${CINDER_NO_APT:-0}" = "1" ] && apt=0
for arg in "$@"; do
  case "$arg" in
    --no-apt) apt=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
log="$(mktemp -t cinder-setup.XXXXXX)"
trap 'rm -f "$log"' EXIT

say() { printf '[setup] %s\n' "$*"; }
fail() {
  printf '[setup] error: %s\n' "$1" >&2
  if [ -s "$log" ]; then
    printf '[setup] last lines of its output:\n' >&2
    tail -n 40 "$log" | sed 's/^/  /' >&2
  fi
  exit 1
}
is_ci() { [ -n "${CI:-}" ] && [ "${CI}" != "false" ] && [ "${CI}" != "0" ]; }

# ---- Node.js ----
command -v node >/dev/null 2>&1 || fail "Node.js 20 or newer is required and 'node' is not on PATH"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || fail "Node.js 20 or newer is required, found $(node --version)"

# ---- pnpm 10 (corepack is not used: it cannot fetch pnpm here) ----
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null | cut -d. -f1)" != "10" ]; then
  say "installing pnpm@10 with npm"
  npm install --global pnpm@10 --no-audit --no-fund >"$log" 2>&1 || fail "npm install --global pnpm@10 failed"
  hash -r
  command -v pnpm >/dev/null 2>&1 || fail "pnpm was installed but is not on PATH (npm prefix: $(npm prefix -g))"
fi

# ---- workspace dependencies ----
if pnpm install --frozen-lockfile --reporter=append-only >"$log" 2>&1; then
  :
elif is_ci; then
  fail "pnpm install --frozen-lockfile failed (in CI the lockfile must match package.json; run 'pnpm install' and commit pnpm-lock.yaml)"
else
  say "pnpm install --frozen-lockfile failed; retrying with a plain 'pnpm install' (commit the updated pnpm-lock.yaml)"
  pnpm install --reporter=append-only >"$log" 2>&1 || fail "pnpm install failed"
fi
say "node $(node --version), pnpm $(pnpm --version): dependencies installed"

# ---- Debian packages ----
if [ "$apt" = "0" ]; then
  say "skipping Debian packages (--no-apt)"
  exit 0
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  say "Debian packages present: ${APT_PACKAGES[*]}"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 ||
  fail "missing Debian packages (${missing[*]}) and no apt-get here; install them by hand or rerun with --no-apt"
sudo=()
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null 2>&1 || fail "installing ${missing[*]} needs root; rerun as root or with --no-apt"
  sudo=(sudo)
fi
say "installing Debian packages: ${missing[*]} (this can take a few minutes)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >"$log" 2>&1 || fail "apt-get update failed"
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 ||
  fail "apt-get install ${missing[*]} failed"
say "Debian packages installed"
