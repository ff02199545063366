"""Point tracking speed, memory and accuracy: plain LK (baseline) vs trajkit's ``lk`` vs CoTracker3 on the CPU.

Video: the demo's ray-cast scene (brick wall, checkered floor, rolling ball) through the demo's camera move (dolly in
1.5 m while panning right 8° over 5 s), 81 frames at 832×480 — its true tracks are known: a 16×16 grid (256 points)
bridged through the first frame's exact depth (points the rolling ball covers count as visible there, so a few
errors are the ball's, not the tracker's).

* ``plain-lk``: the baseline — OpenCV pyramidal LK frame to frame from the previous position, no checks (what ATI's
  and most motion-transfer scripts do);
* ``lk``: :func:`trajkit.measure.trackers.track_video` with ``tracker="lk"`` (round-trip, template, NCC, local
  search, re-detection);
* ``cotracker3`` / ``cotracker3-online``: trajkit's CoTracker3 at the released size with *random* weights (no
  checkpoint can be downloaded here): seconds and memory are those of the real network; its accuracy is not.

Each case runs in a fresh forked child: seconds, peak RSS above the child's start (MiB), median end-point error on
visible points; ratios against ``plain-lk`` in the same run.

Run: python benchmarks/bench_tracking.py [--frames 81] [--grid 16] [--skip-cotracker]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import time
from collections.abc import Callable

import cv2
import numpy as np
from _rss import reset_peak, rss_kib

from trajkit import Tracks


def _child(fn: Callable[[], np.ndarray], queue: mp.Queue) -> None:
    base = reset_peak()
    start = time.perf_counter()
    xy = fn()
    queue.put((time.perf_counter() - start, (rss_kib("VmHWM:") - base) / 1024, xy))


def measure(fn: Callable[[], np.ndarray]) -> tuple[float, float, np.ndarray]:
    """(seconds, peak MiB above the start, result) of ``fn`` in a forked child."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, queue))
    proc.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty: is the child still alive?
            if not proc.is_alive():
                raise RuntimeError(f"the benchmark child died (exit code {proc.exitcode})") from None
    proc.join()
    return result


def scene(frames: int, grid: int) -> tuple[np.ndarray, Tracks]:
    from trajkit.author.grammar import parse_moves
    from trajkit.bridge import camera_to_tracks
    from trajkit.evaluate.scenes import DemoScene

    demo = DemoScene()
    camera = parse_moves("dolly in 1.5m over 5s while pan right 8deg over 5s").path(fps=16, size=demo.size, hfov=60)
    camera = camera.resample(frames)
    video, depth = demo.render(camera)
    return video, camera_to_tracks(camera, depth=depth, grid=grid)


def plain_lk(video: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Frame-to-frame pyramidal LK, 21×21 window, 3 levels, no checks (the baseline)."""
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in video]
    pos = [points.astype(np.float32) - 0.5]
    for t in range(1, len(video)):
        nxt, _, _ = cv2.calcOpticalFlowPyrLK(grey[t - 1], grey[t], pos[-1].reshape(-1, 1, 2), None,
                                             winSize=(21, 21), maxLevel=3)
        pos.append(nxt.reshape(-1, 2))
    return np.stack(pos) + 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--grid", type=int, default=16)
    parser.add_argument("--skip-cotracker", action="store_true")
    args = parser.parse_args()
    from trajkit.measure.queries import tracks_queries
    from trajkit.measure.trackers import track_video

    video, truth = scene(args.frames, args.grid)
    truth = truth.select(np.flatnonzero(truth.visible[0]))
    queries = tracks_queries(truth)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; video "
          f"{video.shape[0]}×{video.shape[2]}×{video.shape[1]}, {len(queries)} points")
    cases: dict[str, Callable[[], np.ndarray]] = {
        "plain-lk": lambda: plain_lk(video, truth.xy[0]),
        "lk": lambda: track_video(video, queries).xy,
    }
    if not args.skip_cotracker:
        for variant in ("offline", "online"):
            name = "cotracker3" if variant == "offline" else "cotracker3-online"
            cases[name] = _cotracker_case(video, queries, variant)
    rows = {}
    for name, fn in cases.items():
        seconds, mib, xy = measure(fn)
        err = np.linalg.norm(xy - truth.xy, axis=-1)[truth.visible]
        rows[name] = (seconds, mib, float(np.median(err)), float(np.mean(err < 4)))
    base = rows["plain-lk"][0]
    print(f"{'tracker':<20}{'seconds':>9}{'× plain':>9}{'peak MiB':>10}{'median EPE px':>15}{'<4 px':>8}")
    for name, (seconds, mib, median, within) in rows.items():
        note = " (random weights)" if name.startswith("cotracker") else ""
        print(f"{name:<20}{seconds:9.2f}{seconds / base:9.2f}{mib:10.0f}{median:15.2f}{within:8.2f}{note}")


def _cotracker_case(video: np.ndarray, queries: np.ndarray, variant: str) -> Callable[[], np.ndarray]:
    def run() -> np.ndarray:
        import torch

        from trajkit.measure.cotracker import track_cotracker
        from trajkit.measure.cotracker.model import CoTrackerThreeOffline, CoTrackerThreeOnline

        torch.set_num_threads(os.cpu_count() or 1)
        torch.manual_seed(0)
        model = (CoTrackerThreeOffline if variant == "offline" else CoTrackerThreeOnline)().eval()
        return track_cotracker(video, queries, variant=variant, model=model)[0]

    return run


if __name__ == "__main__":
    main()
