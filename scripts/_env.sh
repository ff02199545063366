# Sourced by the other scripts: make (or reuse) .venv with trajkit installed, extras in $TRAJKIT_EXTRAS.
# Re-installs only when pyproject.toml or the requested extras change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "trajkit needs Python 3.10 or newer (found: $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.x" >&2
  exit 1
fi
VENV="${TRAJKIT_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
EXTRAS="${TRAJKIT_EXTRAS:-}"
SPEC="."
[ -n "$EXTRAS" ] && SPEC=".[$EXTRAS]"
STAMP="$VENV/.trajkit-installed"
WANT="$(cat pyproject.toml | sha256sum | cut -c1-16) $EXTRAS"
if [ ! -f "$STAMP" ] || ! grep -qxF "$WANT" "$STAMP"; then
  echo "==> installing trajkit $SPEC into $VENV (torch, when needed, is pinned to the 2.13.0 CPU build)" >&2
  LOG="$VENV/pip-install.log"
  : > "$LOG"
  # shellcheck source=scripts/_progress.sh
  source "$ROOT/scripts/_progress.sh"
  if ! { run_logged "$LOG" python -m pip install --progress-bar off --upgrade pip \
         && run_logged "$LOG" python -m pip install --progress-bar off -e "$SPEC"; }; then
    tail -n 40 "$LOG" >&2
    echo "pip install failed; full log: $LOG" >&2
    exit 1
  fi
  echo "$WANT" >> "$STAMP"
fi
