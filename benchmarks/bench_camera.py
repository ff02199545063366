"""Camera estimation from video: COLMAP (pycolmap SfM) against the two-view method, on the demo's move.

The video is :class:`trajkit.evaluate.scenes.DemoScene`'s ray-cast truth (or, with ``--preview``, the CPU preview
of it) for "dolly in 1.5m over 5s while pan right 8deg over 5s": 81 frames at 16 fps at the demo size (832×480),
with the known K. Each method runs in a fresh Python process (spawned, so nothing of the parent's memory counts):
the child renders the video, resets its peak-RSS counter, estimates the camera, and reports seconds, peak memory
above that starting point (VmHWM − VmRSS, which sees C++ allocations that tracemalloc would not), RotErr per frame
(CameraCtrl's, in degrees) and TransErr per frame (CamI2V's unit-scale alignment). ``--no-k`` also estimates the
focal length and reports its error.

Run: python benchmarks/bench_camera.py [--methods colmap essential auto] [--frames 81] [--preview] [--no-k]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import time

import numpy as np
from _rss import reset_peak, rss_kib

MOVES = "dolly in 1.5m over 5s while pan right 8deg over 5s"


def _child(method: str, frames: int, preview: bool, known_k: bool, queue: mp.Queue) -> None:
    from trajkit.author.grammar import parse_moves
    from trajkit.evaluate.camera import camera_metrics
    from trajkit.evaluate.scenes import DemoScene
    from trajkit.measure.camera import estimate_camera

    scene = DemoScene()
    camera = parse_moves(MOVES).path(fps=16, size=scene.size, hfov=scene.hfov)
    if frames != camera.num_frames:
        camera = camera.resample(frames)
    video, depth = scene.render(camera)
    if preview:
        from trajkit.backends.preview import render_preview
        from trajkit.bridge import add_camera_motion

        ball = add_camera_motion(scene.ball_track(frames, camera.fps), camera, depth=depth)
        video = render_preview(video[0], ball, camera=camera, depth=depth).frames
    base = reset_peak()
    start = time.perf_counter()
    est = estimate_camera(video, fps=camera.fps, K=scene.K if known_k else None, method=method)
    seconds = time.perf_counter() - start
    peak = (rss_kib("VmHWM:") - base) / 1024
    m = camera_metrics(camera, est)
    queue.put({"seconds": seconds, "peak_mib": peak, "rot": m["rot_err_deg_per_frame"],
               "rot_max": m["rot_err_deg_max"], "trans": m["trans_err_per_frame"], "used": est.meta["method"],
               "focal": float(est.K[0, 0]), "true_focal": float(scene.K[0, 0])})


def measure(method: str, frames: int, preview: bool, known_k: bool) -> dict:
    """One method in a fresh spawned process → its figures."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(method, frames, preview, known_k, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", default=["colmap", "essential"],
                        choices=["colmap", "essential", "auto"])
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--preview", action="store_true", help="measure on the preview render instead of the truth")
    parser.add_argument("--no-k", action="store_true", help="estimate the focal length too")
    parser.add_argument("--repeat", type=int, default=1, help="runs per method (figures of each run are printed)")
    args = parser.parse_args()
    import cv2
    import pycolmap

    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores (load {load:.1f}), "
          f"python {platform.python_version()}, numpy {np.__version__}, opencv {cv2.__version__}, "
          f"pycolmap {pycolmap.__version__}; {args.frames} frames at 832×480, "
          f"{'preview' if args.preview else 'ray-cast truth'}, K {'estimated' if args.no_k else 'known'}")
    print(f"{'method':>10} | {'seconds':>8} {'peak MiB':>9} | {'RotErr °/frame':>14} {'max °':>7} | "
          f"{'TransErr/frame':>14} | used{'  focal error' if args.no_k else ''}")
    best: dict[str, dict] = {}
    for method in args.methods:
        for _ in range(args.repeat):
            r = measure(method, args.frames, args.preview, not args.no_k)
            focal = f"  {100 * (r['focal'] / r['true_focal'] - 1):+.1f} %" if args.no_k else ""
            print(f"{method:>10} | {r['seconds']:8.2f} {r['peak_mib']:9.0f} | {r['rot']:14.3f} {r['rot_max']:7.3f} | "
                  f"{r['trans']:14.4f} | {r['used']}{focal}")
            if method not in best or r["seconds"] < best[method]["seconds"]:
                best[method] = r
    if "colmap" in best and "essential" in best:
        c, e = best["colmap"], best["essential"]
        print(f"colmap / essential: time {c['seconds'] / e['seconds']:.1f}×, peak memory "
              f"{c['peak_mib'] / max(e['peak_mib'], 1e-9):.1f}× (fastest run of each)")


if __name__ == "__main__":
    main()
