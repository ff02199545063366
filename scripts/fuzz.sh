#!/usr/bin/env bash
# Every reader property (tests/test_fuzz.py and the hypothesis properties under tests/formats) at
# TRAJKIT_FUZZ_EXAMPLES examples each (default 10 000; CI runs 150), with hypothesis's per-test statistics.
# Extra arguments go to pytest (e.g. scripts/fuzz.sh -x, or -k re10k). Results: benchmarks/RESULTS.md, "Fuzzing".
set -euo pipefail
TRAJKIT_EXTRAS=test source "$(dirname "$0")/_env.sh"
export TRAJKIT_FUZZ_EXAMPLES="${TRAJKIT_FUZZ_EXAMPLES:-10000}"
echo "==> reader properties at $TRAJKIT_FUZZ_EXAMPLES examples each" >&2
start=$(date +%s)
status=0
python -m pytest -q -p no:cacheprovider -m hypothesis --hypothesis-show-statistics \
  tests/test_fuzz.py tests/formats "$@" || status=$?
echo "==> fuzzing took $(( $(date +%s) - start )) s (exit $status)" >&2
exit "$status"
