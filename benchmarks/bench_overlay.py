"""Track overlay on video: trajkit's ``overlay_tracks`` against two per-circle baselines, side by side.

* **ATI** — ``paint_point_track`` of ATI's ``tools/visualize_trajectory.py``, restated from
  ``shared/specs/ati.md`` §10 (not copied): for every output frame, every track, oldest first, every visible
  position of the last 51 frames as one opaque ``cv2.circle`` (radius ``round(1 + 5·ratio)``, colour ramp
  blue → green → yellow → red). Its trail is 51 frames, so trajkit runs with ``retain=51`` against it.
* **circle loop** — trajkit's own look (per-track colours, trails fading 0.25 → 1, newest largest) drawn the
  plain way: one ``cv2.circle`` per trail point per frame, one layer per trail age blended once.

81 frames at 832×480 over a smooth noise image, random smooth tracks (all visible). Each figure is the best of
``--repeat`` runs in this process: CPU seconds (``time.process_time``, all threads) and wall seconds; ratios are
baseline / trajkit.

Run: python benchmarks/bench_overlay.py [--tracks 50 1000] [--retain 12 51] [--repeat 3]
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
from trajkit.viz.tracks import PALETTE, overlay_tracks, scale_for

W, H, T = 832, 480, 81
ATI_RETAIN = 50  # ATI keeps positions with t − τ ≤ 50: 51 per trail


def random_tracks(n: int, seed: int = 0) -> Tracks:
    """``n`` smooth random tracks on the 832×480 canvas (drift plus a wiggle), all visible."""
    rng = np.random.default_rng(seed)
    start = rng.random((n, 2)) * [W, H]
    drift = rng.normal(size=(n, 2)) * 40
    s = np.linspace(0, 1, T)[:, None, None]
    xy = start[None] + s * drift[None] + 8 * np.sin(6 * s + rng.random((1, n, 1)) * 6)
    return Tracks(xy=xy, visible=np.ones((T, n), bool), size=(W, H), fps=16)


def noise_image(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.resize(rng.random((H // 8, W // 8, 3)).astype(np.float32), (W, H), interpolation=cv2.INTER_CUBIC)
    return np.clip(noise * 255, 0, 255).astype(np.uint8)


def _ati_colour(ratio: float) -> tuple[int, int, int]:
    """ATI's ramp (RGB): 0 blue, 1/3 green, 2/3 yellow, 1 red; piecewise linear, truncated."""
    stops = ((0, 0, 255), (0, 255, 0), (255, 255, 0), (255, 0, 0))
    x = min(max(ratio, 0.0), 1.0) * 3
    i = min(int(x), 2)
    f = x - i
    a, b = stops[i], stops[i + 1]
    return tuple(int(a[c] + (b[c] - a[c]) * f) for c in range(3))


def ati_paint_point_track(frames: np.ndarray, tracks: Tracks, max_retain: int = ATI_RETAIN) -> np.ndarray:
    """ATI's video overlay (spec §10): per frame, per track, oldest first, one opaque circle per visible
    position ``τ`` with ``t − τ ≤ max_retain``, centred at ``(x + 0.5, y + 0.5)`` clamped into the frame."""
    out = frames.copy()
    xy, vis = tracks.xy, tracks.visible
    for t in range(tracks.num_frames):
        canvas = out[t]
        for n in range(tracks.num_tracks):
            for tau in range(max(0, t - max_retain), t + 1):
                if not vis[tau, n]:
                    continue
                ratio = 1 - (t - tau) / max_retain
                x = int(min(max(xy[tau, n, 0] + 0.5, 0), W - 1))
                y = int(min(max(xy[tau, n, 1] + 0.5, 0), H - 1))
                cv2.circle(canvas, (x, y), round(1 + 5 * ratio), _ati_colour(ratio), -1)
    return out


def circle_loop_overlay(frames: np.ndarray, tracks: Tracks, retain: int = 12, min_radius: float = 1.0,
                        max_radius: float = 6.0) -> np.ndarray:
    """trajkit's look the plain way: one cv2.circle per trail point per frame; each trail age drawn on a layer
    blended once."""
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


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best CPU seconds, best wall seconds) of ``fn()`` over ``repeat`` runs."""
    cpu, wall = float("inf"), float("inf")
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu, wall = min(cpu, time.process_time() - c0), min(wall, time.perf_counter() - w0)
    return cpu, wall


def run(track_counts: list[int], retains: list[int], repeat: int) -> None:
    frames = np.repeat(noise_image()[None], T, axis=0)
    print(f"{'tracks':>6} {'retain':>6} | {'trajkit cpu/wall s':>18} | {'baseline':>11} {'cpu/wall s':>13} | "
          f"{'cpu ×':>6} {'wall ×':>6}")
    for n in track_counts:
        tracks = random_tracks(n)
        for retain in retains:
            ours = timed(lambda: overlay_tracks(frames, tracks, retain=retain), repeat)  # noqa: B023
            baselines = [("circle loop", lambda: circle_loop_overlay(frames, tracks, retain=retain))]  # noqa: B023
            if retain == ATI_RETAIN + 1:
                baselines.insert(0, ("ATI", lambda: ati_paint_point_track(frames, tracks)))  # noqa: B023
            for name, fn in baselines:
                base = timed(fn, repeat)
                print(f"{n:>6} {retain:>6} | {ours[0]:>8.3f} {ours[1]:>9.3f} | {name:>11} {base[0]:>6.2f} "
                      f"{base[1]:>6.2f} | {base[0] / ours[0]:>6.1f} {base[1] / ours[1]:>6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, nargs="+", default=[50, 1000])
    parser.add_argument("--retain", type=int, nargs="+", default=[12, ATI_RETAIN + 1])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}, python {platform.python_version()}, numpy {np.__version__}, "
          f"opencv {cv2.__version__}; {T} frames at {W}×{H}")
    run(args.tracks, args.retain, args.repeat)


if __name__ == "__main__":
    main()
