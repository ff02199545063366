"""Preview backend and overlay drawing speed.

1. Preview render of 81 frames at 832×480 with 8, 100 and 1000 tracks: trajkit's coarse-grid field
   (cell 4, the default) against the same interpolation evaluated at every pixel (cell 1, the straightforward
   version). Prints seconds and the ratio.
2. Track overlay on 81 frames at 832×480: trajkit's vectorised stamping against ATI's approach, one
   ``cv2.circle`` call per trail point per frame. Prints seconds and the ratio.

Run: python benchmarks/bench_preview.py [--tracks 8 100 1000] [--skip-full]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import cv2
import numpy as np

from trajkit import Tracks
from trajkit.backends.preview import render_preview
from trajkit.viz.tracks import PALETTE, overlay_tracks, scale_for

W, H, T = 832, 480, 81


def random_tracks(n: int, seed: int = 0) -> Tracks:
    rng = np.random.default_rng(seed)
    start = rng.random((n, 2)) * [W, H]
    drift = rng.normal(size=(n, 2)) * 40
    s = np.linspace(0, 1, T)[:, None, None]
    xy = start[None] + s * drift[None] + 8 * np.sin(6 * s + rng.random((1, n, 1)) * 6)
    return Tracks(xy=xy, visible=np.ones((T, n), bool), size=(W, H), fps=16)


def circle_loop_overlay(frames: np.ndarray, tracks: Tracks, retain: int = 12, min_radius: float = 1.0,
                        max_radius: float = 6.0) -> np.ndarray:
    """ATI's way: one cv2.circle call per trail point per frame; each trail age drawn on a layer blended once."""
    out = frames.copy()
    s = scale_for((W, H))
    radii = np.round(np.linspace(min_radius, max_radius, retain) * s).astype(int).clip(1)
    alphas = np.linspace(0.25, 1.0, retain)
    for t in range(tracks.num_frames):
        canvas = out[t]
        for slot in range(retain):
            src = t - retain + 1 + slot
            if src < 0:
                continue
            layer = canvas.copy()
            for n in range(tracks.num_tracks):
                if tracks.visible[src, n] and tracks.visible[t, n]:
                    centre = tuple(int(v) for v in np.round(tracks.xy[src, n]))
                    cv2.circle(layer, centre, int(radii[slot]), PALETTE[n % len(PALETTE)].tolist(), -1)
            canvas = cv2.addWeighted(layer, alphas[slot], canvas, 1 - alphas[slot], 0)
        out[t] = canvas
    return out


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, nargs="+", default=[8, 100, 1000])
    parser.add_argument("--skip-full", action="store_true", help="skip the slow per-pixel preview baseline")
    parser.add_argument("--full-max", type=int, default=100, help="largest track count for the per-pixel baseline")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"opencv {cv2.__version__}; {T} frames at {W}×{H}")
    rng = np.random.default_rng(1)
    image = (rng.random((H, W, 3)) * 255).astype(np.uint8)
    frames = np.repeat(image[None], T, axis=0)
    for n in args.tracks:
        tracks = random_tracks(n)
        ours = timed(lambda: render_preview(image, tracks))  # noqa: B023
        line = f"preview {n:5d} tracks: trajkit (cell 4) {ours:6.2f} s"
        if not args.skip_full and n <= args.full_max:
            full = timed(lambda: render_preview(image, tracks, cell=1))  # noqa: B023
            line += f"   per-pixel field {full:6.2f} s   ratio {full / ours:5.1f}×"
        print(line)
    for n in args.tracks:
        tracks = random_tracks(n)
        ours = timed(lambda: overlay_tracks(frames, tracks))  # noqa: B023
        loop = timed(lambda: circle_loop_overlay(frames, tracks))  # noqa: B023
        print(f"overlay {n:5d} tracks: trajkit {ours:6.2f} s   cv2.circle loop {loop:6.2f} s   "
              f"ratio {loop / ours:5.1f}×")


if __name__ == "__main__":
    main()
