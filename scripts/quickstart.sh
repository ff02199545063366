#!/usr/bin/env bash
# The main job on embedded defaults: install trajkit into .venv, then `trajkit demo` — a scene made by code,
# an authored camera move and object track, bridged and rendered by the CPU preview backend, with overlays,
# plots and an HTML report in outputs/demo/demo/; then the embedded director turns a sentence into a camera
# path for the same scene (outputs/demo/demo-director/).
set -euo pipefail
TRAJKIT_EXTRAS=demo source "$(dirname "$0")/_env.sh"
trajkit demo -o "$ROOT/outputs/demo"
echo "open $ROOT/outputs/demo/demo/report.html in a browser"
