#!/usr/bin/env bash
# Install trajkit with its test extras into .venv, then lint and run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k ati -x).
set -euo pipefail
TRAJKIT_EXTRAS=test source "$(dirname "$0")/_env.sh"
echo "==> ruff" >&2
ruff check src tests scripts benchmarks
echo "==> pytest" >&2
python -m pytest -q "$@"
