#!/usr/bin/env bash
# The main job: set up (including the Debian packages: Fashion-MNIST comes from
# dataset-fashion-mnist) and train the MNIST classifier, `pnpm example mnist-mlp`. Until that
# example exists, runs the tensor-basics example instead. Flags after `--` go to the example.
#
#   bash scripts/run-main.sh [--no-apt] [-- example flags...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

setup_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    *) setup_args+=("$1"); shift ;;
  esac
done
bash scripts/setup.sh "${setup_args[@]}"

example=mnist-mlp
if [ ! -e examples/mnist-mlp.ts ] && [ ! -e examples/mnist-mlp/index.ts ]; then
  echo "[run-main] examples/mnist-mlp does not exist yet; running tensor-basics instead"
  example=tensor-basics
fi
exec pnpm --silent example "$example" "$@"
