"""Director v2 acceptance (issue 17): hand-written prompts, exact segments and the magnitudes the words ask for.

Reads ``benchmarks/director_prompts.yaml`` (≥ 40 prompts outside the synthetic grammar; its header states the
magnitude table). For each prompt one greedy path is written by the director and measured:

- **segments**: GenDoP's tagger on the path must give exactly the intended ``(translation, rotation)`` sequence;
- **speed** (when the prompt names one): peak angular speed over 0.5 s windows — slow ≤ 12°/s, fast ≥ 30°/s,
  whip ≥ 120°/s;
- **extent** (when named): cumulative rotation within ±20 % of the stated degrees;
- **vertical**: the camera never turns past vertical (its down axis never points up in the world).

Prints a markdown table and the summary (exact-match rate, magnitude pass rate, per category).

    python benchmarks/director_prompts.py                     # the embedded director
    python benchmarks/director_prompts.py --checkpoint runs/v2
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

from trajkit.core.camera import CameraPath
from trajkit.director.pipeline import GREEDY, DirectorPipeline
from trajkit.director.tagging import tag

PROMPTS = Path(__file__).with_name("director_prompts.yaml")
SPEEDS = {"slow": (0.0, 12.0), "fast": (30.0, np.inf), "whip": (120.0, np.inf)}
EXTENT_TOLERANCE = 0.2


def _angles(R: np.ndarray) -> np.ndarray:
    """Rotation angles (degrees) of rotation matrices ``(..., 3, 3)``."""
    cos = (np.trace(R, axis1=-2, axis2=-1) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def peak_speed(camera: CameraPath, window_s: float = 0.5) -> float:
    """Largest rotation over any ``window_s`` span, in degrees per second."""
    R = np.asarray(camera.c2w)[:, :3, :3]
    k = max(1, round(window_s * camera.fps))
    if len(R) <= k:
        k = len(R) - 1
    relative = np.swapaxes(R[:-k], -1, -2) @ R[k:]
    return float(_angles(relative).max() * camera.fps / k)


def cumulative_rotation(camera: CameraPath) -> float:
    """Sum of frame-to-frame rotation angles (degrees): a full turn counts 360, not 0."""
    R = np.asarray(camera.c2w)[:, :3, :3]
    return float(_angles(np.swapaxes(R[:-1], -1, -2) @ R[1:]).sum())


def past_vertical(camera: CameraPath) -> bool:
    """Whether the camera's down axis (+y, OpenCV) ever points up in the first camera's world."""
    return bool((np.asarray(camera.c2w)[:, 1, 1] < 0).any())


def check(item: dict, camera: CameraPath) -> tuple[bool, bool, str]:
    """(segments exact, magnitudes within the table, what the path did)."""
    got = [[s.translation, s.rotation] for s in tag(camera)]
    exact = got == [list(p) for p in item["segments"]]
    speed, total = peak_speed(camera), cumulative_rotation(camera)
    vertical = past_vertical(camera)
    ok = not vertical
    if "speed" in item:
        low, high = SPEEDS[item["speed"]]
        ok &= low <= speed <= high
    if "extent" in item:
        ok &= abs(total - item["extent"]) <= EXTENT_TOLERANCE * item["extent"]
    names = "; ".join(t if r == "static" else (r if t == "static" else f"{t} + {r}") for t, r in got)
    return exact, bool(ok), f"{names} (peak {speed:.0f}°/s, total {total:.0f}°{', past vertical' if vertical else ''})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None, help="director checkpoint (default: the embedded one)")
    args = parser.parse_args()
    items = yaml.safe_load(PROMPTS.read_text())
    pipe = DirectorPipeline.load(args.checkpoint)
    print(f"director: {pipe.source}; {len(items)} prompts from {PROMPTS.name}\n")
    print("| prompt | intended | segments | magnitudes | the path (greedy, tagged) |")
    print("|---|---|---|---|---|")
    exact_hits = magnitude_hits = magnitude_total = 0
    per_category: dict[str, list[bool]] = defaultdict(list)
    for item in items:
        camera = pipe(item["prompt"], num=1, seed=0, options=GREEDY)[0]
        exact, magnitudes, did = check(item, camera)
        exact_hits += exact
        named = "speed" in item or "extent" in item
        magnitude_total += named
        magnitude_hits += named and magnitudes
        per_category[item.get("category", "plain")].append(exact)
        intended = "; ".join(f"{t} + {r}" for t, r in item["segments"])
        print(f"| {item['prompt']} | {intended} | {'✓' if exact else '✗'} | "
              f"{('✓' if magnitudes else '✗') if named else '—'} | {did} |")
    print(f"\nexact segments: {exact_hits}/{len(items)} ({100 * exact_hits / len(items):.0f} %); magnitudes within the "
          f"table: {magnitude_hits}/{magnitude_total} of the prompts that name a speed or extent")
    print("per category (exact): " + ", ".join(f"{c} {sum(v)}/{len(v)}" for c, v in sorted(per_category.items())))


if __name__ == "__main__":
    main()
