#!/usr/bin/env bash
# Install trajkit with its test extras into .venv, then lint and run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k ati -x).
set -euo pipefail
TRAJKIT_EXTRAS=test source "$(dirname "$0")/_env.sh"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian's chromium for the browser tests" >&2
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } \
        > "$VENV/apt-chromium.log" 2>&1; then
      tail -n 20 "$VENV/apt-chromium.log" >&2
      echo "installing chromium failed; full log: $VENV/apt-chromium.log" >&2
      exit 1
    fi
  else
    echo "note: chromium is not installed, so the browser tests (report, studio) will be skipped" >&2
  fi
fi
echo "==> ruff" >&2
ruff check src tests scripts benchmarks
echo "==> pytest" >&2
python -m pytest -q "$@"
