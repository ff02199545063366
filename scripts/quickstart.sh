#!/usr/bin/env bash
# The main job on embedded defaults: install trajkit into .venv, inspect the bundled example controls,
# convert the example tracks to ATI's .pth and ComfyUI JSON, and read them back. Outputs go to out/quickstart/.
set -euo pipefail
source "$(dirname "$0")/_env.sh"
OUT="$ROOT/out/quickstart"
mkdir -p "$OUT"
trajkit info example:tracks
trajkit info example:camera
trajkit convert example:tracks "$OUT/tracks.pth"
trajkit convert example:tracks "$OUT/tracks_comfyui.json" --to comfyui-json
trajkit convert example:camera "$OUT/camera_transforms.json" --to nerfstudio-json
trajkit info "$OUT/tracks.pth" --size 832x480
echo "quickstart outputs are in $OUT"
